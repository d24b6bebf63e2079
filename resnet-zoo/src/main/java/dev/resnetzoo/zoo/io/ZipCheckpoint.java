package dev.resnetzoo.zoo.io;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;

import dev.resnetzoo.zoo.io.StridedTensors.RootStorage;
import dev.resnetzoo.zoo.io.TorchAllowList.TorchHooks;

/**
 * The zip format of {@code torch.save} (torch 1.6 and later): {@code <archive>/data.pkl} plus one
 * {@code <archive>/data/<key>} entry per storage, and an optional {@code <archive>/byteorder}. The
 * archive folder name varies, so it is found as the single folder holding a {@code data.pkl}.
 *
 * <p>Storages are read one at a time, only those the state dict uses, each into one heap buffer,
 * and never further than their declared size. {@code data.pkl} is at most
 * {@link TorchCheckpointReader#MAX_PICKLE_BYTES} and inflates at most
 * {@link TorchCheckpointReader#MAX_PICKLE_INFLATION} times, both checked before it is inflated:
 * everything the pickle interpreter may allocate grows with the pickle's length, so this bounds it
 * by the size of the file.
 */
final class ZipCheckpoint {

    private ZipCheckpoint() {
    }

    static StateDict read(Path file) throws IOException {
        return read(file, TorchStateDicts.freeHeap());
    }

    /** @param budget the most heap the tensors may take, in bytes (the free heap, or less in tests) */
    static StateDict read(Path file, long budget) throws IOException {
        String src = FileFormat.name(file);
        try (ZipFile zip = openZip(file, src)) {
            Storages storages = new Storages(file, src, zip);
            Parsed p = parse(zip, src);
            storages.prefix = p.prefix;
            return TorchStateDicts.eager(p.plan, storages, p.order, src, budget);
        }
    }

    /** Reads and checks everything but the storages, which each tensor reads when first converted. */
    static StateDict open(Path file) throws IOException {
        String src = FileFormat.name(file);
        Storages storages;
        StateDict sd;
        try (ZipFile zip = openZip(file, src)) {
            storages = new Storages(file, src, zip);
            Parsed p = parse(zip, src);
            storages.prefix = p.prefix;
            sd = TorchStateDicts.lazy(p.plan, storages, p.order, src);
        }
        storages.closed();
        return sd;
    }

    private static ZipFile openZip(Path file, String src) throws IOException {
        try {
            return new ZipFile(file.toFile());
        } catch (ZipException e) {
            throw new CheckpointFormatException(src + " is not a readable zip archive: " + e.getMessage(), e);
        }
    }

    /** What the archive says about its tensors, none of their data read. */
    private record Parsed(String prefix, ByteOrder order, List<StridedTensors.Planned> plan) {
    }

    private static Parsed parse(ZipFile zip, String src) throws IOException {
        String prefix = findArchivePrefix(zip, src);
        ByteOrder order = ByteOrder.LITTLE_ENDIAN;
        ZipEntry byteorder = zip.getEntry(prefix + "byteorder");
        if (byteorder != null) {
            String bo = new String(readEntry(zip, byteorder, src, 16), StandardCharsets.US_ASCII).trim();
            if (bo.equals("big")) {
                order = ByteOrder.BIG_ENDIAN;
            } else if (!bo.equals("little")) {
                throw new CheckpointFormatException(src + ": unknown byteorder '" + bo + "' in " + byteorder.getName());
            }
        }
        ZipEntry pklEntry = zip.getEntry(prefix + "data.pkl");
        if (pklEntry.getSize() > TorchCheckpointReader.MAX_PICKLE_BYTES) {
            throw new CheckpointFormatException(String.format(Locale.ROOT, "%s: %s declares %,d bytes, more than "
                    + "the %,d a state_dict pickle may have: refusing", src, pklEntry.getName(), pklEntry.getSize(),
                    TorchCheckpointReader.MAX_PICKLE_BYTES));
        }
        long compressed = pklEntry.getCompressedSize();
        if (pklEntry.getSize() > TorchCheckpointReader.SMALL_PICKLE_BYTES && compressed >= 0
                && pklEntry.getSize() / TorchCheckpointReader.MAX_INFLATION > compressed) {
            throw new CheckpointFormatException(String.format(Locale.ROOT, "%s: %s inflates from %,d to %,d bytes, "
                    + "more than %d times its compressed size (torch stores it uncompressed, and a pickle deflates "
                    + "about 4 times): refusing", src, pklEntry.getName(), compressed, pklEntry.getSize(),
                    TorchCheckpointReader.MAX_INFLATION));
        }
        byte[] pkl = readEntry(zip, pklEntry, src, TorchCheckpointReader.MAX_PICKLE_BYTES);
        TorchHooks hooks = new TorchHooks(src, false);
        Object root = new Unpickler(ByteBuffer.wrap(pkl), src + ":" + prefix + "data.pkl", hooks).load();
        List<StridedTensors.Planned> plan = TorchStateDicts.plan(root, hooks, src);
        checkInflation(zip, prefix, plan, src);
        return new Parsed(prefix, order, plan);
    }

