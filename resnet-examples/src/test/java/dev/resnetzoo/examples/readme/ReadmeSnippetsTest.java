package dev.resnetzoo.examples.readme;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.resnetzoo.core.BlockKind;
import dev.resnetzoo.core.ResNetSpec;
import dev.resnetzoo.core.ResNets;
import dev.resnetzoo.core.StemKind;
import dev.resnetzoo.core.Variant;
import dev.resnetzoo.examples.cli.ImportCommandTest;
import dev.resnetzoo.zoo.Pretrained;
import dev.resnetzoo.zoo.SavedModel;
import dev.resnetzoo.zoo.download.ZooCache;
import dev.resnetzoo.zoo.registry.Registry;
import dev.resnetzoo.zoo.registry.WeightsEntry;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The README's Java snippets are the files of this package: each file, from its first import to
 * its end, must stand verbatim in a {@code java} block of the README, and each is run here.
 */
class ReadmeSnippetsTest {

    static final Path README = Path.of("..", "README.md");
    static final Path SNIPPETS = Path.of("src", "test", "java", "dev", "resnetzoo", "examples", "readme");

    @TempDir
    Path tmp;

    /** The {@code java} blocks of the README. */
    static List<String> javaBlocks() throws IOException {
        List<String> blocks = new ArrayList<>();
        StringBuilder current = null;
        for (String line : Files.readAllLines(README, StandardCharsets.UTF_8)) {
            if (current == null && line.equals("```java")) {
                current = new StringBuilder();
            } else if (current != null && line.equals("```")) {
                blocks.add(current.toString().strip());
                current = null;
            } else if (current != null) {
                current.append(line).append('\n');
            }
        }
        return blocks;
    }

    /** A snippet file's text from its first import to its end. */
    static String snippet(Path file) throws IOException {
        String s = Files.readString(file, StandardCharsets.UTF_8);
        return s.substring(s.indexOf("\nimport ") + 1).strip();
    }

