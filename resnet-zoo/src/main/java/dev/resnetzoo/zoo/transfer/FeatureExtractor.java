package dev.resnetzoo.zoo.transfer;

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
 * requested vertex. The graph is not modified.
 */
public final class FeatureExtractor {

    private final ComputationGraph graph;
    private final int batchSize;
    private final boolean pooled;

    private FeatureExtractor(Builder b) {
        this.graph = b.graph;
        this.batchSize = b.batchSize;
        this.pooled = b.pooled;
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
        long n = input.size(0);
        List<List<INDArray>> parts = new ArrayList<>();
        for (int i = 0; i < taps.size(); i++) {
            parts.add(new ArrayList<>());
        }
        for (long from = 0; from < n; from += batchSize) {
            long to = Math.min(n, from + batchSize);
            INDArray batch = n <= batchSize ? input
                    : input.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(from, to)).dup();
            Map<String, INDArray> acts = stopLayer >= 0 ? graph.feedForward(new INDArray[] {batch}, stopLayer, false)
                    : graph.feedForward(new INDArray[] {batch}, false);
            for (int i = 0; i < vertices.size(); i++) {
                parts.get(i).add(postprocess(acts.get(vertices.get(i))));
            }
        }
        Map<String, INDArray> out = new LinkedHashMap<>();
        for (int i = 0; i < taps.size(); i++) {
            List<INDArray> p = parts.get(i);
            out.put(taps.get(i), p.size() == 1 ? p.get(0) : Nd4j.concat(0, p.toArray(INDArray[]::new)));
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

        private Builder(ComputationGraph graph) {
            this.graph = Objects.requireNonNull(graph, "graph");
        }

        /** @param batchSize images per forward pass (>= 1) @return this */
        public Builder optBatchSize(int batchSize) {
            if (batchSize < 1) {
                throw new IllegalArgumentException("batch size must be >= 1, got " + batchSize);
            }
            this.batchSize = batchSize;
            return this;
        }

        /** @param pooled average feature maps over H and W, giving [N, C] for every tap @return this */
        public Builder optPooled(boolean pooled) {
            this.pooled = pooled;
            return this;
        }

        /** @return the extractor */
        public FeatureExtractor build() {
            return new FeatureExtractor(this);
        }
    }
}
