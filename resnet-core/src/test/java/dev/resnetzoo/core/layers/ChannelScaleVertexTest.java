package dev.resnetzoo.core.layers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.deeplearning4j.gradientcheck.GradientCheckUtil;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.NoOp;
import org.nd4j.linalg.lossfunctions.LossFunctions;

@ExtendWith(DoublePrecision.class)
class ChannelScaleVertexTest {

    /** conv -> SE (pool, fc1, relu, fc2, sigmoid, scale) -> pool -> softmax. */
    private static ComputationGraph seGraph() {
        ComputationGraphConfiguration conf = new NeuralNetConfiguration.Builder()
                .seed(7).dataType(DataType.DOUBLE).updater(new NoOp())
                .graphBuilder()
                .addInputs("in")
                .setInputTypes(InputType.convolutional(6, 6, 3))
                .addLayer("conv", NativeConvolution.of(3, 8, 3, 1, 1, 1, false, new KaimingNormal()), "in")
                .addLayer("se.pool", new GlobalPoolingLayer.Builder(PoolingType.AVG).collapseDimensions(false).build(), "conv")
                .addLayer("se.fc1", NativeConvolution.of(8, 4, 1, 1, 0, 1, true, new KaimingNormal()), "se.pool")
                .addLayer("se.relu", new ActivationLayer.Builder().activation(Activation.RELU).build(), "se.fc1")
                .addLayer("se.fc2", NativeConvolution.of(4, 8, 1, 1, 0, 1, true, new KaimingNormal()), "se.relu")
                .addLayer("se.gate", new ActivationLayer.Builder().activation(Activation.SIGMOID).build(), "se.fc2")
                .addVertex("se.scale", new ChannelScaleVertex(), "conv", "se.gate")
                .addLayer("pool", new GlobalPoolingLayer.Builder(PoolingType.MAX).build(), "se.scale")
                .addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT)
                        .activation(Activation.SOFTMAX).nOut(3).build(), "pool")
                .setOutputs("out")
                .build();
        ComputationGraph g = new ComputationGraph(conf);
        g.init();
        return g;
    }

    @Test
    void scalesEveryChannelByItsFactor() {
        ComputationGraph g = seGraph();
        INDArray x = Nd4j.rand(DataType.DOUBLE, 2, 3, 6, 6);
        var acts = g.feedForward(x, false);
        INDArray features = acts.get("conv");
        INDArray gate = acts.get("se.gate");
        INDArray scaled = acts.get("se.scale");
        for (int n = 0; n < 2; n++) {
            for (int c = 0; c < 8; c++) {
                double factor = gate.getDouble(n, c, 0, 0);
                INDArray expected = features.get(org.nd4j.linalg.indexing.NDArrayIndex.point(n),
                        org.nd4j.linalg.indexing.NDArrayIndex.point(c)).mul(factor);
                INDArray actual = scaled.get(org.nd4j.linalg.indexing.NDArrayIndex.point(n),
                        org.nd4j.linalg.indexing.NDArrayIndex.point(c));
                assertEquals(0.0, actual.sub(expected).amaxNumber().doubleValue(), 1e-12);
            }
        }
    }

    @Test
    void gradientsMatchFiniteDifferences() {
        ComputationGraph g = seGraph();
        INDArray x = Nd4j.rand(DataType.DOUBLE, 2, 3, 6, 6).subi(0.5);
        INDArray y = Nd4j.zeros(DataType.DOUBLE, 2, 3);
        y.putScalar(0, 1, 1.0);
        y.putScalar(1, 2, 1.0);
        assertTrue(GradientCheckUtil.checkGradients(new GradientCheckUtil.GraphConfig().net(g)
                .inputs(new INDArray[] {x}).labels(new INDArray[] {y})
                .epsilon(1e-6).maxRelError(1e-3).minAbsoluteError(1e-8)));
    }
}
