package dev.resnetzoo.zoo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import dev.resnetzoo.zoo.ConformanceTest.Fixture;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** {@link Npy}: files written by numpy.save, round trips, and the refusals. */
class ImportNpyTest {

    @TempDir
    Path tmp;

    @Test
    void readsNumpyWrittenFloat32() throws IOException {
        INDArray x = Npy.read(Fixture.committed("tiny_small_stem").file("input.npy"));
        assertArrayEquals(new long[] {2, 1, 28, 28}, x.shape());
        assertEquals(DataType.FLOAT, x.dataType());
        assertEquals('c', x.ordering());
        INDArray logits = Npy.read(Fixture.committed("tiny_small_stem").file("logits.npy"));
        assertArrayEquals(new long[] {2, 10}, logits.shape());
    }

    @Test
    void roundTripsShapesAndValuesExactly() throws IOException {
        for (long[] shape : new long[][] {{2, 3, 4, 5}, {7}, {1, 1}, {3, 0}}) {
            INDArray a = shape.length > 0 && shape[shape.length - 1] == 0 ? Nd4j.create(DataType.FLOAT, shape)
                    : Nd4j.randn(DataType.FLOAT, shape);
            Path f = tmp.resolve("a.npy");
            Npy.write(f, a);
            INDArray b = Npy.read(f);
            assertArrayEquals(shape, b.shape());
            assertArrayEquals(a.dup('c').data().asFloat(), b.length() == 0 ? new float[0] : b.data().asFloat());
        }
        Npy.write(tmp.resolve("s.npy"), Nd4j.scalar(2.5f));
        INDArray s = Npy.read(tmp.resolve("s.npy"));
        assertEquals(0, s.rank());
        assertEquals(2.5f, s.getFloat(0), 0f);
    }

