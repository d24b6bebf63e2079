package dev.resnetzoo.zoo;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Reads and writes NumPy {@code .npy} files (format versions 1.0, 2.0 and 3.0) holding one
 * floating-point array, as {@code numpy.save} and {@code numpy.load} do.
 *
 * <p>{@link #read(Path)} accepts element types {@code <f4} (float32, little-endian), {@code >f4},
 * {@code <f8} and {@code >f8} (float64, converted to the nearest float32), in C or Fortran order,
 * and returns a float32 array in C ('c') order with the file's shape (rank 0 for a scalar).
 * {@link #write(Path, INDArray)} always writes version 1.0, {@code <f4}, C order, with the header
 * padded to 64 bytes as NumPy does, so {@code numpy.load} reads it back unchanged. Object arrays
 * (pickles) and other element types are refused with an {@link IOException} naming what was found.
 */
public final class Npy {

    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([^']*)'");
    private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");

    private Npy() {
    }

    /**
     * Reads a {@code .npy} file.
     *
     * @param file the file
     * @return a new float32 array in 'c' order with the stored shape
     * @throws IOException if the file cannot be read, is not a {@code .npy} file, or holds an
     *                     unsupported element type
     */
    public static INDArray read(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            return read(in, file.toString(), Files.size(file));
        }
    }

    /**
     * Reads a {@code .npy} stream (it is not closed).
     *
     * @param in     the stream, positioned at the magic string
     * @param source a name for error messages
     * @return a new float32 array in 'c' order with the stored shape
     * @throws IOException as {@link #read(Path)}
     */
    public static INDArray read(InputStream in, String source) throws IOException {
        return read(in, source, -1);
    }

    /** @param available bytes the stream holds, or -1 if unknown */
    private static INDArray read(InputStream in, String source, long available) throws IOException {
        DataInputStream d = new DataInputStream(new BufferedInputStream(in));
        byte[] magic = new byte[8];
        readFully(d, magic, source, "the magic string");
        if (!Arrays.equals(Arrays.copyOf(magic, 6), MAGIC)) {
            throw new IOException(source + " is not a .npy file (it does not start with \\x93NUMPY)");
        }
        int major = magic[6] & 0xff;
        long headerLen;
        if (major == 1) {
            headerLen = (d.readUnsignedByte()) | (d.readUnsignedByte() << 8);
        } else if (major == 2 || major == 3) {
            byte[] len = new byte[4];
            readFully(d, len, source, "the header length");
            headerLen = ByteBuffer.wrap(len).order(ByteOrder.LITTLE_ENDIAN).getInt() & 0xffffffffL;
        } else {
            throw new IOException(source + ": unsupported .npy format version " + major + "." + (magic[7] & 0xff));
        }
        if (headerLen > 1 << 20) {
            throw new IOException(source + ": .npy header of " + headerLen + " bytes is implausibly long");
        }
        byte[] headerBytes = new byte[(int) headerLen];
        readFully(d, headerBytes, source, "the header");
        String header = new String(headerBytes, major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);

        String descr = group(DESCR, header, source, "descr");
        boolean fortran = group(FORTRAN, header, source, "fortran_order").equals("True");
        long[] shape = parseShape(group(SHAPE, header, source, "shape"), source);
        int size;
        ByteOrder order;
        switch (descr) {
            case "<f4" -> { size = 4; order = ByteOrder.LITTLE_ENDIAN; }
            case ">f4" -> { size = 4; order = ByteOrder.BIG_ENDIAN; }
            case "<f8" -> { size = 8; order = ByteOrder.LITTLE_ENDIAN; }
            case ">f8" -> { size = 8; order = ByteOrder.BIG_ENDIAN; }
            default -> throw new IOException(source + ": element type '" + descr
                    + "' is not supported; expected float32 ('<f4') or float64 ('<f8')");
        }
        String shapeText = "(" + group(SHAPE, header, source, "shape") + ")";
        // a product of dimensions up to 2^31 - 1 each may pass 2^63: count it unsigned-wide
        java.math.BigInteger count = java.math.BigInteger.ONE;
        for (long s : shape) {
            if (s > Integer.MAX_VALUE) {
                throw new IOException(String.format(Locale.ROOT, "%s: .npy shape %s has a dimension of %,d, more "
                        + "than %,d: refusing", source, shapeText, s, Integer.MAX_VALUE));
            }
            count = count.multiply(java.math.BigInteger.valueOf(s));
        }
        long max = (Integer.MAX_VALUE - 16) / size;
        if (count.compareTo(java.math.BigInteger.valueOf(max)) > 0) {
            throw new IOException(String.format(Locale.ROOT, "%s: .npy shape %s has %,d elements, more than the %,d "
                    + "of '%s' one array can hold: refusing", source, shapeText, count, max, descr));
        }
        long n = count.longValueExact();
        long nbytes = n * size;
        String declared = String.format(Locale.ROOT, "%s: .npy header declares shape %s of '%s', %,d bytes of data, "
                + "but the", source, shapeText, descr, nbytes);
        long headerEnd = magic.length + (major == 1 ? 2 : 4) + headerLen;
        if (available >= 0 && nbytes > available - headerEnd) {
            throw new IOException(String.format(Locale.ROOT, "%s file holds %,d after the header: refusing (truncated "
                    + "file?)", declared, available - headerEnd));
        }
        // readNBytes grows its buffer as data arrives, so a stream that ends early cannot make us
        // allocate what its header claims
        byte[] raw = d.readNBytes((int) nbytes);
        if (raw.length < nbytes) {
            throw new IOException(String.format(Locale.ROOT, "%s stream ends after %,d: refusing (truncated file?)",
                    declared, raw.length));
        }
        ByteBuffer buf = ByteBuffer.wrap(raw).order(order);
        float[] values = new float[(int) n];
        if (size == 4) {
            buf.asFloatBuffer().get(values);
        } else {
            for (int i = 0; i < values.length; i++) {
                values[i] = (float) buf.getDouble(8 * i);
            }
        }
        if (shape.length == 0) {
            return Nd4j.scalar(values[0]);
        }
        if (n == 0) {
            return Nd4j.create(DataType.FLOAT, shape, 'c');
        }
        INDArray a = Nd4j.create(values, shape, fortran ? 'f' : 'c');
        return fortran ? a.dup('c') : a;
    }

    /**
     * Writes an array as a version 1.0 {@code .npy} file of float32 ({@code <f4}) in C order,
     * converting other data types to float32.
     *
     * @param file  the file, created or replaced
     * @param array the array (any order, view or not)
     * @throws IOException if the file cannot be written
     */
    public static void write(Path file, INDArray array) throws IOException {
        try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(file))) {
            write(out, array);
        }
    }

    /**
     * Writes an array to a stream in {@code .npy} format (the stream is not closed).
     *
     * @param out   the stream
     * @param array the array
     * @throws IOException if writing fails
     */
    public static void write(OutputStream out, INDArray array) throws IOException {
        long[] shape = array.shape();
        StringBuilder dims = new StringBuilder();
        for (long s : shape) {
            dims.append(s).append(", ");
        }
        String shapeText = shape.length == 1 ? dims.substring(0, dims.length() - 1)
                : shape.length == 0 ? "" : dims.substring(0, dims.length() - 2);
        StringBuilder header = new StringBuilder(String.format(Locale.ROOT,
                "{'descr': '<f4', 'fortran_order': False, 'shape': (%s), }", shapeText));
        int total = MAGIC.length + 2 + 2 + header.length() + 1;
        header.append(" ".repeat((64 - total % 64) % 64)).append('\n');
        if (header.length() > 0xffff) {
            throw new IOException("shape " + Arrays.toString(shape) + " is too long for a version 1.0 header");
        }
        out.write(MAGIC);
        out.write(new byte[] {1, 0, (byte) header.length(), (byte) (header.length() >>> 8)});
        out.write(header.toString().getBytes(StandardCharsets.ISO_8859_1));
        float[] values = array.length() == 0 ? new float[0]
                : array.castTo(DataType.FLOAT).dup('c').data().asFloat();
        ByteBuffer buf = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        buf.asFloatBuffer().put(values);
        out.write(buf.array());
        out.flush();
    }

    private static String group(Pattern p, String header, String source, String field) throws IOException {
        Matcher m = p.matcher(header);
        if (!m.find()) {
            throw new IOException(source + ": .npy header has no '" + field + "': " + header.trim());
        }
        return m.group(1);
    }

    private static long[] parseShape(String text, String source) throws IOException {
        String[] parts = text.split(",");
        long[] dims = new long[parts.length];
        int n = 0;
        for (String p : parts) {
            String t = p.trim();
            if (t.endsWith("L")) {
                t = t.substring(0, t.length() - 1);
            }
            if (t.isEmpty()) {
                continue;
            }
            try {
                dims[n] = Long.parseLong(t);
            } catch (NumberFormatException e) {
                if (t.matches("[0-9]+")) {
                    throw new IOException(String.format(Locale.ROOT, "%s: .npy shape (%s) has a dimension of %,d, more "
                            + "than %,d: refusing", source, text, new java.math.BigInteger(t), Integer.MAX_VALUE));
                }
                throw new IOException(source + ": bad .npy shape (" + text + "): expected non-negative integers");
            }
            if (dims[n] < 0) {
                throw new IOException(source + ": negative dimension in .npy shape (" + text + ")");
            }
            n++;
        }
        return Arrays.copyOf(dims, n);
    }

    private static void readFully(DataInputStream in, byte[] b, String source, String what) throws IOException {
        try {
            in.readFully(b);
        } catch (EOFException e) {
            throw new IOException(source + " ends inside " + what + " (truncated .npy file)", e);
        }
    }
}
