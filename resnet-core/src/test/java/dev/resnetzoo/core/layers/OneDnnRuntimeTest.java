package dev.resnetzoo.core.layers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.stream.Stream;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.NoOp;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * The oneDNN runtime computes what the libnd4j runtime computes (which the double-precision
 * gradient checks prove): float32 outputs, losses and every parameter gradient of a
 * conv -> batch norm chain, for each convolution geometry the networks use.
 */
class OneDnnRuntimeTest {
    /** Conformance tolerance used across the project: max|diff| <= 1e-4 * max|ref| + 1e-5. */
    private static void assertClose(String what, INDArray ref, INDArray actual) {
        double scale = ref.amaxNumber().doubleValue();
        double diff = ref.sub(actual).amaxNumber().doubleValue();
        assertTrue(diff <= 1e-4 * scale + 1e-5, what + ": max|diff| " + diff + " vs max|ref| " + scale);
    }

    @BeforeEach
    void needsOneDnn() {
        if (!dev.resnetzoo.core.onednn.OneDnn.available()) {
            System.out.println("OneDnnRuntimeTest: SKIPPED, oneDNN unavailable: "
                    + dev.resnetzoo.core.onednn.OneDnn.unavailableReason());
        }
        Assumptions.assumeTrue(dev.resnetzoo.core.onednn.OneDnn.available(), "oneDNN unavailable");
    }

    @AfterEach
    void reset() {
        LayerRuntime.select(null);
    }

    static Stream<Arguments> geometries() {
        // in, out, kernel, stride, pad, groups, bias, size
        return Stream.of(
                Arguments.of(3, 8, 3, 1, 1, 1, false, 9),
                Arguments.of(8, 16, 3, 2, 1, 1, false, 9),
                Arguments.of(16, 16, 3, 1, 1, 4, false, 8),
                Arguments.of(32, 32, 3, 2, 1, 32, false, 8),
                Arguments.of(8, 16, 1, 2, 0, 1, false, 7),
                Arguments.of(3, 16, 7, 2, 3, 1, false, 15),
                Arguments.of(16, 4, 1, 1, 0, 1, true, 5),
                Arguments.of(64, 64, 3, 1, 1, 2, true, 6));
    }

    private static ComputationGraph chain(int in, int out, int k, int s, int p, int groups, boolean bias, int size) {
        ComputationGraphConfiguration conf = new NeuralNetConfiguration.Builder()
                .seed(11).dataType(DataType.FLOAT).updater(new NoOp())
                .graphBuilder()
                .addInputs("in")
                .setInputTypes(InputType.convolutional(size, size, in))
                .addLayer("conv", NativeConvolution.of(in, out, k, s, p, groups, bias, new KaimingNormal()), "in")
                .addLayer("bn", NativeBatchNorm.of(out, 1e-5, 0.9, 1.0), "conv")
                .addLayer("pool", new GlobalPoolingLayer.Builder(PoolingType.AVG).build(), "bn")
                .addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT)
                        .activation(Activation.SOFTMAX).nOut(3).build(), "pool")
                .setOutputs("out")
                .build();
        ComputationGraph g = new ComputationGraph(conf);
        g.init();
        g.getLayer("bn").getParam("gamma").assign(Nd4j.rand(DataType.FLOAT, 1, out).addi(0.5));
        g.getLayer("bn").getParam("beta").assign(Nd4j.randn(DataType.FLOAT, 1, out));
        if (bias) {
            g.getLayer("conv").getParam("b").assign(Nd4j.randn(DataType.FLOAT, 1, out));
        }
        return g;
    }

    private record Pass(double score, INDArray output, INDArray inference, Map<String, INDArray> gradients) {
    }

    private static Pass run(ComputationGraph g, LayerRuntime runtime, INDArray x, INDArray y) {
        LayerRuntime.select(runtime);
        g.setInputs(x);
        g.setLabels(y);
        g.computeGradientAndScore();
        Gradient grad = g.gradient();
        Map<String, INDArray> copies = new java.util.TreeMap<>();
        grad.gradientForVariable().forEach((k, v) -> copies.put(k, v.dup()));
        INDArray train = g.outputSingle(true, x).dup();
        INDArray infer = g.outputSingle(false, x).dup();
        return new Pass(g.score(), train, infer, copies);
    }

    @ParameterizedTest(name = "{0}->{1} k{2} s{3} p{4} g{5} bias={6} {7}x{7}")
    @MethodSource("geometries")
    void oneDnnMatchesLibnd4j(int in, int out, int k, int s, int p, int groups, boolean bias, int size) {
        ComputationGraph g = chain(in, out, k, s, p, groups, bias, size);
        // running statistics away from their initial values, so inference mode tests them too
        g.getLayer("bn").getParam("mean").assign(Nd4j.randn(DataType.FLOAT, 1, out).muli(0.1));
        g.getLayer("bn").getParam("var").assign(Nd4j.rand(DataType.FLOAT, 1, out).addi(0.5));
        INDArray x = Nd4j.randn(DataType.FLOAT, 4, in, size, size).muli(1.5).addi(0.3);
        INDArray y = Nd4j.zeros(DataType.FLOAT, 4, 3);
        for (int i = 0; i < 4; i++) {
            y.putScalar(i, i % 3, 1.0);
        }
        Pass ref = run(g, LayerRuntime.LIBND4J, x, y);
        Pass one = run(g, LayerRuntime.ONEDNN, x, y);
        assertEquals(ref.score(), one.score(), 1e-5 * Math.abs(ref.score()) + 1e-6, "loss");
        assertClose("training-mode output", ref.output(), one.output());
        assertClose("inference-mode output", ref.inference(), one.inference());
        assertEquals(ref.gradients().keySet(), one.gradients().keySet());
        for (String key : ref.gradients().keySet()) {
            assertClose("gradient " + key, ref.gradients().get(key), one.gradients().get(key));
        }
    }
}
