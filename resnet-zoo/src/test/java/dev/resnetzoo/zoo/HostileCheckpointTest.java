package dev.resnetzoo.zoo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import dev.resnetzoo.zoo.ConformanceTest.Fixture;
import dev.resnetzoo.zoo.ImportTest.Entry;
import dev.resnetzoo.zoo.WeightImportException.Kind;
import dev.resnetzoo.zoo.io.CheckpointFormatException;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link WeightImporter#importCheckpoint} on hostile PyTorch files: a file is judged by its keys,
 * shapes and storage sizes against the architecture before any of its tensor data is read.
 */
class HostileCheckpointTest {

    private static final Fixture BOTTLENECK = Fixture.committed("tiny_bottleneck");

    @TempDir
    Path tmp;

    @Test
    void keysAndShapesAreCheckedBeforeAnyTensorDataIsRead() throws IOException {
        Map<String, Entry> entries = ImportTest.entries(BOTTLENECK.stateDict("model.pth"));
        entries.put("layer1.0.conv1.weight", Entry.zeros(8, 16, 3, 3));
        Path file = breakEveryStorage(new TorchZipWriter().putAll(entries).write(tmp.resolve("shape.pth")));

        // the storages cannot be read at all, yet the answer is about the shape
        WeightImportException e = assertThrows(WeightImportException.class,
                () -> WeightImporter.importCheckpoint(BOTTLENECK.spec(), file));
        assertEquals(List.of("layer1.0.conv1.weight"), e.keys(Kind.SHAPE));
        assertTrue(e.getMessage().contains("layer1.0.conv1.weight: expected [8,16,1,1], file has [8,16,3,3]"),
                e.getMessage());

        // with the right shapes the data is read, and its damage is a one-line I/O error
        Path fits = breakEveryStorage(new TorchZipWriter().putAll(ImportTest.entries(BOTTLENECK.stateDict("model.pth")))
                .write(tmp.resolve("fits.pth")));
        CheckpointFormatException io = assertThrows(CheckpointFormatException.class,
                () -> WeightImporter.importCheckpoint(BOTTLENECK.spec(), fits));
        assertTrue(io.getMessage().startsWith("fits.pth: cannot read zip entry archive/data/"), io.getMessage());
        assertFalse(io.getMessage().contains("\n"), io.getMessage());
    }

    @Test
    void aStorageLargerThanTheArchitecturesTensorIsRefusedBeforeItIsRead() throws IOException {
        // conv1.weight, of the right shape, is a view of a 16 MiB storage of zeros: a small deflated file
        Map<String, Entry> entries = ImportTest.entries(BOTTLENECK.stateDict("model.pth"));
        long[] shape = entries.get("conv1.weight").shape();
        Path file = new TorchZipWriter().putAll(entries).padStorage("conv1.weight", 1L << 22).deflate()
                .write(tmp.resolve("padded.pth"));
        assertTrue(Files.size(file) < 200_000, "a small file: " + Files.size(file));

        WeightImportException e = assertThrows(WeightImportException.class,
                () -> WeightImporter.importCheckpoint(BOTTLENECK.spec(), file));
        assertEquals(List.of("conv1.weight"), e.keys(Kind.STORAGE));
        long need = 4 * Arrays.stream(shape).reduce(1, (a, b) -> a * b);
        String expected = String.format(java.util.Locale.ROOT, "conv1.weight: the file stores it in a storage of "
                + "%,d bytes, more than the %,d its shape %s needs", need + (4L << 22), need,
                WeightImporter.fmt(shape));
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }

    /** Zeroes the local-header signature of every storage entry, leaving the central directory intact. */
    private static Path breakEveryStorage(Path file) throws IOException {
        byte[] b = Files.readAllBytes(file);
        byte[] name = "archive/data/".getBytes(StandardCharsets.US_ASCII);
        for (int i = 30; i + name.length <= b.length; i++) {
            boolean signature = b[i - 30] == 'P' && b[i - 29] == 'K' && b[i - 28] == 3 && b[i - 27] == 4;
            if (signature && Arrays.equals(b, i, i + name.length, name, 0, name.length)) {
                b[i - 30] = 0;
            }
        }
        Files.write(file, b);
        return file;
    }
}
