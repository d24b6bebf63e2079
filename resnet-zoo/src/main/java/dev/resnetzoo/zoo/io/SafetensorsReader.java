package dev.resnetzoo.zoo.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.resnetzoo.zoo.io.Tensor.DType;

/**
 * Reads a <a href="https://github.com/huggingface/safetensors">safetensors</a> file: an 8-byte
 * little-endian header length N, N bytes of a UTF-8 JSON object mapping tensor names to
 * {@code {"dtype", "shape", "data_offsets": [begin, end]}} (plus an optional string-to-string
 * {@code "__metadata__"} object), then the data section, offsets being relative to its start.
 *
 * <p>Everything is validated before any tensor is returned, and each violation is reported as a
 * {@link CheckpointFormatException} naming the file, the tensor and what was expected: header
 * length (more than 0, at most 100 MiB, inside the file), a single JSON object without duplicate
 * keys, known dtypes (F32 F16 BF16 F64 I64 I32 I16 I8 U8 BOOL), non-negative integer shapes,
 * {@code begin <= end} inside the data section, a byte length equal to the element count times
 * the dtype size, and no two tensors sharing bytes. Gaps between tensors are tolerated.
 *
 * <p>The file is memory-mapped once (so it must be smaller than 2 GiB) and each tensor is a
 * read-only view of the mapping; nothing is copied until a tensor is converted.
 */
public final class SafetensorsReader {

    /** Largest header accepted, as in the reference implementation. */
    static final long MAX_HEADER_BYTES = 100L * 1024 * 1024;

    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(DeserializationFeature.USE_BIG_INTEGER_FOR_INTS);

    private SafetensorsReader() {
    }

