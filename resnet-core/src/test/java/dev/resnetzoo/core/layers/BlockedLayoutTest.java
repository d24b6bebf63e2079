package dev.resnetzoo.core.layers;

import dev.resnetzoo.core.Taps;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.resnetzoo.core.onednn.OneDnn;
import java.util.Map;
import java.util.TreeMap;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import dev.resnetzoo.core.BlockKind;
import dev.resnetzoo.core.ResNetSpec;
import dev.resnetzoo.core.ResNets;
import dev.resnetzoo.core.StemKind;
import org.junit.jupiter.params.provider.EnumSource;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.NoOp;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * Arrays declared private between this project's convolutions and batch norms hold oneDNN's
 * channel-blocked layout on the oneDNN runtime: the chain conv -> bn+relu -> grouped conv (stride 2)
 * -> bn computes the same loss, outputs and gradients as with NCHW arrays everywhere (oneDNN) and as
 * on libnd4j, for channel counts the block divides and one it does not (which stays NCHW).
 */
class BlockedLayoutTest {
    @BeforeEach
    void needsOneDnn() {
        Assumptions.assumeTrue(OneDnn.available(), () -> {
            System.out.println("BlockedLayoutTest: SKIPPED, oneDNN unavailable: " + OneDnn.unavailableReason());
            return "oneDNN unavailable";
        });
    }

    @AfterEach
    void reset() {
        LayerRuntime.select(null);
    }

