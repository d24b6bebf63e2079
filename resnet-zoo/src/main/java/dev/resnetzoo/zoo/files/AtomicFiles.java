package dev.resnetzoo.zoo.files;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;

/**
 * Replaces files so that a reader (or a run resumed after a kill) sees either the complete old
 * content or the complete new one, never a mix: the content goes to a hidden temporary file in the
 * same directory ({@code .NAME.XXXX.tmp}), is forced to disk, and is then renamed over the target.
 * A rename within one directory is atomic on POSIX file systems. When the writer fails, the
 * temporary file is deleted and the target keeps its previous content (or stays absent). A process
 * killed while writing leaves only a stale temporary file, which
 * {@link #deleteStaleTemps(Path, String)} removes.
 *
 * <p>Every file this project writes for users (models, checkpoints, caches, metrics, plots, features,
 * hash stamps) goes through this class.
 */
public final class AtomicFiles {

    /** Writes the content of a file to a stream. */
    @FunctionalInterface
    public interface Writer {
        /**
         * @param out the temporary file's stream (do not close it)
         * @throws IOException on failure; the target is then left unchanged
         */
        void write(OutputStream out) throws IOException;
    }

    /**
     * Runs between the forced write of the temporary file and the rename; tests use it to simulate
     * a crash at the worst moment.
     */
    @FunctionalInterface
    public interface BeforeMove {
        void run(Path tmp) throws IOException;
    }

    private static final SecureRandom RANDOM = new SecureRandom();

    private AtomicFiles() {
    }

    /**
     * Writes {@code target} atomically.
     *
     * @throws IOException if writing fails; {@code target} keeps its previous content
     */
    public static void write(Path target, Writer writer) throws IOException {
        write(target, writer, tmp -> { });
    }

    /**
     * Writes {@code text} as UTF-8 to {@code target} atomically.
     *
     * @throws IOException if writing fails; {@code target} keeps its previous content
     */
    public static void writeString(Path target, String text) throws IOException {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        write(target, out -> out.write(bytes));
    }

    /**
     * {@link #write(Path, Writer)} with a hook before the rename.
     *
     * @throws IOException if writing fails or {@code beforeMove} throws; {@code target} is then unchanged
     */
    public static void write(Path target, Writer writer, BeforeMove beforeMove) throws IOException {
        writeVia(target, tmp -> {
            try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(tmp, StandardOpenOption.WRITE))) {
                writer.write(out);
            }
        }, beforeMove);
    }

    /**
     * Writes with a writer that needs a {@link Path} (e.g. DL4J's {@code ModelSerializer}): it is given a
     * temporary path next to {@code target}, which is then forced and renamed over {@code target}.
     */
    public static void writeVia(Path target, PathWriter writer) throws IOException {
        writeVia(target, writer, tmp -> { });
    }

    /** Writes the content of a file given its path. */
    @FunctionalInterface
    public interface PathWriter {
        /**
         * @param tmp an existing, empty temporary file to fill
         * @throws IOException on failure; the target is then left unchanged
         */
        void write(Path tmp) throws IOException;
    }

    /**
     * {@link #writeVia(Path, PathWriter)} with a hook before the rename.
     *
     * @throws IOException if writing fails or {@code beforeMove} throws; {@code target} is then unchanged
     */
    public static void writeVia(Path target, PathWriter writer, BeforeMove beforeMove) throws IOException {
        Path abs = target.toAbsolutePath();
        Path dir = abs.getParent();
        Files.createDirectories(dir);
        Path tmp = createTemp(abs);
        boolean moved = false;
        try {
            writer.write(tmp);
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                ch.force(true);
            }
            beforeMove.run(tmp);
            move(tmp, abs);
            moved = true;
            forceDirectory(dir);
        } finally {
            if (!moved) {
                Files.deleteIfExists(tmp);
            }
        }
    }

    /**
     * Deletes temporary files that an interrupted {@link #write} of {@code fileName} in {@code dir} left behind.
     *
     * @return how many were deleted
     */
    public static int deleteStaleTemps(Path dir, String fileName) throws IOException {
        if (!Files.isDirectory(dir)) {
            return 0;
        }
        int n = 0;
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, "." + fileName + ".*.tmp")) {
            for (Path p : ds) {
                if (Files.deleteIfExists(p)) {
                    n++;
                }
            }
        }
        return n;
    }

    /**
     * Creates an empty temporary file {@code .NAME.RANDOM.tmp} next to {@code target}, with the
     * permissions of an ordinary new file (unlike {@link Files#createTempFile}, which makes it private).
     * For writers that assemble a file from a scratch file of their own; the caller deletes it.
     *
     * @throws IOException if the directory is not writable
     */
    public static Path createTemp(Path target) throws IOException {
        Path dir = target.toAbsolutePath().getParent();
        for (int attempt = 0; ; attempt++) {
            String random = Long.toHexString(RANDOM.nextLong() & Long.MAX_VALUE);
            Path tmp = dir.resolve("." + target.getFileName() + "." + random + ".tmp");
            try {
                Files.newOutputStream(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE).close();
                return tmp;
            } catch (FileAlreadyExistsException e) {
                if (attempt > 100) {
                    throw e;
                }
            }
        }
    }

    private static void move(Path tmp, Path target) throws IOException {
        try {
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /** Makes the rename itself durable; best effort (not every platform can open a directory). */
    private static void forceDirectory(Path dir) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException | UnsupportedOperationException e) {
            // the rename is still atomic; only durability across a power loss is not guaranteed
        }
    }
}
