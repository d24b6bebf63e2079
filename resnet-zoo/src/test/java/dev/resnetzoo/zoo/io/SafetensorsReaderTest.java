package dev.resnetzoo.zoo.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class SafetensorsReaderTest {

    @TempDir
    Path tmp;

    @Test
    void validFileRoundTripsExactlyInHeaderOrder() throws IOException {
        // data is laid out in reverse order and __metadata__ sits in the middle of the header
        Fixtures.assertMatches("st_all.safetensors", SafetensorsReader.read(Fixtures.path("st_all.safetensors")));
        Fixtures.assertMatches("st_all.safetensors", StateDict.read(Fixtures.path("st_all.safetensors")));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
        st_overlap.safetensors          | st_overlap.safetensors: tensors 'a' (data_offsets [0, 8]) and 'b' (data_offsets [4, 12]) overlap; each byte of the data section may belong to one tensor only
        st_offsets_outside.safetensors  | st_offsets_outside.safetensors: tensor 'b' has data_offsets [8, 16] outside the data section, which has 12 bytes
        st_truncated.safetensors        | st_truncated.safetensors: tensor 'a' has data_offsets [0, 16] outside the data section, which has 10 bytes
        st_bad_dtype.safetensors        | st_bad_dtype.safetensors: tensor 'a' has unsupported dtype 'F31' (expected one of F32, F16, BF16, F64, I64, I32, I16, I8, U8, BOOL)
        st_header_too_long.safetensors  | st_header_too_long.safetensors: safetensors header length 170 runs past the end of the file (70 bytes, so at most 62 are available)
        st_header_huge.safetensors      | st_header_huge.safetensors: safetensors header length 209715200 is not in 1..104857600
        st_header_zero.safetensors      | st_header_zero.safetensors: safetensors header length 0 is not in 1..104857600
        st_begin_after_end.safetensors  | st_begin_after_end.safetensors: tensor 'a' has data_offsets [8, 4] with begin after end
        st_size_mismatch.safetensors    | st_size_mismatch.safetensors: tensor 'a' has 8 bytes (data_offsets [0, 8]) but shape [3] of F32 needs 3 x 4 = 12 bytes
        st_negative_dim.safetensors     | st_negative_dim.safetensors: tensor 'a' has shape [-2]; expected an array of non-negative integers
        st_bad_metadata.safetensors     | st_bad_metadata.safetensors: safetensors __metadata__ value for 'epochs' must be a string
        """)
    void eachInvalidFileGivesItsOwnError(String file, String message) {
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class,
                () -> SafetensorsReader.read(Fixtures.path(file)));
        assertEquals(message, e.getMessage());
    }

    @Test
    void invalidJsonAndDuplicateKeys() {
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class,
                () -> StateDict.read(Fixtures.path("st_not_json.safetensors")));
        assertStartsWith("st_not_json.safetensors: safetensors header is not valid JSON: ", e.getMessage());
        e = assertThrows(CheckpointFormatException.class,
                () -> StateDict.read(Fixtures.path("st_duplicate_key.safetensors")));
        assertStartsWith("st_duplicate_key.safetensors: safetensors header is not valid JSON: Duplicate field 'a'",
                e.getMessage());
    }

    @Test
    void moreHeaderShapes() throws IOException {
        assertEquals("h.safetensors: safetensors header must be a JSON object starting with '{'", error("[1]", 0));
        assertStartsWith("h.safetensors: safetensors header is not valid JSON: Trailing token", error("{} []", 0));
        assertEquals("h.safetensors: tensor 'a' must be a JSON object with dtype, shape and data_offsets",
                error("{\"a\": [1]}", 0));
        assertEquals("h.safetensors: tensor 'a' has no string 'dtype'",
                error("{\"a\": {\"shape\": [], \"data_offsets\": [0, 4]}}", 4));
        assertEquals("h.safetensors: tensor 'a' must have 'data_offsets' as an array of 2 non-negative integers",
                error("{\"a\": {\"dtype\": \"F32\", \"shape\": [], \"data_offsets\": [0]}}", 4));
        assertEquals("h.safetensors: tensor 'a' has shape [1.5]; expected an array of non-negative integers",
                error("{\"a\": {\"dtype\": \"F32\", \"shape\": [1.5], \"data_offsets\": [0, 4]}}", 4));
        assertEquals("h.safetensors: safetensors __metadata__ must be a JSON object of strings",
                error("{\"__metadata__\": [], \"a\": {\"dtype\": \"F32\", \"shape\": [], \"data_offsets\": [0, 4]}}", 4));
        assertEquals("h.safetensors: safetensors header is not valid UTF-8", error("{\"\u00ff\": 1}", 0, true));
        Files.write(tmp.resolve("short.safetensors"), new byte[] {1, 2, 3});
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class,
                () -> SafetensorsReader.read(tmp.resolve("short.safetensors")));
        assertEquals("short.safetensors is too short for a safetensors file: 3 bytes, but the header length alone "
                + "takes 8", e.getMessage());
    }

    @Test
    void emptyTensorsMayShareAnOffsetAndGapsAreTolerated() throws IOException {
        Path p = write("{\"z\": {\"dtype\": \"F32\", \"shape\": [0], \"data_offsets\": [4, 4]},"
                + " \"a\": {\"dtype\": \"I8\", \"shape\": [2], \"data_offsets\": [2, 4]},"
                + " \"y\": {\"dtype\": \"BOOL\", \"shape\": [1, 0], \"data_offsets\": [4, 4]}}", new byte[] {9, 9, -3, 4});
        StateDict sd = SafetensorsReader.read(p);
        assertEquals(List.of("z", "a", "y"), sd.keys());
        org.junit.jupiter.api.Assertions.assertArrayEquals(new long[] {-3, 4}, sd.get("a").toLongArray());
        assertEquals(0, sd.get("y").numel());
    }

    private String error(String header, int dataBytes) throws IOException {
        return error(header, dataBytes, false);
    }

    private String error(String header, int dataBytes, boolean latin1) throws IOException {
        byte[] h = header.getBytes(latin1 ? StandardCharsets.ISO_8859_1 : StandardCharsets.UTF_8);
        Path p = tmp.resolve("h.safetensors");
        Files.write(p, file(h, new byte[dataBytes]));
        return assertThrows(CheckpointFormatException.class, () -> SafetensorsReader.read(p)).getMessage();
    }

    private Path write(String header, byte[] data) throws IOException {
        Path p = tmp.resolve("ok.safetensors");
        Files.write(p, file(header.getBytes(StandardCharsets.UTF_8), data));
        return p;
    }

    private static byte[] file(byte[] header, byte[] data) {
        ByteBuffer b = ByteBuffer.allocate(8 + header.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(header.length).put(header).put(data);
        return b.array();
    }

    private static void assertStartsWith(String prefix, String actual) {
        if (!actual.startsWith(prefix)) {
            assertEquals(prefix, actual);
        }
    }
}
