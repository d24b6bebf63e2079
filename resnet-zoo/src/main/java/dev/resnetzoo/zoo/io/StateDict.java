package dev.resnetzoo.zoo.io;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;

/**
 * The named tensors of a checkpoint (a PyTorch {@code state_dict}), in the order the file lists
 * them. Immutable.
 *
 * <p>Use {@link #read(Path)} to load any supported file; it recognises the format from the first
 * bytes, so the file name does not matter.
 */
public final class StateDict {

    private final Map<String, Tensor> tensors;

    /** @param tensors name to tensor, in order; copied */
    StateDict(LinkedHashMap<String, Tensor> tensors) {
        this.tensors = Collections.unmodifiableMap(new LinkedHashMap<>(tensors));
    }

    /**
     * Reads a checkpoint, choosing the reader from the file's first bytes: a zip archive is read
     * as a PyTorch zip checkpoint (torch 1.6 and later), a pickle as a legacy PyTorch checkpoint,
     * and a file whose first 8 bytes are a little-endian length followed by a JSON object as
     * safetensors.
     *
     * @param file the checkpoint
     * @return its tensors
     * @throws CheckpointFormatException if the file is none of these formats, or is malformed or
     *                                   unsafe (see {@link TorchCheckpointReader} and
     *                                   {@link SafetensorsReader})
     * @throws IOException               if the file cannot be read
     */
    public static StateDict read(Path file) throws IOException {
        switch (FileFormat.of(file)) {
            case TORCH_ZIP:
                return ZipCheckpoint.read(file);
            case TORCH_LEGACY:
                return LegacyCheckpoint.read(file);
            case SAFETENSORS:
                return SafetensorsReader.read(file);
            default:
                throw new AssertionError(file);
        }
    }

    /**
     * Reads a checkpoint's keys, element types, shapes and storage sizes, checked against the file
     * as {@link #read(Path)} checks them, but none of its tensor data: each tensor reads its data
     * when it is first converted, and keeps it. This is how to judge a file against an
     * architecture before paying for its data, as {@code WeightImporter.importCheckpoint} does
     * (a storage much larger than its tensor, or a shape that does not fit, is then refused
     * without being read). A tensor whose data turns out unreadable throws an
     * {@link java.io.UncheckedIOException} when converted (see {@link Tensor}).
     *
     * <p>Safetensors and legacy PyTorch files are memory-mapped either way, so for them only
     * non-contiguous tensors are copied later rather than now.
     *
     * @param file the checkpoint, in any format {@link #read(Path)} accepts
     * @return its tensors, their data not read yet
     * @throws CheckpointFormatException if the file is none of these formats, or is malformed or
     *                                   unsafe
     * @throws IOException               if the file cannot be read
     */
    public static StateDict open(Path file) throws IOException {
        switch (FileFormat.of(file)) {
            case TORCH_ZIP:
                return ZipCheckpoint.open(file);
            case TORCH_LEGACY:
                return LegacyCheckpoint.open(file);
            case SAFETENSORS:
                return SafetensorsReader.read(file);
            default:
                throw new AssertionError(file);
        }
    }

    /**
     * The tensor with the given name.
     *
     * @param name a key of this state dict, such as {@code "conv1.weight"}
     * @return the tensor
     * @throws NoSuchElementException if there is no such key
     */
    public Tensor get(String name) {
        Tensor t = tensors.get(name);
        if (t == null) {
            throw new NoSuchElementException("no tensor named '" + name + "' in this state dict (" + tensors.size()
                    + " keys)");
        }
        return t;
    }

    /**
     * Whether a tensor with this name exists.
     *
     * @param name a key
     * @return true if {@link #get(String)} would return a tensor
     */
    public boolean contains(String name) {
        return tensors.containsKey(name);
    }

    /**
     * The tensor names, in file order.
     *
     * @return an unmodifiable list
     */
    public List<String> keys() {
        return Collections.unmodifiableList(new ArrayList<>(tensors.keySet()));
    }

    /**
     * Number of tensors.
     *
     * @return the key count
     */
    public int size() {
        return tensors.size();
    }

    /**
     * All tensors by name, in file order.
     *
     * @return an unmodifiable, insertion-ordered view
     */
    public Map<String, Tensor> asMap() {
        return tensors;
    }

    /**
     * A short summary with the number of tensors.
     *
     * @return for example {@code StateDict[320 tensors]}
     */
    @Override
    public String toString() {
        return "StateDict[" + tensors.size() + " tensors]";
    }

    // ------------------------------------------------------------------ shared helpers

    /** Removes {@code prefix} from every key if every key starts with it (and there is a key). */
    static LinkedHashMap<String, Tensor> stripCommonPrefix(LinkedHashMap<String, Tensor> in, String prefix) {
        if (in.isEmpty() || !in.keySet().stream().allMatch(k -> k.startsWith(prefix))) {
            return in;
        }
        LinkedHashMap<String, Tensor> out = new LinkedHashMap<>();
        in.forEach((k, v) -> out.put(k.substring(prefix.length()), v));
        return out;
    }
}