    /** The storages the tensors use may not inflate far beyond their compressed size (see MAX_INFLATION). */
    private static void checkInflation(ZipFile zip, String prefix, List<StridedTensors.Planned> plan, String src)
            throws CheckpointFormatException {
        Set<String> seen = new HashSet<>();
        long inflated = 0;
        long compressed = 0;
        for (StridedTensors.Planned t : plan) {
            ZipEntry e = zip.getEntry(prefix + "data/" + t.ref().storage.rootKey);
            if (t.numel() == 0 || e == null || !seen.add(t.ref().storage.rootKey)) {
                continue; // a missing entry is reported when its size is checked
            }
            inflated = saturatedAdd(inflated, Math.max(e.getSize(), 0));
            compressed = saturatedAdd(compressed, Math.max(e.getCompressedSize(), 0));
        }
        if (inflated > TorchCheckpointReader.SMALL_STORAGES_BYTES
                && inflated / TorchCheckpointReader.MAX_INFLATION > compressed) {
            throw new CheckpointFormatException(String.format(Locale.ROOT, "%s: its storages inflate from %,d to %,d "
                    + "bytes, more than %d times their compressed size: refusing (torch stores them uncompressed)",
                    src, compressed, inflated, TorchCheckpointReader.MAX_INFLATION));
        }
    }

    private static long saturatedAdd(long a, long b) {
        return a > Long.MAX_VALUE - b ? Long.MAX_VALUE : a + b;
    }

    /**
     * The storage entries, each read at most once and kept. While the archive is open (reading,
     * and checking sizes when opening) they come from it; afterwards each read reopens the file
     * and first checks that the storage fits in the free heap.
     */
    private static final class Storages implements TorchStateDicts.StorageSource {
        private final Path file;
        private final String src;
        private String prefix;
        private ZipFile zip;
        private final Map<String, ByteBuffer> loaded = new HashMap<>();

        Storages(Path file, String src, ZipFile zip) {
            this.file = file;
            this.src = src;
            this.zip = zip;
        }

        synchronized void closed() {
            zip = null;
        }

        @Override
        public synchronized long heapBytes(String key, RootStorage storage) throws CheckpointFormatException {
            ZipEntry e = entry(zip, key);
            long declared = storage.bytes();
            if (e.getSize() != declared) {
                throw new CheckpointFormatException(String.format(Locale.ROOT, "%s: storage '%s' declares %,d "
                        + "bytes (%,d %s elements) but its zip entry holds %,d: refusing", src, e.getName(),
                        declared, storage.numel, storage.dtype, e.getSize()));
            }
            return declared;
        }

