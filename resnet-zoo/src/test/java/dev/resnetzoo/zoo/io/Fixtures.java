package dev.resnetzoo.zoo.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/** Access to the fixtures written by resnet-zoo/scripts/make_io_fixtures.py. */
final class Fixtures {

    private static JsonNode expected;

    private Fixtures() {
    }

    static Path path(String name) {
        URL url = Fixtures.class.getResource("/io/" + name);
        if (url == null) {
            throw new IllegalStateException("missing fixture io/" + name + "; run resnet-zoo/scripts/make_io_fixtures.py");
        }
        try {
            return Paths.get(url.toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    static synchronized JsonNode expected() {
        if (expected == null) {
            try {
                expected = new ObjectMapper().readTree(Files.readAllBytes(path("expected.json")));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return expected;
    }

    /** Names of the valid checkpoint files listed in expected.json. */
    static List<String> validFiles() {
        List<String> names = new ArrayList<>();
        expected().get("files").fieldNames().forEachRemaining(names::add);
        return names;
    }

    /** Asserts that a state dict holds exactly the expected set, key order and every element included. */
    static void assertMatches(String file, StateDict sd) {
        JsonNode set = expected().get("sets").get(expected().get("files").get(file).asText());
        List<String> keys = new ArrayList<>();
        set.get("keys").forEach(k -> keys.add(k.asText()));
        assertEquals(keys, sd.keys(), file + ": keys and their order");
        assertEquals(keys.size(), sd.size());
        for (String key : keys) {
            assertTensor(file + ":" + key, set.get("tensors").get(key), sd.get(key));
        }
    }

    static void assertTensor(String what, JsonNode exp, Tensor t) {
        assertEquals(exp.get("dtype").asText(), t.dtype().name(), what + " dtype");
        long[] shape = longs(exp.get("shape"));
        assertArrayEquals(shape, t.shape(), what + " shape");
        long[] bits = longs(exp.get("bits"));
        float[] values = t.toFloats();
        assertEquals(bits.length, values.length, what + " numel");
        assertEquals(bits.length, t.numel(), what + " numel()");
        for (int i = 0; i < bits.length; i++) {
            assertEquals((int) bits[i], Float.floatToRawIntBits(values[i]),
                    what + " element " + i + ": expected " + Float.intBitsToFloat((int) bits[i]) + " got " + values[i]);
        }
        INDArray arr = t.toFloatArray();
        assertEquals(DataType.FLOAT, arr.dataType(), what);
        assertArrayEquals(shape, arr.shape(), what + " INDArray shape");
        assertEquals('c', arr.ordering(), what);
        float[] fromNd4j = bits.length == 0 ? new float[0] : arr.data().asFloat();
        assertEquals(bits.length, fromNd4j.length, what + " INDArray length");
        for (int i = 0; i < bits.length; i++) {
            assertEquals((int) bits[i], Float.floatToRawIntBits(fromNd4j[i]), what + " INDArray element " + i);
        }
        if (exp.has("longs")) {
            assertArrayEquals(longs(exp.get("longs")), t.toLongArray(), what + " longs");
        }
    }

    static long[] longs(JsonNode arr) {
        long[] r = new long[arr.size()];
        for (int i = 0; i < r.length; i++) {
            r[i] = arr.get(i).asLong();
        }
        return r;
    }
}
