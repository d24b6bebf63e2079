package dev.resnetzoo.zoo.io;

import java.io.IOException;
import java.io.InputStream;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Enumeration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;

import dev.resnetzoo.zoo.io.Tensor.DType;
import dev.resnetzoo.zoo.io.Unpickler.Tuple;

/**
 * Reads a PyTorch {@code state_dict} saved with {@code torch.save} without Python and without
 * trusting the file.
 *
 * <p>Both formats are read: the zip format of torch 1.6 and later ({@code <archive>/data.pkl} plus
 * one {@code <archive>/data/<key>} entry per storage; the archive folder name varies) and the
 * legacy format of older versions (or {@code _use_new_zipfile_serialization=False}): five pickles
 * back to back (magic number, protocol version, sys_info, the object, the storage keys) followed
 * by each storage as an 8-byte little-endian element count and its raw bytes. Tensors are rebuilt
 * from {@code torch._utils._rebuild_tensor_v2} with their storage offset and strides, so views,
 * slices, transposes and tensors sharing one storage all come out as PyTorch would show them. The
 * state dict may be the top-level object or sit under a {@code "state_dict"} or {@code "model"}
 * key; a {@code "module."} prefix is removed when every key has it (DataParallel checkpoints).
 *
 * <p><b>Why a pickle interpreter of our own.</b> A checkpoint is a Python pickle, and a pickle can
 * name any importable callable and call it. This reader uses a small package-private interpreter
 * ({@code Unpickler}, protocols 0 to 5) that only builds plain data and hands every global, call
 * and persistent id to a per-read allow-list: {@code collections.OrderedDict},
 * {@code torch._utils._rebuild_tensor}, {@code _rebuild_tensor_v2}, {@code _rebuild_parameter},
 * {@code _rebuild_parameter_with_state}, {@code torch.Size} and the {@code torch.*Storage} types
 * (used only as dtype markers). Any other global is refused with a
 * {@link CheckpointFormatException} before anything else happens, and nothing from the file is
 * ever instantiated or executed. The alternative, {@code net.razorvine:pickle}, was not used: its
 * constructor registry ({@code Unpickler.registerConstructor}) is static, process-wide mutable
 * state, and it turns unknown globals into {@code ClassDict} objects instead of refusing them, so
 * enforcing a per-instance allow-list would mean overriding its internals. The subset of pickle
 * that torch writes is small (about 60 opcodes) and is tested here opcode by opcode against
 * pickles written by CPython.
 *
 * <p><b>Memory.</b> Zip entries are read one storage at a time, only for storages the state dict
 * uses, each into one heap buffer; contiguous tensors are views of that buffer and only
 * non-contiguous tensors are copied (gathered). Legacy files are memory-mapped and their tensors
 * are views of the mapping. A single storage or legacy file must be smaller than 2 GiB. What a
 * file may make the reader allocate is bounded by what it justifies, before anything is allocated:
 * {@code data.pkl} by {@link #MAX_PICKLE_BYTES}, the pickle's memo by the pickle's length, each
 * storage's zip entry must hold exactly the bytes its pickle declares, and the storages and copies
 * of all tensors together must fit in the free Java heap; otherwise a one-line
 * {@link CheckpointFormatException} says what the file claims.
 */
public final class TorchCheckpointReader {

    /** First pickle of a legacy file. */
    static final BigInteger MAGIC_NUMBER = new BigInteger("1950a86a20f9469cfc6c", 16);
    /** Second pickle of a legacy file. */
    static final long PROTOCOL_VERSION = 1001;
    /**
     * Largest {@code data.pkl} accepted, 16 MiB: a state dict's pickle takes about 150 bytes per
     * tensor (ResNet-152's is 100 KB), and a deflated pickle of mostly one opcode inflates a
     * thousandfold, so its declared size is checked before inflating it.
     */
    static final long MAX_PICKLE_BYTES = 16L << 20;

    private TorchCheckpointReader() {
    }

