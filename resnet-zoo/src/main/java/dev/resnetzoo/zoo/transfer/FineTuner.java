package dev.resnetzoo.zoo.transfer;

import dev.resnetzoo.core.ResNets;
import dev.resnetzoo.core.Taps;
import dev.resnetzoo.core.layers.ParameterCopy;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import org.deeplearning4j.datasets.iterator.utilty.ListDataSetIterator;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.graph.vertex.GraphVertex;
import org.deeplearning4j.nn.layers.FrozenLayer;
import org.deeplearning4j.nn.transferlearning.FineTuneConfiguration;
import org.deeplearning4j.nn.transferlearning.TransferLearning;
import org.nd4j.evaluation.classification.Evaluation;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.INDArrayIndex;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;

/**
 * Transfer learning on a graph built by {@link ResNets}: freezes the backbone through a stage,
 * replaces the classifier, trains either end to end (frozen part in inference mode) or, much faster,
 * on features computed once at the freeze point, and keeps everything in one
 * {@link ComputationGraph} ready for prediction.
 *
 * <pre>{@code
 * FineTuner ft = FineTuner.builder(Pretrained.builder().build().load("resnet50"))
 *         .optNumClasses(5)               // new fc with 5 outputs (the softmax loss layer is kept)
 *         .optFreezeThrough("pool")        // stem..layer4 and the pool frozen: train the head only
 *         .optUpdater(new Adam(1e-3))
 *         .build();
 * DataSet feats = ft.featurize(train, FeatureCache.at(dir), "my-images-v1"); // computed once, cached
 * ft.fitFeaturized(feats, 20);           // trains only the unfrozen part, writes it back
 * ComputationGraph model = ft.graph();   // the full network with the trained head
 * }</pre>
 *
 * <h2>Freezing</h2>
 * {@link Builder#optFreezeThrough(String) optFreezeThrough("layer3")} freezes the tap's vertex and
 * every vertex it depends on (stem, layer1..layer3) with DL4J's
 * {@code TransferLearning.GraphBuilder.setFeatureExtractor}. Frozen layers become
 * {@link FrozenLayer}s: they get no gradient and no updates, and always run in inference mode, so
 * their batch norms normalise with, and never update, their running mean and variance. Unfrozen
 * batch norms (layer4 here) train as usual.
 */
public final class FineTuner {

    private final ComputationGraph graph;
    private final String freezeVertex;
    private final String freezeTap;
    private final long seed;
    private final int batchSize;
    private ComputationGraph head;

    private FineTuner(Builder b) {
        ComputationGraph source = b.graph;
        if (b.freezeThrough != null) {
            this.freezeVertex = Taps.vertex(source, b.freezeThrough);
            this.freezeTap = Taps.canonical(source, b.freezeThrough);
            if (freezeVertex.equals(ResNets.CLASSIFIER) || freezeVertex.equals(ResNets.OUTPUT)) {
                throw new IllegalArgumentException("cannot freeze through '" + b.freezeThrough
                        + "': nothing would be left to train; valid freeze points: "
                        + String.join(", ", Taps.names(source).stream().filter(t -> !t.equals("logits")).toList())
                        + " or none");
            }
        } else {
            this.freezeVertex = null;
            this.freezeTap = null;
        }
        this.seed = b.seed;
        this.batchSize = b.batchSize;
        Layer fc = source.getLayer(ResNets.CLASSIFIER);
        ComputationGraph start = source;
        if (b.numClasses > 0) {
            if (fc == null) {
                throw new IllegalArgumentException("the graph has no classifier vertex '" + ResNets.CLASSIFIER
                        + "' to replace; is it a ResNets graph?");
            }
            if (fc.getParam("b").length() != b.numClasses || b.resetClassifier) {
                start = ResNets.replaceClassifier(source, b.numClasses, seed);
            }
        }
        Nd4j.getRandom().setSeed(seed);
        FineTuneConfiguration ftc = new FineTuneConfiguration.Builder().updater(b.updater).seed(seed).build();
        TransferLearning.GraphBuilder tl = new TransferLearning.GraphBuilder(start).fineTuneConfiguration(ftc);
        if (freezeVertex != null) {
            tl.setFeatureExtractor(freezeVertex);
        }
        this.graph = tl.build();
        ParameterCopy.copy(start, graph, null);
        if (start != source) {
            start.close();
        }
    }

