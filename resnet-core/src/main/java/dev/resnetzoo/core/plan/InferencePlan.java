package dev.resnetzoo.core.plan;

import dev.resnetzoo.core.ResNetSpec;
import dev.resnetzoo.core.onednn.OneDnn;
import java.lang.ref.Cleaner;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A ResNet compiled for inference: every convolution with its batch norm folded into weights and
 * bias, ReLU as a post-op, the residual add and its ReLU as a sum post-op of the block's last
 * convolution (the shortcut's buffer is the destination it accumulates into), the stem's max pool,
 * squeeze-and-excitation (global average pool, two 1x1 convolutions, a broadcast multiply fused
 * with the residual add), the global average pool and the classifier, all as oneDNN primitives
 * in the layouts oneDNN picks ({@code format_tag::any}) from the first layer to the last. A call
 * reorders the NCHW input once, and each requested output once; weights are reordered when a
 * shape is first compiled. This is the speed of an inference runtime (no DL4J graph, no per-layer
 * NCHW round trips) with the graph's numbers: in {@link Precision#FP32} the outputs equal the
 * graph's within the project's conformance tolerance.
 *
 * <pre>{@code
 * try (InferencePlan plan = InferencePlan.builder(graph).build()) {
 *     INDArray logits = plan.output(images);                                   // [N, classes]
 *     Map<String, INDArray> f = plan.output(images, List.of("layer3", "pool"));  // [N,C,H,W], [N,C]
 * }
 * }</pre>
 *
 * <p>Outputs ("taps") have the names of {@link dev.resnetzoo.core.Taps}: {@code stem},
 * {@code layer1}..{@code layerN}, {@code pool} ({@code [N, C]}) and {@code logits}. A call stops
 * after the last requested one.
 *
 * <p>The parameters are copied when the plan is built; changing the graph afterwards does not
 * change the plan. A program is compiled per (batch size, height, width) on first use and
 * cached. The plan is safe for concurrent callers: compiled primitives are shared and use a
 * user-managed scratchpad, and each concurrent call works in an execution context (activation
 * buffers, scratchpad, stream) of its own, taken from a lock-free pool. {@link #close()} releases
 * the native memory; a plan that is never closed releases it when it becomes unreachable.
 *
 * <p>CPU only (oneDNN's CPU engine, {@code org.bytedeco:dnnl}); {@link InferenceEngine} chooses
 * between a plan and the graph.
 */
public final class InferencePlan implements AutoCloseable {
    private static final Cleaner CLEANER = Cleaner.create();
    private static final int CLOSED = 1 << 30;

    /** What the cleaner frees; must not refer to the plan. */
    private static final class Resources implements Runnable {
        final Native weightMemory = new Native();
        final Map<List<Long>, Program> programs = new ConcurrentHashMap<>();

        @Override
        public void run() {
            programs.values().forEach(Program::close);
            programs.clear();
            weightMemory.run();
        }
    }

    private final Network network;
    private final Precision precision;
    private final Resources resources = new Resources();
    private final Weights weights = new Weights(resources.weightMemory);
    private final Cleaner.Cleanable cleanable;
    /** Calls in progress, plus {@link #CLOSED} once closed. */
    private final AtomicInteger state = new AtomicInteger();
    private final List<String> taps;

    private InferencePlan(Network network, Precision precision) {
        this.network = network;
        this.precision = precision;
        List<String> t = new ArrayList<>();
        t.add("stem");
        for (int s = 1; s <= network.stages().size(); s++) {
            t.add("layer" + s);
        }
        t.add("pool");
        if (network.classifier() != null) {
            t.add("logits");
        }
        this.taps = List.copyOf(t);
        this.cleanable = CLEANER.register(this, resources);
    }

    /**
     * @param graph a graph built by {@link dev.resnetzoo.core.ResNets} (pretrained, imported,
     *              fine-tuned or frozen)
     * @return a builder; defaults: {@link Precision#FP32}, structure read from the graph
     */
    public static Builder builder(ComputationGraph graph) {
        return new Builder(graph);
    }

    /** @return the precision the plan computes in */
    public Precision precision() {
        return precision;
    }

    /** @return the outputs the plan can produce, in network order: stem, layer1..layerN, pool, logits */
    public List<String> taps() {
        return taps;
    }

    /**
     * @param tap a tap name (any case)
     * @return whether the plan produces it
     */
    public boolean hasTap(String tap) {
        return taps.contains(tap.trim().toLowerCase(Locale.ROOT));
    }

    /**
     * @param input {@code [N, C, H, W]} network input (float32 or float64)
     * @return the logits {@code [N, classes]}
     * @throws IllegalArgumentException for an input of the wrong rank, channels or size
     * @throws IllegalStateException if the plan has no classifier or is closed
     */
    public INDArray output(INDArray input) {
        if (!taps.contains("logits")) {
            throw new IllegalStateException("this plan has no classifier (the graph has no layer 'fc'); ask for taps "
                    + String.join(", ", taps));
        }
        return output(input, List.of("logits")).get("logits");
    }

    /**
     * @param input {@code [N, C, H, W]} network input (float32 or float64)
     * @param names taps to return (see {@link #taps()})
     * @return tap name as given -> float32 array ({@code [N, C, H, W]}; {@code [N, C]} for {@code pool},
     *         {@code [N, classes]} for {@code logits}), in the order given
     * @throws IllegalArgumentException for an unknown tap or a bad input
     * @throws IllegalStateException if the plan is closed
     */
    public Map<String, INDArray> output(INDArray input, List<String> names) {
        Objects.requireNonNull(input, "input");
        if (names.isEmpty()) {
            throw new IllegalArgumentException("no taps given; valid taps: " + String.join(", ", taps));
        }
        Map<String, String> canonical = new LinkedHashMap<>();
        for (String n : names) {
            String c = n.trim().toLowerCase(Locale.ROOT);
            if (!taps.contains(c)) {
                throw new IllegalArgumentException("unknown tap '" + n + "'; valid taps: " + String.join(", ", taps));
            }
            canonical.put(n, c);
        }
        INDArray x = checkInput(input);
        acquire();
        try {
            Program p = program(x.size(0), (int) x.size(2), (int) x.size(3));
            Map<String, INDArray> byTap = new LinkedHashMap<>();
            Map<String, Long> addresses = new LinkedHashMap<>();
            try (MemoryWorkspace ws = Nd4j.getMemoryManager().scopeOutOfWorkspaces()) {
                for (String c : canonical.values()) {
                    if (!byTap.containsKey(c)) {
                        INDArray out = Nd4j.createUninitialized(DataType.FLOAT, p.shape(c));
                        byTap.put(c, out);
                        addresses.put(c, address(out));
                    }
                }
            }
            p.run(address(x), addresses);
            Map<String, INDArray> result = new LinkedHashMap<>();
            canonical.forEach((given, c) -> result.put(given, byTap.get(c)));
            return result;
        } finally {
            release();
        }
    }

    /**
     * Compiles (if not cached yet) the program for one input shape and describes it.
     *
     * @param batch  batch size
     * @param height input height
     * @param width  input width
     * @return the primitives, their implementations and the buffer sizes
     */
    public String describe(long batch, int height, int width) {
        acquire();
        try {
            return program(batch, height, width).describe();
        } finally {
            release();
        }
    }

    /**
     * Releases the plan's native memory (weights, primitives, execution contexts). Calls in
     * progress finish first; later calls throw {@link IllegalStateException}. Idempotent.
     */
    @Override
    public void close() {
        while (true) {
            int s = state.get();
            if ((s & CLOSED) != 0) {
                return;
            }
            if (state.compareAndSet(s, s | CLOSED)) {
                if (s == 0) {
                    cleanable.clean();
                }
                return;
            }
        }
    }

    private void acquire() {
        while (true) {
            int s = state.get();
            if ((s & CLOSED) != 0) {
                throw new IllegalStateException("the inference plan is closed");
            }
            if (state.compareAndSet(s, s + 1)) {
                return;
            }
        }
    }

    private void release() {
        if (state.decrementAndGet() == CLOSED) {
            cleanable.clean();
        }
    }

    private Program program(long n, int h, int w) {
        return resources.programs.computeIfAbsent(List.of(n, (long) h, (long) w),
                k -> new Program(network, weights, precision, n, h, w));
    }

    private INDArray checkInput(INDArray input) {
        long[] s = input.shape();
        int c = network.inChannels();
        if (s.length != 4 || s[1] != c || s[0] < 1) {
            throw new IllegalArgumentException("input must be [N, " + c + ", H, W], got " + Arrays.toString(s));
        }
        long min = network.stem() == dev.resnetzoo.core.StemKind.IMAGENET ? 4L << (network.stages().size() - 1)
                : 1L << (network.stages().size() - 1);
        if (s[2] < min || s[3] < min || s[2] > Integer.MAX_VALUE || s[3] > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("input " + s[2] + "x" + s[3] + " is smaller than the network's total stride: "
                    + "expected at least " + min + "x" + min);
        }
        if (input.dataType() != DataType.FLOAT) {
            input = input.castTo(DataType.FLOAT);
        }
        if (input.ordering() != 'c' || input.elementWiseStride() != 1 || input.isView()) {
            input = input.dup('c');
        }
        return input;
    }

    private static long address(INDArray a) {
        return a.data().address() + a.offset() * a.data().getElementSize();
    }

    /** Configures an {@link InferencePlan}. */
    public static final class Builder {
        private final ComputationGraph graph;
        private ResNetSpec spec;
        private Precision precision = Precision.FP32;

        private Builder(ComputationGraph graph) {
            this.graph = Objects.requireNonNull(graph, "graph");
        }

        /**
         * @param spec the depth table the graph was built from (default: read off the graph's layer names)
         * @return this
         */
        public Builder optSpec(ResNetSpec spec) {
            this.spec = Objects.requireNonNull(spec, "spec");
            return this;
        }

        /**
         * @param precision fp32 (default) or bf16
         * @return this
         */
        public Builder optPrecision(Precision precision) {
            this.precision = Objects.requireNonNull(precision, "precision");
            return this;
        }

        /**
         * Reads and folds the parameters; programs are compiled per input shape on first use.
         *
         * @return the plan
         * @throws IllegalArgumentException if the graph is not a ResNet of this project (naming the layer)
         * @throws UnsupportedOperationException if the CPU lacks the precision
         * @throws IllegalStateException if oneDNN is unavailable
         */
        public InferencePlan build() {
            if (!OneDnn.available()) {
                throw new IllegalStateException("oneDNN is not available: " + OneDnn.unavailableReason());
            }
            precision.requireSupported();
            PlanCompiler.Structure st = spec != null ? PlanCompiler.Structure.of(spec) : PlanCompiler.Structure.of(graph);
            return new InferencePlan(PlanCompiler.read(graph, st), precision);
        }
    }
}
