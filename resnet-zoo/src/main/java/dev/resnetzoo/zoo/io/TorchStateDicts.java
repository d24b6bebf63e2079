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
 * Turns the object a PyTorch pickle holds into a {@link StateDict}, for both file formats, in two
 * steps: {@link #plan} finds the dict of tensors (top level, or under {@code "state_dict"} or
 * {@code "model"}) and checks every tensor's layout against its storage, reading no data; then
 * {@link #eager} reads the storages once what they allocate is known to fit, or {@link #lazy}
 * leaves each tensor to read its storage when it is first converted. A {@code "module."} prefix is
 * removed when every key has it.
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
     * Heap the JVM can still hand out: its maximum less what is in use now. What a file makes the
     * reader allocate must fit in it, so that a small file cannot claim gigabytes and end in an
     * OutOfMemoryError.
     */
    static long freeHeap() {
        Runtime r = Runtime.getRuntime();
        return r.maxMemory() - (r.totalMemory() - r.freeMemory());
    }

    /** The tensors of the state dict and their layouts, checked against their storages' declared sizes. */
    static List<Planned> plan(Object root, TorchHooks hooks, String src) throws CheckpointFormatException {
        if (!(root instanceof Map)) {
            throw new CheckpointFormatException(src + ": the checkpoint holds a " + PickleValues.typeName(root)
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
        List<Planned> plan = new ArrayList<>();
        for (Map.Entry<?, ?> e : dict.entrySet()) {
            if (!(e.getKey() instanceof String)) {
                throw new CheckpointFormatException(src + ": state dict key " + PickleValues.describe(e.getKey()) + where
                        + " is a " + PickleValues.typeName(e.getKey()) + ", not a string");
            }
            String key = (String) e.getKey();
            if (!(e.getValue() instanceof TensorRef)) {
                throw new CheckpointFormatException(src + ": state dict entry '" + key + "'" + where + " is a "
                        + PickleValues.typeName(e.getValue()) + ", not a tensor");
            }
            TensorRef ref = (TensorRef) e.getValue();
            plan.add(StridedTensors.check(ref, hooks.roots.get(ref.storage.rootKey), src, key));
        }
        return plan;
    }

    /**
     * Reads every tensor now, once the storages and copies they need together are known to fit in
     * {@code budget} bytes of heap.
     */
    static StateDict eager(List<Planned> plan, StorageSource storages, ByteOrder order, String src, long budget)
            throws IOException {
        Set<String> counted = new HashSet<>();
        long total = 0;
        long largest = 0;
        String largestKey = null;
        for (Planned t : plan) {
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
                    largestKey = t.key();
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
            ByteBuffer data = StridedTensors.data(t, storage(t, storages), src);
            tensors.put(t.key(), new Tensor(t.ref().storage.dtype, t.ref().size, data, order, t.root().bytes()));
        }
        return new StateDict(StateDict.stripCommonPrefix(tensors, "module."));
    }

    /**
     * Checks that every storage is there with its declared size, and leaves each tensor to read
     * its storage when it is first converted.
     */
    static StateDict lazy(List<Planned> plan, StorageSource storages, ByteOrder order, String src)
            throws IOException {
        Set<String> checked = new HashSet<>();
        LinkedHashMap<String, Tensor> tensors = new LinkedHashMap<>();
        for (Planned t : plan) {
            if (t.numel() > 0 && checked.add(t.ref().storage.rootKey)) {
                storages.heapBytes(t.ref().storage.rootKey, t.root());
            }
            Tensor.Source source = () -> StridedTensors.data(t, storage(t, storages), src);
            tensors.put(t.key(), new Tensor(t.ref().storage.dtype, t.ref().size, order, t.root().bytes(), source));
        }
        return new StateDict(StateDict.stripCommonPrefix(tensors, "module."));
    }

    private static ByteBuffer storage(Planned t, StorageSource storages) throws IOException {
        if (t.numel() == 0) {
            return ByteBuffer.allocate(0);
        }
        int es = t.root().dtype.byteSize();
        long maxBytes = t.root().numel > (Integer.MAX_VALUE - 8) / es ? Integer.MAX_VALUE - 8 : t.root().numel * es;
        return storages.get(t.ref().storage.rootKey, maxBytes);
    }
}
