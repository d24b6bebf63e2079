package dev.resnetzoo.core.onednn;

import static org.bytedeco.dnnl.global.dnnl.*;

import java.util.concurrent.atomic.AtomicLong;
import org.bytedeco.dnnl.dnnl_engine;
import org.bytedeco.dnnl.dnnl_exec_arg_t;
import org.bytedeco.dnnl.dnnl_memory;
import org.bytedeco.dnnl.dnnl_memory_desc_t;
import org.bytedeco.dnnl.dnnl_primitive;
import org.bytedeco.dnnl.dnnl_primitive_desc;
import org.bytedeco.dnnl.dnnl_stream;
import org.bytedeco.dnnl.dnnl_version_t;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerPointer;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.memory.pointers.PagedPointer;

/**
 * The process's oneDNN CPU engine (the {@code org.bytedeco:dnnl} preset) and the small set of
 * calls the layers need: status checks, memory descriptors, memory objects over INDArray buffers,
 * primitive creation (counted) and execution.
 *
 * <p>oneDNN's CPU primitives are stateless once created, so one engine serves the whole process;
 * each thread executes on a stream of its own. Memory objects created here never own INDArray
 * data: their handle is pointed at an array's buffer right before each execution.
 */
public final class OneDnn {
    private static final AtomicLong PRIMITIVES_CREATED = new AtomicLong();
    private static volatile State state;
    private static volatile int channelBlock = -1;

    private OneDnn() {
    }

    /** Engine plus a stream per thread; built on first use. */
    private record State(dnnl_engine engine, ThreadLocal<dnnl_stream> streams, String version, Throwable failure) {
    }

    private static State state() {
        State s = state;
        if (s == null) {
            synchronized (OneDnn.class) {
                s = state;
                if (s == null) {
                    s = load();
                    state = s;
                }
            }
        }
        return s;
    }

    private static State load() {
        try {
            dnnl_engine engine = new dnnl_engine();
            check(dnnl_engine_create(engine, dnnl_cpu, 0), "creating the oneDNN CPU engine");
            ThreadLocal<dnnl_stream> streams = ThreadLocal.withInitial(() -> {
                dnnl_stream stream = new dnnl_stream();
                check(dnnl_stream_create(stream, engine, dnnl_stream_default_flags), "creating a oneDNN stream");
                return stream;
            });
            dnnl_version_t v = dnnl_version();
            String version = v.major() + "." + v.minor() + "." + v.patch();
            return new State(engine, streams, version, null);
        } catch (Throwable t) {
            // UnsatisfiedLinkError and friends: the caller falls back to libnd4j and reports why.
            return new State(null, null, null, t);
        }
    }

    /** @return whether oneDNN's native library loaded and its CPU engine exists */
    public static boolean available() {
        return state().failure() == null;
    }

    /** @return why oneDNN is unavailable, or null when it is available */
    public static String unavailableReason() {
        Throwable t = state().failure();
        return t == null ? null : t.getClass().getSimpleName() + ": " + t.getMessage();
    }

    /** @return oneDNN's version, such as {@code 2.5.2} */
    public static String version() {
        return requireState().version();
    }

    /**
     * The channel block of the layout oneDNN's convolutions choose on this CPU for ResNet's inner
     * layers ({@code nChw16c} with AVX-512: 16, {@code nChw8c} with AVX2: 8), found once by asking
     * oneDNN for a 64-channel 3x3 convolution; 0 if it chooses a plain layout (then no array is blocked).
     *
     * @return 16, 8 or 0
     */
    public static int channelBlock() {
        int b = channelBlock;
        if (b < 0) {
            synchronized (OneDnn.class) {
                b = channelBlock;
                if (b < 0) {
                    b = probeChannelBlock();
                    channelBlock = b;
                }
            }
        }
        return b;
    }

    private static int probeChannelBlock() {
        long[] src = {8, 64, 28, 28};
        dnnl_memory_desc_t any = desc(src, dnnl_f32, dnnl_format_tag_any);
        dnnl_memory_desc_t weights = desc(new long[] {64, 64, 3, 3}, dnnl_f32, dnnl_format_tag_any);
        org.bytedeco.dnnl.dnnl_convolution_desc_t cd = new org.bytedeco.dnnl.dnnl_convolution_desc_t();
        check(dnnl_convolution_forward_desc_init(cd, dnnl_forward_training, dnnl_convolution_direct, any, weights, null,
                any, new long[] {1, 1}, new long[] {1, 1}, new long[] {1, 1}), "describing the layout probe");
        dnnl_primitive_desc pd = primitiveDesc(cd, null, "the layout probe");
        try {
            dnnl_memory_desc_t chosen = dnnl_primitive_desc_query_md(pd, dnnl_query_src_md, 0);
            if (same(chosen, desc(src, dnnl_f32, dnnl_nChw16c))) {
                return 16;
            }
            return same(chosen, desc(src, dnnl_f32, dnnl_nChw8c)) ? 8 : 0;
        } finally {
            dnnl_primitive_desc_destroy(pd);
        }
    }

    /**
     * The layout of an activation array between two of this project's layers.
     *
     * @param channels channels of the array
     * @param blocked  whether the configuration lets the array hold oneDNN's blocked layout
     * @return the channel block the array holds (0 = NCHW): {@link #channelBlock()} when allowed and it divides the channels
     */
    public static int activationBlock(long channels, boolean blocked) {
        if (!blocked) {
            return 0;
        }
        int b = channelBlock();
        return b > 0 && channels % b == 0 ? b : 0;
    }

