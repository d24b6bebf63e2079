package dev.resnetzoo.core.onednn;

import static org.bytedeco.dnnl.global.dnnl.*;

import java.lang.ref.Cleaner;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.dnnl.dnnl_memory;
import org.bytedeco.dnnl.dnnl_primitive;
import org.bytedeco.dnnl.dnnl_primitive_desc;
import org.bytedeco.javacpp.Pointer;

/**
 * The oneDNN objects one set of primitives owns. They are released when the owner becomes
 * unreachable (oneDNN's handles are not memory the JVM sees, so nothing else would free them).
 */
final class Handles implements Runnable {
    private static final Cleaner CLEANER = Cleaner.create();

    private final List<Pointer> owned = new ArrayList<>();
    private final List<Pointer> buffers = new ArrayList<>();

    <T extends Pointer> T add(T handle) {
        if (handle != null) {
            owned.add(handle);
        }
        return handle;
    }

    /**
     * @param bytes size of a buffer the owner keeps between primitive calls (such as a workspace)
     * @return the buffer, freed with the handles
     */
    Pointer malloc(long bytes) {
        Pointer p = Pointer.malloc(Math.max(1, bytes));
        if (p == null || p.isNull()) {
            throw new OutOfMemoryError("cannot allocate " + bytes + " bytes of oneDNN memory");
        }
        buffers.add(p);
        return p;
    }

    /** Frees the handles once {@code owner} is unreachable. */
    void releaseWith(Object owner) {
        CLEANER.register(owner, this);
    }

    @Override
    public void run() {
        for (Pointer p : owned) {
            if (p instanceof dnnl_primitive prim) {
                dnnl_primitive_destroy(prim);
            } else if (p instanceof dnnl_memory mem) {
                dnnl_memory_destroy(mem);
            } else if (p instanceof dnnl_primitive_desc pd) {
                dnnl_primitive_desc_destroy(pd);
            }
        }
        owned.clear();
        buffers.forEach(Pointer::free);
        buffers.clear();
    }
}
