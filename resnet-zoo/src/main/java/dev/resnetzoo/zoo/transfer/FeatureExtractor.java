package dev.resnetzoo.zoo.transfer;

import dev.resnetzoo.core.Taps;
import dev.resnetzoo.core.plan.InferenceEngine;
import dev.resnetzoo.core.plan.InferencePlan;
import dev.resnetzoo.core.plan.Precision;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.graph.vertex.GraphVertex;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Reads features out of a graph built by {@link dev.resnetzoo.core.ResNets} at named {@link Taps}:
 * {@code stem}, {@code layer1}..{@code layerN}, {@code pool}, {@code logits}, or any vertex.
 *
 * <pre>{@code
 * FeatureExtractor fx = FeatureExtractor.builder(graph).optBatchSize(16).build();
 * INDArray pooled = fx.extract(images, "pool");                        // [N, C]
 * INDArray maps = fx.extract(images, "layer3");                        // [N, C, H, W]
 * INDArray pooled3 = FeatureExtractor.builder(graph).optPooled(true).build().extract(images, "layer3"); // [N, C]
 * }</pre>
 *
 * The forward pass runs in inference mode (batch norm uses its running statistics) and stops at the
 * requested tap. The graph is not modified.
 *
 * <p><b>Engine.</b> On the CPU backend the named taps are computed by an {@link InferencePlan}
 * compiled from the graph on first use (see {@link InferenceEngine}; {@code optEngine(GRAPH)} or
 * {@code -Dresnet.engine=graph} switch back); vertex names other than the taps, and the CUDA
 * backend, use the graph. The plan copies the parameters when it is compiled: build a new extractor
 * after changing the graph's weights. {@link #close()} releases the plan's native memory.
 */
public final class FeatureExtractor implements AutoCloseable {

    private final ComputationGraph graph;
    private final int batchSize;
    private final boolean pooled;
    private final InferenceEngine engine;
    private final boolean engineRequested;
    private final Precision precision;
    private InferencePlan plan;
    private String planFailure;

    private FeatureExtractor(Builder b) {
        this.graph = b.graph;
        this.batchSize = b.batchSize;
        this.pooled = b.pooled;
        this.engineRequested = b.engine != null;
        this.precision = b.precision;
        this.engine = InferenceEngine.resolve(b.engine);
        if (engine == InferenceEngine.GRAPH && precision != Precision.FP32) {
            throw new IllegalArgumentException("precision " + precision + " needs the plan engine; the graph computes in "
                    + "its own data type");
        }
    }

    /**
     * @return the engine named taps are computed by: {@link InferenceEngine#PLAN} unless the graph was
     *         chosen, the backend is not the CPU, or the graph could not be compiled into a plan
     */
    public InferenceEngine engine() {
        return engine == InferenceEngine.PLAN && planFailure == null ? InferenceEngine.PLAN : InferenceEngine.GRAPH;
    }

    /** @return a line saying which engine runs (and why the graph, if the plan could not be compiled) */
    public String describeEngine() {
        if (engine == InferenceEngine.PLAN && planFailure != null) {
            return "inference engine: graph (the graph could not be compiled into a plan: " + planFailure + ")";
        }
        return engine.describe(precision);
    }

    /** Releases the plan's native memory, if one was compiled. The extractor stays usable (it compiles again). */
    @Override
    public synchronized void close() {
        if (plan != null) {
            plan.close();
            plan = null;
        }
    }

    /** The plan, compiled on first use; null when the graph runs instead. */
    private synchronized InferencePlan plan() {
        if (engine != InferenceEngine.PLAN || planFailure != null) {
            return null;
        }
        if (plan == null) {
            try {
                plan = InferencePlan.builder(graph).optPrecision(precision).build();
            } catch (IllegalArgumentException e) {
                if (engineRequested) {
                    throw e;
                }
                planFailure = e.getMessage();
                return null;
            }
        }
        return plan;
    }

    /**
     * @param graph a ResNets graph (any variant, pretrained or not, frozen or not)
     * @return a builder; defaults: batch size 32, feature maps not pooled
     */
    public static Builder builder(ComputationGraph graph) {
        return new Builder(graph);
    }

    /** @return the named taps of the graph, in network order */
    public List<String> taps() {
        return Taps.names(graph);
    }

    /** @return the graph features are read from */
    public ComputationGraph graph() {
        return graph;
    }

    /**
     * @param input [N, C, H, W] network input
     * @param tap   a tap ({@link Taps}) or vertex name
     * @return the features, [N, C] for {@code pool}, {@code logits} and pooled maps, else [N, C, H, W]
     * @throws IllegalArgumentException for an unknown tap (the message lists the valid ones)
     */
    public INDArray extract(INDArray input, String tap) {
        return extract(input, List.of(tap)).values().iterator().next();
    }

