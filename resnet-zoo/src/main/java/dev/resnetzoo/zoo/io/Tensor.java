package dev.resnetzoo.zoo.io;

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

    private final DType dtype;
    private final long[] shape;
    private final int numel;
    /** Contiguous row-major elements, position 0, limit numel * byteSize. Read with absolute gets. */
    private final ByteBuffer data;
    private final ByteOrder order;

    /**
     * @param dtype element type
     * @param shape dimensions (copied); empty for a scalar
     * @param data  exactly numel * byteSize bytes of contiguous row-major data, from its position
     * @param order byte order of the elements in {@code data}
     */
    Tensor(DType dtype, long[] shape, ByteBuffer data, ByteOrder order) {
        this.dtype = dtype;
        this.shape = shape.clone();
        long n = numelOf(this.shape);
        if (n > Integer.MAX_VALUE / 8) {
            throw new IllegalArgumentException("tensor too large: " + n + " elements");
        }
        this.numel = (int) n;
        if (data.remaining() != (long) numel * dtype.byteSize()) {
            throw new IllegalArgumentException("tensor data has " + data.remaining() + " bytes, expected "
                    + ((long) numel * dtype.byteSize()) + " for " + dtype + " " + Arrays.toString(shape));
        }
        this.data = data.slice().asReadOnlyBuffer();
        this.order = order;
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

    /** A private view of the data with position 0 and the right byte order. */
    private ByteBuffer buffer() {
        return data.duplicate().order(order);
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
