package dev.resnetzoo.zoo.io;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Locale;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * One tensor read from a checkpoint: its element type, its shape and its elements in row-major
 * ('c') order.
 *
 * <p>A tensor is immutable. Its elements are kept in the checkpoint's own encoding (for example
 * IEEE half precision for {@link DType#FLOAT16}) and are converted only when asked for, by
 * {@link #toFloatArray()}, {@link #toFloats()} or {@link #toLongArray()}. When the tensor was
 * stored contiguously the data is a read-only view of the bytes the reader loaded or mapped, so no
 * copy is made until a conversion is requested.
 *
 * <p>A tensor of a state dict from {@link StateDict#open(java.nio.file.Path)} knows its dtype,
 * shape and {@link #storageBytes()} but reads its data only when first converted; if the file
 * cannot be read then, the conversion throws an {@link UncheckedIOException} whose cause is the
 * {@link CheckpointFormatException} or {@link IOException} and whose message is the cause's.
 */
public final class Tensor {

    /** Element types a checkpoint tensor may have. */
    public enum DType {
        /** IEEE 754 binary32. */
        FLOAT32(4, true),
        /** IEEE 754 binary16 (half precision). */
        FLOAT16(2, true),
        /** bfloat16: the upper 16 bits of a binary32. */
        BFLOAT16(2, true),
        /** IEEE 754 binary64. */
        FLOAT64(8, true),
        /** Signed 64-bit integer. */
        INT64(8, false),
        /** Signed 32-bit integer. */
        INT32(4, false),
        /** Signed 16-bit integer. */
        INT16(2, false),
        /** Signed 8-bit integer. */
        INT8(1, false),
        /** Unsigned 8-bit integer. */
        UINT8(1, false),
        /** Boolean, one byte per element (0 is false, anything else true). */
        BOOL(1, false);

        private final int byteSize;
        private final boolean floatingPoint;

        DType(int byteSize, boolean floatingPoint) {
            this.byteSize = byteSize;
            this.floatingPoint = floatingPoint;
        }

        /**
         * Size of one element in bytes.
         *
         * @return 1, 2, 4 or 8
         */
        public int byteSize() {
            return byteSize;
        }

        /**
         * Whether this is a floating-point type.
         *
         * @return true for FLOAT32, FLOAT16, BFLOAT16 and FLOAT64
         */
        public boolean isFloatingPoint() {
            return floatingPoint;
        }
    }

    /** Reads a tensor's elements, contiguous and row-major, when they are first needed. */
    interface Source {
        /** @return exactly numel * byteSize bytes, from the buffer's position */
        ByteBuffer read() throws IOException;
    }

    private final DType dtype;
    private final long[] shape;
    private final int numel;
    private final long storageBytes;
    private final ByteOrder order;
    /** Where the data comes from until it is read; null once it is. */
    private Source source;
    /** Contiguous row-major elements, position 0, limit numel * byteSize; null until read. */
    private volatile ByteBuffer data;

    /**
     * A tensor whose data is at hand, stored on its own.
     *
     * @param dtype element type
     * @param shape dimensions (copied); empty for a scalar
     * @param data  exactly numel * byteSize bytes of contiguous row-major data, from its position
     * @param order byte order of the elements in {@code data}
     */
    Tensor(DType dtype, long[] shape, ByteBuffer data, ByteOrder order) {
        this(dtype, shape, data, order, data.remaining());
    }

    /** @param storageBytes size of the storage the file keeps the data in (see {@link #storageBytes()}) */
    Tensor(DType dtype, long[] shape, ByteBuffer data, ByteOrder order, long storageBytes) {
        this(dtype, shape, order, storageBytes, null);
        this.data = checked(data);
    }

    /**
     * A tensor whose data is read from {@code source} when it is first converted.
     *
     * @param storageBytes size of the storage the file keeps the data in (see {@link #storageBytes()})
     */
    Tensor(DType dtype, long[] shape, ByteOrder order, long storageBytes, Source source) {
        this.dtype = dtype;
        this.shape = shape.clone();
        long n = numelOf(this.shape);
        if (n > Integer.MAX_VALUE / 8) {
            throw new IllegalArgumentException("tensor too large: " + n + " elements");
        }
        this.numel = (int) n;
        this.order = order;
        this.storageBytes = storageBytes;
        this.source = source;
    }

    private ByteBuffer checked(ByteBuffer data) {
        if (data.remaining() != (long) numel * dtype.byteSize()) {
            throw new IllegalArgumentException("tensor data has " + data.remaining() + " bytes, expected "
                    + ((long) numel * dtype.byteSize()) + " for " + dtype + " " + Arrays.toString(shape));
        }
        return data.slice().asReadOnlyBuffer();
    }

    /**
     * Number of elements of a shape, checking that every dimension is non-negative.
     *
     * @throws IllegalArgumentException on a negative dimension or overflow
     */
    static long numelOf(long[] shape) {
        long n = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
            }
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    /**
     * The element type.
     *
     * @return the dtype as stored in the checkpoint
     */
    public DType dtype() {
        return dtype;
    }

    /**
     * The dimensions of this tensor.
     *
     * @return a fresh copy of the shape; empty for a scalar
     */
    public long[] shape() {
        return shape.clone();
    }

    /**
     * Size of the storage the file keeps this tensor's elements in, in bytes, known before they
     * are read: {@code numel() * dtype().byteSize()} for a tensor stored on its own, more for a
     * view of a larger storage (a slice saved without {@code clone()}), less for a broadcast
     * ({@code expand}) tensor. Reading the tensor reads that whole storage, so a reader that knows
     * what a tensor should be can refuse a storage larger than that before paying for it.
     *
     * @return bytes of the underlying storage
     */
    public long storageBytes() {
        return storageBytes;
    }

    /**
     * Number of dimensions.
     *
     * @return 0 for a scalar
     */
    public int rank() {
        return shape.length;
    }

    /**
     * Number of elements (the product of the shape; 1 for a scalar).
     *
     * @return the element count
     */
    public long numel() {
        return numel;
    }

    /**
     * All elements converted to float32, in row-major order.
     *
     * <p>FLOAT16 and BFLOAT16 (including subnormals, infinities and NaN) and all 8/16-bit integers
     * and booleans convert exactly. FLOAT64, INT32 and INT64 values are rounded to the nearest float
     * (exact when representable), as a Java narrowing conversion does.
     *
     * @return a new array of {@link #numel()} floats
     * @throws UncheckedIOException if the data is read now and cannot be (see the class comment)
     */
    public float[] toFloats() {
        float[] out = new float[numel];
        ByteBuffer b = buffer();
        switch (dtype) {
            case FLOAT32:
                b.asFloatBuffer().get(out);
                break;
            case FLOAT16:
                for (int i = 0; i < numel; i++) {
                    out[i] = halfToFloat(b.getShort(2 * i));
                }
                break;
            case BFLOAT16:
                for (int i = 0; i < numel; i++) {
                    out[i] = Float.intBitsToFloat((b.getShort(2 * i) & 0xffff) << 16);
                }
                break;
            case FLOAT64:
                for (int i = 0; i < numel; i++) {
                    out[i] = (float) b.getDouble(8 * i);
                }
                break;
            case INT64:
                for (int i = 0; i < numel; i++) {
                    out[i] = (float) b.getLong(8 * i);
                }
                break;
            case INT32:
                for (int i = 0; i < numel; i++) {
                    out[i] = (float) b.getInt(4 * i);
                }
                break;
            case INT16:
                for (int i = 0; i < numel; i++) {
                    out[i] = b.getShort(2 * i);
                }
                break;
            case INT8:
                for (int i = 0; i < numel; i++) {
                    out[i] = b.get(i);
                }
                break;
            case UINT8:
                for (int i = 0; i < numel; i++) {
                    out[i] = b.get(i) & 0xff;
                }
                break;
            case BOOL:
                for (int i = 0; i < numel; i++) {
                    out[i] = b.get(i) != 0 ? 1f : 0f;
                }
                break;
            default:
                throw new AssertionError(dtype);
        }
        return out;
    }

    /**
     * The tensor as a new ND4J float32 array in 'c' order with this tensor's shape, converting as
     * {@link #toFloats()} does. A scalar tensor becomes a rank-0 array and a tensor with a zero
     * dimension becomes an empty array.
     *
     * @return a new array that does not share memory with this tensor
     * @throws UncheckedIOException if the data is read now and cannot be (see the class comment)
     */
    public INDArray toFloatArray() {
        if (numel == 0) {
            return Nd4j.create(DataType.FLOAT, shape, 'c');
        }
        float[] values = toFloats();
        if (shape.length == 0) {
            return Nd4j.scalar(values[0]);
        }
        return Nd4j.create(values, shape.clone(), 'c');
    }

    /**
     * All elements as 64-bit integers, in row-major order. Defined for the integer types and BOOL
     * (0 or 1); every value converts exactly (UINT8 as 0..255).
     *
     * @return a new array of {@link #numel()} longs
     * @throws IllegalStateException if this tensor holds floating-point values
     * @throws UncheckedIOException  if the data is read now and cannot be (see the class comment)
     */
    public long[] toLongArray() {
        long[] out = new long[numel];
        ByteBuffer b = buffer();
        switch (dtype) {
            case INT64:
                b.asLongBuffer().get(out);
                break;
            case INT32:
                for (int i = 0; i < numel; i++) {
                    out[i] = b.getInt(4 * i);
                }
                break;
            case INT16:
                for (int i = 0; i < numel; i++) {
                    out[i] = b.getShort(2 * i);
                }
                break;
            case INT8:
                for (int i = 0; i < numel; i++) {
                    out[i] = b.get(i);
                }
                break;
            case UINT8:
                for (int i = 0; i < numel; i++) {
                    out[i] = b.get(i) & 0xff;
                }
                break;
            case BOOL:
                for (int i = 0; i < numel; i++) {
                    out[i] = b.get(i) != 0 ? 1L : 0L;
                }
                break;
            default:
                throw new IllegalStateException("toLongArray() needs an integer tensor, this one is " + dtype
                        + "; use toFloatArray()");
        }
        return out;
    }

    /**
     * A private view of the data with position 0 and the right byte order, reading it first if
     * this tensor comes from {@link StateDict#open(java.nio.file.Path)} and has not been read yet.
     */
    private ByteBuffer buffer() {
        ByteBuffer d = data;
        if (d == null) {
            synchronized (this) {
                d = data;
                if (d == null) {
                    try {
                        d = checked(source.read());
                    } catch (IOException e) {
                        throw new UncheckedIOException(e.getMessage(), e);
                    }
                    data = d;
                    source = null;
                }
            }
        }
        return d.duplicate().order(order);
    }

    /**
     * Converts an IEEE 754 binary16 bit pattern to the float with exactly the same value. Every
     * half value (normal, subnormal, signed zero, infinity) is representable as a float; NaN keeps
     * its sign and payload bits.
     */
    static float halfToFloat(short half) {
        int h = half & 0xffff;
        int sign = (h & 0x8000) << 16;
        int exp = (h >>> 10) & 0x1f;
        int mant = h & 0x3ff;
        if (exp == 0x1f) {
            return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
        }
        if (exp == 0) {
            // zero or subnormal: mant * 2^-24, exact in float (at most 10 significant bits)
            float v = mant * 0x1p-24f;
            return sign != 0 ? -v : v;
        }
        return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
    }

    /**
     * A short description such as {@code Tensor[FLOAT32, 64x3x7x7]}.
     *
     * @return dtype and shape
     */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("Tensor[").append(dtype).append(", ");
        if (shape.length == 0) {
            sb.append("scalar");
        }
        for (int i = 0; i < shape.length; i++) {
            sb.append(i == 0 ? "" : "x").append(String.format(Locale.ROOT, "%d", shape[i]));
        }
        return sb.append(']').toString();
    }
}