    /**
     * Reads the state dict from a PyTorch checkpoint in either the zip or the legacy format.
     *
     * @param file a file written by {@code torch.save}
     * @return the tensors, in the order they were saved
     * @throws CheckpointFormatException if the file is not a PyTorch checkpoint, is malformed, or
     *                                   names a global outside the allow-list
     * @throws IOException               if the file cannot be read
     */
    public static StateDict read(Path file) throws IOException {
        byte[] head = StateDict.head(file, 8);
        if (StateDict.isZip(head)) {
            return readZip(file);
        }
        if (StateDict.isPickle(head)) {
            return readLegacy(file);
        }
        throw new CheckpointFormatException(name(file) + " is not a PyTorch checkpoint: it is neither a zip archive "
                + "nor a pickle (first bytes: " + StateDict.hex(head) + ")");
    }

    static String name(Path file) {
        Path n = file.getFileName();
        return n == null ? file.toString() : n.toString();
    }

    // ------------------------------------------------------------------ zip format

    static StateDict readZip(Path file) throws IOException {
        return readZip(file, freeHeap());
    }

    /** @param budget the most heap the tensors may take, in bytes (what {@link #freeHeap()} says, or less in tests) */
    static StateDict readZip(Path file, long budget) throws IOException {
        String src = name(file);
        ZipFile zip;
        try {
            zip = new ZipFile(file.toFile());
        } catch (ZipException e) {
            throw new CheckpointFormatException(src + " is not a readable zip archive: " + e.getMessage(), e);
        }
        try (zip) {
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
            if (pklEntry.getSize() > MAX_PICKLE_BYTES) {
                throw new CheckpointFormatException(String.format(Locale.ROOT, "%s: %s declares %,d bytes, more than "
                        + "the %,d a state_dict pickle may have: refusing", src, pklEntry.getName(), pklEntry.getSize(),
                        MAX_PICKLE_BYTES));
            }
            byte[] pkl = readEntry(zip, pklEntry, src, MAX_PICKLE_BYTES);
            TorchHooks hooks = new TorchHooks(src, false);
            Object root = new Unpickler(ByteBuffer.wrap(pkl), src + ":" + prefix + "data.pkl", hooks).load();
            Map<String, ByteBuffer> loaded = new HashMap<>();
            StorageSource storages = new StorageSource() {
                @Override
                public long heapBytes(String key, RootStorage storage) throws CheckpointFormatException {
                    ZipEntry e = entry(key);
                    long declared = storage.numel > Long.MAX_VALUE / storage.dtype.byteSize() ? Long.MAX_VALUE
                            : storage.numel * storage.dtype.byteSize();
                    if (e.getSize() != declared) {
                        throw new CheckpointFormatException(String.format(Locale.ROOT, "%s: storage '%s' declares %,d "
                                + "bytes (%,d %s elements) but its zip entry holds %,d: refusing", src, e.getName(),
                                declared, storage.numel, storage.dtype, e.getSize()));
                    }
                    return declared;
                }

                @Override
                public ByteBuffer get(String key, long maxBytes) throws IOException {
                    ByteBuffer b = loaded.get(key);
                    if (b == null) {
                        b = ByteBuffer.wrap(readEntry(zip, entry(key), src, maxBytes));
                        loaded.put(key, b);
                    }
                    return b;
                }

                private ZipEntry entry(String key) throws CheckpointFormatException {
                    ZipEntry e = zip.getEntry(prefix + "data/" + key);
                    if (e == null) {
                        throw new CheckpointFormatException(src + ": storage '" + key + "' is referenced but "
                                + prefix + "data/" + key + " is missing");
                    }
                    return e;
                }
            };
            return buildStateDict(root, hooks, storages, order, src, budget);
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
            byte[] b = in.readNBytes((int) want);
            if (e.getSize() < 0 && in.read() >= 0) {
                throw new CheckpointFormatException(String.format(Locale.ROOT, "%s: entry %s holds more than the %,d "
                        + "bytes it may have: refusing", src, e.getName(), max));
            }
            if (e.getSize() >= 0 && b.length != want) {
                throw new CheckpointFormatException(src + ": entry " + e.getName() + " is truncated (" + b.length
                        + " of " + want + " bytes)");
            }
            return b;
        } catch (ZipException ex) {
            throw new CheckpointFormatException(src + ": cannot read zip entry " + e.getName() + ": " + ex.getMessage(), ex);
        }
    }

