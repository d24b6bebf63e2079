package dev.resnetzoo.core.plan;

import static org.bytedeco.dnnl.global.dnnl.*;

import dev.resnetzoo.core.StemKind;
import dev.resnetzoo.core.onednn.OneDnn;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.bytedeco.dnnl.dnnl_binary_desc_t;
import org.bytedeco.dnnl.dnnl_convolution_desc_t;
import org.bytedeco.dnnl.dnnl_exec_arg_t;
import org.bytedeco.dnnl.dnnl_inner_product_desc_t;
import org.bytedeco.dnnl.dnnl_memory;
import org.bytedeco.dnnl.dnnl_memory_desc_t;
import org.bytedeco.dnnl.dnnl_pooling_desc_t;
import org.bytedeco.dnnl.dnnl_post_ops;
import org.bytedeco.dnnl.dnnl_primitive;
import org.bytedeco.dnnl.dnnl_primitive_desc;
import org.bytedeco.dnnl.dnnl_stream;

/**
 * A {@link Network} compiled for one input shape: a straight list of oneDNN primitives over
 * activations in the layouts oneDNN chose, with one reorder in (the NCHW float input) and one
 * out per requested result.
 *
 * <p>Activations share buffers by lifetime (a buffer is reused once its last reader ran), and a
 * block's last convolution accumulates into its shortcut's buffer (sum post-op), so a program
 * needs a few activation-sized buffers, not one per layer. Those buffers and the scratchpad live in
 * an execution {@link Context}; the primitives themselves use a user-managed scratchpad and are
 * shared, so concurrent calls each take a context of their own from a pool and never wait for
 * one another.
 */
final class Program {
    /** An activation: its shape and oneDNN layout, and the buffer group it lives in. */
    private static final class Value {
        final long[] dims;
        final dnnl_memory_desc_t md;
        final Group group;

        Value(long[] dims, dnnl_memory_desc_t md, Group group) {
            this.dims = dims;
            this.md = md;
            this.group = group;
        }
    }

    /** Values that share one buffer (an in-place sum writes its output over its shortcut). */
    private static final class Group {
        final int index;
        int first = Integer.MAX_VALUE;
        int last = -1;
        long bytes;
        int slot = -1;

        Group(int index) {
            this.index = index;
        }
    }

    /** The program's input (bound per call to the caller's NCHW array). */
    private enum Input { INSTANCE }

    /** A per-call output buffer, NCHW (or NC) float32. */
    private record Output(String tap) {
    }

    /** The context's scratchpad. */
    private enum Scratch { INSTANCE }

    private static final class Step {
        final dnnl_primitive primitive;
        final int[] ids;
        final Object[] refs;
        final String label;
        final String implementation;
        final dnnl_memory_desc_t scratchMd;
        final long scratchBytes;
        /** Runs only when this output is requested (tap and output reorders), else null. */
        String tap;

        Step(dnnl_primitive primitive, dnnl_primitive_desc pd, String label, int[] ids, Object[] refs) {
            this.primitive = primitive;
            this.label = label;
            this.implementation = Native.implementation(pd);
            dnnl_memory_desc_t sp = Native.query(pd, dnnl_query_scratchpad_md);
            this.scratchBytes = sp == null ? 0 : Native.bytes(sp);
            this.scratchMd = scratchBytes > 0 ? Native.copy(sp) : null;
            if (scratchBytes > 0) {
                ids = append(ids, DNNL_ARG_SCRATCHPAD);
                refs = append(refs, Scratch.INSTANCE);
            }
            this.ids = ids;
            this.refs = refs;
        }
    }

    /** Where a named output comes from. */
    private record Tap(int step, long[] shape, dnnl_memory_desc_t userMd) {
    }