        @Override
        public synchronized ByteBuffer get(String key, long maxBytes) throws IOException {
            ByteBuffer b = loaded.get(key);
            if (b != null) {
                return b;
            }
            if (zip != null) {
                b = ByteBuffer.wrap(readEntry(zip, entry(zip, key), src, maxBytes));
            } else {
                long free = TorchStateDicts.freeHeap();
                if (maxBytes > free) {
                    throw new CheckpointFormatException(String.format(Locale.ROOT, "%s: storage '%s' needs %,d bytes "
                            + "of memory, more than the %,d free in the Java heap: refusing (a genuine checkpoint "
                            + "this large needs a larger -Xmx)", src, key, maxBytes, free));
                }
                try (ZipFile z = openZip(file, src)) {
                    b = ByteBuffer.wrap(readEntry(z, entry(z, key), src, maxBytes));
                }
            }
            loaded.put(key, b);
            return b;
        }

        private ZipEntry entry(ZipFile z, String key) throws CheckpointFormatException {
            ZipEntry e = z.getEntry(prefix + "data/" + key);
            if (e == null) {
                throw new CheckpointFormatException(src + ": storage '" + key + "' is referenced but "
                        + prefix + "data/" + key + " is missing");
            }
            return e;
        }
    }

    /** Finds the single top-level folder holding data.pkl; returns it with a trailing slash. */
    private static String findArchivePrefix(ZipFile zip, String src) throws CheckpointFormatException {
        List<String> candidates = new ArrayList<>();
        Enumeration<? extends ZipEntry> entries = zip.entries();
        while (entries.hasMoreElements()) {
            String n = entries.nextElement().getName();
            int slash = n.indexOf('/');
            if (slash > 0 && n.equals(n.substring(0, slash + 1) + "data.pkl")) {
                candidates.add(n.substring(0, slash + 1));
            }
        }
        if (candidates.isEmpty()) {
            throw new CheckpointFormatException(src + " is a zip archive but not a PyTorch checkpoint: "
                    + "it has no <archive>/data.pkl entry");
        }
        if (candidates.size() > 1) {
            throw new CheckpointFormatException(src + " holds several PyTorch archives " + candidates
                    + "; expected exactly one <archive>/data.pkl");
        }
        String prefix = candidates.get(0);
        if (zip.getEntry(prefix + "constants.pkl") != null || zip.getEntry(prefix + "code/") != null) {
            throw new CheckpointFormatException(src + " is a TorchScript archive (torch.jit.save), not a state_dict "
                    + "checkpoint; save model.state_dict() with torch.save instead");
        }
        return prefix;
    }

    /**
     * Reads a zip entry, at most {@code max} bytes of it (a storage entry is read only as far as its
     * declared size, so a lying or highly compressed entry cannot make us allocate more).
     */
    private static byte[] readEntry(ZipFile zip, ZipEntry e, String src, long max) throws IOException {
        long want = e.getSize() >= 0 ? Math.min(e.getSize(), max) : max;
        if (want > Integer.MAX_VALUE - 8) {
            throw new CheckpointFormatException(src + ": entry " + e.getName() + " is too large (" + want
                    + " bytes, at most " + (Integer.MAX_VALUE - 8) + " supported)");
        }
        try (InputStream in = zip.getInputStream(e)) {
            if (e.getSize() < 0) {
                // size unknown: the buffer grows with what arrives, up to max
                byte[] b = in.readNBytes((int) want);
                if (in.read() >= 0) {
                    throw new CheckpointFormatException(String.format(Locale.ROOT, "%s: entry %s holds more than the "
                            + "%,d bytes it may have: refusing", src, e.getName(), max));
                }
                return b;
            }
            // size known and accounted for: one buffer of exactly that size (readNBytes(int) would
            // hold the data twice while it copies its chunks together)
            byte[] b = new byte[(int) want];
            int n = in.readNBytes(b, 0, b.length);
            if (n != want) {
                throw new CheckpointFormatException(src + ": entry " + e.getName() + " is truncated (" + n
                        + " of " + want + " bytes)");
            }
            return b;
        } catch (ZipException ex) {
            throw new CheckpointFormatException(src + ": cannot read zip entry " + e.getName() + ": " + ex.getMessage(), ex);
        }
    }
}
