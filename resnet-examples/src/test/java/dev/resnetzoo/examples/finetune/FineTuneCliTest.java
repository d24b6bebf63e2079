package dev.resnetzoo.examples.finetune;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.resnetzoo.core.BlockKind;
import dev.resnetzoo.core.ResNetSpec;
import dev.resnetzoo.core.ResNets;
import dev.resnetzoo.core.StemKind;
import dev.resnetzoo.examples.cli.ImportCommandTest;
import dev.resnetzoo.zoo.Npy;
import dev.resnetzoo.zoo.SavedModel;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class FineTuneCliTest {

    @TempDir
    Path tmp;

    private String out = "";
    private String err = "";

    private int run(String... args) {
        ImportCommandTest.Run r = ImportCommandTest.run(args);
        out = r.out();
        err = r.err();
        return r.code();
    }

    /** A tiny random backbone (BASIC, depths 1,1, widths 8,16, 32x32) saved as a model zip. */
    private Path tinyModel() throws Exception {
        ResNetSpec spec = ResNetSpec.builder(BlockKind.BASIC, 1, 1).name("tiny").widths(8, 16).stemWidth(8)
                .stem(StemKind.SMALL).input(3, 32, 32).numClasses(10).build();
        ComputationGraph g = ResNets.create(spec, new NeuralNetConfiguration.Builder().seed(7));
        Path zip = tmp.resolve("tiny.zip");
        SavedModel.of(g, spec, SavedModel.defaultPreprocessing(spec), List.of(), "tiny").write(zip);
        return zip;
    }

    /** Three classes told apart by colour: red, green, blue dominated noise; 40x36 PNGs. */
    private Path imageFolder(int perClass) throws Exception {
        Path root = tmp.resolve("images");
        Random r = new Random(11);
        String[] names = {"blue", "green", "red"};
        int[] channel = {2, 1, 0};
        for (int c = 0; c < 3; c++) {
            Path dir = Files.createDirectories(root.resolve(names[c]));
            for (int i = 0; i < perClass; i++) {
                BufferedImage img = new BufferedImage(40, 36, BufferedImage.TYPE_INT_RGB);
                for (int y = 0; y < img.getHeight(); y++) {
                    for (int x = 0; x < img.getWidth(); x++) {
                        int[] rgb = {r.nextInt(120), r.nextInt(120), r.nextInt(120)};
                        rgb[channel[c]] += 100 + r.nextInt(36);
                        img.setRGB(x, y, (rgb[0] << 16) | (rgb[1] << 8) | rgb[2]);
                    }
                }
                ImageIO.write(img, "png", dir.resolve(String.format("%03d.png", i)).toFile());
            }
        }
        Files.writeString(root.resolve("README.txt"), "not an image");
        return root;
    }

    @Test
    void finetuneRunsEndToEndAndReportsHeldOutAccuracy() throws Exception {
        Path data = imageFolder(12);
        Path model = tinyModel();
        Path outDir = tmp.resolve("run");
        int code = run("finetune", "--data", data.toString(), "--model", model.toString(), "--epochs", "30",
                "--batch", "8", "--lr", "1e-2", "--held-out", "0.25", "--out", outDir.toString());
        System.out.println(err + out);
        assertEquals(0, code, err);
        Matcher m = Pattern.compile("held-out accuracy: ([0-9.]+) \\((\\d+)/(\\d+)\\)").matcher(out);
        assertTrue(m.find(), out);
        double acc = Double.parseDouble(m.group(1));
        assertEquals(9, Integer.parseInt(m.group(3)));
        assertTrue(acc >= 0.7, "held-out accuracy " + acc + " (chance 0.33)");
        assertEquals(List.of("blue", "green", "red"), Files.readAllLines(outDir.resolve("labels.txt")));
        SavedModel saved = SavedModel.read(outDir.resolve("model.zip"));
        assertEquals(List.of("blue", "green", "red"), saved.labels(), "the model carries the folder's classes");
        assertEquals(3, saved.spec().numClasses());
        assertEquals(32, saved.preprocessing().cropSize());
        INDArray p = saved.graph().outputSingle(Nd4j.rand(DataType.FLOAT, 2, 3, 32, 32));
        assertArrayEquals(new long[] {2, 3}, p.shape());
        saved.close();
        try (var files = Files.list(outDir.resolve("feature-cache"))) {
            assertEquals(2, files.count());
        }

        // train layer2 too (freeze through layer1); the cache holds the new tap's features as well
        code = run("finetune", "--data", data.toString(), "--model", model.toString(), "--freeze-through", "layer1",
                "--epochs", "3", "--batch", "8", "--held-out", "0.25", "--out", outDir.toString());
        assertEquals(0, code, err);
        assertTrue(out.contains("held-out accuracy: "), out);

        code = run("finetune", "--data", data.toString(), "--model", model.toString(), "--freeze-through", "layer7",
                "--out", outDir.toString());
        assertEquals(1, code);
        assertTrue(err.contains("'layer7'") && err.contains("stem, layer1, layer2, pool"), err);
    }

    @Test
    void featuresWritesNpyOfTheTapsShape() throws Exception {
        Path data = imageFolder(2);
        Path model = tinyModel();
        Path f1 = tmp.resolve("f1.npy");
        List<Path> imgs;
        try (var s = Files.walk(data)) {
            imgs = s.filter(p -> p.toString().endsWith(".png")).sorted().limit(3).toList();
        }
        int code = run("features", "--model", model.toString(), "--layer", "layer2", imgs.get(0).toString(),
                imgs.get(1).toString(), imgs.get(2).toString(), "--out", f1.toString());
        assertEquals(0, code, err);
        assertArrayEquals(new long[] {3, 16, 16, 16}, Npy.read(f1).shape());

        Path x = tmp.resolve("x.npy");
        Npy.write(x, Nd4j.rand(DataType.FLOAT, 4, 3, 32, 32));
        Path f2 = tmp.resolve("f2.npy");
        code = run("features", "--model", model.toString(), "--layer", "pool", x.toString(), imgs.get(0).toString(),
                "--out", f2.toString());
        assertEquals(0, code, err);
        assertArrayEquals(new long[] {5, 16}, Npy.read(f2).shape());

        code = run("features", "--model", model.toString(), "--layer", "layer1", "--pooled", x.toString(),
                "--out", f2.toString());
        assertEquals(0, code, err);
        assertArrayEquals(new long[] {4, 8}, Npy.read(f2).shape());

        code = run("features", "--model", model.toString(), "--layer", "layer5", x.toString(), "--out", f2.toString());
        assertEquals(1, code);
        assertTrue(err.contains("unknown tap 'layer5'") && err.contains("stem, layer1, layer2, pool, logits"), err);
    }
}