    @Test
    void everyReadmeJavaBlockIsASnippetFileAndEverySnippetIsInTheReadme() throws IOException {
        List<String> blocks = javaBlocks();
        List<String> files;
        try (Stream<Path> s = Files.list(SNIPPETS)) {
            files = s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".java") && !n.endsWith("Test.java"))
                    .sorted().toList();
        }
        assertTrue(files.size() >= 5, "snippet files: " + files);
        List<String> snippets = new ArrayList<>();
        for (String f : files) {
            String text = snippet(SNIPPETS.resolve(f));
            snippets.add(text);
            assertTrue(blocks.contains(text), f + " is not verbatim in a ```java block of the README");
        }
        for (String b : blocks) {
            assertTrue(snippets.contains(b), "README block is not a snippet file of " + SNIPPETS + ":\n" + b);
        }
    }

    @Test
    void buildArchitectures() {
        List<ComputationGraph> graphs = BuildArchitectures.build();
        assertEquals(25_557_032, ResNets.countParameters(graphs.get(0)), "torchvision's resnet50");
        assertEquals(25_610_152, graphs.get(0).numParams(), "DL4J's count, with BN running statistics, as the README says");
        INDArray grey = graphs.get(1).outputSingle(Nd4j.rand(DataType.FLOAT, 2, 1, 28, 28));
        assertArrayEquals(new long[] {2, 10}, grey.shape());
        INDArray custom = graphs.get(2).outputSingle(Nd4j.rand(DataType.FLOAT, 1, 3, 160, 160));
        assertArrayEquals(new long[] {1, 37}, custom.shape());
        graphs.forEach(ComputationGraph::close);
    }

    /** Runs {@code body} on an offline cache holding a converted resnet50 (random weights: no download). */
    private void withCachedResNet50(ThrowingRunnable body) throws Exception {
        WeightsEntry entry = Registry.builtin().get("resnet50");
        String home = System.getProperty(ZooCache.HOME_PROPERTY);
        String offline = System.getProperty(ZooCache.OFFLINE_PROPERTY);
        System.setProperty(ZooCache.HOME_PROPERTY, tmp.toString());
        System.setProperty(ZooCache.OFFLINE_PROPERTY, "true");
        try {
            Path model = Pretrained.builder().build().modelFile(entry);
            try (SavedModel random = SavedModel.of(ResNets.create(entry.spec()), entry.spec(), entry.preprocessing(),
                    entry.labels(), entry.tag())) {
                random.write(model);
            }
            body.run();
        } finally {
            restore(ZooCache.HOME_PROPERTY, home);
            restore(ZooCache.OFFLINE_PROPERTY, offline);
        }
    }

    interface ThrowingRunnable {
        void run() throws Exception;
    }

    @Test
    void classifyImageOnACachedModel() throws Exception {
        WeightsEntry entry = Registry.builtin().get("resnet50");
        withCachedResNet50(() -> {
            Path image = tmp.resolve("cat.png");
            BufferedImage img = new BufferedImage(300, 240, BufferedImage.TYPE_INT_RGB);
            for (int y = 0; y < 240; y++) {
                for (int x = 0; x < 300; x++) {
                    img.setRGB(x, y, (x * 7 + y * 3) * 0x010203 & 0xFFFFFF);
                }
            }
            ImageIO.write(img, "png", image.toFile());
            String label = ClassifyImage.classify(image);
            assertTrue(entry.labels().contains(label), label);
        });
    }

    @Test
    void transferLearningOnACachedModel() throws Exception {
        withCachedResNet50(() -> {
            Path photos = tmp.resolve("photos");
            for (String c : List.of("left", "right")) {
                Files.createDirectories(photos.resolve(c));
                for (int i = 0; i < 2; i++) {
                    BufferedImage img = new BufferedImage(40, 30, BufferedImage.TYPE_INT_RGB);
                    img.setRGB(c.equals("left") ? 3 : 30, 10 + i, 0xFFFFFF);
                    ImageIO.write(img, "png", photos.resolve(c).resolve(i + ".png").toFile());
                }
            }
            INDArray images = Nd4j.rand(DataType.FLOAT, 2, 3, 64, 64);
            try (SavedModel tuned = TransferLearning.fineTune(photos, images)) {
                assertEquals(List.of("left", "right"), tuned.labels());
                assertArrayEquals(new long[] {2, 2}, tuned.graph().outputSingle(images).shape());
            }
        });
    }

    @Test
    void sparkTraining() throws IOException {
        ResNetSpec spec = ResNetSpec.builder(BlockKind.BASIC, 1, 1).widths(8, 16).stemWidth(8).stem(StemKind.SMALL)
                .input(3, 8, 8).numClasses(3).build();
        List<DataSet> minibatches = new ArrayList<>();
        for (int b = 0; b < 4; b++) {
            INDArray y = Nd4j.zeros(DataType.FLOAT, 16, 3);
            for (int i = 0; i < 16; i++) {
                y.putScalar(i, (b + i) % 3, 1);
            }
            minibatches.add(new DataSet(Nd4j.rand(DataType.FLOAT, 16, 3, 8, 8), y));
        }
        ComputationGraph net = SparkTraining.train(spec, minibatches, tmp);
        assertEquals(3, net.getLayer(ResNets.CLASSIFIER).getParam("b").length());
        assertTrue(Files.isRegularFile(tmp.resolve("epoch-2.zip")));
    }

    private static void restore(String key, String value) {
        if (value == null) {
            System.clearProperty(key);
        } else {
            System.setProperty(key, value);
        }
    }

    @Test
    void importCheckpoint() throws IOException {
        ComputationGraph source = ResNets.create(Variant.RESNET18.spec());
        Path ckpt = Files.write(tmp.resolve("resnet18.safetensors"),
                ImportCommandTest.safetensors(source, Map.of(), k -> true));
        Path out = tmp.resolve("resnet18.zip");
        ImportCheckpoint.importCheckpoint(ckpt, out);
        INDArray x = Nd4j.rand(DataType.FLOAT, 1, 3, 64, 64);
        try (SavedModel back = SavedModel.read(out)) {
            assertEquals("my resnet18", back.source());
            assertTrue(source.outputSingle(x).equalsWithEps(back.graph().outputSingle(x), 1e-5));
        }
        source.close();
    }

    @Test
    void compiledInference() {
        ComputationGraph graph = ResNets.create(Variant.RESNET18.spec());
        INDArray images = Nd4j.rand(DataType.FLOAT, 2, 3, 64, 64);
        Map<String, INDArray> out = CompiledInference.run(graph, images);
        assertArrayEquals(new long[] {2, 1000}, out.get("logits").shape());
        assertArrayEquals(new long[] {2, 512}, out.get("pool").shape());
        assertEquals(4, out.get("layer3").rank());
        graph.close();
    }
}