    private final Native owned = new Native();
    private final Weights weights;
    private final int dataType;
    private final long batch;
    private final long[] inputDims;
    private final dnnl_memory_desc_t inputMd;
    private final List<Value> values = new ArrayList<>();
    private final List<Group> groups = new ArrayList<>();
    private final List<Step> steps = new ArrayList<>();
    private final Map<String, Tap> taps = new LinkedHashMap<>();
    private long[] slotBytes;
    private long scratchBytes;
    private final ConcurrentLinkedQueue<Context> idle = new ConcurrentLinkedQueue<>();
    private final ConcurrentLinkedQueue<Context> all = new ConcurrentLinkedQueue<>();

    /**
     * @param net       the network
     * @param weights   the plan's weight store
     * @param precision fp32 or bf16 activations and weights
     * @param n         batch size
     * @param h         input height
     * @param w         input width
     */
    Program(Network net, Weights weights, Precision precision, long n, int h, int w) {
        this.weights = weights;
        this.dataType = precision == Precision.BF16 ? dnnl_bf16 : dnnl_f32;
        this.batch = n;
        this.inputDims = new long[] {n, net.inChannels(), h, w};
        this.inputMd = OneDnn.desc(inputDims, dnnl_f32, dnnl_nchw);
        try {
            build(net);
            allocate();
        } catch (RuntimeException | Error e) {
            owned.run();
            throw e;
        }
    }

    private void build(Network net) {
        Value x = conv(null, net.stemConv(), dnnl_eltwise_relu, null);
        if (net.stem() == StemKind.IMAGENET) {
            x = pool(x, dnnl_pooling_max, 3, 2, 1, "maxpool", null);
        }
        tap("stem", x);
        for (int s = 0; s < net.stages().size(); s++) {
            for (Network.Block b : net.stages().get(s)) {
                x = block(x, b);
            }
            tap("layer" + (s + 1), x);
        }
        // Plain [N, C, 1, 1] is the same memory as [N, C]: the classifier reads it as a matrix (on a
        // blocked 4-D source oneDNN picks a far slower inner-product kernel).
        Value pooled = pool(x, dnnl_pooling_avg_exclude_padding, 0, 1, 0, "avgpool",
                OneDnn.desc(new long[] {batch, x.dims[1], 1, 1}, dataType, dnnl_nchw));
        tap("pool", pooled);
        if (net.classifier() != null) {
            Value features = view(pooled, new long[] {batch, x.dims[1]}, dnnl_nc);
            tap("logits", innerProduct(features, net.classifier()));
        }
    }

    private Value block(Value x, Network.Block b) {
        Value shortcut = b.downsample() == null ? x : conv(x, b.downsample(), -1, null);
        Value t = x;
        List<Network.Conv> main = b.main();
        for (int i = 0; i < main.size() - 1; i++) {
            t = conv(t, main.get(i), dnnl_eltwise_relu, null);
        }
        Network.Conv last = main.get(main.size() - 1);
        if (b.seFc1() == null) {
            return conv(t, last, dnnl_eltwise_relu, shortcut);
        }
        Value u = conv(t, last, -1, null);
        Value squeezed = pool(u, dnnl_pooling_avg_exclude_padding, 0, 1, 0, b.name() + ".se.pool", null);
        Value hidden = conv(squeezed, b.seFc1(), dnnl_eltwise_relu, null);
        Value gate = conv(hidden, b.seFc2(), dnnl_eltwise_logistic, null);
        return scaleAddRelu(u, gate, shortcut, b.name() + ".se.scale");
    }

    // ---- building blocks ------------------------------------------------------------------

    private dnnl_memory_desc_t any(long[] dims) {
        return OneDnn.desc(dims, dataType, dnnl_format_tag_any);
    }

