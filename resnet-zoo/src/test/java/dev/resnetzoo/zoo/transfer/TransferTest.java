package dev.resnetzoo.zoo.transfer;

import dev.resnetzoo.core.Taps;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.resnetzoo.core.BlockKind;
import dev.resnetzoo.core.ResNetSpec;
import dev.resnetzoo.core.ResNets;
import dev.resnetzoo.core.StemKind;
import dev.resnetzoo.core.layers.NativeBatchNorm;
import dev.resnetzoo.zoo.preprocess.ImagePreprocessor;
import dev.resnetzoo.zoo.registry.Preprocessing;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.deeplearning4j.datasets.iterator.utilty.ListDataSetIterator;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.graph.vertex.GraphVertex;
import org.deeplearning4j.nn.layers.FrozenLayer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.evaluation.classification.Evaluation;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;

class TransferTest {

    @TempDir
    Path tmp;

    static ResNetSpec tiny(StemKind stem, int classes) {
        return ResNetSpec.builder(BlockKind.BASIC, 1, 1).name("tiny").widths(8, 16).stemWidth(8).stem(stem)
                .input(3, 32, 32).numClasses(classes).build();
    }

    static ComputationGraph tinyGraph(StemKind stem, int classes) {
        return ResNets.create(tiny(stem, classes), new NeuralNetConfiguration.Builder().seed(7));
    }

    @Test
    void tapsHaveTheExpectedShapes() {
        ComputationGraph g = tinyGraph(StemKind.SMALL, 10);
        assertEquals(List.of("stem", "layer1", "layer2", "pool", "logits"), Taps.names(g));
        INDArray x = Nd4j.rand(org.nd4j.linalg.api.buffer.DataType.FLOAT, 5, 3, 32, 32);
        FeatureExtractor fx = FeatureExtractor.builder(g).optBatchSize(2).build();
        Map<String, INDArray> f = fx.extract(x, List.of("stem", "layer1", "layer2", "pool", "logits"));
        assertArrayEquals(new long[] {5, 8, 32, 32}, f.get("stem").shape());
        assertArrayEquals(new long[] {5, 8, 32, 32}, f.get("layer1").shape());
        assertArrayEquals(new long[] {5, 16, 16, 16}, f.get("layer2").shape());
        assertArrayEquals(new long[] {5, 16}, f.get("pool").shape());
        assertArrayEquals(new long[] {5, 10}, f.get("logits").shape());
        // batched extraction equals one pass through the graph in inference mode
        INDArray logits = g.outputSingle(false, x);
        assertTrue(f.get("pool").equalsWithEps(g.feedForward(x, false).get(ResNets.POOL), 1e-5));
        assertNotNull(logits);
        // pooled maps are the spatial mean
        INDArray pooled2 = FeatureExtractor.builder(g).optPooled(true).build().extract(x, "layer2");
        assertArrayEquals(new long[] {5, 16}, pooled2.shape());
        assertTrue(pooled2.equalsWithEps(f.get("pool"), 1e-5), "avgpool is the mean of layer2");

        ComputationGraph imagenet = tinyGraph(StemKind.IMAGENET, 10);
        INDArray stem = FeatureExtractor.builder(imagenet).build().extract(x, "stem");
        assertArrayEquals(new long[] {5, 8, 8, 8}, stem.shape());
        assertEquals("maxpool", Taps.vertex(imagenet, "stem"));
        assertEquals("layer2.0.out", Taps.vertex(imagenet, "LAYER2"));
    }

