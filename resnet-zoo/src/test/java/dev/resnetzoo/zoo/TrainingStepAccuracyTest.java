package dev.resnetzoo.zoo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.resnetzoo.core.BlockKind;
import dev.resnetzoo.core.ResNetSpec;
import dev.resnetzoo.core.ResNets;
import dev.resnetzoo.core.StemKind;
import dev.resnetzoo.core.TorchNames;
import dev.resnetzoo.core.layers.LayerRuntime;
import dev.resnetzoo.core.onednn.OneDnn;
import dev.resnetzoo.zoo.io.StateDict;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Sgd;

/**
 * One float32 SGD step is as accurate as PyTorch's float32 step. The fixture
 * ({@code scripts/make_training_step_fixture.py}) holds the initial weights of the fashion-fast
 * network, 32 Fashion-MNIST images, every parameter's update computed by PyTorch in float64, and
 * PyTorch float32's own error against it. For each parameter the error is
 * {@code ||update - update64|| / ||update64||}; the median and the maximum must be within 2x of
 * PyTorch float32's on both runtimes (print every parameter with {@code -Dresnet.debugStep=true}).
 * With batch statistics accumulated in float32 both runtimes were about 200x worse than PyTorch.
 */
class TrainingStepAccuracyTest {
    private static final Path DIR = Path.of("src/test/resources/training-step");

    @AfterEach
    void reset() {
        LayerRuntime.select(null);
    }

    record Errors(double loss, double median, double max, String maxParam) {
    }

    static Errors step(LayerRuntime runtime) throws Exception {
        LayerRuntime.select(runtime);
        ResNetSpec spec = ResNetSpec.builder(BlockKind.BASIC, 2, 2, 2, 2).name("fashion-fast").widths(16, 32, 64, 128)
                .stemWidth(16).stem(StemKind.SMALL).input(1, 28, 28).numClasses(10).build();
        ComputationGraph g = ResNets.create(spec, new NeuralNetConfiguration.Builder().updater(new Sgd(0.01)));
        new WeightImporter().load(g, StateDict.read(DIR.resolve("model.pth")));
        INDArray x = Npy.read(DIR.resolve("input.npy"));
        INDArray classes = Npy.read(DIR.resolve("labels.npy"));
        INDArray y = Nd4j.zeros(DataType.FLOAT, x.size(0), 10);
        for (int i = 0; i < x.size(0); i++) {
            y.putScalar(i, classes.getInt(i), 1.0);
        }
        StateDict update64 = StateDict.read(DIR.resolve("update64.pth"));
        List<String> keys = new ArrayList<>(update64.keys());
        List<INDArray> before = new ArrayList<>();
        for (String k : keys) {
            before.add(param(g, k).dup());
        }
        DataSet ds = new DataSet(x, y);
        g.setInputs(x);
        g.setLabels(y);
        g.computeGradientAndScore();
        double loss = g.score();
        g.fit(ds);
        double[] e = new double[keys.size()];
        double max = -1;
        String maxParam = null;
        for (int i = 0; i < keys.size(); i++) {
            INDArray ref = update64.get(keys.get(i)).toFloatArray().castTo(DataType.DOUBLE).reshape(-1);
            INDArray ours = param(g, keys.get(i)).castTo(DataType.DOUBLE).sub(before.get(i).castTo(DataType.DOUBLE))
                    .reshape(-1);
            e[i] = ours.sub(ref).norm2Number().doubleValue() / ref.norm2Number().doubleValue();
            if (Boolean.getBoolean("resnet.debugStep")) {
                System.out.printf(Locale.ROOT, "%s %s %.3e%n", runtime, keys.get(i), e[i]);
            }
            if (e[i] > max) {
                max = e[i];
                maxParam = keys.get(i);
            }
        }
        g.close();
        double[] sorted = e.clone();
        Arrays.sort(sorted);
        double median = sorted.length % 2 == 1 ? sorted[sorted.length / 2]
                : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
        return new Errors(loss, median, max, maxParam);
    }

    /** The graph parameter of a state_dict key, 'c' order, in PyTorch's shape (fc.weight transposed). */
    private static INDArray param(ComputationGraph g, String key) {
        TorchNames.ParamRef ref = TorchNames.resolve(g, key)
                .orElseThrow(() -> new IllegalArgumentException("no graph parameter for " + key));
        INDArray v = g.getLayer(ref.vertex()).getParam(ref.param());
        return ref.transpose() ? v.transpose().dup('c') : v.dup('c');
    }

    private static void needOneDnn() {
        Assumptions.assumeTrue(OneDnn.available(), () -> {
            System.out.println("TrainingStepAccuracyTest: SKIPPED, oneDNN unavailable: " + OneDnn.unavailableReason());
            return "oneDNN unavailable";
        });
    }

    private static JsonNode manifest() throws java.io.IOException {
        return new ObjectMapper().readTree(DIR.resolve("manifest.json").toFile());
    }

    @ParameterizedTest
    @EnumSource(LayerRuntime.class)
    void stepIsAsAccurateAsPyTorchFloat32(LayerRuntime runtime) throws Exception {
        if (runtime == LayerRuntime.ONEDNN) {
            needOneDnn();
        }
        JsonNode m = manifest();
        double torchMedian = m.path("pytorchFloat32").path("median").asDouble();
        double torchMax = m.path("pytorchFloat32").path("max").asDouble();
        Errors e = step(runtime);
        System.out.printf(Locale.ROOT, "one SGD step on %s, error vs PyTorch float64 (median / max over parameters): "
                        + "%.2e / %.2e (%s); PyTorch float32 %.2e / %.2e%n",
                runtime, e.median(), e.max(), e.maxParam(), torchMedian, torchMax);
        assertEquals(m.path("loss64").asDouble(), e.loss(), 1e-5, "forward loss");
        assertTrue(e.median() <= 2 * torchMedian, runtime + " median error " + e.median() + " > 2x PyTorch's " + torchMedian);
        assertTrue(e.max() <= 2 * torchMax, runtime + " max error " + e.max() + " > 2x PyTorch's " + torchMax);
    }
}