    // ------------------------------------------------------------------ legacy format

    static StateDict readLegacy(Path file) throws IOException {
        return readLegacy(file, freeHeap());
    }

    /** @param budget as for {@link #readZip(Path, long)} */
    static StateDict readLegacy(Path file, long budget) throws IOException {
        String src = name(file);
        ByteBuffer buf;
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size > Integer.MAX_VALUE) {
                throw new CheckpointFormatException(src + ": legacy-format checkpoints over 2 GiB are not supported");
            }
            buf = ch.map(FileChannel.MapMode.READ_ONLY, 0, size);
        }
        DataOnlyHooks dataOnly = new DataOnlyHooks(src);

        Unpickler u = new Unpickler(buf, src, dataOnly);
        Object magic = u.load();
        if (!MAGIC_NUMBER.equals(magic)) {
            throw new CheckpointFormatException(src + " is a pickle but not a PyTorch checkpoint: it does not start "
                    + "with the torch.save magic number");
        }
        buf.position(u.position());
        u = new Unpickler(buf, src, dataOnly);
        Object protocol = u.load();
        if (!(protocol instanceof Long) || (Long) protocol != PROTOCOL_VERSION) {
            throw new CheckpointFormatException(src + ": unsupported legacy protocol version " + protocol
                    + " (expected " + PROTOCOL_VERSION + ")");
        }
        buf.position(u.position());
        u = new Unpickler(buf, src, dataOnly);
        Object sysInfo = u.load();
        ByteOrder order = ByteOrder.LITTLE_ENDIAN;
        if (sysInfo instanceof Map && Boolean.FALSE.equals(((Map<?, ?>) sysInfo).get("little_endian"))) {
            order = ByteOrder.BIG_ENDIAN;
        }
        buf.position(u.position());

        TorchHooks hooks = new TorchHooks(src, true);
        u = new Unpickler(buf, src, hooks);
        Object root = u.load();
        buf.position(u.position());

        u = new Unpickler(buf, src, dataOnly);
        Object keys = u.load();
        if (!(keys instanceof List)) {
            throw new CheckpointFormatException(src + ": expected the list of storage keys after the main pickle, got "
                    + Unpickler.typeName(keys));
        }
        int pos = u.position();
        Map<String, ByteBuffer> data = new HashMap<>();
        for (Object k : (List<?>) keys) {
            if (!(k instanceof String)) {
                throw new CheckpointFormatException(src + ": storage key " + Unpickler.describe(k) + " is not a string");
            }
            String key = (String) k;
            RootStorage root0 = hooks.roots.get(key);
            if (root0 == null) {
                throw new CheckpointFormatException(src + ": storage '" + key + "' is listed but never referenced, "
                        + "so its element size is unknown");
            }
            if (buf.limit() - pos < 8) {
                throw new CheckpointFormatException(src + ": truncated before the size of storage '" + key + "'");
            }
            long count = buf.duplicate().order(order).getLong(pos);
            pos += 8;
            long nbytes;
            try {
                nbytes = Math.multiplyExact(count, (long) root0.dtype.byteSize());
            } catch (ArithmeticException e) {
                nbytes = -1;
            }
            if (count < 0 || nbytes < 0 || nbytes > buf.limit() - pos) {
                throw new CheckpointFormatException(src + ": storage '" + key + "' claims " + count + " elements of "
                        + root0.dtype + " but only " + (buf.limit() - pos) + " bytes are left in the file");
            }
            data.put(key, buf.duplicate().position(pos).limit(pos + (int) nbytes).slice());
            pos += (int) nbytes;
        }
        StorageSource storages = new StorageSource() {
            @Override
            public long heapBytes(String key, RootStorage storage) throws CheckpointFormatException {
                get(key, 0);
                return 0; // a view of the mapped file
            }

            @Override
            public ByteBuffer get(String key, long maxBytes) throws CheckpointFormatException {
                ByteBuffer b = data.get(key);
                if (b == null) {
                    throw new CheckpointFormatException(src + ": storage '" + key + "' is referenced but not stored");
                }
                return b;
            }
        };
        return buildStateDict(root, hooks, storages, order, src, budget);
    }

    // ------------------------------------------------------------------ building the state dict

    /** Raw bytes of a root storage, by key. */
    interface StorageSource {
        /**
         * Heap bytes {@link #get} will allocate for a storage (0 when it is a view of a mapped
         * file), after checking that the storage is there and as large as the pickle declares.
         */
        long heapBytes(String key, RootStorage storage) throws IOException;

        /** @param maxBytes the storage's declared size: never read more than this */
        ByteBuffer get(String key, long maxBytes) throws IOException;
    }

    /** A state dict tensor checked against its storage, its data not read yet. */
    private record Planned(String key, TensorRef ref, long numel, boolean contiguous) {
    }

    /**
     * Heap the JVM can still hand out: its maximum less what is in use now. The tensors of a file
     * must fit in it, so that a small file cannot claim gigabytes and end in an OutOfMemoryError.
     */
    static long freeHeap() {
        Runtime r = Runtime.getRuntime();
        return r.maxMemory() - (r.totalMemory() - r.freeMemory());
    }

    private static StateDict buildStateDict(Object root, TorchHooks hooks, StorageSource storages, ByteOrder order,
                                            String src, long budget) throws IOException {
        if (!(root instanceof Map)) {
            throw new CheckpointFormatException(src + ": the checkpoint holds a " + Unpickler.typeName(root)
                    + ", not a dict of tensors");
        }
        Map<?, ?> dict = (Map<?, ?>) root;
        String where = "";
        for (String nested : new String[] {"state_dict", "model"}) {
            if (dict.get(nested) instanceof Map) {
                dict = (Map<?, ?>) dict.get(nested);
                where = " (under '" + nested + "')";
                break;
            }
        }
        // First every tensor's layout and what reading it will allocate; data only once it all fits.
        List<Planned> plan = new ArrayList<>();
        Set<String> counted = new HashSet<>();
        long total = 0;
        long largest = 0;
        String largestKey = null;
        for (Map.Entry<?, ?> e : dict.entrySet()) {
            if (!(e.getKey() instanceof String)) {
                throw new CheckpointFormatException(src + ": state dict key " + Unpickler.describe(e.getKey()) + where
                        + " is a "
                        + Unpickler.typeName(e.getKey()) + ", not a string");
            }
            String key = (String) e.getKey();
            if (!(e.getValue() instanceof TensorRef)) {
                throw new CheckpointFormatException(src + ": state dict entry '" + key + "'" + where + " is a "
                        + Unpickler.typeName(e.getValue()) + ", not a tensor");
            }
            Planned t = check((TensorRef) e.getValue(), hooks, src, key);
            plan.add(t);
            if (t.numel() == 0) {
                continue;
            }
            StorageRef s = t.ref().storage;
            long[] allocations = {
                counted.add(s.rootKey) ? storages.heapBytes(s.rootKey, hooks.roots.get(s.rootKey)) : 0,
                t.contiguous() ? 0 : t.numel() * s.dtype.byteSize(),
            };
            for (long bytes : allocations) {
                total = total > Long.MAX_VALUE - bytes ? Long.MAX_VALUE : total + bytes;
                if (bytes > largest) {
                    largest = bytes;
                    largestKey = key;
                }
            }
        }
        if (total > budget) {
            throw new CheckpointFormatException(String.format(Locale.ROOT, "%s: its tensors need %,d bytes of memory "
                    + "(the largest, '%s', %,d), more than the %,d bytes free in the Java heap: refusing (a genuine "
                    + "checkpoint this large needs a larger -Xmx)", src, total, largestKey, largest, budget));
        }
        LinkedHashMap<String, Tensor> tensors = new LinkedHashMap<>();
        for (Planned t : plan) {
            tensors.put(t.key(), materialize(t, hooks, storages, order, src));
        }
        return new StateDict(StateDict.stripCommonPrefix(tensors, "module."));
    }

    /** Checks a tensor's size, strides and offset against its storage, without reading data. */
    private static Planned check(TensorRef t, TorchHooks hooks, String src, String key)
            throws CheckpointFormatException {
        StorageRef s = t.storage;
        RootStorage root = hooks.roots.get(s.rootKey);
        long numel;
        try {
            numel = Tensor.numelOf(t.size);
        } catch (IllegalArgumentException | ArithmeticException e) {
            throw new CheckpointFormatException(src + ": tensor '" + key + "' has an invalid size " + Arrays.toString(t.size));
        }
        if (t.offset < 0) {
            throw new CheckpointFormatException(src + ": tensor '" + key + "' has a negative storage offset " + t.offset);
        }
        for (long st : t.stride) {
            if (st < 0) {
                throw new CheckpointFormatException(src + ": tensor '" + key + "' has a negative stride "
                        + Arrays.toString(t.stride));
            }
        }
        if (numel == 0) {
            return new Planned(key, t, 0, true);
        }
        if (numel > (Integer.MAX_VALUE - 8) / 8) {
            throw new CheckpointFormatException(src + ": tensor '" + key + "' has " + numel
                    + " elements, more than supported");
        }
        long last = lastElement(t);
        long viewEnd = s.elementOffset + s.numel;
        if (last >= viewEnd || last >= root.numel) {
            throw new CheckpointFormatException(src + ": tensor '" + key + "' (size " + Arrays.toString(t.size)
                    + ", stride " + Arrays.toString(t.stride) + ", offset " + t.offset + ") reaches element " + last
                    + " but its " + s.dtype + " storage '" + s.rootKey + "' has only " + Math.min(viewEnd, root.numel)
                    + " elements");
        }
        return new Planned(key, t, numel, isContiguous(t.size, t.stride));
    }

    /** Highest element index a tensor uses, relative to its root storage (Long.MAX_VALUE on overflow). */
    private static long lastElement(TensorRef t) {
        try {
            long last = Math.addExact(t.storage.elementOffset, t.offset);
            for (int i = 0; i < t.size.length; i++) {
                last = Math.addExact(last, Math.multiplyExact(t.size[i] - 1, t.stride[i]));
            }
            return last;
        } catch (ArithmeticException e) {
            return Long.MAX_VALUE;
        }
    }

    private static Tensor materialize(Planned p, TorchHooks hooks, StorageSource storages, ByteOrder order,
                                      String src) throws IOException {
        TensorRef t = p.ref();
        StorageRef s = t.storage;
        if (p.numel() == 0) {
            return new Tensor(s.dtype, t.size, ByteBuffer.allocate(0), order);
        }
        RootStorage root = hooks.roots.get(s.rootKey);
        int es = s.dtype.byteSize();
        long last = lastElement(t);
        long maxBytes = root.numel > (Integer.MAX_VALUE - 8) / es ? Integer.MAX_VALUE - 8 : root.numel * es;
        ByteBuffer raw = storages.get(s.rootKey, maxBytes);
        if (last >= raw.limit() / es) {
            throw new CheckpointFormatException(src + ": storage '" + s.rootKey + "' holds " + raw.limit()
                    + " bytes, too few for tensor '" + p.key() + "' which needs " + ((last + 1) * es));
        }
        long base = s.elementOffset + t.offset;
        if (p.contiguous()) {
            ByteBuffer view = raw.duplicate().position((int) (base * es)).limit((int) ((base + p.numel()) * es)).slice();
            return new Tensor(s.dtype, t.size, view, order);
        }
        return new Tensor(s.dtype, t.size, gather(raw, es, base, t.size, t.stride, (int) p.numel()), order);
    }

    /** Row-major contiguity, ignoring the strides of dimensions of size 1. */
    static boolean isContiguous(long[] size, long[] stride) {
        long expected = 1;
        for (int i = size.length - 1; i >= 0; i--) {
            if (size[i] != 1 && stride[i] != expected) {
                return false;
            }
            expected *= size[i];
        }
        return true;
    }

    /** Copies a strided view into a new contiguous row-major buffer. */
    static ByteBuffer gather(ByteBuffer raw, int es, long base, long[] size, long[] stride, int numel) {
        byte[] out = new byte[numel * es];
        ByteBuffer src = raw.duplicate();
        int rank = size.length;
        int inner = (int) size[rank - 1];
        long innerStride = stride[rank - 1];
        long[] idx = new long[rank - 1];
        int o = 0;
        int rows = numel / inner;
        for (int r = 0; r < rows; r++) {
            long start = base;
            for (int d = 0; d < rank - 1; d++) {
                start += idx[d] * stride[d];
            }
            if (innerStride == 1) {
                src.get((int) (start * es), out, o, inner * es);
                o += inner * es;
            } else {
                for (int j = 0; j < inner; j++) {
                    src.get((int) ((start + j * innerStride) * es), out, o, es);
                    o += es;
                }
            }
            for (int d = rank - 2; d >= 0; d--) { // odometer over the outer dimensions
                if (++idx[d] < size[d]) {
                    break;
                }
                idx[d] = 0;
            }
        }
        return ByteBuffer.wrap(out);
    }

    // ------------------------------------------------------------------ pickle hooks

    /** A storage as a pickle references it: a view of elements of a root storage. */
    static final class StorageRef {
        final DType dtype;
        final String rootKey;
        final long elementOffset;
        final long numel;

        StorageRef(DType dtype, String rootKey, long elementOffset, long numel) {
            this.dtype = dtype;
            this.rootKey = rootKey;
            this.elementOffset = elementOffset;
            this.numel = numel;
        }
    }

    /** A storage as the file holds it. */
    static final class RootStorage {
        final DType dtype;
        final long numel;

        RootStorage(DType dtype, long numel) {
            this.dtype = dtype;
            this.numel = numel;
        }
    }

    /** A tensor as {@code _rebuild_tensor_v2} describes it; data is fetched afterwards. */
    static final class TensorRef {
        final StorageRef storage;
        final long offset;
        final long[] size;
        final long[] stride;

        TensorRef(StorageRef storage, long offset, long[] size, long[] stride) {
            this.storage = storage;
            this.offset = offset;
            this.size = size;
            this.stride = stride;
        }
    }

    /** A {@code torch.*Storage} class named by a persistent id: only a dtype marker. */
    static final class StorageType {
        final DType dtype;
        final String name;

        StorageType(DType dtype, String name) {
            this.dtype = dtype;
            this.name = name;
        }
    }

    /** The allowed callables. */
    enum Fn {
        ORDERED_DICT("collections.OrderedDict"),
        REBUILD_TENSOR("torch._utils._rebuild_tensor"),
        REBUILD_TENSOR_V2("torch._utils._rebuild_tensor_v2"),
        REBUILD_PARAMETER("torch._utils._rebuild_parameter"),
        REBUILD_PARAMETER_WITH_STATE("torch._utils._rebuild_parameter_with_state"),
        TORCH_SIZE("torch.Size");

        final String qualifiedName;

        Fn(String qualifiedName) {
            this.qualifiedName = qualifiedName;
        }
    }

    private static final Map<String, Object> ALLOWED = new HashMap<>();

    static {
        for (Fn f : Fn.values()) {
            ALLOWED.put(f.qualifiedName, f);
        }
        Object[][] storages = {
            {"FloatStorage", DType.FLOAT32}, {"HalfStorage", DType.FLOAT16}, {"BFloat16Storage", DType.BFLOAT16},
            {"DoubleStorage", DType.FLOAT64}, {"LongStorage", DType.INT64}, {"IntStorage", DType.INT32},
            {"ShortStorage", DType.INT16}, {"CharStorage", DType.INT8}, {"ByteStorage", DType.UINT8},
            {"BoolStorage", DType.BOOL},
        };
        for (Object[] s : storages) {
            String n = (String) s[0];
            ALLOWED.put("torch." + n, new StorageType((DType) s[1], n));
            ALLOWED.put("torch.cuda." + n, new StorageType((DType) s[1], n)); // pre-1.0 CUDA checkpoints
        }
        ALLOWED.put("torch.UntypedStorage", new StorageType(DType.UINT8, "UntypedStorage"));
        ALLOWED.put("torch.storage.UntypedStorage", new StorageType(DType.UINT8, "UntypedStorage"));
    }

    static CheckpointFormatException refused(String module, String name, String src) {
        String q = module + "." + name;
        String msg = "refusing to load global '" + q + "' from " + src + ": only state_dict globals are allowed";
        if (module.startsWith("torch") || module.startsWith("__main__") || module.startsWith("timm")) {
            msg += " (if the file was written by torch.save(model), save model.state_dict() instead)";
        }
        return new CheckpointFormatException(msg);
    }

    /** For the small header pickles of the legacy format: plain data only, every global refused. */
    static final class DataOnlyHooks implements Unpickler.Hooks {
        private final String src;

        DataOnlyHooks(String src) {
            this.src = src;
        }

        @Override
        public Object global(String module, String name) throws CheckpointFormatException {
            throw refused(module, name, src);
        }

        @Override
        public Object call(Object callable, Tuple args) throws CheckpointFormatException {
            throw new CheckpointFormatException(src + ": unexpected call in a data-only pickle");
        }

        @Override
        public Object build(Object target, Object state) throws CheckpointFormatException {
            throw new CheckpointFormatException(src + ": unexpected BUILD in a data-only pickle");
        }

        @Override
        public Object persistentLoad(Object pid) throws CheckpointFormatException {
            throw new CheckpointFormatException(src + ": unexpected persistent id in a data-only pickle");
        }
    }

    /** The state_dict allow-list, one instance per file read. */
    static final class TorchHooks implements Unpickler.Hooks {
        private final String src;
        private final boolean legacy;
        final Map<String, RootStorage> roots = new HashMap<>();

        TorchHooks(String src, boolean legacy) {
            this.src = src;
            this.legacy = legacy;
        }

        @Override
        public Object global(String module, String name) throws CheckpointFormatException {
            Object v = ALLOWED.get(module + "." + name);
            if (v == null) {
                throw refused(module, name, src);
            }
            return v;
        }

        @Override
        public Object call(Object callable, Tuple args) throws CheckpointFormatException {
            if (!(callable instanceof Fn)) {
                String what = callable instanceof StorageType ? "torch." + ((StorageType) callable).name
                        : Unpickler.typeName(callable);
                throw new CheckpointFormatException(src + ": refusing to call " + what + ": only state_dict "
                        + "rebuild functions may be called");
            }
            Fn fn = (Fn) callable;
            switch (fn) {
                case ORDERED_DICT: {
                    LinkedHashMap<Object, Object> m = new LinkedHashMap<>();
                    if (args.size() == 1 && args.get(0) instanceof List) {
                        for (Object pair : (List<?>) args.get(0)) {
                            if (!(pair instanceof Tuple) || ((Tuple) pair).size() != 2) {
                                throw badArgs(fn, args);
                            }
                            Object k = ((Tuple) pair).get(0);
                            if (Unpickler.unhashable(k) != null) {
                                throw badArgs(fn, args);
                            }
                            m.put(k, ((Tuple) pair).get(1));
                        }
                    } else if (args.size() != 0) {
                        throw badArgs(fn, args);
                    }
                    return m;
                }
                case REBUILD_TENSOR:
                case REBUILD_TENSOR_V2: {
                    int min = fn == Fn.REBUILD_TENSOR ? 4 : 6;
                    int max = fn == Fn.REBUILD_TENSOR ? 4 : 7;
                    if (args.size() < min || args.size() > max || !(args.get(0) instanceof StorageRef)
                            || !(args.get(1) instanceof Long)) {
                        throw badArgs(fn, args);
                    }
                    long[] size = longs(args.get(2), fn, args);
                    long[] stride = longs(args.get(3), fn, args);
                    if (size.length != stride.length) {
                        throw new CheckpointFormatException(src + ": tensor with size " + Arrays.toString(size)
                                + " but stride " + Arrays.toString(stride));
                    }
                    return new TensorRef((StorageRef) args.get(0), (Long) args.get(1), size, stride);
                }
                case REBUILD_PARAMETER:
                case REBUILD_PARAMETER_WITH_STATE:
                    if (args.size() < 1 || !(args.get(0) instanceof TensorRef)) {
                        throw badArgs(fn, args);
                    }
                    return args.get(0);
                case TORCH_SIZE:
                    if (args.size() != 1 || !(args.get(0) instanceof Tuple)) {
                        throw badArgs(fn, args);
                    }
                    return args.get(0);
                default:
                    throw new AssertionError(fn);
            }
        }

        private long[] longs(Object o, Fn fn, Tuple args) throws CheckpointFormatException {
            if (!(o instanceof Tuple)) {
                throw badArgs(fn, args);
            }
            Tuple t = (Tuple) o;
            long[] r = new long[t.size()];
            for (int i = 0; i < r.length; i++) {
                if (!(t.get(i) instanceof Long)) {
                    throw badArgs(fn, args);
                }
                r[i] = (Long) t.get(i);
            }
            return r;
        }

        private CheckpointFormatException badArgs(Fn fn, Tuple args) {
            StringBuilder types = new StringBuilder();
            for (Object a : args.asList()) {
                types.append(types.length() == 0 ? "" : ", ").append(Unpickler.typeName(a));
            }
            return new CheckpointFormatException(src + ": unexpected arguments to " + fn.qualifiedName + "(" + types + ")");
        }

        @Override
        public Object build(Object target, Object state) throws CheckpointFormatException {
            if (target instanceof Map || target instanceof TensorRef) {
                return target; // OrderedDict._metadata and similar attributes carry no tensor data
            }
            throw new CheckpointFormatException(src + ": unexpected BUILD on a " + Unpickler.typeName(target));
        }

        @Override
        public Object persistentLoad(Object pid) throws CheckpointFormatException {
            if (!(pid instanceof Tuple) || ((Tuple) pid).size() < 5 || !"storage".equals(((Tuple) pid).get(0))) {
                throw new CheckpointFormatException(src + ": unsupported persistent id " + Unpickler.describe(pid)
                        + " (expected ('storage', type, key, location, numel))");
            }
            Tuple t = (Tuple) pid;
            int expected = legacy ? 6 : 5;
            if (t.size() != expected || !(t.get(1) instanceof StorageType) || !(t.get(2) instanceof String)
                    || !(t.get(4) instanceof Long) || (Long) t.get(4) < 0) {
                throw new CheckpointFormatException(src + ": malformed storage persistent id " + Unpickler.describe(pid));
            }
            StorageType type = (StorageType) t.get(1);
            String key = (String) t.get(2);
            long numel = (Long) t.get(4);
            RootStorage root = roots.get(key);
            if (root == null) {
                roots.put(key, new RootStorage(type.dtype, numel));
            } else if (root.dtype != type.dtype) {
                throw new CheckpointFormatException(src + ": storage '" + key + "' is used both as " + root.dtype
                        + " and as " + type.dtype);
            } else if (root.numel != numel) {
                throw new CheckpointFormatException(src + ": storage '" + key + "' is declared with " + root.numel
                        + " and with " + numel + " elements");
            }
            if (legacy && t.get(5) != null) {
                // (view_key, offset, view_size): a storage view written by very old torch versions
                if (!(t.get(5) instanceof Tuple) || ((Tuple) t.get(5)).size() != 3
                        || !(((Tuple) t.get(5)).get(1) instanceof Long) || !(((Tuple) t.get(5)).get(2) instanceof Long)) {
                    throw new CheckpointFormatException(src + ": malformed storage view metadata "
                            + Unpickler.describe(t.get(5)));
                }
                Tuple view = (Tuple) t.get(5);
                long off = (Long) view.get(1);
                long len = (Long) view.get(2);
                if (off < 0 || len < 0 || off > numel || len > numel - off) {
                    throw new CheckpointFormatException(src + ": storage view " + Unpickler.describe(view)
                            + " outside storage '" + key
                            + "' of " + numel + " elements");
                }
                return new StorageRef(type.dtype, key, off, len);
            }
            return new StorageRef(type.dtype, key, 0, numel);
        }
    }
}