    /** The memory format tag of an NCHW-shaped activation holding channel block {@code block} (0 = plain). */
    static int activationTag(int block) {
        return switch (block) {
            case 0 -> dnnl_nchw;
            case 8 -> dnnl_nChw8c;
            case 16 -> dnnl_nChw16c;
            default -> throw new IllegalArgumentException("no layout for channel block " + block);
        };
    }

    /** @return how many oneDNN primitives this process has created through this class */
    public static long primitivesCreated() {
        return PRIMITIVES_CREATED.get();
    }

    private static State requireState() {
        State s = state();
        if (s.failure() != null) {
            throw new IllegalStateException("oneDNN is not available: " + unavailableReason(), s.failure());
        }
        return s;
    }

    /**
     * @return the process's CPU engine, shared by every primitive this project creates
     * @throws IllegalStateException if oneDNN is unavailable
     */
    public static dnnl_engine engine() {
        return requireState().engine();
    }

    static dnnl_stream stream() {
        return requireState().streams().get();
    }

    /**
     * @param status a oneDNN status code
     * @param what   what was being done, for the message
     * @throws IllegalStateException unless the status is success
     */
    public static void check(int status, String what) {
        if (status != dnnl_success) {
            throw new IllegalStateException("oneDNN failed " + what + " (status " + status + ")");
        }
    }

    /** A plain (dense, row-major by the given tag) descriptor. */
    public static dnnl_memory_desc_t desc(long[] dims, int dataType, int tag) {
        dnnl_memory_desc_t md = new dnnl_memory_desc_t();
        check(dnnl_memory_desc_init_by_tag(md, dims.length, dims, dataType, tag), "describing memory");
        return md;
    }

    /** @return whether two memory descriptors describe the same layout */
    public static boolean same(dnnl_memory_desc_t a, dnnl_memory_desc_t b) {
        return dnnl_memory_desc_equal(a, b) != 0;
    }

    /** A memory object without data; point it at a buffer with {@link #bind}. */
    static dnnl_memory unbound(dnnl_memory_desc_t md) {
        dnnl_memory m = new dnnl_memory();
        check(dnnl_memory_create(m, md, engine(), null), "creating a memory object");
        return m;
    }

    /** Points a memory object at an INDArray's first element; the array must be dense in its memory order. */
    static void bind(dnnl_memory m, INDArray a) {
        bind(m, a, 0);
    }

    /** Points a memory object {@code bytes} past an INDArray's first element. */
    static void bind(dnnl_memory m, INDArray a, long bytes) {
        long address = a.data().address() + a.offset() * a.data().getElementSize() + bytes;
        check(dnnl_memory_set_data_handle(m, new PagedPointer(address)), "binding an array to a memory object");
    }

    static dnnl_primitive_desc primitiveDesc(Pointer opDesc, dnnl_primitive_desc hint, String what) {
        return primitiveDesc(opDesc, null, hint, what);
    }

    /** A primitive descriptor with attributes (post-ops); {@code attr} may be null. */
    static dnnl_primitive_desc primitiveDesc(Pointer opDesc, org.bytedeco.dnnl.dnnl_primitive_attr attr,
                                             dnnl_primitive_desc hint, String what) {
        dnnl_primitive_desc pd = new dnnl_primitive_desc();
        check(dnnl_primitive_desc_create(pd, new org.bytedeco.dnnl.const_dnnl_op_desc_t(opDesc), attr, engine(), hint),
                "creating the primitive descriptor of " + what);
        return pd;
    }

    static dnnl_primitive primitive(dnnl_primitive_desc pd, String what) {
        dnnl_primitive p = new dnnl_primitive();
        check(dnnl_primitive_create(p, pd), "creating the primitive of " + what);
        PRIMITIVES_CREATED.incrementAndGet();
        return p;
    }

    /** The implementation oneDNN chose, e.g. {@code jit:avx512_core} or {@code brg:avx512_core}. */
    static String implementation(dnnl_primitive_desc pd) {
        PointerPointer<BytePointer> out = new PointerPointer<>(1);
        check(dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, out), "querying an implementation name");
        return out.get(BytePointer.class, 0).getString();
    }

    /** A reorder from one layout to another (null when the layouts are equal). */
    static dnnl_primitive reorder(dnnl_memory_desc_t from, dnnl_memory_desc_t to, String what) {
        if (same(from, to)) {
            return null;
        }
        dnnl_primitive_desc pd = new dnnl_primitive_desc();
        check(dnnl_reorder_primitive_desc_create(pd, from, engine(), to, engine(), null),
                "creating the reorder of " + what);
        try {
            return primitive(pd, "reorder of " + what);
        } finally {
            dnnl_primitive_desc_destroy(pd);
        }
    }

    /** Runs a primitive with (argument id, memory) pairs and waits for it. */
    static void execute(dnnl_primitive p, Object... argPairs) {
        int n = argPairs.length / 2;
        try (dnnl_exec_arg_t args = new dnnl_exec_arg_t(n)) {
            for (int i = 0; i < n; i++) {
                args.position(i).arg((Integer) argPairs[2 * i]).memory((dnnl_memory) argPairs[2 * i + 1]);
            }
            args.position(0);
            dnnl_stream s = stream();
            check(dnnl_primitive_execute(p, s, n, args), "executing a primitive");
            check(dnnl_stream_wait(s), "waiting for a stream");
        }
    }

    /** Runs a reorder if there is one. */
    static void reorder(dnnl_primitive r, dnnl_memory from, dnnl_memory to) {
        if (r != null) {
            execute(r, DNNL_ARG_FROM, from, DNNL_ARG_TO, to);
        }
    }
}
