package dev.resnetzoo.zoo.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

import dev.resnetzoo.zoo.io.Tensor.DType;

class TensorTest {

    /** Every one of the 65536 half values against an independent, double-based decoding. */
    @Test
    void halfToFloatIsExactForEveryBitPattern() {
        for (int h = 0; h < 0x10000; h++) {
            int exp = (h >>> 10) & 0x1f;
            int mant = h & 0x3ff;
            double sign = (h & 0x8000) != 0 ? -1 : 1;
            float got = Tensor.halfToFloat((short) h);
            if (exp == 0x1f && mant != 0) {
                assertTrue(Float.isNaN(got), Integer.toHexString(h));
                assertEquals(mant << 13, Float.floatToRawIntBits(got) & 0x7fffff, "NaN payload " + Integer.toHexString(h));
                continue;
            }
            double expected = exp == 0x1f ? sign * Double.POSITIVE_INFINITY
                    : exp == 0 ? sign * mant * Math.pow(2, -24)
                    : sign * (1 + mant / 1024.0) * Math.pow(2, exp - 15);
            assertEquals(Float.floatToRawIntBits((float) expected), Float.floatToRawIntBits(got), Integer.toHexString(h));
            assertEquals(expected, (double) got, 0.0, "conversion must be exact");
        }
    }

    @Test
    void bigEndianDataAndBulkPaths() {
        ByteBuffer b = ByteBuffer.allocate(12).order(ByteOrder.BIG_ENDIAN).putFloat(1.5f).putFloat(-2f).putFloat(0.25f);
        b.flip();
        Tensor t = new Tensor(DType.FLOAT32, new long[] {3}, b, ByteOrder.BIG_ENDIAN);
        assertArrayEquals(new float[] {1.5f, -2f, 0.25f}, t.toFloats());
        ByteBuffer l = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(Long.MIN_VALUE).putLong(5);
        l.flip();
        assertArrayEquals(new long[] {Long.MIN_VALUE, 5}, new Tensor(DType.INT64, new long[] {2}, l, ByteOrder.LITTLE_ENDIAN)
                .toLongArray());
    }

    @Test
    void ndArrayShapesIncludingRankOneAndFour() {
        float[] v = new float[24];
        ByteBuffer b = ByteBuffer.allocate(96).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < 24; i++) {
            v[i] = i - 3.5f;
            b.putFloat(v[i]);
        }
        b.flip();
        INDArray a = new Tensor(DType.FLOAT32, new long[] {2, 3, 2, 2}, b, ByteOrder.LITTLE_ENDIAN).toFloatArray();
        assertArrayEquals(new long[] {2, 3, 2, 2}, a.shape());
        assertEquals(v[1 * 12 + 2 * 4 + 1 * 2 + 0], a.getFloat(1, 2, 1, 0));
        INDArray r1 = new Tensor(DType.FLOAT32, new long[] {24}, b, ByteOrder.LITTLE_ENDIAN).toFloatArray();
        assertEquals(1, r1.rank());
        assertArrayEquals(v, r1.toFloatVector());
    }

    @Test
    void shapeIsDefensivelyCopied() {
        long[] shape = {1};
        Tensor t = new Tensor(DType.UINT8, shape, ByteBuffer.wrap(new byte[] {(byte) 200}), ByteOrder.LITTLE_ENDIAN);
        shape[0] = 5;
        t.shape()[0] = 7;
        assertArrayEquals(new long[] {1}, t.shape());
        assertArrayEquals(new long[] {200}, t.toLongArray());
        assertArrayEquals(new float[] {200f}, t.toFloats());
        assertEquals("Tensor[UINT8, 1]", t.toString());
    }
}
