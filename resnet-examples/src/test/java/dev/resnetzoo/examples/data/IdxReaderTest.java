package dev.resnetzoo.examples.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IdxReaderTest {

    @TempDir
    Path tmp;

    @Test
    void embeddedSampleTrainSplit() throws IOException {
        LabeledImages train = FashionMnist.sample().load(FashionMnist.Split.TRAIN);
        assertEquals(1000, train.size());
        assertEquals(28, train.rows());
        assertEquals(28, train.cols());
        int[] counts = train.labelCounts(FashionMnist.NUM_CLASSES);
        int[] expected = new int[10];
        Arrays.fill(expected, 100);
        assertArrayEquals(expected, counts, "balanced: 100 per class");
        checkPixelRange(train);
    }

    @Test
    void embeddedSampleTestSplit() throws IOException {
        LabeledImages test = FashionMnist.sample().load(FashionMnist.Split.TEST);
        assertEquals(500, test.size());
        int[] expected = new int[10];
        Arrays.fill(expected, 50);
        assertArrayEquals(expected, test.labelCounts(FashionMnist.NUM_CLASSES));
        checkPixelRange(test);
    }

    private static void checkPixelRange(LabeledImages data) {
        int min = 255;
        int max = 0;
        long sum = 0;
        for (int i = 0; i < data.size(); i++) {
            for (int r = 0; r < 28; r++) {
                for (int c = 0; c < 28; c++) {
                    int p = data.pixel(i, r, c);
                    min = Math.min(min, p);
                    max = Math.max(max, p);
                    sum += p;
                }
            }
        }
        assertEquals(0, min);
        assertEquals(255, max);
        double mean = sum / (255.0 * data.size() * 784);
        // Fashion-MNIST's mean is 0.286; a balanced sample is close to it.
        assertTrue(mean > 0.24 && mean < 0.34, "mean pixel " + mean);
    }

    @Test
    void readsPlainAndGzipIdentically() throws IOException {
        Path plain = tmp.resolve("img");
        Path gz = tmp.resolve("img.gz");
        Files.write(plain, IdxFiles.images(3, 4, 5));
        Files.write(gz, IdxFiles.gzip(IdxFiles.images(3, 4, 5)));
        IdxReader.Images a = IdxReader.readImages(plain);
        IdxReader.Images b = IdxReader.readImages(gz);
        assertEquals(3, a.count());
        assertEquals(4, a.rows());
        assertEquals(5, a.cols());
        assertArrayEquals(IdxFiles.imagePixels(3, 4, 5), a.pixels());
        assertArrayEquals(a.pixels(), b.pixels());

        Path labels = tmp.resolve("labels.gz");
        Files.write(labels, IdxFiles.gzip(IdxFiles.labels(3)));
        LabeledImages data = IdxReader.read(plain, labels);
        assertEquals(3, data.size());
        assertEquals(2, data.label(2));
        assertEquals((2 * 7 + 4 * 5 - 1) % 256, data.pixel(2, 3, 4));
    }

    @Test
    void zeroImagesIsValid() throws IOException {
        Path f = tmp.resolve("empty");
        Files.write(f, IdxFiles.images(0, 28, 28));
        assertEquals(0, IdxReader.readImages(f).count());
    }

    @Test
    void badMagicNamesFileAndExpectation() throws IOException {
        Path f = tmp.resolve("train-images-idx3-ubyte.gz");
        Files.write(f, IdxFiles.gzip(IdxFiles.labels(5)));
        IOException e = assertThrows(IOException.class, () -> IdxReader.readImages(f));
        assertTrue(e.getMessage().contains(f.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("0x00000801"), e.getMessage());
        assertTrue(e.getMessage().contains("expected 0x00000803"), e.getMessage());

        Path l = tmp.resolve("labels");
        Files.write(l, new byte[] {'h', 'e', 'l', 'l', 'o', '!', '!', '!'});
        IOException e2 = assertThrows(IOException.class, () -> IdxReader.readLabels(l));
        assertTrue(e2.getMessage().contains(l.toString()) && e2.getMessage().contains("expected 0x00000801"),
                e2.getMessage());
    }

    @Test
    void truncatedPayload() throws IOException {
        byte[] full = IdxFiles.images(4, 28, 28);
        Path f = tmp.resolve("short-images");
        Files.write(f, Arrays.copyOf(full, full.length - 100));
        IOException e = assertThrows(IOException.class, () -> IdxReader.readImages(f));
        assertTrue(e.getMessage().contains(f.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("truncated"), e.getMessage());
        assertTrue(e.getMessage().contains("expected 3136 bytes"), e.getMessage());
    }

    @Test
    void truncatedHeader() throws IOException {
        Path f = tmp.resolve("short-header");
        Files.write(f, Arrays.copyOf(IdxFiles.images(1, 28, 28), 10));
        IOException e = assertThrows(IOException.class, () -> IdxReader.readImages(f));
        assertTrue(e.getMessage().contains(f.toString()) && e.getMessage().contains("truncated"), e.getMessage());

        Path empty = tmp.resolve("empty-labels");
        Files.write(empty, new byte[0]);
        IOException e2 = assertThrows(IOException.class, () -> IdxReader.readLabels(empty));
        assertTrue(e2.getMessage().contains(empty.toString()), e2.getMessage());
    }

    @Test
    void truncatedGzipStream() throws IOException {
        byte[] gz = IdxFiles.gzip(IdxFiles.images(50, 28, 28));
        Path f = tmp.resolve("cut.gz");
        Files.write(f, Arrays.copyOf(gz, gz.length / 2));
        IOException e = assertThrows(IOException.class, () -> IdxReader.readImages(f));
        assertTrue(e.getMessage().contains(f.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("truncated"), e.getMessage());
    }

    @Test
    void trailingData() throws IOException {
        byte[] full = IdxFiles.labels(5);
        Path f = tmp.resolve("long-labels");
        Files.write(f, Arrays.copyOf(full, full.length + 3));
        IOException e = assertThrows(IOException.class, () -> IdxReader.readLabels(f));
        assertTrue(e.getMessage().contains(f.toString()) && e.getMessage().contains("trailing"), e.getMessage());
    }

    @Test
    void countMismatchNamesBothFiles() throws IOException {
        Path images = tmp.resolve("train-images-idx3-ubyte");
        Path labels = tmp.resolve("train-labels-idx1-ubyte");
        Files.write(images, IdxFiles.images(3, 28, 28));
        Files.write(labels, IdxFiles.labels(2));
        IOException e = assertThrows(IOException.class, () -> IdxReader.read(images, labels));
        String m = e.getMessage();
        assertTrue(m.contains(images.toString()) && m.contains(labels.toString()), m);
        assertTrue(m.contains("3 images") && m.contains("2 labels"), m);
    }
}