    @Test
    void writesTheHeaderNumpyWrites() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Npy.write(out, Nd4j.create(new float[] {1, 2, 3, 4, 5, 6}, 2, 3).transpose());   // a view, 'f' order
        byte[] b = out.toByteArray();
        int headerLen = (b[8] & 0xff) | (b[9] & 0xff) << 8;
        String header = new String(b, 10, headerLen, StandardCharsets.ISO_8859_1);
        assertEquals("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }", header.trim());
        assertEquals(0, (10 + headerLen) % 64);
        assertTrue(header.endsWith("\n"));
        ByteBuffer data = ByteBuffer.wrap(b, 10 + headerLen, 24).order(ByteOrder.LITTLE_ENDIAN);
        float[] v = new float[6];
        data.asFloatBuffer().get(v);
        assertArrayEquals(new float[] {1, 4, 2, 5, 3, 6}, v);
    }

    @Test
    void readsFloat64AndFortranOrder() throws IOException {
        // [[1, 2, 3], [4, 5, 6]] as float64 stored column-major
        String header = "{'descr': '<f8', 'fortran_order': True, 'shape': (2, 3), }";
        ByteBuffer data = ByteBuffer.allocate(48).order(ByteOrder.LITTLE_ENDIAN);
        for (double d : new double[] {1, 4, 2, 5, 3, 6}) {
            data.putDouble(d);
        }
        INDArray a = Npy.read(new ByteArrayInputStream(npy(header, data.array())), "f8");
        assertEquals(DataType.FLOAT, a.dataType());
        assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, a.data().asFloat());
        assertArrayEquals(new long[] {2, 3}, a.shape());
    }

    @Test
    void refusesOtherTypesAndTruncatedFiles() {
        IOException e = assertThrows(IOException.class, () -> Npy.read(new ByteArrayInputStream(
                npy("{'descr': '<i8', 'fortran_order': False, 'shape': (1,), }", new byte[8])), "ints"));
        assertTrue(e.getMessage().contains("'<i8' is not supported"), e.getMessage());
        e = assertThrows(IOException.class, () -> Npy.read(new ByteArrayInputStream(
                npy("{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }", new byte[8])), "short"));
        assertTrue(e.getMessage().contains("truncated"), e.getMessage());
        e = assertThrows(IOException.class, () -> Npy.read(new ByteArrayInputStream(
                "hello world".getBytes(StandardCharsets.US_ASCII)), "text"));
        assertTrue(e.getMessage().contains("not a .npy file"), e.getMessage());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "(3000000000, 3000000000, 3000000000)|huge.npy: .npy shape (3000000000, 3000000000, 3000000000) has a "
                + "dimension of 3,000,000,000, more than 2,147,483,647: refusing",
        "(0, 4294967296)|huge.npy: .npy shape (0, 4294967296) has a dimension of 4,294,967,296, more than "
                + "2,147,483,647: refusing",
        "(2147483647, 2147483647, 4)|huge.npy: .npy shape (2147483647, 2147483647, 4) has "
                + "18,446,744,056,529,682,436 elements, more than the 536,870,907 of '<f4' one array can hold: refusing",
        "(65536, 65536)|huge.npy: .npy shape (65536, 65536) has 4,294,967,296 elements, more than the 536,870,907 "
                + "of '<f4' one array can hold: refusing",
        "(99999999999999999999,)|huge.npy: .npy shape (99999999999999999999,) has a dimension of "
                + "99,999,999,999,999,999,999, more than 2,147,483,647: refusing",
        "(12, x)|huge.npy: bad .npy shape (12, x): expected non-negative integers",
    })
    void shapesBeyondWhatAnArrayHoldsAreRefusedClearly(String shape, String message) {
        byte[] file = npy("{'descr': '<f4', 'fortran_order': False, 'shape': " + shape + ", }", new byte[16]);
        IOException e = assertThrows(IOException.class, () -> Npy.read(new ByteArrayInputStream(file), "huge.npy"));
        assertEquals(message, e.getMessage());
    }

    @Test
    void aHeaderDeclaringMoreDataThanTheFileHoldsIsRefusedBeforeAllocating() throws IOException {
        // 128 bytes that declare 400 MB of float32
        Path f = tmp.resolve("short.npy");
        Files.write(f, npy("{'descr': '<f4', 'fortran_order': False, 'shape': (100000000,), }", new byte[12]));
        IOException e = assertThrows(IOException.class, () -> Npy.read(f));
        assertEquals(f + ": .npy header declares shape (100000000,) of '<f4', 400,000,000 bytes of data, but the "
                + "file holds 12 after the header: refusing (truncated file?)", e.getMessage());

        // from a stream, whose length is unknown, memory grows only with the data that arrives
        e = assertThrows(IOException.class, () -> Npy.read(new ByteArrayInputStream(
                npy("{'descr': '<f4', 'fortran_order': False, 'shape': (100000000,), }", new byte[12])), "s.npy"));
        assertEquals("s.npy: .npy header declares shape (100000000,) of '<f4', 400,000,000 bytes of data, but the "
                + "stream ends after 12: refusing (truncated file?)", e.getMessage());
    }

    @Test
    void numpyReadsWhatIsWritten() throws Exception {
        assumeTrue(ConformanceFullTest.torchvisionAvailable(), ConformanceFullTest.SKIP);
        Path f = tmp.resolve("w.npy");
        Npy.write(f, Nd4j.create(new float[] {1.5f, -2f, 3.25f, 0f, 1e-8f, 7f}, 3, 2));
        Process p = new ProcessBuilder(ConformanceFullTest.PYTHON, "-c", "import numpy, sys; a = numpy.load(sys.argv[1]); "
                + "assert a.dtype == numpy.float32 and a.shape == (3, 2), (a.dtype, a.shape); "
                + "assert a.tolist() == [[1.5, -2.0], [3.25, 0.0], [float(numpy.float32(1e-8)), 7.0]], a.tolist()",
                f.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), out);
    }

    private static byte[] npy(String header, byte[] data) {
        String h = header + "\n";
        ByteBuffer b = ByteBuffer.allocate(10 + h.length() + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0});
        b.putShort((short) h.length());
        b.put(h.getBytes(StandardCharsets.ISO_8859_1));
        b.put(data);
        return b.array();
    }
}
