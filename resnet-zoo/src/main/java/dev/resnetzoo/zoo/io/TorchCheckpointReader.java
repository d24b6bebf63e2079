package dev.resnetzoo.zoo.io;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Reads a PyTorch {@code state_dict} saved with {@code torch.save} without Python and without
 * trusting the file.
 *
 * <p>Both formats are read: the zip format of torch 1.6 and later ({@code <archive>/data.pkl} plus
 * one {@code <archive>/data/<key>} entry per storage; the archive folder name varies) and the
 * legacy format of older versions (or {@code _use_new_zipfile_serialization=False}): five pickles
 * back to back followed by the raw storages. Tensors are rebuilt from
 * {@code torch._utils._rebuild_tensor_v2} with their storage offset and strides, so views, slices,
 * transposes and tensors sharing one storage all come out as PyTorch would show them. The state
 * dict may be the top-level object or sit under a {@code "state_dict"} or {@code "model"} key; a
 * {@code "module."} prefix is removed when every key has it (DataParallel checkpoints).
 *
 * <p><b>Why a pickle interpreter of our own.</b> A checkpoint is a Python pickle, and a pickle can
 * name any importable callable and call it. This reader uses a small package-private interpreter
 * (protocols 0 to 5) that only builds plain data and hands every global, call and persistent id to
 * a per-read allow-list: {@code collections.OrderedDict}, {@code torch._utils._rebuild_tensor},
 * {@code _rebuild_tensor_v2}, {@code _rebuild_parameter}, {@code _rebuild_parameter_with_state},
 * {@code torch.Size} and the {@code torch.*Storage} types (used only as dtype markers). Any other
 * global is refused with a {@link CheckpointFormatException} before anything else happens, and
 * nothing from the file is ever instantiated or executed. The alternative,
 * {@code net.razorvine:pickle}, was not used: its constructor registry is static, process-wide
 * mutable state, and it turns unknown globals into {@code ClassDict} objects instead of refusing
 * them. The subset of pickle that torch writes is small (about 60 opcodes) and is tested opcode by
 * opcode against pickles written by CPython.
 *
 * <p><b>Memory.</b> Zip entries are read one storage at a time, only for storages the state dict
 * uses, each into one heap buffer; contiguous tensors are views of that buffer and only
 * non-contiguous tensors are copied (gathered). Legacy files are memory-mapped and their tensors
 * are views of the mapping. A single storage or legacy file must be smaller than 2 GiB. What a
 * file may make the reader allocate is bounded by what it justifies, before it is allocated:
 * <ul>
 *   <li>the pickle: {@code data.pkl} by {@link #MAX_PICKLE_BYTES} and {@link #MAX_INFLATION} (a
 *       legacy file's pickles by the former); the interpreter's memo by the pickle's length, the
 *       objects it builds by a multiple of that length and half the free heap, and the tuple keys
 *       of its dicts by a total item count, since hashing them is what costs;</li>
 *   <li>the storages: each zip entry must hold exactly the bytes its pickle declares, all of them
 *       together may inflate at most {@link #MAX_INFLATION} times, and the storages and copies of
 *       all tensors must fit in the free Java heap;</li>
 *   <li>against an architecture, with {@link StateDict#open(Path)}: no data is read before the
 *       keys, shapes and storage sizes fit (see {@code WeightImporter}).</li>
 * </ul>
 * Otherwise a one-line {@link CheckpointFormatException} says what the file claims.
 */
public final class TorchCheckpointReader {

    /**
     * Largest state_dict pickle accepted, 16 MiB: a state dict's pickle takes about 150 bytes per
     * tensor, and a deflated pickle of mostly one opcode inflates a thousandfold, so its declared
     * size is checked before inflating it.
     */
    static final long MAX_PICKLE_BYTES = 16L << 20;

    /**
     * Most times a zip's {@code data.pkl}, and its storages together, may inflate. torch stores
     * them uncompressed; a state dict's pickle deflates about fourfold and trained weights hardly
     * at all, while a pickle of one repeated opcode or a storage of zeros deflates a
     * thousandfold. What the reader allocates grows with the inflated sizes, so this ties it to
     * the size of the file.
     */
    static final int MAX_INFLATION = 32;

    /** A {@code data.pkl} up to this size may inflate any amount: too small to matter. */
    static final long SMALL_PICKLE_BYTES = 64L << 10;

    /** Storages up to this size in all may inflate any amount (small models of zeros). */
    static final long SMALL_STORAGES_BYTES = 64L << 20;

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
        FileFormat format = FileFormat.of(file);
        switch (format) {
            case TORCH_ZIP:
                return ZipCheckpoint.read(file);
            case TORCH_LEGACY:
                return LegacyCheckpoint.read(file);
            default:
                throw new CheckpointFormatException(FileFormat.name(file) + " is not a PyTorch checkpoint: it is "
                        + format.description() + "; read it with StateDict.read");
        }
    }
}
