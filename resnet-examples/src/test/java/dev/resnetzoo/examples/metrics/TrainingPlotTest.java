package dev.resnetzoo.examples.metrics;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

import javax.imageio.ImageIO;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainingPlotTest {

    private static final byte[] PNG_SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

    @TempDir
    Path tmp;

    @BeforeAll
    static void headless() {
        System.setProperty("java.awt.headless", "true");
    }

    private static BufferedImage checkPng(Path png) throws IOException {
        assertTrue(Files.isRegularFile(png));
        byte[] bytes = Files.readAllBytes(png);
        assertArrayEquals(PNG_SIGNATURE, Arrays.copyOf(bytes, 8));
        BufferedImage img = ImageIO.read(png.toFile());
        assertNotNull(img, "ImageIO can read it");
        assertEquals(TrainingPlot.WIDTH, img.getWidth());
        assertEquals(TrainingPlot.HEIGHT, img.getHeight());
        return img;
    }

    private static void assertNoTempFiles(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            List<String> names = s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".tmp")).toList();
            assertEquals(List.of(), names);
        }
    }

    @Test
    void plotsAllEpochsOfAResumedCsv() throws IOException {
        Path csvFile = tmp.resolve("metrics.csv");
        try (MetricsCsv csv = MetricsCsv.open(csvFile)) {
            for (int e = 1; e <= 6; e++) {
                csv.append(MetricsCsvTest.row(e));
            }
        }
        try (MetricsCsv csv = MetricsCsv.open(csvFile)) { // resumed run
            for (int e = 7; e <= 12; e++) {
                csv.append(MetricsCsvTest.row(e));
            }
        }
        Path png = tmp.resolve("plots/curves.png");
        TrainingPlot.writeFromCsv(csvFile, "ResNet-18 on Fashion-MNIST", png);
        BufferedImage img = checkPng(png);
        assertNoTempFiles(png.getParent());
        // Not blank: the curves put colour on the white background.
        assertTrue(countColoured(img) > 500, "has coloured pixels");

        String keep = System.getProperty("trainingPlot.keep");
        if (keep != null) {
            Files.copy(png, Path.of(keep), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }

        // Overwrite in place (atomic replace).
        TrainingPlot.writeFromCsv(csvFile, "again", png);
        checkPng(png);
        assertNoTempFiles(png.getParent());
    }

    @Test
    void singleEpochWithoutTestLoss() throws IOException {
        Path png = tmp.resolve("one.png");
        TrainingPlot.write(List.of(new EpochMetrics(1, 0.8, 0.7, Double.NaN, 0.65, 100, 5)), null, png);
        checkPng(png);
    }

    @Test
    void emptyInputIsRejected() throws IOException {
        assertThrows(IllegalArgumentException.class, () -> TrainingPlot.write(List.of(), "t", tmp.resolve("x.png")));
        Path csvFile = tmp.resolve("empty.csv");
        MetricsCsv.open(csvFile).close();
        assertThrows(IOException.class, () -> TrainingPlot.writeFromCsv(csvFile, "t", tmp.resolve("x.png")));
    }

    private static int countColoured(BufferedImage img) {
        int n = 0;
        for (int y = 0; y < img.getHeight(); y++) {
            for (int x = 0; x < img.getWidth(); x++) {
                int rgb = img.getRGB(x, y);
                int r = (rgb >> 16) & 0xFF;
                int g = (rgb >> 8) & 0xFF;
                int b = rgb & 0xFF;
                if (Math.max(r, Math.max(g, b)) - Math.min(r, Math.min(g, b)) > 60) {
                    n++;
                }
            }
        }
        return n;
    }
}
