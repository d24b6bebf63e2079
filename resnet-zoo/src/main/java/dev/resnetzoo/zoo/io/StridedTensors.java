package dev.resnetzoo.zoo.io;

import java.nio.ByteBuffer;
import java.util.Arrays;

import dev.resnetzoo.zoo.io.Tensor.DType;

/**
 * PyTorch's tensor layout: a tensor is a view of a storage, given by an element offset, a size and
 * a stride per dimension. This file checks a layout against its storage without reading data, and
 * turns a storage's bytes into a tensor's: a view of them when the layout is contiguous, a
 * row-major copy (gather) otherwise. Views, slices, transposes, broadcast ({@code expand}) tensors and
 * tensors sharing one storage all come out as PyTorch would show them.
 */
final class StridedTensors {

    private StridedTensors() {
    }

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

        /** Bytes of the storage, or Long.MAX_VALUE if that does not fit in a long. */
        long bytes() {
            return numel > Long.MAX_VALUE / dtype.byteSize() ? Long.MAX_VALUE : numel * dtype.byteSize();
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

    /** A state dict tensor checked against its storage, its data not read yet. */
    record Planned(String key, TensorRef ref, RootStorage root, long numel, boolean contiguous) {
    }

    /** Checks a tensor's size, strides and offset against its storage, without reading data. */
    static Planned check(TensorRef t, RootStorage root, String src, String key) throws CheckpointFormatException {
        StorageRef s = t.storage;
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
            return new Planned(key, t, root, 0, true);
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
        return new Planned(key, t, root, numel, isContiguous(t.size, t.stride));
    }

    /** Highest element index a tensor uses, relative to its root storage (Long.MAX_VALUE on overflow). */
    static long lastElement(TensorRef t) {
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

    /**
     * The tensor's elements, contiguous and row-major, from its root storage's bytes: a view of
     * them when the layout is contiguous, a copy otherwise.
     */
    static ByteBuffer data(Planned p, ByteBuffer raw, String src) throws CheckpointFormatException {
        TensorRef t = p.ref();
        StorageRef s = t.storage;
        if (p.numel() == 0) {
            return ByteBuffer.allocate(0);
        }
        int es = s.dtype.byteSize();
        long last = lastElement(t);
        if (last >= raw.limit() / es) {
            throw new CheckpointFormatException(src + ": storage '" + s.rootKey + "' holds " + raw.limit()
                    + " bytes, too few for tensor '" + p.key() + "' which needs " + ((last + 1) * es));
        }
        long base = s.elementOffset + t.offset;
        if (p.contiguous()) {
            return raw.duplicate().position((int) (base * es)).limit((int) ((base + p.numel()) * es)).slice();
        }
        return gather(raw, es, base, t.size, t.stride, (int) p.numel());
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
}
