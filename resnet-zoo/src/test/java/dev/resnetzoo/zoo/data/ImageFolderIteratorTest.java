package dev.resnetzoo.zoo.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.resnetzoo.zoo.preprocess.ImagePreprocessor;
import dev.resnetzoo.zoo.registry.Preprocessing;
import dev.resnetzoo.zoo.registry.Preprocessing.Interpolation;

import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.NoSuchElementException;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.indexing.NDArrayIndex;

class ImageFolderIteratorTest {

    @TempDir
    Path tmp;

    @Test
    void batchesArePreprocessedImagesWithOneHotLabels() throws Exception {
        ImageFolder folder = ImageFolder.scan(ImageFolderTest.colourFolder(tmp.resolve("images"), 3));
        ImagePreprocessor pre = ImagePreprocessor.of(Preprocessing.imagenet(36, 32, Interpolation.BILINEAR));
        ImageFolderIterator it = new ImageFolderIterator(folder.samples(), folder.classes(), pre, 4);
        assertEquals(3 * 32 * 32, it.inputColumns());
        assertEquals(3, it.totalOutcomes());
        assertEquals(List.of("blue", "green", "red"), it.getLabels());

        List<DataSet> batches = new ArrayList<>();
        while (it.hasNext()) {
            batches.add(it.next());
        }
        assertEquals(List.of(4, 4, 1), batches.stream().map(DataSet::numExamples).toList());
        DataSet first = batches.get(0);
        assertArrayEquals(new long[] {4, 3, 32, 32}, first.getFeatures().shape());
        assertArrayEquals(new long[] {4, 3}, first.getLabels().shape());
        // samples are blue, blue, blue, green, ...: one-hot rows
        assertEquals(1.0, first.getLabels().getDouble(0, 0));
        assertEquals(1.0, first.getLabels().getDouble(3, 1));
        assertEquals(4.0, first.getLabels().sumNumber().doubleValue());
        assertEquals(pre.preprocess(folder.samples().get(3).file()).reshape(3, 32, 32),
                first.getFeatures().get(NDArrayIndex.point(3), NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.all()));
        assertThrows(NoSuchElementException.class, it::next);

        it.reset();
        assertEquals(first.getFeatures(), it.next().getFeatures());
    }

    @Test
    void greyPreprocessingGivesOneChannel() throws Exception {
        ImageFolder folder = ImageFolder.scan(ImageFolderTest.colourFolder(tmp.resolve("images"), 2));
        ImagePreprocessor pre = ImagePreprocessor.of(Preprocessing.grey(28, 28, Interpolation.BILINEAR, 0.2860, 0.3530));
        ImageFolderIterator it = new ImageFolderIterator(folder.samples(), folder.classes(), pre, 6);
        assertEquals(28 * 28, it.inputColumns());
        assertArrayEquals(new long[] {6, 1, 28, 28}, it.next().getFeatures().shape());
    }

    @Test
    void anUndecodableImageStopsTheIterationNamingTheFile() throws Exception {
        Path root = ImageFolderTest.colourFolder(tmp.resolve("images"), 2);
        Path broken = Files.writeString(root.resolve("green/broken.png"), "not an image");
        ImageFolder folder = ImageFolder.scan(root);
        ImagePreprocessor pre = ImagePreprocessor.of(Preprocessing.imagenet(36, 32, Interpolation.BILINEAR));
        // blue/000, blue/001, green/000, green/001 | green/broken, red/000, red/001
        ImageFolderIterator it = new ImageFolderIterator(folder.samples(), folder.classes(), pre, 4);
        it.next();
        UncheckedIOException e = assertThrows(UncheckedIOException.class, it::next);
        assertEquals(broken + " is not an image ImageIO can decode (expected PNG, JPEG, BMP or GIF)", e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
        assertTrue(it.hasNext(), "the failed batch is not skipped");
    }

    @Test
    void argumentsAreChecked() {
        ImagePreprocessor pre = ImagePreprocessor.of(Preprocessing.imagenet(36, 32, Interpolation.BILINEAR));
        List<ImageFolder.Sample> samples = List.of(new ImageFolder.Sample(tmp.resolve("a.png"), 2));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new ImageFolderIterator(samples, List.of("cat", "dog"), pre, 1));
        assertEquals("label 2 of " + tmp.resolve("a.png") + " is not a class index: expected 0..1 for classes [cat, dog]",
                e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new ImageFolderIterator(samples, List.of("a", "b", "c"), pre, 0));
        assertThrows(IllegalArgumentException.class, () -> new ImageFolderIterator(List.of(), List.of(), pre, 1));
        assertThrows(IllegalArgumentException.class, () -> new ImageFolder.Sample(tmp, -1));
    }
}
