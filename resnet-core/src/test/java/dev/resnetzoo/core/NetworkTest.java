package dev.resnetzoo.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.file.Path;
import java.util.List;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.NoOp;

/** Whole networks: gradients through every block kind, save/restore, JSON, initialisation. */
class NetworkTest {

    /** A tiny SE-ResNeXt: grouped convolutions, SE, downsample shortcuts, small stem. */
    static ResNetSpec tinySeResNeXt() {
        return ResNetSpec.builder(BlockKind.BOTTLENECK, 1, 1)
                .name("tiny-se-resnext").widths(4, 8).stemWidth(8).cardinality(2).baseWidth(32).se(4)
                .stem(StemKind.SMALL).input(2, 6, 6).numClasses(3).build();
    }

    static ResNetSpec tinyBasic() {
        return ResNetSpec.builder(BlockKind.BASIC, 1, 1).name("tiny-basic").widths(4, 8).stemWidth(4)
                .stem(StemKind.IMAGENET).input(1, 16, 16).numClasses(3).build();
    }

    static INDArray labels(int n, int classes) {
        INDArray y = Nd4j.zeros(n, classes);
        for (int i = 0; i < n; i++) {
            y.putScalar(i, i % classes, 1.0);
        }
        return y;
    }

    private static void gradientCheck(ResNetSpec spec) {
        DataType previous = Nd4j.dataType();
        Nd4j.setDefaultDataTypes(DataType.DOUBLE, DataType.DOUBLE);
        try {
            ComputationGraph g = new ComputationGraph(ResNets.configuration(spec,
                    new NeuralNetConfiguration.Builder().seed(42).dataType(DataType.DOUBLE).updater(new NoOp()),
                    LayerImpl.NATIVE));
            g.init();
            INDArray x = Nd4j.rand(DataType.DOUBLE, 2, spec.inputChannels(), spec.inputHeight(), spec.inputWidth());
            INDArray y = labels(2, spec.numClasses()).castTo(DataType.DOUBLE);
            List<String> failures = NamedGradientCheck.failures(g,
                    new org.nd4j.linalg.dataset.MultiDataSet(new INDArray[] {x}, new INDArray[] {y}), 12, 1e-6, 1e-3, 1e-8);
            assertTrue(failures.isEmpty(), "gradient check of " + spec.name() + ":\n" + String.join("\n", failures));
        } finally {
            Nd4j.setDefaultDataTypes(previous, previous);
        }
    }

    @Test
    void gradientsOfTinySeResNeXtMatchFiniteDifferences() {
        gradientCheck(tinySeResNeXt());
    }

    @Test
    void gradientsOfTinyBasicResNetWithImageNetStemMatchFiniteDifferences() {
        gradientCheck(tinyBasic());
    }

    @Test
    void savedGraphRestoresWithIdenticalOutputsAndConfiguration(@TempDir Path dir) throws Exception {
        ComputationGraph g = ResNets.create(tinySeResNeXt(), new NeuralNetConfiguration.Builder().seed(1).updater(new Adam(1e-3)));
        INDArray x = Nd4j.rand(DataType.FLOAT, 4, 2, 6, 6);
        g.fit(new DataSet(x, labels(4, 3)));
        INDArray before = g.outputSingle(false, x);
        File file = dir.resolve("tiny.zip").toFile();
        ModelSerializer.writeModel(g, file, true);
        ComputationGraph restored = ModelSerializer.restoreComputationGraph(file, true);
        assertEquals(g.getConfiguration(), restored.getConfiguration());
        assertEquals(0.0, before.sub(restored.outputSingle(false, x)).amaxNumber().doubleValue(), 0.0);
        assertEquals(g.params(), restored.params());
        // the updater state came back too: one more step gives the same parameters
        g.fit(new DataSet(x, labels(4, 3)));
        restored.fit(new DataSet(x, labels(4, 3)));
        assertEquals(0.0, g.params().sub(restored.params()).amaxNumber().doubleValue(), 1e-6);
    }

