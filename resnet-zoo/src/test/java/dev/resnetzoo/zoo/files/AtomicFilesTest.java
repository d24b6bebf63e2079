package dev.resnetzoo.zoo.files;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AtomicFilesTest {
    @TempDir
    Path dir;

    private List<String> names() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void writeCreatesParentsAndReplacesContent() throws IOException {
        Path target = dir.resolve("a/b/file.txt");
        AtomicFiles.writeString(target, "first");
        AtomicFiles.write(target, out -> out.write("second".getBytes(StandardCharsets.UTF_8)));
        assertEquals("second", Files.readString(target));
        try (Stream<Path> s = Files.list(target.getParent())) {
            assertEquals(List.of("file.txt"), s.map(p -> p.getFileName().toString()).toList());
        }
    }

    @Test
    void failingWriterKeepsTheOldContentAndLeavesNoTemporaryFile() throws IOException {
        Path target = dir.resolve("model.zip");
        AtomicFiles.writeString(target, "old");
        IOException e = assertThrows(IOException.class, () -> AtomicFiles.write(target, out -> {
            out.write("half of the new".getBytes(StandardCharsets.UTF_8));
            throw new IOException("disk full");
        }));
        assertEquals("disk full", e.getMessage());
        assertEquals("old", Files.readString(target));
        assertEquals(List.of("model.zip"), names());

        assertThrows(IOException.class, () -> AtomicFiles.writeVia(target, tmp -> {
            Files.writeString(tmp, "half");
            throw new IOException("serializer failed");
        }));
        assertEquals("old", Files.readString(target));
        assertEquals(List.of("model.zip"), names());
    }

    @Test
    void failingWriterOfANewFileLeavesNothing() throws IOException {
        Path target = dir.resolve("new.npy");
        assertThrows(IllegalStateException.class, () -> AtomicFiles.writeVia(target, tmp -> {
            throw new IllegalStateException("bad array");
        }));
        assertFalse(Files.exists(target));
        assertEquals(List.of(), names());
    }

    @Test
    void crashBeforeTheRenameLeavesTheOldFileAndAStaleTempThatIsCleanedUp() throws IOException {
        Path target = dir.resolve("checkpoint.zip");
        AtomicFiles.writeString(target, "epoch 1");
        // A failure between the forced write and the rename: the old content stays.
        Path[] seen = new Path[1];
        IOException e = assertThrows(IOException.class, () -> AtomicFiles.write(target,
                out -> out.write("epoch 2".getBytes(StandardCharsets.UTF_8)), tmp -> {
                    assertEquals("epoch 2", Files.readString(tmp));
                    seen[0] = tmp;
                    throw new IOException("killed");
                }));
        assertEquals("killed", e.getMessage());
        assertEquals("epoch 1", Files.readString(target));
        assertEquals(List.of("checkpoint.zip"), names());
        // A killed process cannot delete its temporary file: that leftover is what deleteStaleTemps removes.
        Files.writeString(seen[0], "epoch 2");
        Files.writeString(dir.resolve(".other.zip.1234.tmp"), "not ours");
        assertEquals(1, AtomicFiles.deleteStaleTemps(dir, "checkpoint.zip"));
        assertEquals(List.of(".other.zip.1234.tmp", "checkpoint.zip"), names());
        assertEquals(0, AtomicFiles.deleteStaleTemps(dir.resolve("absent"), "checkpoint.zip"));
    }

    @Test
    void temporaryFilesAreHiddenSiblingsWithOrdinaryPermissions() throws IOException {
        Path target = dir.resolve("labels.txt");
        Path tmp = AtomicFiles.createTemp(target);
        try {
            assertEquals(dir, tmp.getParent());
            assertTrue(tmp.getFileName().toString().matches("\\.labels\\.txt\\.[0-9a-f]+\\.tmp"), tmp.toString());
            assertEquals(0, Files.size(tmp));
            Set<PosixFilePermission> perms = Files.getPosixFilePermissions(tmp);
            // Files.createTempFile would give rw------- ; an atomically written model must be as readable
            // as one written directly (the umask decides).
            Path plain = Files.createFile(dir.resolve("plain"));
            assertEquals(Files.getPosixFilePermissions(plain), perms);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    @Test
    void writeViaHandsTheWriterAnEmptyFileNextToTheTarget() throws IOException {
        Path target = dir.resolve("out.bin");
        byte[] data = {1, 2, 3, 4};
        AtomicFiles.writeVia(target, tmp -> {
            assertEquals(dir, tmp.getParent());
            assertEquals(0, Files.size(tmp));
            Files.write(tmp, data);
        });
        assertArrayEquals(data, Files.readAllBytes(target));
    }
}