    @Test
    void unknownTapsAreNamedWithTheValidOnes() {
        ComputationGraph g = tinyGraph(StemKind.SMALL, 10);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Taps.vertex(g, "layer3"));
        assertTrue(e.getMessage().contains("'layer3'"), e.getMessage());
        assertTrue(e.getMessage().contains("stem, layer1, layer2, pool, logits"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> FineTuner.builder(g).optFreezeThrough("layr1").build());
        assertTrue(e.getMessage().contains("'layr1'") && e.getMessage().contains("layer2"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> FeatureExtractor.builder(g).build().extract(Nd4j.zeros(1, 3, 32, 32), "conv9"));
        assertTrue(e.getMessage().contains("'conv9'"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> FineTuner.builder(g).optFreezeThrough("logits").build());
        assertTrue(e.getMessage().contains("nothing would be left to train"), e.getMessage());
    }

    private static Map<String, INDArray> snapshot(ComputationGraph g) {
        Map<String, INDArray> m = new HashMap<>();
        for (Layer l : g.getLayers()) {
            String name = l.conf().getLayer().getLayerName();
            for (var e : l.paramTable().entrySet()) {
                m.put(name + "/" + e.getKey(), e.getValue().dup());
            }
        }
        return m;
    }

    @Test
    void freezingKeepsFrozenParamsAndBatchNormStatisticsFixed() {
        ComputationGraph source = tinyGraph(StemKind.SMALL, 4);
        FineTuner ft = FineTuner.builder(source).optFreezeThrough("layer1").optNumClasses(3)
                .optUpdater(new Adam(1e-2)).build();
        ComputationGraph g = ft.graph();
        List<String> frozen = ft.frozenLayers();
        assertTrue(frozen.containsAll(List.of("conv1", "bn1", "layer1.0.conv1", "layer1.0.bn2")), frozen.toString());
        assertFalse(frozen.stream().anyMatch(n -> n.startsWith("layer2") || n.equals("fc")), frozen.toString());
        for (GraphVertex v : g.getVertices()) {
            if (v.hasLayer()) {
                assertEquals(frozen.contains(v.getVertexName()), v.getLayer() instanceof FrozenLayer, v.getVertexName());
            }
        }
        // Frozen BN is a FrozenLayer around our NativeBatchNorm and runs in inference mode even when training.
        Layer bn1 = g.getLayer("bn1");
        assertTrue(((FrozenLayer) bn1).getInsideLayer().conf().getLayer() instanceof NativeBatchNorm);
        INDArray x = Nd4j.rand(org.nd4j.linalg.api.buffer.DataType.FLOAT, 6, 3, 32, 32).subi(0.3).muli(3);
        Map<String, INDArray> train = g.feedForward(x, true);
        Map<String, INDArray> test = g.feedForward(x, false);
        assertTrue(train.get("layer1.0.out").equalsWithEps(test.get("layer1.0.out"), 1e-6), "frozen part: inference mode");
        assertFalse(train.get("layer2.0.bn1").equalsWithEps(test.get("layer2.0.bn1"), 1e-3), "unfrozen BN: batch statistics");

        Map<String, INDArray> before = snapshot(g);
        INDArray y = Nd4j.zeros(6, 3);
        for (int i = 0; i < 6; i++) {
            y.putScalar(i, i % 3, 1);
        }
        ft.fit(new ListDataSetIterator<>(new DataSet(x, y).asList(), 3), 1);
        Map<String, INDArray> after = snapshot(g);
        int frozenChecked = 0;
        int changed = 0;
        for (var e : before.entrySet()) {
            String layer = e.getKey().substring(0, e.getKey().indexOf('/'));
            boolean isFrozen = frozen.contains(layer);
            boolean same = e.getValue().equals(after.get(e.getKey()));
            if (isFrozen) {
                assertTrue(same, "frozen " + e.getKey() + " changed");
                frozenChecked++;
            } else {
                assertFalse(same, "trainable " + e.getKey() + " did not change");
                changed++;
            }
        }
        assertTrue(before.containsKey("bn1/mean") && before.containsKey("layer1.0.bn2/var"));
        assertTrue(before.containsKey("layer2.0.bn2/mean") && before.containsKey("layer2.0.bn2/var"));
        assertTrue(frozenChecked >= 12 && changed >= 12, frozenChecked + " frozen, " + changed + " changed");
        // the source graph is untouched
        assertEquals(4, source.getLayer("fc").getParam("b").length());
    }

    @Test
    void replacingTheClassifierKeepsTheBackbone() {
        ComputationGraph source = tinyGraph(StemKind.SMALL, 10);
        // make BN statistics non-trivial so they are checked too
        source.getLayer("bn1").getParam("mean").assign(0.25);
        source.getLayer("layer2.0.bn2").getParam("var").assign(2.0);
        Map<String, INDArray> before = snapshot(source);
        ComputationGraph g = ResNets.replaceClassifier(source, 3, 42);
        Map<String, INDArray> after = snapshot(g);
        List<String> differ = new ArrayList<>();
        for (var e : before.entrySet()) {
            if (!e.getKey().startsWith("fc/") && !e.getValue().equals(after.get(e.getKey()))) {
                differ.add(e.getKey() + java.util.Arrays.toString(e.getValue().shape()) + "->"
                        + java.util.Arrays.toString(after.get(e.getKey()).shape()));
            }
        }
        assertEquals(List.of(), differ);
        assertArrayEquals(new long[] {16, 3}, g.getLayer("fc").getParam("W").shape());
        assertEquals(3, g.getLayer("fc").getParam("b").length());
        assertNotNull(g.getVertex(ResNets.OUTPUT));
        assertEquals(List.of(ResNets.OUTPUT), g.getConfiguration().getNetworkOutputs());
        assertTrue(g.getLayer(ResNets.OUTPUT).conf().getLayer() instanceof org.deeplearning4j.nn.conf.layers.LossLayer);
        INDArray out = g.outputSingle(Nd4j.rand(org.nd4j.linalg.api.buffer.DataType.FLOAT, 2, 3, 32, 32));
        assertArrayEquals(new long[] {2, 3}, out.shape());
        assertEquals(2.0, out.sumNumber().doubleValue(), 1e-4, "softmax outputs");
    }

    /** Three visually separable classes: mostly red, green or blue noisy images. */
    static DataSet colourImages(int perClass, long seed) {
        ImagePreprocessor pre = ImagePreprocessor.of(Preprocessing.imagenet(32, 32, Preprocessing.Interpolation.BILINEAR));
        Random r = new Random(seed);
        List<INDArray> xs = new ArrayList<>();
        int n = perClass * 3;
        INDArray y = Nd4j.zeros(n, 3);
        for (int i = 0; i < n; i++) {
            int c = i % 3;
            BufferedImage img = new BufferedImage(40, 36, BufferedImage.TYPE_INT_RGB);
            for (int py = 0; py < img.getHeight(); py++) {
                for (int px = 0; px < img.getWidth(); px++) {
                    int[] rgb = {r.nextInt(120), r.nextInt(120), r.nextInt(120)};
                    rgb[c] += 100 + r.nextInt(36);
                    img.setRGB(px, py, (rgb[0] << 16) | (rgb[1] << 8) | rgb[2]);
                }
            }
            xs.add(pre.preprocess(img));
            y.putScalar(i, c, 1);
        }
        return new DataSet(Nd4j.concat(0, xs.toArray(INDArray[]::new)), y);
    }

    @Test
    void featurizedHeadTrainingLearnsAndEndsUpInTheFullGraph() throws Exception {
        DataSet train = colourImages(12, 1);
        DataSet held = colourImages(8, 2);
        ComputationGraph backbone = tinyGraph(StemKind.SMALL, 10);
        FineTuner ft = FineTuner.builder(backbone).optNumClasses(3).optUpdater(new Adam(1e-2)).optBatchSize(8).build();
        assertEquals("pool", ft.frozenThrough().orElseThrow());
        FeatureCache cache = FeatureCache.at(tmp.resolve("cache"));
        long t0 = System.nanoTime();
        DataSet feats = ft.featurize(new ListDataSetIterator<>(train.asList(), 8), cache, "colours-12");
        assertArrayEquals(new long[] {36, 16}, feats.getFeatures().shape());
        try (var files = Files.list(cache.directory())) {
            assertEquals(2, files.count(), "features and labels written");
        }
        // second call: read back from the cache, identical
        DataSet again = ft.featurize(new ListDataSetIterator<>(new ArrayList<>(), 8), cache, "colours-12");
        assertEquals(feats.getFeatures(), again.getFeatures());
        assertEquals(feats.getLabels(), again.getLabels());

        Map<String, INDArray> backboneBefore = snapshot(ft.graph());
        double featSecs = (System.nanoTime() - t0) / 1e9;
        t0 = System.nanoTime();
        ft.fitFeaturized(feats, 60);
        double secs = (System.nanoTime() - t0) / 1e9;
        Evaluation heldOut = ft.evaluate(new ListDataSetIterator<>(held.asList(), 8));
        Evaluation onFeatures = ft.evaluateFeaturized(ft.featurize(new ListDataSetIterator<>(held.asList(), 8)));
        System.out.printf("featurized head training: held-out accuracy %.3f (full graph), %.3f (head on features); featurize %.1f s, 60 epochs %.1f s%n",
                heldOut.accuracy(), onFeatures.accuracy(), featSecs, secs);
        assertTrue(heldOut.accuracy() >= 0.8, "held-out accuracy " + heldOut.accuracy() + " (chance 0.33)");
        assertEquals(onFeatures.accuracy(), heldOut.accuracy(), 1e-9, "the trained head is in the full graph");
        // only fc changed in the full graph
        Map<String, INDArray> after = snapshot(ft.graph());
        for (var e : backboneBefore.entrySet()) {
            assertEquals(e.getKey().startsWith("fc/"), !e.getValue().equals(after.get(e.getKey())), e.getKey());
        }
        // the key depends on the frozen part only: same backbone and data, same key; other weights or data, other key
        String key = FeatureCache.key(ft.graph(), "pool", "colours-12");
        assertEquals(key, FeatureCache.key(tinyGraph(StemKind.SMALL, 5), "pool", "colours-12"));
        assertNotEquals(key, FeatureCache.key(ft.graph(), "pool", "colours-13"));
        assertNotEquals(key, FeatureCache.key(ResNets.create(tiny(StemKind.SMALL, 3),
                new NeuralNetConfiguration.Builder().seed(8)), "pool", "colours-12"));
    }

    @Test
    void featurizedTrainingThroughAnEarlierStageUpdatesLayer2() {
        DataSet train = colourImages(6, 3);
        FineTuner ft = FineTuner.builder(tinyGraph(StemKind.SMALL, 10)).optFreezeThrough("layer1").optNumClasses(3)
                .optUpdater(new Adam(1e-2)).optBatchSize(6).build();
        DataSet feats = ft.featurize(new ListDataSetIterator<>(train.asList(), 6));
        assertArrayEquals(new long[] {18, 8, 32, 32}, feats.getFeatures().shape());
        Map<String, INDArray> before = snapshot(ft.graph());
        ft.fitFeaturized(feats, 2);
        Map<String, INDArray> after = snapshot(ft.graph());
        for (var e : before.entrySet()) {
            boolean trainable = e.getKey().startsWith("layer2") || e.getKey().startsWith("fc/");
            assertEquals(trainable, !e.getValue().equals(after.get(e.getKey())), e.getKey());
        }
    }
}
