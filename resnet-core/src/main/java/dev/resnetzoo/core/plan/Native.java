package dev.resnetzoo.core.plan;

import static org.bytedeco.dnnl.global.dnnl.*;

import dev.resnetzoo.core.onednn.OneDnn;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.dnnl.dnnl_memory;
import org.bytedeco.dnnl.dnnl_memory_desc_t;
import org.bytedeco.dnnl.dnnl_post_ops;
import org.bytedeco.dnnl.dnnl_primitive;
import org.bytedeco.dnnl.dnnl_primitive_attr;
import org.bytedeco.dnnl.dnnl_primitive_desc;
import org.bytedeco.dnnl.dnnl_stream;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerPointer;
import org.nd4j.linalg.api.memory.pointers.PagedPointer;

/**
 * The oneDNN handles and raw buffers one owner (a plan, a program, an execution context) holds,
 * and the few C-API helpers the plan needs. {@link #run()} releases everything once; it is safe to
 * call again.
 */
final class Native implements Runnable {
    private static final long ALIGN = 64;

    private final List<Pointer> handles = new ArrayList<>();
    private final List<Pointer> buffers = new ArrayList<>();
    private long bufferBytes;

    synchronized <T extends Pointer> T own(T handle) {
        if (handle != null) {
            handles.add(handle);
        }
        return handle;
    }

    /**
     * @param bytes size of the buffer
     * @return the 64-byte aligned address of a new native buffer owned by this object
     */
    synchronized long allocate(long bytes) {
        Pointer raw = Pointer.malloc(Math.max(bytes, 1) + ALIGN);
        if (raw == null || raw.isNull()) {
            throw new OutOfMemoryError("cannot allocate " + bytes + " bytes of native memory for an inference plan");
        }
        buffers.add(raw);
        bufferBytes += bytes;
        return (raw.address() + ALIGN - 1) & -ALIGN;
    }

    synchronized long bufferBytes() {
        return bufferBytes;
    }

    @Override
    public synchronized void run() {
        for (int i = handles.size() - 1; i >= 0; i--) {
            Pointer p = handles.get(i);
            if (p instanceof dnnl_primitive prim) {
                dnnl_primitive_destroy(prim);
            } else if (p instanceof dnnl_primitive_desc pd) {
                dnnl_primitive_desc_destroy(pd);
            } else if (p instanceof dnnl_memory mem) {
                dnnl_memory_destroy(mem);
            } else if (p instanceof dnnl_primitive_attr attr) {
                dnnl_primitive_attr_destroy(attr);
            } else if (p instanceof dnnl_post_ops ops) {
                dnnl_post_ops_destroy(ops);
            } else if (p instanceof dnnl_stream stream) {
                dnnl_stream_destroy(stream);
            } else {
                p.close();
            }
        }
        handles.clear();
        for (Pointer raw : buffers) {
            Pointer.free(raw);
        }
        buffers.clear();
        bufferBytes = 0;
    }

    static long bytes(dnnl_memory_desc_t md) {
        return dnnl_memory_desc_get_size(md);
    }

    /** A copy of a descriptor that outlives the primitive descriptor it was queried from. */
    static dnnl_memory_desc_t copy(dnnl_memory_desc_t md) {
        dnnl_memory_desc_t c = new dnnl_memory_desc_t();
        Pointer.memcpy(c, md, c.sizeof());
        return c;
    }

    /** A memory object over {@code address} (0: none yet), owned by {@code owner}. */
    static dnnl_memory memory(Native owner, dnnl_memory_desc_t md, long address) {
        dnnl_memory m = new dnnl_memory();
        OneDnn.check(dnnl_memory_create(m, md, OneDnn.engine(), address == 0 ? null : new PagedPointer(address)),
                "creating a memory object");
        return owner.own(m);
    }

    static void bind(dnnl_memory m, long address) {
        OneDnn.check(dnnl_memory_set_data_handle(m, new PagedPointer(address)), "binding a memory object");
    }

    /** Attributes with user-managed scratchpad (so one primitive may run in several threads at once) and post-ops. */
    static dnnl_primitive_attr attr(Native owner, dnnl_post_ops postOps) {
        dnnl_primitive_attr attr = new dnnl_primitive_attr();
        OneDnn.check(dnnl_primitive_attr_create(attr), "creating primitive attributes");
        owner.own(attr);
        OneDnn.check(dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user), "setting the scratchpad mode");
        if (postOps != null) {
            OneDnn.check(dnnl_primitive_attr_set_post_ops(attr, postOps), "setting post-ops");
        }
        return attr;
    }

    static dnnl_post_ops postOps(Native owner) {
        dnnl_post_ops ops = new dnnl_post_ops();
        OneDnn.check(dnnl_post_ops_create(ops), "creating post-ops");
        return owner.own(ops);
    }

    static dnnl_primitive_desc primitiveDesc(Native owner, Pointer opDesc, dnnl_primitive_attr attr, String what) {
        dnnl_primitive_desc pd = new dnnl_primitive_desc();
        OneDnn.check(dnnl_primitive_desc_create(pd, new org.bytedeco.dnnl.const_dnnl_op_desc_t(opDesc), attr, OneDnn.engine(),
                null), "creating the primitive descriptor of " + what);
        return owner.own(pd);
    }

    static dnnl_primitive primitive(Native owner, dnnl_primitive_desc pd, String what) {
        dnnl_primitive p = new dnnl_primitive();
        OneDnn.check(dnnl_primitive_create(p, pd), "creating the primitive of " + what);
        return owner.own(p);
    }

    static dnnl_primitive_desc reorderDesc(Native owner, dnnl_memory_desc_t from, dnnl_memory_desc_t to, String what) {
        dnnl_primitive_desc pd = new dnnl_primitive_desc();
        OneDnn.check(dnnl_reorder_primitive_desc_create(pd, from, OneDnn.engine(), to, OneDnn.engine(), attr(owner, null)),
                "creating the reorder of " + what);
        return owner.own(pd);
    }

    static dnnl_memory_desc_t query(dnnl_primitive_desc pd, int what) {
        return dnnl_primitive_desc_query_md(pd, what, 0);
    }

    /** The implementation oneDNN chose, e.g. {@code brg:avx512_core}. */
    static String implementation(dnnl_primitive_desc pd) {
        PointerPointer<BytePointer> out = new PointerPointer<>(1);
        OneDnn.check(dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, out), "querying an implementation name");
        return out.get(BytePointer.class, 0).getString();
    }
}