    /**
     * The layout of a plain convolution's activations: 16-channel blocks ({@code nChw16c}) where the
     * channels allow, else oneDNN's choice. Left to itself, oneDNN 2.5 picks channels-last for
     * ResNet-50's convolutions, which is slower at batch 8 (the README has the measurement).
     * Grouped convolutions keep {@code any}: on a forced 16-channel layout oneDNN has only its
     * reference kernel for ResNeXt's 4-channel groups.
     */
    private dnnl_memory_desc_t blocked(boolean force, long[] dims) {
        return force && dims[1] % 16 == 0 ? OneDnn.desc(dims, dataType, dnnl_nChw16c) : any(dims);
    }

    private Value newValue(long[] dims, dnnl_memory_desc_t md) {
        Group g = new Group(groups.size());
        groups.add(g);
        Value v = new Value(dims, Native.copy(md), g);
        g.bytes = Native.bytes(v.md);
        values.add(v);
        return v;
    }

    /** The same buffer seen with other dimensions and a plain layout. */
    private Value view(Value of, long[] dims, int tag) {
        Value v = new Value(dims, OneDnn.desc(dims, dataType, tag), of.group);
        values.add(v);
        return v;
    }

    private Value alias(Value of) {
        Value v = new Value(of.dims, of.md, of.group);
        values.add(v);
        return v;
    }

    private Step add(dnnl_primitive_desc pd, String label, int[] ids, Object[] refs) {
        Step s = new Step(Native.primitive(owned, pd, label), pd, label, ids, refs);
        int index = steps.size();
        for (Object r : s.refs) {
            if (r instanceof Value v) {
                v.group.first = Math.min(v.group.first, index);
                v.group.last = Math.max(v.group.last, index);
            }
        }
        steps.add(s);
        scratchBytes = Math.max(scratchBytes, s.scratchBytes);
        return s;
    }

    /** {@code v} (or the program input when null) in layout {@code wanted}, reordering if needed. */
    private Value in(Value v, dnnl_memory_desc_t wanted, String label) {
        if (v != null && OneDnn.same(v.md, wanted)) {
            return v;
        }
        Value out = newValue(v == null ? inputDims : v.dims, wanted);
        dnnl_memory_desc_t from = v == null ? inputMd : v.md;
        add(Native.reorderDesc(owned, from, out.md, label), "reorder " + label,
                new int[] {DNNL_ARG_FROM, DNNL_ARG_TO}, new Object[] {v == null ? Input.INSTANCE : v, out});
        return out;
    }

    /**
     * Convolution + folded batch norm, then (optionally) the sum into {@code sumInto}'s buffer, then
     * the eltwise {@code alg} (-1: none).
     */
    private Value conv(Value src, Network.Conv c, int alg, Value sumInto) {
        long[] sd = src == null ? inputDims : src.dims;
        long oh = (sd[2] + 2L * c.pad() - c.kernel()) / c.stride() + 1;
        long ow = (sd[3] + 2L * c.pad() - c.kernel()) / c.stride() + 1;
        long[] dd = {batch, c.out(), oh, ow};
        long[] wd = c.weightDims();
        if (sd[1] != (long) c.inPerGroup() * c.groups()) {
            throw new IllegalStateException(c.name() + ": expects " + (long) c.inPerGroup() * c.groups()
                    + " input channels, the layer before gives " + sd[1]);
        }
        dnnl_convolution_desc_t cd = new dnnl_convolution_desc_t();
        long[] stride = {c.stride(), c.stride()};
        long[] pad = {c.pad(), c.pad()};
        OneDnn.check(dnnl_dilated_convolution_forward_desc_init(cd, dnnl_forward_inference, dnnl_convolution_direct,
                blocked(src != null && c.groups() == 1, sd), any(wd), OneDnn.desc(new long[] {c.out()}, dnnl_f32, dnnl_x),
                sumInto != null ? sumInto.md : blocked(c.groups() == 1, dd), stride, new long[] {0, 0}, pad, pad),
                "describing convolution " + c.name());
        dnnl_post_ops ops = null;
        if (sumInto != null || alg >= 0) {
            ops = Native.postOps(owned);
            if (sumInto != null) {
                OneDnn.check(dnnl_post_ops_append_sum(ops, 1f), "adding a sum post-op");
            }
            if (alg >= 0) {
                OneDnn.check(dnnl_post_ops_append_eltwise(ops, 1f, alg, 0f, 0f), "adding an eltwise post-op");
            }
        }
        dnnl_primitive_desc pd = Native.primitiveDesc(owned, cd, Native.attr(owned, ops), "convolution " + c.name());
        Value x = in(src, Native.query(pd, dnnl_query_src_md), c.name() + " src");
        dnnl_memory w = weights.get(c.name(), c.weights(), wd, c.groups() == 1 ? dnnl_oihw : dnnl_goihw,
                Native.query(pd, dnnl_query_weights_md));
        dnnl_memory b = weights.bias(c.name(), c.bias());
        Value out = sumInto != null ? alias(sumInto) : newValue(dd, Native.query(pd, dnnl_query_dst_md));
        add(pd, c.name(), new int[] {DNNL_ARG_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_BIAS, DNNL_ARG_DST},
                new Object[] {x, w, b, out});
        return out;
    }

