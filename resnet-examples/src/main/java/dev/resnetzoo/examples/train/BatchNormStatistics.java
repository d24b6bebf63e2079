package dev.resnetzoo.examples.train;

import java.util.HashMap;
import java.util.Map;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.params.BatchNormalizationParamInitializer;
import org.deeplearning4j.optimize.api.BaseTrainingListener;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Sets every batch norm's running statistics, at the end of an epoch, to the mean of the batch
 * statistics of the epoch's last {@value #STEPS} steps.
 *
 * <p>Why: inference normalises with the running averages (momentum 0.1 per step), which after a
 * short epoch still weigh the statistics of its first steps and the initial 0 and 1, taken when
 * the weights were far from the current ones. The network is then evaluated with another
 * network's statistics: test accuracy fell far below the training accuracy and swung from epoch
 * to epoch, while evaluating with the test batches' own statistics did not. The last steps'
 * statistics belong to nearly the final weights. On long epochs both agree.
 *
 * <p>How, without a second forward pass: DL4J computes the running-statistics update as a
 * "gradient" {@code (running - batch) * (1 - decay)} that a no-op updater subtracts; at
 * {@link #onGradientCalculation} it has been computed and not yet applied, so the batch mean and
 * (unbiased) variance are {@code running - gradient / (1 - decay)}. Everything depends only on the
 * epoch's batches, so a resumed run stays identical to an uninterrupted one.
 */
final class BatchNormStatistics extends BaseTrainingListener {
    private static final long serialVersionUID = 1L;

    /** Steps at the end of an epoch whose statistics are averaged. */
    static final int STEPS = 4;

    private final transient Map<String, INDArray> meanSums = new HashMap<>();
    private final transient Map<String, INDArray> varSums = new HashMap<>();
    private boolean recording;
    private int stepExamples;
    private long examples;

    /**
     * Call before each training step.
     *
     * @param step     index of the step in the epoch
     * @param steps    steps in the epoch
     * @param examples examples in the step
     */
    void beforeStep(int step, int steps, int examples) {
        recording = step >= steps - STEPS;
        stepExamples = examples;
    }

    @Override
    public void onGradientCalculation(Model model) {
        if (!recording || !(model instanceof ComputationGraph graph)) {
            return;
        }
        for (Layer layer : graph.getLayers()) {
            if (layer.conf().getLayer() instanceof BatchNormalization bn) {
                String name = bn.getLayerName();
                double rate = 1 - bn.getDecay();
                add(meanSums, name, layer.getParam(BatchNormalizationParamInitializer.GLOBAL_MEAN),
                        graph.gradient().getGradientFor(name + "_" + BatchNormalizationParamInitializer.GLOBAL_MEAN), rate);
                add(varSums, name, layer.getParam(BatchNormalizationParamInitializer.GLOBAL_VAR),
                        graph.gradient().getGradientFor(name + "_" + BatchNormalizationParamInitializer.GLOBAL_VAR), rate);
            }
        }
        examples += stepExamples;
        recording = false; // once per step
    }

    private void add(Map<String, INDArray> sums, String name, INDArray running, INDArray update, double rate) {
        INDArray batch = running.sub(update.div(rate)).muli(stepExamples);
        sums.merge(name, batch, INDArray::addi);
    }

    /** Writes the averaged statistics into {@code graph}'s batch norms and starts the next epoch's. */
    void apply(ComputationGraph graph) {
        if (examples > 0) {
            for (Layer layer : graph.getLayers()) {
                if (layer.conf().getLayer() instanceof BatchNormalization bn && meanSums.containsKey(bn.getLayerName())) {
                    layer.getParam(BatchNormalizationParamInitializer.GLOBAL_MEAN)
                            .assign(meanSums.get(bn.getLayerName()).divi(examples));
                    layer.getParam(BatchNormalizationParamInitializer.GLOBAL_VAR)
                            .assign(varSums.get(bn.getLayerName()).divi(examples));
                }
            }
        }
        meanSums.clear();
        varSums.clear();
        examples = 0;
    }
}