    @Test
    void flatParameterRoundTripKeepsEveryLayerIdentical() {
        // TransferLearning and ModelSerializer move parameters as one flat vector through setParams
        ComputationGraph g = ResNets.create(tinySeResNeXt());
        INDArray x = Nd4j.rand(DataType.FLOAT, 2, 2, 6, 6);
        INDArray before = g.outputSingle(false, x);
        INDArray w = g.getLayer("layer1.0.conv2").getParam("W").dup();
        for (var layer : g.getLayers()) {
            if (layer.numParams() > 0) {
                layer.setParams(layer.params().dup());
            }
        }
        assertEquals(w, g.getLayer("layer1.0.conv2").getParam("W"));
        g.setParams(g.params().dup());
        assertEquals(0.0, before.sub(g.outputSingle(false, x)).amaxNumber().doubleValue(), 0.0);
    }

    @Test
    void everyVariantConfigurationBuilds() {
        for (Variant v : Variant.values()) {
            ComputationGraphConfiguration conf = ResNets.configuration(v.spec(), new NeuralNetConfiguration.Builder(),
                    LayerImpl.NATIVE);
            assertEquals(ResNets.OUTPUT, conf.getNetworkOutputs().get(0));
        }
    }

    @Test
    void jsonConfigurationRoundTrips() {
        ComputationGraphConfiguration conf = ResNets.configuration(Variant.SERESNEXT50_32X4D.spec(),
                new NeuralNetConfiguration.Builder(), LayerImpl.NATIVE);
        String json = conf.toJson();
        ComputationGraphConfiguration back = ComputationGraphConfiguration.fromJson(json);
        assertEquals(json, back.toJson());
        assertEquals(conf.getVertices(), back.getVertices());
        assertTrue(json.contains("\"groups\" : 32"), "group count is serialised");
        ComputationGraph restored = new ComputationGraph(back);
        restored.init();
        assertEquals(Reference.params("seresnext50_32x4d"), ResNets.countParameters(restored));
    }

    @Test
    void zeroInitLastBnStartsEveryResidualBranchAtZero() {
        ResNetSpec spec = Variant.RESNET18.spec().toBuilder().zeroInitLastBn(true).build();
        ComputationGraph g = ResNets.create(spec);
        for (int s = 1; s <= 4; s++) {
            for (int b = 0; b < 2; b++) {
                assertEquals(0.0, g.getLayer("layer" + s + "." + b + ".bn2").getParam("gamma").amaxNumber().doubleValue());
                assertEquals(1.0, g.getLayer("layer" + s + "." + b + ".bn1").getParam("gamma").minNumber().doubleValue());
            }
        }
        ComputationGraph plain = ResNets.create(Variant.RESNET18.spec());
        assertEquals(1.0, plain.getLayer("layer1.0.bn2").getParam("gamma").minNumber().doubleValue());
    }

    @Test
    void stockDl4jConvolutionGraphHasTheSameParameters() {
        ComputationGraph stock = new ComputationGraph(ResNets.configuration(Variant.RESNET18.spec(),
                new NeuralNetConfiguration.Builder(), LayerImpl.DL4J));
        stock.init();
        assertEquals(Reference.params("resnet18"), ResNets.countParameters(stock));
    }

    @Test
    void smallStemKeepsResolutionForFashionMnist() {
        ResNetSpec spec = Variant.RESNET18.spec().toBuilder().stem(StemKind.SMALL).input(1, 28, 28).numClasses(10).build();
        Summary s = ResNets.summary(spec);
        assertArrayEquals(new long[] {64, 28, 28}, s.stages().get(0).shape());
        assertArrayEquals(new long[] {512, 4, 4}, s.stages().get(4).shape());
        ComputationGraph g = ResNets.create(spec);
        assertArrayEquals(new long[] {5, 10}, g.outputSingle(false, Nd4j.rand(DataType.FLOAT, 5, 1, 28, 28)).shape());
        assertEquals(s.params(), ResNets.countParameters(g));
    }
}
