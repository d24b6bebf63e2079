package dev.resnetzoo.core.layers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.deeplearning4j.gradientcheck.GradientCheckUtil;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.NoOp;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * Batch norm with its ReLU fused ({@link NativeBatchNorm#withRelu()}) and the residual add with
 * its ReLU ({@link AddReluVertex}): gradients in double precision against finite differences, the
 * same numbers as DL4J's separate activation layer and element-wise add, and the oneDNN runtime
 * against the libnd4j one in float32.
 */
class FusedBlockTest {
    @AfterEach
    void reset() {
        LayerRuntime.select(null);
    }

    /**
     * input -> conv1 -> bn1 (+relu) -> conv2 -> bn2 -> relu(bn2 + bn1) -> pool -> softmax: the add's
     * shortcut (bn1) also feeds conv2, as a block input feeds both branches.
     */
    private static ComputationGraph block(DataType type, boolean fused, int channels, int size) {
        NeuralNetConfiguration.Builder b = new NeuralNetConfiguration.Builder().seed(3).dataType(type)
                .updater(new NoOp());
        ComputationGraphConfiguration.GraphBuilder g = b.graphBuilder().addInputs("in")
                .setInputTypes(InputType.convolutional(size, size, 3))
                .addLayer("conv1", NativeConvolution.of(3, channels, 3, 1, 1, 1, false, new KaimingNormal()), "in");
        String bn1;
        if (fused) {
            g.addLayer("bn1", NativeBatchNorm.of(channels, 1e-5, 0.9, 1.0).withRelu(), "conv1");
            bn1 = "bn1";
        } else {
            g.addLayer("bn1", NativeBatchNorm.of(channels, 1e-5, 0.9, 1.0), "conv1")
                    .addLayer("relu1", new ActivationLayer.Builder().activation(Activation.RELU).build(), "bn1");
            bn1 = "relu1";
        }
        g.addLayer("conv2", NativeConvolution.of(channels, channels, 3, 1, 1, 1, false, new KaimingNormal()), bn1)
                .addLayer("bn2", NativeBatchNorm.of(channels, 1e-5, 0.9, 1.0), "conv2");
        if (fused) {
            g.addVertex("out", new AddReluVertex(), "bn2", bn1);
        } else {
            g.addVertex("add", new ElementWiseVertex(ElementWiseVertex.Op.Add), "bn2", bn1)
                    .addLayer("out", new ActivationLayer.Builder().activation(Activation.RELU).build(), "add");
        }
        g.addLayer("pool", new GlobalPoolingLayer.Builder(PoolingType.AVG).build(), "out")
                .addLayer("loss", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT)
                        .activation(Activation.SOFTMAX).nOut(3).build(), "pool")
                .setOutputs("loss");
        ComputationGraph net = new ComputationGraph(g.build());
        net.init();
        for (String bn : new String[] {"bn1", "bn2"}) {
            net.getLayer(bn).getParam("gamma").assign(Nd4j.rand(type, 1, channels).addi(0.5));
            net.getLayer(bn).getParam("beta").assign(Nd4j.randn(type, 1, channels).muli(0.5));
        }
        return net;
    }

    private static INDArray labels(DataType type, int n) {
        INDArray y = Nd4j.zeros(type, n, 3);
        for (int i = 0; i < n; i++) {
            y.putScalar(i, (i + 1) % 3, 1.0);
        }
        return y;
    }

    private static void assertClose(String what, INDArray ref, INDArray actual, double relative, double absolute) {
        double scale = ref.amaxNumber().doubleValue();
        double diff = ref.sub(actual).amaxNumber().doubleValue();
        assertTrue(diff <= relative * scale + absolute, what + ": max|diff| " + diff + " vs max|ref| " + scale);
    }

    private record Pass(double score, INDArray output, INDArray inference, Map<String, INDArray> gradients) {
    }

    private static Pass run(ComputationGraph g, INDArray x, INDArray y) {
        g.setInputs(x);
        g.setLabels(y);
        g.computeGradientAndScore();
        Map<String, INDArray> copies = new TreeMap<>();
        g.gradient().gradientForVariable().forEach((k, v) -> copies.put(k, v.dup()));
        INDArray train = g.outputSingle(true, x).dup();
        INDArray infer = g.outputSingle(false, x).dup();
        return new Pass(g.score(), train, infer, copies);
    }

    @Test
    void fusedBlockGradientsMatchFiniteDifferences() {
        DataType previous = Nd4j.dataType();
        Nd4j.setDefaultDataTypes(DataType.DOUBLE, DataType.DOUBLE);
        try {
            ComputationGraph g = block(DataType.DOUBLE, true, 4, 5);
            INDArray x = Nd4j.randn(DataType.DOUBLE, 3, 3, 5, 5).muli(2).addi(0.5);
            assertTrue(GradientCheckUtil.checkGradients(new GradientCheckUtil.GraphConfig().net(g)
                    .inputs(new INDArray[] {x}).labels(new INDArray[] {labels(DataType.DOUBLE, 3)})
                    .excludeParams(Set.of("bn1_mean", "bn1_var", "bn2_mean", "bn2_var"))
                    .epsilon(1e-6).maxRelError(1e-4).minAbsoluteError(1e-9)));
        } finally {
            Nd4j.setDefaultDataTypes(previous, previous);
        }
    }

    @Test
    void fusedBlockEqualsSeparateActivationAndAddLayers() {
        LayerRuntime.select(LayerRuntime.LIBND4J);
        ComputationGraph fused = block(DataType.FLOAT, true, 8, 6);
        ComputationGraph separate = block(DataType.FLOAT, false, 8, 6);
        separate.setParams(fused.params());
        INDArray x = Nd4j.randn(DataType.FLOAT, 4, 3, 6, 6);
        INDArray y = labels(DataType.FLOAT, 4);
        Pass a = run(fused, x, y);
        Pass b = run(separate, x, y);
        assertEquals(b.score(), a.score(), 1e-6 * Math.abs(b.score()));
        assertClose("output", b.output(), a.output(), 1e-6, 1e-7);
        assertEquals(b.gradients().keySet(), a.gradients().keySet());
        for (String key : b.gradients().keySet()) {
            assertClose("gradient " + key, b.gradients().get(key), a.gradients().get(key), 1e-5, 1e-7);
        }
    }

    @Test
    void oneDnnFusedBlockMatchesLibnd4j() {
        Assumptions.assumeTrue(dev.resnetzoo.core.onednn.OneDnn.available(), () -> {
            System.out.println("FusedBlockTest: SKIPPED, oneDNN unavailable: "
                    + dev.resnetzoo.core.onednn.OneDnn.unavailableReason());
            return "oneDNN unavailable";
        });
        ComputationGraph g = block(DataType.FLOAT, true, 16, 10);
        g.getLayer("bn1").getParam("mean").assign(Nd4j.randn(DataType.FLOAT, 1, 16).muli(0.1));
        g.getLayer("bn1").getParam("var").assign(Nd4j.rand(DataType.FLOAT, 1, 16).addi(0.5));
        INDArray x = Nd4j.randn(DataType.FLOAT, 4, 3, 10, 10).muli(1.5).addi(0.2);
        INDArray y = labels(DataType.FLOAT, 4);
        LayerRuntime.select(LayerRuntime.LIBND4J);
        Pass ref = run(g, x, y);
        LayerRuntime.select(LayerRuntime.ONEDNN);
        Pass one = run(g, x, y);
        assertEquals(ref.score(), one.score(), 1e-5 * Math.abs(ref.score()) + 1e-6, "loss");
        assertClose("training-mode output", ref.output(), one.output(), 1e-4, 1e-5);
        assertClose("inference-mode output", ref.inference(), one.inference(), 1e-4, 1e-5);
        assertEquals(ref.gradients().keySet(), one.gradients().keySet());
        for (String key : ref.gradients().keySet()) {
            assertClose("gradient " + key, ref.gradients().get(key), one.gradients().get(key), 1e-4, 1e-5);
        }
    }
}