    /**
     * Reads every tensor of a safetensors file, in the order of its header.
     *
     * @param file a {@code .safetensors} file
     * @return its tensors; the {@code __metadata__} entry is not a tensor and is skipped
     * @throws CheckpointFormatException if the file breaks any rule listed in the class comment
     * @throws IOException               if the file cannot be read
     */
    public static StateDict read(Path file) throws IOException {
        String src = FileFormat.name(file);
        ByteBuffer buf;
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 8) {
                throw new CheckpointFormatException(src + " is too short for a safetensors file: " + size
                        + " bytes, but the header length alone takes 8");
            }
            if (size > Integer.MAX_VALUE) {
                throw new CheckpointFormatException(src + ": safetensors files over 2 GiB are not supported");
            }
            buf = ch.map(FileChannel.MapMode.READ_ONLY, 0, size).order(ByteOrder.LITTLE_ENDIAN);
        }
        long fileSize = buf.limit();
        long n = buf.getLong(0);
        if (n <= 0 || n > MAX_HEADER_BYTES) {
            throw new CheckpointFormatException(src + ": safetensors header length " + Long.toUnsignedString(n)
                    + " is not in 1.." + MAX_HEADER_BYTES);
        }
        if (8 + n > fileSize) {
            throw new CheckpointFormatException(src + ": safetensors header length " + n + " runs past the end of the "
                    + "file (" + fileSize + " bytes, so at most " + (fileSize - 8) + " are available)");
        }
        byte[] headerBytes = new byte[(int) n];
        buf.get(8, headerBytes);
        JsonNode header = parseHeader(headerBytes, src);

        int dataStart = (int) (8 + n);
        long dataLen = fileSize - dataStart;
        List<Entry> entries = new ArrayList<>();
        for (Map.Entry<String, JsonNode> f : header.properties()) {
            if (f.getKey().equals("__metadata__")) {
                checkMetadata(f.getValue(), src);
                continue;
            }
            entries.add(parseEntry(f.getKey(), f.getValue(), dataLen, src));
        }

        List<Entry> byOffset = new ArrayList<>(entries);
        byOffset.sort(Comparator.comparingLong((Entry e) -> e.begin).thenComparingLong(e -> e.end));
        Entry prev = null;
        for (Entry e : byOffset) {
            if (e.begin == e.end) {
                continue; // an empty tensor occupies no bytes
            }
            if (prev != null && e.begin < prev.end) {
                throw new CheckpointFormatException(src + ": tensors '" + prev.name + "' (data_offsets [" + prev.begin
                        + ", " + prev.end + "]) and '" + e.name + "' (data_offsets [" + e.begin + ", " + e.end
                        + "]) overlap; each byte of the data section may belong to one tensor only");
            }
            prev = e;
        }

        LinkedHashMap<String, Tensor> tensors = new LinkedHashMap<>();
        for (Entry e : entries) {
            ByteBuffer slice = buf.duplicate().position(dataStart + (int) e.begin).limit(dataStart + (int) e.end).slice();
            tensors.put(e.name, new Tensor(e.dtype, e.shape, slice, ByteOrder.LITTLE_ENDIAN));
        }
        return new StateDict(tensors);
    }

    private static JsonNode parseHeader(byte[] bytes, String src) throws CheckpointFormatException {
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new CheckpointFormatException(src + ": safetensors header is not valid UTF-8");
        }
        if (!text.startsWith("{")) {
            throw new CheckpointFormatException(src + ": safetensors header must be a JSON object starting with '{'");
        }
        JsonNode header;
        try {
            header = JSON.readTree(text);
        } catch (JsonProcessingException e) {
            throw new CheckpointFormatException(src + ": safetensors header is not valid JSON: "
                    + e.getOriginalMessage(), e);
        }
        if (header == null || !header.isObject()) {
            throw new CheckpointFormatException(src + ": safetensors header is not a JSON object");
        }
        return header;
    }

    private static void checkMetadata(JsonNode meta, String src) throws CheckpointFormatException {
        if (!meta.isObject()) {
            throw new CheckpointFormatException(src + ": safetensors __metadata__ must be a JSON object of strings");
        }
        for (Map.Entry<String, JsonNode> m : meta.properties()) {
            if (!m.getValue().isTextual()) {
                throw new CheckpointFormatException(src + ": safetensors __metadata__ value for '" + m.getKey()
                        + "' must be a string");
            }
        }
    }

    /** One validated header entry. */
    private static final class Entry {
        final String name;
        final DType dtype;
        final long[] shape;
        final long begin;
        final long end;

        Entry(String name, DType dtype, long[] shape, long begin, long end) {
            this.name = name;
            this.dtype = dtype;
            this.shape = shape;
            this.begin = begin;
            this.end = end;
        }
    }

    static DType dtypeOf(String code) {
        switch (code) {
            case "F32": return DType.FLOAT32;
            case "F16": return DType.FLOAT16;
            case "BF16": return DType.BFLOAT16;
            case "F64": return DType.FLOAT64;
            case "I64": return DType.INT64;
            case "I32": return DType.INT32;
            case "I16": return DType.INT16;
            case "I8": return DType.INT8;
            case "U8": return DType.UINT8;
            case "BOOL": return DType.BOOL;
            default: return null;
        }
    }

    private static Entry parseEntry(String name, JsonNode node, long dataLen, String src)
            throws CheckpointFormatException {
        String t = src + ": tensor '" + name + "'";
        if (!node.isObject()) {
            throw new CheckpointFormatException(t + " must be a JSON object with dtype, shape and data_offsets");
        }
        JsonNode dt = node.get("dtype");
        if (dt == null || !dt.isTextual()) {
            throw new CheckpointFormatException(t + " has no string 'dtype'");
        }
        DType dtype = dtypeOf(dt.asText());
        if (dtype == null) {
            throw new CheckpointFormatException(t + " has unsupported dtype '" + dt.asText()
                    + "' (expected one of F32, F16, BF16, F64, I64, I32, I16, I8, U8, BOOL)");
        }
        long[] shape = nonNegativeLongs(node.get("shape"), -1, t, "shape");
        long[] offsets = nonNegativeLongs(node.get("data_offsets"), 2, t, "data_offsets");
        long begin = offsets[0];
        long end = offsets[1];
        if (begin > end) {
            throw new CheckpointFormatException(t + " has data_offsets [" + begin + ", " + end
                    + "] with begin after end");
        }
        if (end > dataLen) {
            throw new CheckpointFormatException(t + " has data_offsets [" + begin + ", " + end
                    + "] outside the data section, which has " + dataLen + " bytes");
        }
        long numel;
        long needed;
        try {
            numel = Tensor.numelOf(shape);
            needed = Math.multiplyExact(numel, (long) dtype.byteSize());
        } catch (ArithmeticException e) {
            throw new CheckpointFormatException(t + " has a shape " + Arrays.toString(shape) + " that is too large");
        }
        if (end - begin != needed) {
            throw new CheckpointFormatException(t + " has " + (end - begin) + " bytes (data_offsets [" + begin + ", "
                    + end + "]) but shape " + Arrays.toString(shape) + " of " + dt.asText() + " needs " + numel
                    + " x " + dtype.byteSize() + " = " + needed + " bytes");
        }
        if (numel > Integer.MAX_VALUE / 8) {
            throw new CheckpointFormatException(t + " has " + numel + " elements, more than supported");
        }
        return new Entry(name, dtype, shape, begin, end);
    }

    private static long[] nonNegativeLongs(JsonNode node, int length, String t, String field)
            throws CheckpointFormatException {
        String expected = length < 0 ? "an array of non-negative integers" : "an array of " + length
                + " non-negative integers";
        if (node == null || !node.isArray() || (length >= 0 && node.size() != length)) {
            throw new CheckpointFormatException(t + " must have '" + field + "' as " + expected);
        }
        long[] r = new long[node.size()];
        for (int i = 0; i < r.length; i++) {
            JsonNode v = node.get(i);
            if (!v.isIntegralNumber() || !v.canConvertToLong() || v.asLong() < 0) {
                throw new CheckpointFormatException(t + " has " + field + " " + node + "; expected " + expected);
            }
            r[i] = v.asLong();
        }
        return r;
    }
}
