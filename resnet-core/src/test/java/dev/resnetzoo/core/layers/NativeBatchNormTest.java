package dev.resnetzoo.core.layers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Set;
import org.deeplearning4j.gradientcheck.GradientCheckUtil;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.NoOp;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.LossFunctions;

@ExtendWith(DoublePrecision.class)
class NativeBatchNormTest {

    /** input -> conv -> bn (under test) -> global average pool -> softmax. */
    private static ComputationGraph chain(Layer bn, org.nd4j.linalg.learning.config.IUpdater updater) {
        ComputationGraphConfiguration conf = new NeuralNetConfiguration.Builder()
                .seed(5).dataType(DataType.DOUBLE).updater(updater)
                .graphBuilder()
                .addInputs("in")
                .setInputTypes(InputType.convolutional(5, 5, 3))
                .addLayer("conv", NativeConvolution.of(3, 4, 3, 1, 1, 1, false, new KaimingNormal()), "in")
                .addLayer("bn", bn, "conv")
                .addLayer("pool", new GlobalPoolingLayer.Builder(PoolingType.MAX).build(), "bn")
                .addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT)
                        .activation(Activation.SOFTMAX).nOut(3).build(), "pool")
                .setOutputs("out")
                .build();
        ComputationGraph g = new ComputationGraph(conf);
        g.init();
        return g;
    }

    private static INDArray labels() {
        INDArray y = Nd4j.zeros(DataType.DOUBLE, 3, 3);
        for (int i = 0; i < 3; i++) {
            y.putScalar(i, (i + 1) % 3, 1.0);
        }
        return y;
    }

    @Test
    void gradientsMatchFiniteDifferences() {
        ComputationGraph g = chain(NativeBatchNorm.of(4, 1e-5, 0.9, 1.0), new NoOp());
        g.getLayer("bn").getParam("gamma").assign(Nd4j.rand(DataType.DOUBLE, 4).addi(0.5));
        g.getLayer("bn").getParam("beta").assign(Nd4j.randn(DataType.DOUBLE, 4));
        INDArray x = Nd4j.randn(DataType.DOUBLE, 3, 3, 5, 5).muli(2).addi(1);
        assertTrue(GradientCheckUtil.checkGradients(new GradientCheckUtil.GraphConfig().net(g)
                .inputs(new INDArray[] {x}).labels(new INDArray[] {labels()})
                .excludeParams(Set.of("bn_mean", "bn_var"))
                .epsilon(1e-6).maxRelError(1e-4).minAbsoluteError(1e-9)));
    }

    @Test
    void forwardAndBackwardEqualDl4jBatchNormalization() {
        ComputationGraph ours = chain(NativeBatchNorm.of(4, 1e-5, 0.9, 1.0), new NoOp());
        ComputationGraph stock = chain(new BatchNormalization.Builder().nIn(4).nOut(4).eps(1e-5).decay(0.9)
                .useLogStd(false).build(), new NoOp());
        stock.setParams(ours.params().dup());
        ours.getLayer("bn").getParam("mean").assign(Nd4j.randn(DataType.DOUBLE, 4));
        ours.getLayer("bn").getParam("var").assign(Nd4j.rand(DataType.DOUBLE, 4).addi(0.5));
        stock.getLayer("bn").setParams(ours.getLayer("bn").params().dup());
        INDArray x = Nd4j.randn(DataType.DOUBLE, 3, 3, 5, 5);
        for (boolean train : new boolean[] {true, false}) {
            INDArray a = ours.feedForward(x, train).get("bn");
            INDArray b = stock.feedForward(x, train).get("bn");
            assertEquals(0.0, a.sub(b).amaxNumber().doubleValue(), 1e-10, "forward, training=" + train);
        }
        ours.setInputs(x);
        ours.setLabels(labels());
        ours.computeGradientAndScore();
        stock.setInputs(x);
        stock.setLabels(labels());
        stock.computeGradientAndScore();
        for (String p : new String[] {"conv_W", "bn_gamma", "bn_beta", "bn_mean"}) {
            INDArray ga = ours.gradient().getGradientFor(p);
            INDArray gb = stock.gradient().getGradientFor(p);
            assertEquals(0.0, ga.sub(gb.reshape(ga.shape())).amaxNumber().doubleValue(), 1e-10, p);
        }
    }

    @Test
    void runningStatisticsFollowPyTorchMomentumWithUnbiasedVariance() {
        ComputationGraph g = chain(NativeBatchNorm.of(4, 1e-5, 0.9, 1.0), new Sgd(0.0));
        INDArray x = Nd4j.randn(DataType.DOUBLE, 3, 3, 5, 5);
        INDArray convOut = g.feedForward(x, true).get("conv");
        INDArray batchMean = convOut.mean(0, 2, 3);
        INDArray batchVarUnbiased = convOut.var(true, 0, 2, 3);
        g.fit(new DataSet(x, labels()));
        INDArray mean = g.getLayer("bn").getParam("mean").reshape(4);
        INDArray var = g.getLayer("bn").getParam("var").reshape(4);
        // PyTorch: running = (1 - momentum) * running + momentum * batch, momentum 0.1, from mean 0 / var 1
        assertEquals(0.0, mean.sub(batchMean.mul(0.1)).amaxNumber().doubleValue(), 1e-12);
        assertEquals(0.0, var.sub(batchVarUnbiased.mul(0.1).addi(0.9)).amaxNumber().doubleValue(), 1e-12);
    }
}
