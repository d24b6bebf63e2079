package dev.resnetzoo.examples.data;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * Reader for the IDX files of (Fashion-)MNIST, gzip'd or plain.
 *
 * <p>Supported layouts (big-endian header, unsigned bytes after it):
 * <ul>
 *   <li>images: magic {@code 0x00000803}, then {@code n, rows, cols} as 32-bit ints, then
 *       {@code n*rows*cols} pixels, row-major;</li>
 *   <li>labels: magic {@code 0x00000801}, then {@code n}, then {@code n} labels.</li>
 * </ul>
 * Compression is detected from the gzip signature, not from the file name. Every problem
 * (wrong magic, short header or payload, trailing bytes, broken gzip stream, images/labels
 * count mismatch) is reported as an {@link IOException} whose message names the file and
 * what was expected.
 */
public final class IdxReader {

    /** Magic number of an IDX file of unsigned bytes with three dimensions (images). */
    public static final int IMAGES_MAGIC = 0x00000803;
    /** Magic number of an IDX file of unsigned bytes with one dimension (labels). */
    public static final int LABELS_MAGIC = 0x00000801;

    private static final int GZIP_MAGIC = 0x8b1f;

    private IdxReader() {
    }

    /**
     * Images read from an IDX file.
     *
     * @param count  number of images
     * @param rows   image height
     * @param cols   image width
     * @param pixels {@code count*rows*cols} unsigned pixel values, image after image, row-major
     *               (read with {@code b & 0xFF}); shared, do not modify
     */
    public record Images(int count, int rows, int cols, byte[] pixels) {
    }

    /** Reads an images file (plain or gzip'd). */
    public static Images readImages(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            return readImages(in, file.toString());
        }
    }

    /**
     * Reads an images file from a stream; {@code name} is used in error messages only.
     * The stream is read to its end but not closed.
     */
    public static Images readImages(InputStream in, String name) throws IOException {
        try {
            DataInputStream data = open(in);
            int magic = readHeaderInt(data, name, "magic number");
            checkMagic(magic, IMAGES_MAGIC, name, "IDX images (uint8, [n, rows, cols])");
            int count = readHeaderInt(data, name, "image count");
            int rows = readHeaderInt(data, name, "row count");
            int cols = readHeaderInt(data, name, "column count");
            if (count < 0 || rows <= 0 || cols <= 0) {
                throw new IOException(name + ": invalid image dimensions [" + Integer.toUnsignedString(count)
                        + ", " + Integer.toUnsignedString(rows) + ", " + Integer.toUnsignedString(cols) + "]");
            }
            long size = (long) count * rows * cols;
            if (size > Integer.MAX_VALUE - 16) {
                throw new IOException(name + ": " + count + " images of " + rows + "x" + cols
                        + " are too many to hold in one array");
            }
            byte[] pixels = readPayload(data, (int) size, name,
                    count + " images of " + rows + "x" + cols);
            return new Images(count, rows, cols, pixels);
        } catch (EOFException e) {
            throw truncated(name, e);
        } catch (ZipException e) {
            throw new IOException(name + ": corrupt gzip data (" + e.getMessage() + ")", e);
        }
    }

    /** Reads a labels file (plain or gzip'd); values are unsigned bytes. */
    public static byte[] readLabels(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            return readLabels(in, file.toString());
        }
    }

    /**
     * Reads a labels file from a stream; {@code name} is used in error messages only.
     * The stream is read to its end but not closed.
     */
    public static byte[] readLabels(InputStream in, String name) throws IOException {
        try {
            DataInputStream data = open(in);
            int magic = readHeaderInt(data, name, "magic number");
            checkMagic(magic, LABELS_MAGIC, name, "IDX labels (uint8, [n])");
            int count = readHeaderInt(data, name, "label count");
            if (count < 0) {
                throw new IOException(name + ": invalid label count " + Integer.toUnsignedString(count));
            }
            return readPayload(data, count, name, count + " labels");
        } catch (EOFException e) {
            throw truncated(name, e);
        } catch (ZipException e) {
            throw new IOException(name + ": corrupt gzip data (" + e.getMessage() + ")", e);
        }
    }

    /**
     * Reads a matching pair of images and labels files.
     *
     * @throws IOException if either file is invalid, or if their counts differ
     */
    public static LabeledImages read(Path imagesFile, Path labelsFile) throws IOException {
        Images images = readImages(imagesFile);
        byte[] labels = readLabels(labelsFile);
        return LabeledImages.of(images, labels, imagesFile.toString(), labelsFile.toString());
    }

    // ---------------------------------------------------------------------------------------

    private static DataInputStream open(InputStream raw) throws IOException {
        Objects.requireNonNull(raw, "input stream");
        BufferedInputStream in = new BufferedInputStream(raw, 1 << 16);
        in.mark(2);
        int b0 = in.read();
        int b1 = in.read();
        in.reset();
        boolean gzip = b0 >= 0 && b1 >= 0 && (b0 | (b1 << 8)) == GZIP_MAGIC;
        InputStream body = gzip ? new BufferedInputStream(new GZIPInputStream(in, 1 << 16), 1 << 16) : in;
        return new DataInputStream(body);
    }

    private static int readHeaderInt(DataInputStream in, String name, String what) throws IOException {
        try {
            return in.readInt();
        } catch (EOFException e) {
            throw new IOException(name + ": truncated IDX header, end of data while reading the " + what, e);
        }
    }

    private static void checkMagic(int magic, int expected, String name, String what) throws IOException {
        if (magic != expected) {
            String hint = "";
            if (magic == LABELS_MAGIC || magic == IMAGES_MAGIC) {
                hint = magic == LABELS_MAGIC ? " (this is a labels file)" : " (this is an images file)";
            } else if (Integer.reverseBytes(magic) == expected) {
                hint = " (byte order reversed)";
            }
            throw new IOException(String.format("%s: bad magic number 0x%08x, expected 0x%08x for %s%s",
                    name, magic, expected, what, hint));
        }
    }

    private static byte[] readPayload(DataInputStream in, int size, String name, String what) throws IOException {
        byte[] out = new byte[size];
        int got = in.readNBytes(out, 0, size);
        if (got < size) {
            throw new IOException(name + ": truncated, expected " + size + " bytes of data for " + what
                    + " after the header, found only " + got);
        }
        if (in.read() >= 0) {
            throw new IOException(name + ": unexpected trailing data after the " + size
                    + " bytes expected for " + what);
        }
        return out;
    }

    private static IOException truncated(String name, EOFException cause) {
        return new IOException(name + ": truncated or corrupt gzip stream (" + cause.getMessage() + ")", cause);
    }
}
