package dev.resnetzoo.core.layers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.deeplearning4j.gradientcheck.GradientCheckUtil;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.learning.config.NoOp;
import org.nd4j.linalg.lossfunctions.LossFunctions;

@ExtendWith(DoublePrecision.class)
class NativeConvolutionTest {

    /** input -> layer under test -> global average pool -> softmax output; double precision, no updater. */
    static ComputationGraph probe(Layer layer, int channels, int size, int classes) {
        ComputationGraphConfiguration conf = new NeuralNetConfiguration.Builder()
                .seed(12345).dataType(DataType.DOUBLE).updater(new NoOp())
                .graphBuilder()
                .addInputs("in")
                .setInputTypes(InputType.convolutional(size, size, channels))
                .addLayer("conv", layer, "in")
                .addLayer("pool", new GlobalPoolingLayer.Builder(PoolingType.AVG).build(), "conv")
                .addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT)
                        .activation(Activation.SOFTMAX).nOut(classes).build(), "pool")
                .setOutputs("out")
                .build();
        ComputationGraph g = new ComputationGraph(conf);
        g.init();
        return g;
    }

    static INDArray oneHot(int n, int classes) {
        INDArray y = Nd4j.zeros(DataType.DOUBLE, n, classes);
        for (int i = 0; i < n; i++) {
            y.putScalar(i, (i * 7 + 3) % classes, 1.0);
        }
        return y;
    }

    @ParameterizedTest(name = "k={0} stride={1} pad={2} groups={3} bias={4}")
    @CsvSource({
            "3, 1, 1, 1, false",
            "3, 2, 1, 1, false",
            "1, 2, 0, 1, true",
            "3, 2, 1, 4, false",
            "3, 1, 1, 2, true",
            "7, 2, 3, 1, false",
    })
    void gradientsMatchFiniteDifferences(int k, int stride, int pad, int groups, boolean bias) {
        int cin = 8;
        int cout = 8;
        ComputationGraph g = probe(NativeConvolution.of(cin, cout, k, stride, pad, groups, bias, new KaimingNormal()),
                cin, 9, 3);
        INDArray x = Nd4j.rand(DataType.DOUBLE, 2, cin, 9, 9).subi(0.5);
        boolean ok = GradientCheckUtil.checkGradients(new GradientCheckUtil.GraphConfig().net(g)
                .inputs(new INDArray[] {x}).labels(new INDArray[] {oneHot(2, 3)})
                .subset(true).maxPerParam(60)
                .epsilon(1e-6).maxRelError(1e-3).minAbsoluteError(1e-8));
        assertTrue(ok, "gradient check failed");
    }

    @Test
    void ungroupedForwardAndBackwardEqualDl4jConvolutionLayer() {
        NativeConvolution ours = NativeConvolution.of(5, 6, 3, 2, 1, 1, true, new KaimingNormal());
        Layer stock = new ConvolutionLayer.Builder(3, 3).stride(2, 2).padding(1, 1)
                .convolutionMode(ConvolutionMode.Truncate).nIn(5).nOut(6).hasBias(true)
                .activation(Activation.IDENTITY).build();
        ComputationGraph a = probe(ours, 5, 11, 4);
        ComputationGraph b = probe(stock, 5, 11, 4);
        b.getLayer("conv").setParam("W", a.getLayer("conv").getParam("W").dup());
        b.getLayer("conv").getParam("b").assign(a.getLayer("conv").getParam("b").reshape(b.getLayer("conv").getParam("b").shape()));
        b.getLayer("out").setParams(a.getLayer("out").params().dup());
        INDArray x = Nd4j.rand(DataType.DOUBLE, 3, 5, 11, 11);
        INDArray y = oneHot(3, 4);
        INDArray actA = a.feedForward(x, false).get("conv");
        INDArray actB = b.feedForward(x, false).get("conv");
        assertArrayEquals(actB.shape(), actA.shape());
        assertEquals(0.0, actA.sub(actB).amaxNumber().doubleValue(), 1e-12);

        a.setInputs(x);
        a.setLabels(y);
        a.computeGradientAndScore();
        b.setInputs(x);
        b.setLabels(y);
        b.computeGradientAndScore();
        INDArray gwA = a.gradient().getGradientFor("conv_W");
        INDArray gwB = b.gradient().getGradientFor("conv_W");
        assertEquals(0.0, gwA.sub(gwB.reshape(gwA.shape())).amaxNumber().doubleValue(), 1e-12);
    }

    @Test
    void groupedConvolutionEqualsSeparateConvolutionsPerGroup() {
        int groups = 4;
        ComputationGraph grouped = probe(NativeConvolution.of(8, 12, 3, 2, 1, groups, false, new KaimingNormal()), 8, 10, 2);
        INDArray w = grouped.getLayer("conv").getParam("W");
        assertArrayEquals(new long[] {12, 2, 3, 3}, w.shape(), "weight layout [out, in/groups, kh, kw]");
        INDArray x = Nd4j.rand(DataType.DOUBLE, 2, 8, 10, 10);
        INDArray out = grouped.feedForward(x, false).get("conv");
        for (int gi = 0; gi < groups; gi++) {
            ComputationGraph single = probe(NativeConvolution.of(2, 3, 3, 2, 1, 1, false, new KaimingNormal()), 2, 10, 2);
            single.getLayer("conv").getParam("W").assign(w.get(NDArrayIndex.interval(gi * 3, gi * 3 + 3)));
            INDArray xs = x.get(NDArrayIndex.all(), NDArrayIndex.interval(gi * 2, gi * 2 + 2)).dup();
            INDArray expected = single.feedForward(xs, false).get("conv");
            INDArray actual = out.get(NDArrayIndex.all(), NDArrayIndex.interval(gi * 3, gi * 3 + 3));
            assertEquals(0.0, actual.sub(expected).amaxNumber().doubleValue(), 1e-12, "group " + gi);
        }
    }

    @Test
    void refusesChannelsNotDivisibleByGroups() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> NativeConvolution.of(6, 8, 3, 1, 1, 4, false, new KaimingNormal()));
        assertTrue(e.getMessage().contains("groups=4") && e.getMessage().contains("nIn=6"), e.getMessage());
    }
}