    /** Max pool, or with {@code kernel} 0 the global average pool; {@code dst} null: oneDNN's choice. */
    private Value pool(Value src, int alg, int kernel, int stride, int pad, String label, dnnl_memory_desc_t dst) {
        long[] sd = src.dims;
        long kh = kernel == 0 ? sd[2] : kernel;
        long kw = kernel == 0 ? sd[3] : kernel;
        long oh = (sd[2] + 2L * pad - kh) / stride + 1;
        long ow = (sd[3] + 2L * pad - kw) / stride + 1;
        long[] dd = {batch, sd[1], oh, ow};
        dnnl_pooling_desc_t pdsc = new dnnl_pooling_desc_t();
        long[] padding = {pad, pad};
        OneDnn.check(dnnl_pooling_forward_desc_init(pdsc, dnnl_forward_inference, alg, src.md, dst != null ? dst : any(dd),
                new long[] {stride, stride}, new long[] {kh, kw}, padding, padding), "describing " + label);
        dnnl_primitive_desc pd = Native.primitiveDesc(owned, pdsc, Native.attr(owned, null), label);
        Value out = newValue(dd, Native.query(pd, dnnl_query_dst_md));
        add(pd, label, new int[] {DNNL_ARG_SRC, DNNL_ARG_DST}, new Object[] {src, out});
        return out;
    }

    /** Squeeze-and-excitation's channel scale, the residual add and the ReLU: relu(u * gate + shortcut). */
    private Value scaleAddRelu(Value u, Value gate, Value shortcut, String label) {
        dnnl_binary_desc_t bd = new dnnl_binary_desc_t();
        OneDnn.check(dnnl_binary_desc_init(bd, dnnl_binary_mul, u.md, gate.md, shortcut.md), "describing " + label);
        dnnl_post_ops ops = Native.postOps(owned);
        OneDnn.check(dnnl_post_ops_append_sum(ops, 1f), "adding a sum post-op");
        OneDnn.check(dnnl_post_ops_append_eltwise(ops, 1f, dnnl_eltwise_relu, 0f, 0f), "adding an eltwise post-op");
        dnnl_primitive_desc pd = Native.primitiveDesc(owned, bd, Native.attr(owned, ops), label);
        Value out = alias(shortcut);
        add(pd, label, new int[] {DNNL_ARG_SRC_0, DNNL_ARG_SRC_1, DNNL_ARG_DST}, new Object[] {u, gate, out});
        return out;
    }

