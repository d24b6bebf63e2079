package dev.resnetzoo.core.onednn;

import static org.bytedeco.dnnl.global.dnnl.dnnl_memory_set_data_handle;

import org.bytedeco.dnnl.dnnl_memory;
import org.bytedeco.javacpp.Pointer;
import org.nd4j.linalg.api.memory.pointers.PagedPointer;

/**
 * Per-thread buffers for the blocked copies oneDNN works on inside one primitive call. Every such
 * copy lives only for the call (results are reordered back into the INDArray before returning), so
 * one buffer per role serves all layers of a network instead of a copy per layer.
 */
final class Scratch {
    /** Roles: the primitive's source / weights / destination, and two spares for backward-weights. */
    static final int SRC = 0;
    static final int WEIGHTS = 1;
    static final int DST = 2;
    static final int SRC2 = 3;
    static final int DST2 = 4;
    private static final int SLOTS = 5;
    private static final long ALIGN = 64;

    private static final ThreadLocal<Scratch> LOCAL = ThreadLocal.withInitial(Scratch::new);

    private final Pointer[] raw = new Pointer[SLOTS];
    private final long[] capacity = new long[SLOTS];

    private Scratch() {
    }

    /** Points {@code m} at this thread's buffer for {@code slot}, growing it to {@code bytes}. */
    static void bind(dnnl_memory m, int slot, long bytes) {
        Scratch s = LOCAL.get();
        if (s.capacity[slot] < bytes) {
            if (s.raw[slot] != null) {
                Pointer.free(s.raw[slot]);
            }
            s.raw[slot] = Pointer.malloc(bytes + ALIGN);
            if (s.raw[slot] == null || s.raw[slot].isNull()) {
                throw new OutOfMemoryError("cannot allocate " + bytes + " bytes of oneDNN scratch memory");
            }
            s.capacity[slot] = bytes;
        }
        long address = (s.raw[slot].address() + ALIGN - 1) & -ALIGN;
        OneDnn.check(dnnl_memory_set_data_handle(m, new PagedPointer(address)), "binding scratch memory");
    }
}
