package dev.resnetzoo.core.plan;

import static org.bytedeco.dnnl.global.dnnl.*;

import dev.resnetzoo.core.onednn.OneDnn;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.dnnl.dnnl_exec_arg_t;
import org.bytedeco.dnnl.dnnl_memory;
import org.bytedeco.dnnl.dnnl_memory_desc_t;
import org.bytedeco.dnnl.dnnl_primitive;
import org.bytedeco.dnnl.dnnl_primitive_desc;
import org.bytedeco.dnnl.dnnl_stream;
import org.bytedeco.javacpp.FloatPointer;

/**
 * The weights and biases of a plan in the layouts its primitives chose, reordered once when a
 * program is compiled and shared by every program (input shape) that chose the same layout.
 */
final class Weights {
    private record Entry(dnnl_memory_desc_t md, dnnl_memory memory) {
    }

    private final Native owned;
    private final Map<String, List<Entry>> weights = new HashMap<>();
    private final Map<String, dnnl_memory> biases = new HashMap<>();

    Weights(Native owned) {
        this.owned = owned;
    }

    /**
     * @param key    the layer's name
     * @param data   weights in C order, float32
     * @param dims   their dimensions
     * @param tag    their plain layout ({@code oihw}, {@code goihw})
     * @param wanted the layout (and data type) the primitive chose
     * @return a memory object holding the weights in {@code wanted}
     */
    synchronized dnnl_memory get(String key, float[] data, long[] dims, int tag, dnnl_memory_desc_t wanted) {
        List<Entry> list = weights.computeIfAbsent(key, k -> new ArrayList<>());
        for (Entry e : list) {
            if (OneDnn.same(e.md(), wanted)) {
                return e.memory();
            }
        }
        dnnl_memory_desc_t md = Native.copy(wanted);
        dnnl_memory dst = Native.memory(owned, md, owned.allocate(Native.bytes(md)));
        Native tmp = new Native();
        try (FloatPointer plain = new FloatPointer(data)) {
            dnnl_memory src = Native.memory(tmp, OneDnn.desc(dims, dnnl_f32, tag), plain.address());
            dnnl_primitive_desc pd = new dnnl_primitive_desc();
            OneDnn.check(dnnl_reorder_primitive_desc_create(pd, OneDnn.desc(dims, dnnl_f32, tag), OneDnn.engine(), md,
                    OneDnn.engine(), null), "creating the weight reorder of " + key);
            tmp.own(pd);
            dnnl_primitive r = Native.primitive(tmp, pd, "weight reorder of " + key);
            dnnl_stream stream = new dnnl_stream();
            OneDnn.check(dnnl_stream_create(stream, OneDnn.engine(), dnnl_stream_default_flags), "creating a stream");
            tmp.own(stream);
            try (dnnl_exec_arg_t args = new dnnl_exec_arg_t(2)) {
                args.position(0).arg(DNNL_ARG_FROM).memory(src);
                args.position(1).arg(DNNL_ARG_TO).memory(dst);
                args.position(0);
                OneDnn.check(dnnl_primitive_execute(r, stream, 2, args), "reordering the weights of " + key);
                OneDnn.check(dnnl_stream_wait(stream), "waiting for a stream");
            }
        } finally {
            tmp.run();
        }
        list.add(new Entry(md, dst));
        return dst;
    }

    /** @return a memory object holding a float32 bias vector */
    synchronized dnnl_memory bias(String key, float[] data) {
        dnnl_memory m = biases.get(key);
        if (m == null) {
            dnnl_memory_desc_t md = OneDnn.desc(new long[] {data.length}, dnnl_f32, dnnl_x);
            long address = owned.allocate(4L * data.length);
            try (FloatPointer p = new FloatPointer(data)) {
                org.bytedeco.javacpp.Pointer.memcpy(new org.nd4j.linalg.api.memory.pointers.PagedPointer(address), p,
                        4L * data.length);
            }
            m = Native.memory(owned, md, address);
            biases.put(key, m);
        }
        return m;
    }
}
