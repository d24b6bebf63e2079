package dev.resnetzoo.core;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.MultiDataSet;

/**
 * Central finite differences for every parameter of a graph, addressed by name through each
 * layer's own parameter view. DL4J's {@code GradientCheckUtil} names flat indices in
 * {@code paramTable()} order while a {@code ComputationGraph} lays parameters out in topological
 * order; in graphs with shortcut branches (every ResNet) the two differ and its report mislabels
 * parameters (and excludes the wrong ranges), so whole networks are checked here instead.
 */
final class NamedGradientCheck {
    private NamedGradientCheck() {
    }

    /**
     * @return one line per failing element ("vertex_param[i]: analytic a, numeric n, rel e"); empty if all pass
     */
    static List<String> failures(ComputationGraph g, MultiDataSet data, int maxPerParam, double eps,
                                 double maxRelError, double minAbsError) {
        g.setInputs(data.getFeatures());
        g.setLabels(data.getLabels());
        g.computeGradientAndScore();
        Map<String, INDArray> analytic = g.gradient().gradientForVariable();
        // DL4J leaves gradients summed over the minibatch (its updater divides them), while the score is a mean.
        double batch = data.getFeatures(0).size(0);
        List<String> failures = new ArrayList<>();
        int checked = 0;
        for (org.deeplearning4j.nn.api.Layer layer : g.getLayers()) {
            String vertex = layer.conf().getLayer().getLayerName();
            boolean bn = layer.conf().getLayer() instanceof BatchNormalization;
            for (Map.Entry<String, INDArray> e : layer.paramTable().entrySet()) {
                if (bn && (e.getKey().equals("mean") || e.getKey().equals("var"))) {
                    continue; // running statistics: not trained by gradient
                }
                String name = vertex + "_" + e.getKey();
                INDArray p = e.getValue();
                INDArray grad = analytic.get(name).reshape(p.ordering(), new long[] {p.length()});
                INDArray flat = p.reshape(p.ordering(), new long[] {p.length()}); // a view, also for f-ordered dense weights
                long step = Math.max(1, p.length() / maxPerParam);
                for (long i = 0; i < p.length(); i += step) {
                    double orig = flat.getDouble(i);
                    flat.putScalar(i, orig + eps);
                    double plus = g.score(data, true);
                    flat.putScalar(i, orig - eps);
                    double minus = g.score(data, true);
                    flat.putScalar(i, orig);
                    double numeric = (plus - minus) / (2 * eps);
                    double a = grad.getDouble(i) / batch;
                    double abs = Math.abs(a - numeric);
                    double rel = abs == 0 ? 0 : abs / (Math.abs(a) + Math.abs(numeric));
                    if (rel > maxRelError && abs > minAbsError) {
                        failures.add(String.format("%s[%d]: analytic %.6g, numeric %.6g, rel %.3g", name, i, a, numeric, rel));
                    }
                    checked++;
                }
            }
        }
        if (checked == 0) {
            failures.add("no parameter was checked");
        }
        return failures;
    }
}