    private static ComputationGraph chain(int channels, boolean blocked) {
        NativeConvolution conv1 = NativeConvolution.of(3, channels, 3, 1, 1, 1, false, new KaimingNormal());
        NativeBatchNorm bn1 = NativeBatchNorm.of(channels, 1e-5, 0.9, 1.0).withRelu();
        NativeConvolution conv2 = NativeConvolution.of(channels, channels, 3, 2, 1, 4, false, new KaimingNormal());
        NativeBatchNorm bn2 = NativeBatchNorm.of(channels, 1e-5, 0.9, 1.0);
        if (blocked) {
            conv1.withBlockedOutput();
            bn1.withBlockedInput().withBlockedOutput();
            conv2.withBlockedInput().withBlockedOutput();
            bn2.withBlockedInput();
        }
        ComputationGraphConfiguration conf = new NeuralNetConfiguration.Builder()
                .seed(17).dataType(DataType.FLOAT).updater(new NoOp())
                .graphBuilder()
                .addInputs("in")
                .setInputTypes(InputType.convolutional(12, 12, 3))
                .addLayer("conv1", conv1, "in")
                .addLayer("bn1", bn1, "conv1")
                .addLayer("conv2", conv2, "bn1")
                .addLayer("bn2", bn2, "conv2")
                .addLayer("pool", new GlobalPoolingLayer.Builder(PoolingType.AVG).build(), "bn2")
                .addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT)
                        .activation(Activation.SOFTMAX).nOut(3).build(), "pool")
                .setOutputs("out")
                .build();
        ComputationGraph g = new ComputationGraph(conf);
        g.init();
        return g;
    }

    private record Pass(double score, INDArray output, INDArray inference, Map<String, INDArray> gradients) {
    }

    private static Pass run(ComputationGraph g, LayerRuntime runtime, INDArray x, INDArray y) {
        LayerRuntime.select(runtime);
        g.setInputs(x);
        g.setLabels(y);
        g.computeGradientAndScore();
        Map<String, INDArray> copies = new TreeMap<>();
        g.gradient().gradientForVariable().forEach((k, v) -> copies.put(k, v.dup()));
        return new Pass(g.score(), g.outputSingle(true, x).dup(), g.outputSingle(false, x).dup(), copies);
    }

    private static void assertSame(String what, Pass ref, Pass actual) {
        assertEquals(ref.score(), actual.score(), 1e-5 * Math.abs(ref.score()) + 1e-6, what + ": loss");
        assertClose(what + ": training output", ref.output(), actual.output());
        assertClose(what + ": inference output", ref.inference(), actual.inference());
        assertEquals(ref.gradients().keySet(), actual.gradients().keySet());
        for (String key : ref.gradients().keySet()) {
            assertClose(what + ": gradient " + key, ref.gradients().get(key), actual.gradients().get(key));
        }
    }

    private static void assertClose(String what, INDArray ref, INDArray actual) {
        double scale = ref.amaxNumber().doubleValue();
        double diff = ref.sub(actual).amaxNumber().doubleValue();
        assertTrue(diff <= 1e-4 * scale + 1e-5, what + ": max|diff| " + diff + " vs max|ref| " + scale);
    }

    @ParameterizedTest(name = "{0} channels")
    @ValueSource(ints = {16, 32, 24})
    void blockedArraysComputeWhatNchwArraysCompute(int channels) {
        ComputationGraph blocked = chain(channels, true);
        ComputationGraph plain = chain(channels, false);
        plain.setParams(blocked.params());
        for (String bn : new String[] {"bn1", "bn2"}) {
            INDArray mean = Nd4j.randn(DataType.FLOAT, 1, channels).muli(0.1);
            INDArray var = Nd4j.rand(DataType.FLOAT, 1, channels).addi(0.5);
            for (ComputationGraph g : new ComputationGraph[] {blocked, plain}) {
                g.getLayer(bn).getParam("mean").assign(mean);
                g.getLayer(bn).getParam("var").assign(var);
            }
        }
        INDArray x = Nd4j.randn(DataType.FLOAT, 4, 3, 12, 12).muli(1.5).addi(0.2);
        INDArray y = Nd4j.zeros(DataType.FLOAT, 4, 3);
        for (int i = 0; i < 4; i++) {
            y.putScalar(i, (i + 2) % 3, 1.0);
        }
        Pass libnd4j = run(plain, LayerRuntime.LIBND4J, x, y);
        Pass nchw = run(plain, LayerRuntime.ONEDNN, x, y);
        Pass oneDnnBlocked = run(blocked, LayerRuntime.ONEDNN, x, y);
        Pass libnd4jBlockedConfig = run(blocked, LayerRuntime.LIBND4J, x, y);
        assertSame("oneDNN NCHW vs libnd4j", libnd4j, nchw);
        assertSame("oneDNN blocked vs oneDNN NCHW", nchw, oneDnnBlocked);
        assertSame("libnd4j ignores the declaration", libnd4j, libnd4jBlockedConfig);
        if (OneDnn.activationBlock(channels, true) > 0) {
            // the array between bn1 and conv2 really is blocked: it differs from the NCHW one as stored
            LayerRuntime.select(LayerRuntime.ONEDNN);
            INDArray a = blocked.feedForward(x, false).get("bn1");
            INDArray b = plain.feedForward(x, false).get("bn1");
            assertTrue(a.sub(b).amaxNumber().doubleValue() > 1e-3, "bn1's output is not in a blocked layout");
        }
    }

    /**
     * Whole networks from the builder, whose block outputs inside a stage and the adds' inputs are
     * blocked too (identity shortcuts, downsampling, a stage's NCHW output): one training pass on
     * oneDNN equals libnd4j's.
     */
    @ParameterizedTest(name = "{0}")
    @EnumSource(BlockKind.class)
    void networksTrainOnBlockedArraysAsOnLibnd4j(BlockKind kind) {
        ResNetSpec spec = ResNetSpec.builder(kind, 3, 2).name("tiny-" + kind).widths(16, 32)
                .stem(StemKind.SMALL).stemWidth(16).input(3, 12, 12).numClasses(3).build();
        ComputationGraph g = ResNets.create(spec, new NeuralNetConfiguration.Builder().seed(23)
                .dataType(DataType.FLOAT).updater(new NoOp()));
        for (org.deeplearning4j.nn.api.Layer l : g.getLayers()) {
            if (l.conf().getLayer() instanceof NativeBatchNorm) {
                long c = l.getParam("gamma").length();
                l.getParam("gamma").assign(Nd4j.rand(DataType.FLOAT, 1, c).addi(0.5));
                l.getParam("beta").assign(Nd4j.randn(DataType.FLOAT, 1, c).muli(0.3));
                l.getParam("mean").assign(Nd4j.randn(DataType.FLOAT, 1, c).muli(0.1));
                l.getParam("var").assign(Nd4j.rand(DataType.FLOAT, 1, c).addi(0.5));
            }
        }
        INDArray x = Nd4j.randn(DataType.FLOAT, 4, 3, 12, 12);
        INDArray y = Nd4j.zeros(DataType.FLOAT, 4, 3);
        for (int i = 0; i < 4; i++) {
            y.putScalar(i, i % 3, 1.0);
        }
        Pass ref = run(g, LayerRuntime.LIBND4J, x, y);
        Pass one = run(g, LayerRuntime.ONEDNN, x, y);
        assertSame(spec.name() + " oneDNN vs libnd4j", ref, one);
        LayerRuntime.select(LayerRuntime.ONEDNN);
        Map<String, INDArray> acts = g.feedForward(x, false);
        LayerRuntime.select(LayerRuntime.LIBND4J);
        Map<String, INDArray> plain = g.feedForward(x, false);
        // stage outputs (taps) are NCHW on both runtimes
        for (String tap : new String[] {Taps.vertex(g, "layer1"), Taps.vertex(g, "layer2")}) {
            assertClose("tap " + tap, plain.get(tap), acts.get(tap));
        }
    }
}