    /**
     * @param graph a ResNets graph (any variant, pretrained or not); it is not modified
     * @return a builder; defaults: freeze through {@code pool} (train the classifier only), keep the
     *         classifier, Adam 1e-3, seed 42, batch size 32
     */
    public static Builder builder(ComputationGraph graph) {
        return new Builder(graph);
    }

    /** @return the full network: frozen backbone, trainable rest, (new) classifier and loss layer */
    public ComputationGraph graph() {
        return graph;
    }

    /** @return the canonical tap frozen through (e.g. {@code layer3}), empty if nothing is frozen */
    public Optional<String> frozenThrough() {
        return Optional.ofNullable(freezeTap);
    }

    /** @return names of the frozen layers, in topological order */
    public List<String> frozenLayers() {
        List<String> out = new ArrayList<>();
        for (int idx : graph.topologicalSortOrder()) {
            GraphVertex v = graph.getVertices()[idx];
            if (v.hasLayer() && v.getLayer() instanceof FrozenLayer) {
                out.add(v.getVertexName());
            }
        }
        return out;
    }

    /**
     * Trains the whole graph end to end on images (frozen layers get no updates and run in inference mode).
     *
     * @param data   images and one-hot labels
     * @param epochs passes over the data
     */
    public void fit(DataSetIterator data, int epochs) {
        checkEpochs(epochs);
        graph.fit(data, epochs);
    }

    /**
     * Computes, once, the output of the frozen part for every example.
     *
     * @param data images and one-hot labels
     * @return features at the freeze point ([N, C] for {@code pool}) with the labels
     * @throws IllegalStateException if nothing is frozen
     */
    public DataSet featurize(DataSetIterator data) {
        requireFrozen();
        return FeatureExtractor.builder(graph).optBatchSize(batchSize).build().featurize(data, freezeVertex);
    }

    /**
     * Like {@link #featurize(DataSetIterator)}, but reads the features from {@code cache} when it
     * has them for this model, freeze point and {@code dataKey}, and stores them there otherwise.
     *
     * @param data    images and one-hot labels (not read on a cache hit)
     * @param cache   where features are kept
     * @param dataKey identifies the data and its preprocessing (e.g. file list with sizes and dates)
     * @return the features with the labels
     * @throws IOException if the cache cannot be read or written
     */
    public DataSet featurize(DataSetIterator data, FeatureCache cache, String dataKey) throws IOException {
        requireFrozen();
        String key = FeatureCache.key(graph, freezeVertex, dataKey);
        Optional<DataSet> hit = cache.load(key);
        if (hit.isPresent()) {
            return hit.get();
        }
        DataSet ds = featurize(data);
        cache.save(key, ds);
        return ds;
    }