    private Value innerProduct(Value pooled, Network.Classifier fc) {
        long[] wd = {fc.out(), fc.in()};
        long[] dd = {batch, fc.out()};
        dnnl_inner_product_desc_t ip = new dnnl_inner_product_desc_t();
        OneDnn.check(dnnl_inner_product_forward_desc_init(ip, dnnl_forward_inference, pooled.md, any(wd),
                OneDnn.desc(new long[] {fc.out()}, dnnl_f32, dnnl_x), OneDnn.desc(dd, dnnl_f32, dnnl_format_tag_any)),
                "describing the classifier fc");
        dnnl_primitive_desc pd = Native.primitiveDesc(owned, ip, Native.attr(owned, null), "classifier fc");
        dnnl_memory w = weights.get("fc", fc.weights(), wd, dnnl_oi, Native.query(pd, dnnl_query_weights_md));
        dnnl_memory b = weights.bias("fc", fc.bias());
        Value out = newValue(dd, Native.query(pd, dnnl_query_dst_md));
        add(pd, "fc", new int[] {DNNL_ARG_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_BIAS, DNNL_ARG_DST},
                new Object[] {pooled, w, b, out});
        return out;
    }

    /** A reorder of {@code v} into a per-call float32 output, run only when {@code name} is requested. */
    private void tap(String name, Value v) {
        long[] shape = name.equals("pool") ? new long[] {v.dims[0], v.dims[1]} : v.dims;
        dnnl_memory_desc_t user = OneDnn.desc(v.dims, dnnl_f32, v.dims.length == 4 ? dnnl_nchw : dnnl_nc);
        Step s = add(Native.reorderDesc(owned, v.md, user, "output " + name), "output " + name,
                new int[] {DNNL_ARG_FROM, DNNL_ARG_TO}, new Object[] {v, new Output(name)});
        s.tap = name;
        taps.put(name, new Tap(steps.size() - 1, shape, user));
    }

    /** Assigns buffer slots to groups by lifetime: a slot is reused once its group's last step has run. */
    private void allocate() {
        List<Group> order = new ArrayList<>(groups);
        order.removeIf(g -> g.last < 0);
        order.sort(Comparator.comparingInt(g -> g.first));
        List<Long> sizes = new ArrayList<>();
        List<Integer> busyUntil = new ArrayList<>();
        for (Group g : order) {
            int best = -1;
            for (int s = 0; s < sizes.size(); s++) {
                if (busyUntil.get(s) < g.first && (best < 0 || fit(sizes.get(s), g.bytes) < fit(sizes.get(best), g.bytes))) {
                    best = s;
                }
            }
            if (best < 0) {
                sizes.add(g.bytes);
                busyUntil.add(g.last);
                best = sizes.size() - 1;
            } else {
                sizes.set(best, Math.max(sizes.get(best), g.bytes));
                busyUntil.set(best, g.last);
            }
            g.slot = best;
        }
        slotBytes = sizes.stream().mapToLong(Long::longValue).toArray();
    }

    /** Cost of putting {@code need} bytes into a slot of {@code have}: growth first, then waste. */
    private static long fit(long have, long need) {
        return have >= need ? have - need : (need - have) * 4;
    }

    // ---- running ------------------------------------------------------------------------

    /** Buffers, memory objects and argument lists of one caller at a time. */
    private final class Context {
        final Native res = new Native();
        final dnnl_stream stream = new dnnl_stream();
        final dnnl_memory input;
        final Map<String, dnnl_memory> outputs = new LinkedHashMap<>();
        final dnnl_exec_arg_t[] args = new dnnl_exec_arg_t[steps.size()];

