package dev.resnetzoo.zoo;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

import dev.resnetzoo.zoo.ImportTest.Entry;

/**
 * Writes tensors as {@code torch.save} does (zip format, protocol 2 pickle, one storage entry per
 * tensor), with the liberties a hostile file takes: a storage larger than its tensor, deflated
 * storages.
 */
final class TorchZipWriter {

    private final Map<String, Entry> tensors = new LinkedHashMap<>();
    private final Map<String, Long> extraElements = new HashMap<>();
    private boolean deflate;

    TorchZipWriter putAll(Map<String, Entry> entries) {
        tensors.putAll(entries);
        return this;
    }

    /** Stores {@code key}'s tensor in a storage {@code n} elements (zeros) longer than it needs. */
    TorchZipWriter padStorage(String key, long n) {
        extraElements.put(key, n);
        return this;
    }

    /** Deflates the storage entries (torch stores them). */
    TorchZipWriter deflate() {
        deflate = true;
        return this;
    }

    Path write(Path file) throws IOException {
        ByteArrayOutputStream pkl = new ByteArrayOutputStream();
        op(pkl, 0x80, 2);
        text(pkl, "ccollections\nOrderedDict\n)R");
        int i = 0;
        Map<String, byte[]> storages = new LinkedHashMap<>();
        for (Map.Entry<String, Entry> e : tensors.entrySet()) {
            Entry t = e.getValue();
            int es = t.dtype().equals("F32") ? 4 : 8;
            long numel = t.data().length / es;
            long storageNumel = numel + extraElements.getOrDefault(e.getKey(), 0L);
            String storageKey = Integer.toString(i++);
            string(pkl, e.getKey());
            text(pkl, "ctorch._utils\n_rebuild_tensor_v2\n((");
            string(pkl, "storage");
            text(pkl, t.dtype().equals("F32") ? "ctorch\nFloatStorage\n" : "ctorch\nLongStorage\n");
            string(pkl, storageKey);
            string(pkl, "cpu");
            integer(pkl, storageNumel);
            text(pkl, "tQ");
            integer(pkl, 0);
            long[] shape = t.shape();
            op(pkl, '(');
            for (long d : shape) {
                integer(pkl, d);
            }
            op(pkl, 't', '(');
            long stride = 1;
            long[] strides = new long[shape.length];
            for (int d = shape.length - 1; d >= 0; d--) {
                strides[d] = stride;
                stride *= shape[d];
            }
            for (long s : strides) {
                integer(pkl, s);
            }
            op(pkl, 't', 0x89);
            text(pkl, "ccollections\nOrderedDict\n)RtRs");
            byte[] data = new byte[(int) (storageNumel * es)];
            System.arraycopy(t.data(), 0, data, 0, t.data().length);
            storages.put(storageKey, data);
        }
        op(pkl, '.');
        try (OutputStream os = Files.newOutputStream(file); ZipOutputStream zos = new ZipOutputStream(os)) {
            putStored(zos, "archive/data.pkl", pkl.toByteArray());
            for (Map.Entry<String, byte[]> s : storages.entrySet()) {
                if (deflate) {
                    zos.putNextEntry(new ZipEntry("archive/data/" + s.getKey()));
                    zos.write(s.getValue());
                    zos.closeEntry();
                } else {
                    putStored(zos, "archive/data/" + s.getKey(), s.getValue());
                }
            }
        }
        return file;
    }

    private static void putStored(ZipOutputStream zos, String name, byte[] data) throws IOException {
        ZipEntry e = new ZipEntry(name);
        e.setMethod(ZipEntry.STORED);
        e.setSize(data.length);
        CRC32 crc = new CRC32();
        crc.update(data);
        e.setCrc(crc.getValue());
        zos.putNextEntry(e);
        zos.write(data);
        zos.closeEntry();
    }

    private static void op(ByteArrayOutputStream out, int... ops) {
        for (int o : ops) {
            out.write(o);
        }
    }

    private static void text(ByteArrayOutputStream out, String s) {
        out.writeBytes(s.getBytes(StandardCharsets.ISO_8859_1));
    }

    private static void string(ByteArrayOutputStream out, String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        out.write('X');
        integer32(out, b.length);
        out.writeBytes(b);
    }

    private static void integer(ByteArrayOutputStream out, long v) {
        if (v < 0 || v > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("BININT takes 0.." + Integer.MAX_VALUE + ": " + v);
        }
        out.write('J');
        integer32(out, (int) v);
    }

    private static void integer32(ByteArrayOutputStream out, int v) {
        out.write(v);
        out.write(v >>> 8);
        out.write(v >>> 16);
        out.write(v >>> 24);
    }
}