    /**
     * Trains only the unfrozen part (everything after the freeze point) on featurized data, then
     * writes its parameters back into {@link #graph()}.
     *
     * @param featurized output of {@link #featurize}
     * @param epochs     passes over the data (shuffled with the seed each epoch)
     */
    public void fitFeaturized(DataSet featurized, int epochs) {
        checkEpochs(epochs);
        ComputationGraph head = head();
        java.util.Random rnd = new java.util.Random(seed);
        int n = featurized.numExamples();
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            order.add(i);
        }
        for (int e = 0; e < epochs; e++) {
            java.util.Collections.shuffle(order, rnd);
            for (int from = 0; from < n; from += batchSize) {
                long[] idx = order.subList(from, Math.min(n, from + batchSize)).stream().mapToLong(Integer::longValue).toArray();
                INDArrayIndex rows = NDArrayIndex.indices(idx);
                INDArray f = featurized.getFeatures();
                INDArray x = f.rank() == 2 ? f.get(rows, NDArrayIndex.all())
                        : f.get(rows, NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.all());
                head.fit(new DataSet(x.dup(), featurized.getLabels().get(rows, NDArrayIndex.all()).dup()));
            }
        }
        copyHeadToGraph(head);
    }

    /**
     * @param featurized output of {@link #featurize}
     * @return classification metrics of the unfrozen part on these features
     */
    public Evaluation evaluateFeaturized(DataSet featurized) {
        return head().evaluate(new ListDataSetIterator<>(featurized.asList(), batchSize));
    }

    /**
     * @param data images and one-hot labels
     * @return classification metrics of the full graph
     */
    public Evaluation evaluate(DataSetIterator data) {
        return graph.evaluate(data);
    }

    /** @return the unfrozen part as its own graph, whose input is the freeze point's output */
    public ComputationGraph head() {
        requireFrozen();
        if (head == null) {
            head = unfrozenPart();
            ParameterCopy.copy(graph, head, null);
            List<String> inputs = head.getConfiguration().getNetworkInputs();
            if (!inputs.equals(List.of(freezeVertex))) {
                throw new IllegalStateException("the unfrozen part of the graph takes " + inputs + ", expected only "
                        + freezeVertex);
            }
        }
        return head;
    }

    /**
     * The graph minus the freeze point and everything it depends on, with the freeze point's name as
     * its input. DL4J's {@code TransferLearningHelper} does this only when the freeze point is a
     * layer (it takes a frozen parameter-free vertex, such as a block's add + ReLU, for unfrozen).
     */
    private ComputationGraph unfrozenPart() {
        var vertexInputs = graph.getConfiguration().getVertexInputs();
        java.util.Set<String> frozen = new java.util.HashSet<>();
        java.util.ArrayDeque<String> todo = new java.util.ArrayDeque<>(List.of(freezeVertex));
        while (!todo.isEmpty()) {
            String v = todo.pop();
            if (frozen.add(v)) {
                todo.addAll(vertexInputs.getOrDefault(v, List.of()));
            }
        }
        frozen.removeAll(graph.getConfiguration().getNetworkInputs());
        TransferLearning.GraphBuilder b = new TransferLearning.GraphBuilder(graph);
        for (String v : frozen) {
            if (v.equals(freezeVertex)) {
                b.removeVertexKeepConnections(v);
            } else {
                b.removeVertexAndConnections(v);
            }
        }
        return b.setInputs(freezeVertex).build();
    }

    private void copyHeadToGraph(ComputationGraph head) {
        ParameterCopy.copy(head, graph, null);
    }

    private void requireFrozen() {
        if (freezeVertex == null) {
            throw new IllegalStateException("nothing is frozen: featurized training needs optFreezeThrough(tap), one of "
                    + String.join(", ", Taps.names(graph)));
        }
    }

    private static void checkEpochs(int epochs) {
        if (epochs < 1) {
            throw new IllegalArgumentException("epochs must be >= 1, got " + epochs);
        }
    }

    /** Configures a {@link FineTuner}. */
    public static final class Builder {
        private final ComputationGraph graph;
        private String freezeThrough = "pool";
        private int numClasses;
        private boolean resetClassifier;
        private IUpdater updater = new Adam(1e-3);
        private long seed = 42;
        private int batchSize = 32;

        private Builder(ComputationGraph graph) {
            this.graph = Objects.requireNonNull(graph, "graph");
        }

        /**
         * @param tap freeze this tap's vertex and everything before it: {@code stem},
         *            {@code layer1}..{@code layerN}, {@code pool} (default: train the classifier only),
         *            a vertex name, or {@code null}/{@code "none"} to freeze nothing
         * @return this
         */
        public Builder optFreezeThrough(String tap) {
            this.freezeThrough = tap == null || tap.trim().toLowerCase(Locale.ROOT).equals("none") ? null : tap;
            return this;
        }

        /**

         * @param numClasses outputs of a new classifier ({@code fc}); 0 keeps the current one

         * @return this

         */
        public Builder optNumClasses(int numClasses) {
            if (numClasses < 0) {
                throw new IllegalArgumentException("number of classes must be >= 1 (or 0 to keep), got " + numClasses);
            }
            this.numClasses = numClasses;
            return this;
        }

        /**

         * @param reset re-initialise the classifier even if it already has optNumClasses outputs

         * @return this

         */
        public Builder optResetClassifier(boolean reset) {
            this.resetClassifier = reset;
            return this;
        }

        /**

         * @param updater updater of the trainable layers

         * @return this

         */
        public Builder optUpdater(IUpdater updater) {
            this.updater = Objects.requireNonNull(updater, "updater");
            return this;
        }

        /**

         * @param seed seed of the new classifier's initialisation and the shuffling

         * @return this

         */
        public Builder optSeed(long seed) {
            this.seed = seed;
            return this;
        }

        /**

         * @param batchSize batch size of featurizing and featurized training

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
         * @return the fine-tuner, with its graph built
         * @throws IllegalArgumentException for an unknown tap (listing the valid ones)
         */
        public FineTuner build() {
            return new FineTuner(this);
        }
    }
}
