package dev.resnetzoo.zoo.io;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import dev.resnetzoo.zoo.io.StridedTensors.RootStorage;
import dev.resnetzoo.zoo.io.TorchAllowList.DataOnlyHooks;
import dev.resnetzoo.zoo.io.TorchAllowList.TorchHooks;

/**
 * The legacy format of {@code torch.save} (before torch 1.6, or
 * {@code _use_new_zipfile_serialization=False}): five pickles back to back (magic number, protocol
 * version, sys_info, the object, the storage keys) followed by each storage as an 8-byte element
 * count and its raw bytes. The file is memory-mapped (so it must be smaller than 2 GiB) and
 * contiguous tensors are views of the mapping.
 */
final class LegacyCheckpoint {

    /** First pickle of a legacy file. */
    static final BigInteger MAGIC_NUMBER = new BigInteger("1950a86a20f9469cfc6c", 16);
    /** Second pickle of a legacy file. */
    static final long PROTOCOL_VERSION = 1001;

    private LegacyCheckpoint() {
    }

    static StateDict read(Path file) throws IOException {
        return read(file, TorchStateDicts.freeHeap());
    }

    /** @param budget as for {@link ZipCheckpoint#read(Path, long)} */
    static StateDict read(Path file, long budget) throws IOException {
        Parsed p = parse(file);
        return TorchStateDicts.eager(p.plan, p.storages, p.order, FileFormat.name(file), budget);
    }

    /** As {@link #read(Path)}, but non-contiguous tensors are copied out only when first converted. */
    static StateDict open(Path file) throws IOException {
        Parsed p = parse(file);
        return TorchStateDicts.lazy(p.plan, p.storages, p.order, FileFormat.name(file));
    }

    private record Parsed(List<StridedTensors.Planned> plan, TorchStateDicts.StorageSource storages,
                          ByteOrder order) {
    }

    private static Parsed parse(Path file) throws IOException {
        String src = FileFormat.name(file);
        ByteBuffer buf;
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size > Integer.MAX_VALUE) {
                throw new CheckpointFormatException(src + ": legacy-format checkpoints over 2 GiB are not supported");
            }
            buf = ch.map(FileChannel.MapMode.READ_ONLY, 0, size);
        }
        DataOnlyHooks dataOnly = new DataOnlyHooks(src);

        Unpickler u = new Unpickler(buf, src, dataOnly, TorchCheckpointReader.MAX_PICKLE_BYTES);
        Object magic = u.load();
        if (!MAGIC_NUMBER.equals(magic)) {
            throw new CheckpointFormatException(src + " is a pickle but not a PyTorch checkpoint: it does not start "
                    + "with the torch.save magic number");
        }
        buf.position(u.position());
        u = new Unpickler(buf, src, dataOnly, TorchCheckpointReader.MAX_PICKLE_BYTES);
        Object protocol = u.load();
        if (!(protocol instanceof Long) || (Long) protocol != PROTOCOL_VERSION) {
            throw new CheckpointFormatException(src + ": unsupported legacy protocol version " + protocol
                    + " (expected " + PROTOCOL_VERSION + ")");
        }
        buf.position(u.position());
        u = new Unpickler(buf, src, dataOnly, TorchCheckpointReader.MAX_PICKLE_BYTES);
        Object sysInfo = u.load();
        ByteOrder order = ByteOrder.LITTLE_ENDIAN;
        if (sysInfo instanceof Map && Boolean.FALSE.equals(((Map<?, ?>) sysInfo).get("little_endian"))) {
            order = ByteOrder.BIG_ENDIAN;
        }
        buf.position(u.position());

        TorchHooks hooks = new TorchHooks(src, true);
        u = new Unpickler(buf, src, hooks, TorchCheckpointReader.MAX_PICKLE_BYTES);
        Object root = u.load();
        buf.position(u.position());

        u = new Unpickler(buf, src, dataOnly, TorchCheckpointReader.MAX_PICKLE_BYTES);
        Object keys = u.load();
        if (!(keys instanceof List)) {
            throw new CheckpointFormatException(src + ": expected the list of storage keys after the main pickle, got "
                    + PickleValues.typeName(keys));
        }
        int pos = u.position();
        Map<String, ByteBuffer> data = new HashMap<>();
        for (Object k : (List<?>) keys) {
            if (!(k instanceof String)) {
                throw new CheckpointFormatException(src + ": storage key " + PickleValues.describe(k) + " is not a string");
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
        TorchStateDicts.StorageSource storages = new TorchStateDicts.StorageSource() {
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
        return new Parsed(TorchStateDicts.plan(root, hooks, src), storages, order);
    }
}
