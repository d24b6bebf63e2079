package dev.resnetzoo.examples.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.resnetzoo.core.ResNets;
import dev.resnetzoo.examples.cli.ImportCommandTest.Run;
import dev.resnetzoo.zoo.Npy;
import dev.resnetzoo.zoo.preprocess.ImagePreprocessor;
import dev.resnetzoo.zoo.registry.Preprocessing;
import dev.resnetzoo.zoo.registry.Registry;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** {@code ./resnet predict} on a tiny ResNet-18 imported with {@code ./resnet import}. */
class PredictCommandTest {

    @TempDir
    static Path shared;

    @TempDir
    Path tmp;

    static Path model;
    static ComputationGraph imported;

    @BeforeAll
    static void importModel() throws IOException {
        ComputationGraph g = ImportCommandTest.tinyGraph(10, 7);
        Path ckpt = Files.write(shared.resolve("tiny.safetensors"), ImportCommandTest.safetensors(g, Map.of(), k -> true));
        g.close();
        model = shared.resolve("tiny.zip");
        Run r = ImportCommandTest.run(ImportCommandTest.TINY_ARCH, "--from", ckpt.toString(), "--out", model.toString());
        assertEquals(0, r.code(), r.err());
        imported = ModelSerializer.restoreComputationGraph(model.toFile(), false);
    }

    @AfterAll
    static void close() {
        imported.close();
    }

    private static INDArray logits(ComputationGraph g, INDArray x) {
        return g.feedForward(x, false).get(ResNets.CLASSIFIER);
    }

