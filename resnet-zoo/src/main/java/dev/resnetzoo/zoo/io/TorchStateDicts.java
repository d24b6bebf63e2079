package dev.resnetzoo.zoo.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

import dev.resnetzoo.zoo.io.StridedTensors.Planned;
import dev.resnetzoo.zoo.io.StridedTensors.RootStorage;
import dev.resnetzoo.zoo.io.StridedTensors.StorageRef;
import dev.resnetzoo.zoo.io.StridedTensors.TensorRef;
import dev.resnetzoo.zoo.io.TorchAllowList.TorchHooks;

/**
 * Turns the object a PyTorch pickle holds into a {@link StateDict}, for both file formats: finds
 * the dict of tensors (top level, or under {@code "state_dict"} or {@code "model"}), checks every
 * tensor's layout against its storage, checks that what reading them allocates fits, and only then
 * reads the storages. A {@code "module."} prefix is removed when every key has it.
 */
final class TorchStateDicts {

    private TorchStateDicts() {
    }

    /** Raw bytes of a root storage, by key: where a file format keeps its storages. */
    interface StorageSource {
        /**
         * Heap bytes {@link #get} will allocate for a storage (0 when it is a view of a mapped
         * file), after checking that the storage is there and as large as the pickle declares.
         */
        long heapBytes(String key, RootStorage storage) throws IOException;

        /** @param maxBytes the storage's declared size: never read more than this */
        ByteBuffer get(String key, long maxBytes) throws IOException;
    }

    /**
     * Heap the JVM can still hand out: its maximum less what is in use now. The tensors of a file
     * must fit in it, so that a small file cannot claim gigabytes and end in an OutOfMemoryError.
     */
    static long freeHeap() {
        Runtime r = Runtime.getRuntime();
        return r.maxMemory() - (r.totalMemory() - r.freeMemory());
    }

    static StateDict build(Object root, TorchHooks hooks, StorageSource storages, ByteOrder order,
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
            TensorRef ref = (TensorRef) e.getValue();
            Planned t = StridedTensors.check(ref, hooks.roots.get(ref.storage.rootKey), src, key);
            plan.add(t);
            if (t.numel() == 0) {
                continue;
            }
            StorageRef s = t.ref().storage;
            long[] allocations = {
                counted.add(s.rootKey) ? storages.heapBytes(s.rootKey, t.root()) : 0,
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
            ByteBuffer raw = ByteBuffer.allocate(0);
            if (t.numel() > 0) {
                int es = t.root().dtype.byteSize();
                long maxBytes = t.root().numel > (Integer.MAX_VALUE - 8) / es ? Integer.MAX_VALUE - 8
                        : t.root().numel * es;
                raw = storages.get(t.ref().storage.rootKey, maxBytes);
            }
            tensors.put(t.key(), StridedTensors.materialize(t, raw, order, src));
        }
        return new StateDict(StateDict.stripCommonPrefix(tensors, "module."));
    }
}
