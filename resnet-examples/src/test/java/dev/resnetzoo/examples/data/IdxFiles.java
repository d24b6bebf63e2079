package dev.resnetzoo.examples.data;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;

/** Writes small IDX files for tests. */
final class IdxFiles {

    private IdxFiles() {
    }

    /** IDX bytes: magic, dims, payload. */
    static byte[] idx(int magic, int[] dims, byte[] payload) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(bytes);
        out.writeInt(magic);
        for (int d : dims) {
            out.writeInt(d);
        }
        out.write(payload);
        out.flush();
        return bytes.toByteArray();
    }

    static byte[] gzip(byte[] data) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (OutputStream gz = new GZIPOutputStream(bytes)) {
            gz.write(data);
        }
        return bytes.toByteArray();
    }

    /** Images where pixel p of image i is {@code (i * 7 + p) % 256}. */
    static byte[] imagePixels(int n, int rows, int cols) {
        byte[] px = new byte[n * rows * cols];
        for (int i = 0; i < n; i++) {
            for (int p = 0; p < rows * cols; p++) {
                px[i * rows * cols + p] = (byte) ((i * 7 + p) % 256);
            }
        }
        return px;
    }

    static byte[] images(int n, int rows, int cols) throws IOException {
        return idx(IdxReader.IMAGES_MAGIC, new int[] {n, rows, cols}, imagePixels(n, rows, cols));
    }

    /** Labels {@code i % 10}. */
    static byte[] labels(int n) throws IOException {
        byte[] l = new byte[n];
        for (int i = 0; i < n; i++) {
            l[i] = (byte) (i % 10);
        }
        return idx(IdxReader.LABELS_MAGIC, new int[] {n}, l);
    }

    /** Writes a complete, tiny Fashion-MNIST directory (gzip'd, 28x28) with the given counts. */
    static Path fashionDir(Path dir, int train, int test) throws IOException {
        Files.createDirectories(dir);
        Files.write(dir.resolve("train-images-idx3-ubyte.gz"), gzip(images(train, 28, 28)));
        Files.write(dir.resolve("train-labels-idx1-ubyte.gz"), gzip(labels(train)));
        // Plain (uncompressed) files are accepted too.
        Files.write(dir.resolve("t10k-images-idx3-ubyte"), images(test, 28, 28));
        Files.write(dir.resolve("t10k-labels-idx1-ubyte"), labels(test));
        return dir;
    }
}