        Context() {
            try {
                OneDnn.check(dnnl_stream_create(stream, OneDnn.engine(), dnnl_stream_default_flags), "creating a stream");
                res.own(stream);
                long[] slots = new long[slotBytes.length];
                for (int i = 0; i < slots.length; i++) {
                    slots[i] = res.allocate(slotBytes[i]);
                }
                long scratch = scratchBytes > 0 ? res.allocate(scratchBytes) : 0;
                input = Native.memory(res, inputMd, 0);
                for (Map.Entry<String, Tap> t : taps.entrySet()) {
                    outputs.put(t.getKey(), Native.memory(res, t.getValue().userMd(), 0));
                }
                Map<Group, dnnl_memory> memories = new java.util.HashMap<>();
                for (int i = 0; i < steps.size(); i++) {
                    Step s = steps.get(i);
                    dnnl_exec_arg_t a = res.own(new dnnl_exec_arg_t(s.ids.length));
                    for (int k = 0; k < s.ids.length; k++) {
                        Object r = s.refs[k];
                        dnnl_memory m;
                        if (r instanceof Value v) {
                            m = memories.computeIfAbsent(v.group, g -> Native.memory(res, v.md, slots[g.slot]));
                        } else if (r == Input.INSTANCE) {
                            m = input;
                        } else if (r instanceof Output o) {
                            m = outputs.get(o.tap());
                        } else if (r == Scratch.INSTANCE) {
                            m = Native.memory(res, s.scratchMd, scratch);
                        } else {
                            m = (dnnl_memory) r;
                        }
                        a.position(k).arg(s.ids[k]).memory(m);
                    }
                    args[i] = a.position(0);
                }
            } catch (RuntimeException | Error e) {
                res.run();
                throw e;
            }
        }
    }

    /** @return the tap names this program can produce, in network order */
    List<String> taps() {
        return List.copyOf(taps.keySet());
    }

    /** @return the shape of a tap's output */
    long[] shape(String tap) {
        return taps.get(tap).shape().clone();
    }

    /**
     * Runs the program up to the last requested output.
     *
     * @param input   address of the dense NCHW float32 input
     * @param outputs tap name -> address of a dense float32 buffer of {@link #shape(String)}
     */
    void run(long input, Map<String, Long> outputs) {
        Context c = idle.poll();
        if (c == null) {
            c = new Context();
            all.add(c);
        }
        try {
            Native.bind(c.input, input);
            int last = -1;
            for (Map.Entry<String, Long> o : outputs.entrySet()) {
                Native.bind(c.outputs.get(o.getKey()), o.getValue());
                last = Math.max(last, taps.get(o.getKey()).step());
            }
            for (int i = 0; i <= last; i++) {
                Step s = steps.get(i);
                if (s.tap != null && !outputs.containsKey(s.tap)) {
                    continue;
                }
                OneDnn.check(dnnl_primitive_execute(s.primitive, c.stream, s.ids.length, c.args[i]), "executing " + s.label);
            }
            OneDnn.check(dnnl_stream_wait(c.stream), "waiting for a stream");
        } finally {
            idle.offer(c);
        }
    }

    /** @return a summary: primitives by kind and implementation, buffer sizes */
    String describe() {
        Map<String, Integer> impls = new TreeMap<>();
        int reorders = 0;
        for (Step s : steps) {
            if (s.tap != null) {
                continue;
            }
            if (s.label.startsWith("reorder")) {
                reorders++;
            }
            impls.merge(s.implementation, 1, Integer::sum);
        }
        long act = 0;
        for (long b : slotBytes) {
            act += b;
        }
        return String.format(java.util.Locale.ROOT,
                "%d primitives (%d reorders between layers, input reorder included), implementations %s; "
                        + "%d activation buffers, %.1f MB per concurrent caller",
                steps.size() - taps.size(), reorders, impls, slotBytes.length, (act + scratchBytes) / 1e6);
    }

    /** Frees the contexts and primitives. The caller guarantees no call is running. */
    void close() {
        for (Context c; (c = all.poll()) != null; ) {
            c.res.run();
        }
        idle.clear();
        owned.run();
    }

    private static int[] append(int[] a, int v) {
        int[] r = java.util.Arrays.copyOf(a, a.length + 1);
        r[a.length] = v;
        return r;
    }

    private static Object[] append(Object[] a, Object v) {
        Object[] r = java.util.Arrays.copyOf(a, a.length + 1);
        r[a.length] = v;
        return r;
    }
}
