package dev.resnetzoo.examples.bench;

import dev.resnetzoo.core.plan.InferencePlan;
import dev.resnetzoo.core.plan.Precision;
import dev.resnetzoo.examples.data.FashionMnist;
import dev.resnetzoo.examples.data.FashionMnistIterator;
import dev.resnetzoo.examples.data.LabeledImages;
import dev.resnetzoo.zoo.SavedModel;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Test accuracy of a Fashion-MNIST model (a {@code model.zip} written by {@code ./resnet train}) on
 * the graph, the fp32 plan and the bf16 plan, with each engine's images/s and how often its top-1
 * class equals the graph's.
 */
public final class PrecisionAccuracy {
    private PrecisionAccuracy() {
    }

    /**
     * @param modelZip the trained model
     * @param dataDir  Fashion-MNIST directory, or null for the default search
     * @param batch    images per call
     * @param out      where the table goes
     * @throws Exception if the model or data cannot be read
     */
    public static void run(Path modelZip, Path dataDir, int batch, PrintStream out) throws Exception {
        SavedModel model = SavedModel.read(modelZip);
        ComputationGraph graph = model.graph();
        FashionMnist fm = FashionMnist.locate(dataDir);
        LabeledImages test = fm.load(FashionMnist.Split.TEST);
        FashionMnistIterator it = FashionMnistIterator.builder(test).batchSize(batch).normalize(true).build();
        List<DataSet> batches = new ArrayList<>();
        while (it.hasNext()) {
            batches.add(it.next());
        }
        out.printf(Locale.ROOT, "%s on %d test images (%s), batch %d%n", modelZip, test.size(), fm.describe(), batch);
        out.printf(Locale.ROOT, "%-12s %10s %14s %10s%n", "engine", "accuracy", "same top-1", "img/s");
        Map<String, Function<INDArray, INDArray>> engines = new LinkedHashMap<>();
        engines.put("graph", x -> graph.feedForward(x, false).get("fc"));
        InferencePlan fp32 = InferencePlan.builder(graph).build();
        engines.put("plan fp32", fp32::output);
        InferencePlan bf16 = null;
        if (Precision.BF16.supported()) {
            bf16 = InferencePlan.builder(graph).optPrecision(Precision.BF16).build();
            engines.put("plan bf16", bf16::output);
        } else {
            out.println("plan bf16 not measured: this CPU has no AVX512-BF16");
        }
        List<int[]> reference = null;
        for (Map.Entry<String, Function<INDArray, INDArray>> e : engines.entrySet()) {
            e.getValue().apply(batches.get(0).getFeatures());
            List<int[]> top = new ArrayList<>();
            long correct = 0;
            long n = 0;
            long t0 = System.nanoTime();
            for (DataSet ds : batches) {
                INDArray logits = e.getValue().apply(ds.getFeatures());
                int[] pred = Nd4j.argMax(logits, 1).toIntVector();
                int[] label = Nd4j.argMax(ds.getLabels(), 1).toIntVector();
                for (int i = 0; i < pred.length; i++) {
                    correct += pred[i] == label[i] ? 1 : 0;
                }
                n += pred.length;
                top.add(pred);
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            long same = 0;
            if (reference == null) {
                reference = top;
                same = n;
            } else {
                for (int b = 0; b < top.size(); b++) {
                    for (int i = 0; i < top.get(b).length; i++) {
                        same += top.get(b)[i] == reference.get(b)[i] ? 1 : 0;
                    }
                }
            }
            out.printf(Locale.ROOT, "%-12s %10.4f %8d/%-5d %10.1f%n", e.getKey(), (double) correct / n, same, n, n / seconds);
        }
        fp32.close();
        if (bf16 != null) {
            bf16.close();
        }
        model.close();
    }
}