    /** The printed blocks: input name, then "rank prob label" lines; returns the first label of each block. */
    private static List<String> top1(String out) {
        List<String> lines = out.lines().toList();
        List<String> firsts = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).startsWith("   1  ")) {
                firsts.add(lines.get(i).substring(6).replaceFirst("^[0-9.]+  ", ""));
            }
        }
        return firsts;
    }

    private static int argmax(INDArray row) {
        return row.argMax(0).getInt(0);
    }

    @Test
    void npyInputPrintsTopKAndWritesTheLogits() throws IOException {
        Nd4j.getRandom().setSeed(3);
        INDArray x = Nd4j.randn(org.nd4j.linalg.api.buffer.DataType.FLOAT, 3, 3, 32, 32);
        Path npy = tmp.resolve("x.npy");
        Npy.write(npy, x);
        Path labels = Files.write(tmp.resolve("labels.txt"),
                IntStream.range(0, 10).mapToObj(i -> "thing" + i).toList());
        Path out = tmp.resolve("out/logits.npy");
        Run r = ImportCommandTest.run("predict", "--model", model.toString(), npy.toString(), "--top", "3",
                "--labels", labels.toString(), "--output-npy", out.toString());
        assertEquals(0, r.code(), r.err());

        INDArray expected = logits(imported, x);
        INDArray written = Npy.read(out);
        assertArrayEquals(new long[] {3, 10}, written.shape());
        assertTrue(expected.equalsWithEps(written, 1e-5), expected + "\nvs\n" + written);
        List<String> firsts = top1(r.out());
        assertEquals(3, firsts.size(), r.out());
        for (int i = 0; i < 3; i++) {
            int c = argmax(expected.getRow(i));
            assertEquals("thing" + c + " (" + c + ")", firsts.get(i), r.out());
            assertTrue(r.out().contains(npy + "[" + i + "]"), r.out());
        }
        assertEquals(3 * 4, r.out().lines().count(), r.out());       // name + top 3, per sample
        try (Stream<Path> s = Files.list(out.getParent())) {
            assertEquals(List.of("logits.npy"), s.map(p -> p.getFileName().toString()).toList());
        }
    }

    @Test
    void wrongNpyShapeNamesTheModelsShape() throws IOException {
        Path npy = tmp.resolve("small.npy");
        Npy.write(npy, Nd4j.zeros(org.nd4j.linalg.api.buffer.DataType.FLOAT, 2, 3, 16, 16));
        Path out = tmp.resolve("logits.npy");
        Run r = ImportCommandTest.run("predict", "--model", model.toString(), npy.toString(), "--output-npy", out.toString());
        assertEquals(1, r.code());
        assertEquals(List.of("error: " + npy + ": shape [2,3,16,16] does not fit the model: expected [N,3,32,32]"),
                r.errorLines());
        assertFalse(Files.exists(out));

        Path flat = tmp.resolve("flat.npy");
        Npy.write(flat, Nd4j.zeros(org.nd4j.linalg.api.buffer.DataType.FLOAT, 3, 32, 32));
        Run r2 = ImportCommandTest.run("predict", "--model", model.toString(), flat.toString());
        assertEquals(1, r2.code());
        assertTrue(r2.errorLines().get(0).contains("shape [3,32,32] does not fit the model: expected [N,3,32,32]"), r2.err());
    }

    @Test
    void pngIsPreprocessedWithTheImageNetTransformAtTheModelsSize() throws IOException {
        BufferedImage img = new BufferedImage(48, 40, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 40; y++) {
            for (int x = 0; x < 48; x++) {
                img.setRGB(x, y, (x * 5) << 16 | (y * 6) << 8 | ((x * y) & 0xff));
            }
        }
        Path png = tmp.resolve("img.png");
        ImageIO.write(img, "png", png.toFile());
        Path npy = tmp.resolve("one.npy");
        INDArray x2 = Nd4j.rand(org.nd4j.linalg.api.buffer.DataType.FLOAT, 1, 3, 32, 32);
        Npy.write(npy, x2);
        Path out = tmp.resolve("logits.npy");
        Run r = ImportCommandTest.run("predict", "--model", model.toString(), png.toString(), npy.toString(),
                "--output-npy", out.toString());
        assertEquals(0, r.code(), r.err());

        INDArray x1 = ImagePreprocessor.of(Preprocessing.imagenet(37, 32, Preprocessing.Interpolation.BILINEAR))
                .preprocess(png);
        INDArray expected = logits(imported, Nd4j.concat(0, x1, x2));
        assertTrue(expected.equalsWithEps(Npy.read(out), 1e-5));
        int c = argmax(expected.getRow(0));
        assertEquals("class " + c, top1(r.out()).get(0), r.out());
        assertTrue(r.out().startsWith(png + "\n"), r.out());
        assertTrue(r.out().contains("\n" + npy + "\n"), r.out());
        assertEquals(2 * 6, r.out().lines().count(), r.out());        // name + default top 5
    }

    @Test
    void thousandClassModelsGetImageNetLabels() throws IOException {
        ComputationGraph g = ImportCommandTest.tinyGraph(1000, 11);
        Path ckpt = Files.write(tmp.resolve("k.safetensors"), ImportCommandTest.safetensors(g, Map.of(), k -> true));
        Path zip = tmp.resolve("k.zip");
        assertEquals(0, ImportCommandTest.run(ImportCommandTest.TINY_ARCH, "--from", ckpt.toString(), "--out",
                zip.toString()).code());
        INDArray x = Nd4j.rand(org.nd4j.linalg.api.buffer.DataType.FLOAT, 1, 3, 32, 32);
        Path npy = tmp.resolve("x.npy");
        Npy.write(npy, x);
        Run r = ImportCommandTest.run("predict", "--model", zip.toString(), npy.toString(), "--top", "1");
        assertEquals(0, r.code(), r.err());
        int c = argmax(logits(g, x).getRow(0));
        g.close();
        String label = Registry.builtin().get("resnet50").labels().get(c);
        assertEquals(label + " (" + c + ")", top1(r.out()).get(0), r.out());
    }

    @Test
    void unreadableInputsAreOneErrorLine() throws IOException {
        Path missing = tmp.resolve("missing.jpg");
        Run r = ImportCommandTest.run("predict", "--model", model.toString(), missing.toString());
        assertEquals(1, r.code());
        assertEquals(List.of("error: " + missing + ": no such input file"), r.errorLines());

        Path junk = Files.writeString(tmp.resolve("junk.png"), "this is no image");
        Run r2 = ImportCommandTest.run("predict", "--model", model.toString(), junk.toString());
        assertEquals(1, r2.code());
        assertEquals(1, r2.errorLines().size(), r2.err());
        assertTrue(r2.errorLines().get(0).startsWith("error: " + junk), r2.err());

        Run r3 = ImportCommandTest.run("predict", "--model", junk.toString(), junk.toString());
        assertEquals(1, r3.code());
        assertEquals(List.of("error: " + junk + " is not a zip file (zip END header not found); expected a model zip "
                + "from ./resnet import, train or finetune"), r3.errorLines());

        // a directory given as the model says so (it used to say "no such file")
        Run r5 = ImportCommandTest.run("predict", "--model", tmp.toString(), junk.toString());
        assertEquals(1, r5.code());
        assertEquals(List.of("error: " + tmp + " is a directory; expected a model zip (from ./resnet import, train or "
                + "finetune)"), r5.errorLines());

        Run r4 = ImportCommandTest.run("predict", junk.toString());
        assertEquals(1, r4.code());
        assertEquals(List.of("error: give the model: --model MODEL.zip or --weights TAG"), r4.errorLines());
    }

    @Test
    void weightsAreNotDownloadedOffline() throws IOException {
        Path npy = tmp.resolve("x.npy");
        Npy.write(npy, Nd4j.zeros(org.nd4j.linalg.api.buffer.DataType.FLOAT, 1, 3, 224, 224));
        Run r = DownloadCommandTest.withProperties(Map.of("resnetzoo.home", tmp.resolve("cache").toString(),
                "resnetzoo.offline", "true"), () -> ImportCommandTest.run("predict", "--weights", "resnet18", npy.toString()));
        assertEquals(1, r.code());
        assertTrue(r.errorLines().get(0).contains("resnet18-f37072fd.pth is not in the cache and offline mode is on"),
                r.err());
    }

    @Test
    void theEngineIsPrintedAndGraphAndPlanGiveTheSameLogits() throws IOException {
        Nd4j.getRandom().setSeed(5);
        INDArray x = Nd4j.randn(org.nd4j.linalg.api.buffer.DataType.FLOAT, 2, 3, 32, 32);
        Path npy = tmp.resolve("x.npy");
        Npy.write(npy, x);
        Path viaPlan = tmp.resolve("plan.npy");
        Path viaGraph = tmp.resolve("graph.npy");
        Run plan = ImportCommandTest.run("predict", "--model", model.toString(), npy.toString(), "--output-npy",
                viaPlan.toString());
        Run graph = ImportCommandTest.run("predict", "--model", model.toString(), npy.toString(), "--engine", "graph",
                "--output-npy", viaGraph.toString());
        assertEquals(0, plan.code(), plan.err());
        assertEquals(0, graph.code(), graph.err());
        assertTrue(plan.err().contains("inference engine: plan"), plan.err());
        assertTrue(graph.err().contains("inference engine: graph"), graph.err());
        INDArray a = Npy.read(viaPlan);
        INDArray b = Npy.read(viaGraph);
        double scale = b.amaxNumber().doubleValue();
        assertTrue(a.sub(b).amaxNumber().doubleValue() <= 1e-4 * scale + 1e-5, a + "\nvs\n" + b);
        Run bad = ImportCommandTest.run("predict", "--model", model.toString(), npy.toString(), "--engine", "fast");
        assertEquals(List.of("error: unknown engine 'fast': expected plan, graph or auto"), bad.errorLines());
    }
}