    /**
     * Extracts several taps in one forward pass per batch.
     *
     * @param input [N, C, H, W] network input
     * @param taps  taps or vertex names
     * @return tap name as given -> features, in the order given
     */
    public Map<String, INDArray> extract(INDArray input, List<String> taps) {
        Objects.requireNonNull(input, "input");
        if (taps.isEmpty()) {
            throw new IllegalArgumentException("no taps given; valid taps: " + String.join(", ", taps()));
        }
        if (input.rank() != 4) {
            throw new IllegalArgumentException("input must be [N, C, H, W], got shape "
                    + java.util.Arrays.toString(input.shape()));
        }
        List<String> canonical = new ArrayList<>();
        for (String t : taps) {
            canonical.add(Taps.canonical(graph, t));
        }
        InferencePlan compiled = plan();
        if (compiled != null && canonical.stream().allMatch(compiled::hasTap)) {
            return inBatches(input, taps, canonical, batch -> compiled.output(batch, canonical));
        }
        List<String> vertices = new ArrayList<>();
        int[] topo = graph.topologicalSortOrder();
        int[] position = new int[topo.length];
        for (int i = 0; i < topo.length; i++) {
            position[topo[i]] = i;
        }
        GraphVertex last = null;
        for (String t : taps) {
            GraphVertex v = graph.getVertex(Taps.vertex(graph, t));
            vertices.add(v.getVertexName());
            if (last == null || position[v.getVertexIndex()] > position[last.getVertexIndex()]) {
                last = v;
            }
        }
        // feedForward(input, layerIndex, train) stops after the layer with that index in getLayers()
        int stopLayer = -1;
        if (last.hasLayer()) {
            org.deeplearning4j.nn.api.Layer[] layers = graph.getLayers();
            for (int i = 0; i < layers.length; i++) {
                if (layers[i] == last.getLayer()) {
                    stopLayer = i;
                }
            }
        }
        int stop = stopLayer;
        return inBatches(input, taps, vertices, batch -> stop >= 0
                ? graph.feedForward(new INDArray[] {batch}, stop, false)
                : graph.feedForward(new INDArray[] {batch}, false));
    }

    /**
     * Runs {@code run} over {@code input} in batches of {@link #batchSize} and joins, for each tap,
     * the post-processed output it returned under that tap's key.
     */
    private Map<String, INDArray> inBatches(INDArray input, List<String> taps, List<String> keys,
                                            java.util.function.Function<INDArray, Map<String, INDArray>> run) {
        long n = input.size(0);
        List<List<INDArray>> parts = new ArrayList<>();
        for (int i = 0; i < taps.size(); i++) {
            parts.add(new ArrayList<>());
        }
        for (long from = 0; from < n; from += batchSize) {
            long to = Math.min(n, from + batchSize);
            INDArray batch = n <= batchSize ? input
                    : input.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(from, to)).dup();
            Map<String, INDArray> acts = run.apply(batch);
            for (int i = 0; i < taps.size(); i++) {
                parts.get(i).add(postprocess(acts.get(keys.get(i))));
            }
        }
        Map<String, INDArray> out = new LinkedHashMap<>();
        for (int i = 0; i < taps.size(); i++) {
            List<INDArray> part = parts.get(i);
            out.put(taps.get(i), part.size() == 1 ? part.get(0) : Nd4j.concat(0, part.toArray(INDArray[]::new)));
        }
        return out;
    }

    /**
     * Featurizes a whole data set: the features at {@code tap} with the data set's labels.
     *
     * @param data images and labels (reset before use)
     * @param tap  a tap or vertex name
     * @return one data set holding all examples
     */
    public DataSet featurize(DataSetIterator data, String tap) {
        Taps.vertex(graph, tap);
        List<INDArray> features = new ArrayList<>();
        List<INDArray> labels = new ArrayList<>();
        if (data.resetSupported()) {
            data.reset();
        }
        while (data.hasNext()) {
            DataSet ds = data.next();
            features.add(extract(ds.getFeatures(), tap));
            labels.add(ds.getLabels());
        }
        if (features.isEmpty()) {
            throw new IllegalArgumentException("the data set is empty");
        }
        return new DataSet(Nd4j.concat(0, features.toArray(INDArray[]::new)),
                Nd4j.concat(0, labels.toArray(INDArray[]::new)));
    }

    private INDArray postprocess(INDArray a) {
        if (pooled && a.rank() == 4) {
            return a.mean(2, 3);
        }
        return a;
    }

    /** Configures a {@link FeatureExtractor}. */
    public static final class Builder {
        private final ComputationGraph graph;
        private int batchSize = 32;
        private boolean pooled;
        private InferenceEngine engine;
        private Precision precision = Precision.FP32;

        private Builder(ComputationGraph graph) {
            this.graph = Objects.requireNonNull(graph, "graph");
        }

        /**

         * @param batchSize images per forward pass (>= 1)

         * @return this

         */
        public Builder optBatchSize(int batchSize) {
            if (batchSize < 1) {
                throw new IllegalArgumentException("batch size must be >= 1, got " + batchSize);
            }
            this.batchSize = batchSize;
            return this;
        }

        /**

         * @param pooled average feature maps over H and W, giving [N, C] for every tap

         * @return this

         */
        public Builder optPooled(boolean pooled) {
            this.pooled = pooled;
            return this;
        }

        /**
         * @param engine {@link InferenceEngine#PLAN} or {@link InferenceEngine#GRAPH}; null (default) for
         *               the property {@code resnet.engine}, else the plan on CPU and the graph elsewhere
         * @return this
         */
        public Builder optEngine(InferenceEngine engine) {
            this.engine = engine;
            return this;
        }

        /**
         * @param precision the plan's precision (default fp32; bf16 needs AVX512-BF16 and the plan engine)
         * @return this
         */
        public Builder optPrecision(Precision precision) {
            this.precision = Objects.requireNonNull(precision, "precision");
            return this;
        }

        /**
         * @return the extractor
         * @throws IllegalStateException if the plan engine is requested where it cannot run
         */
        public FeatureExtractor build() {
            return new FeatureExtractor(this);
        }
    }
}
