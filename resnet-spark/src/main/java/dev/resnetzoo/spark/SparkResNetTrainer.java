package dev.resnetzoo.spark;

import dev.resnetzoo.core.ResNetSpec;
import dev.resnetzoo.core.ResNets;
import dev.resnetzoo.core.layers.LayerRuntime;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.spark.api.TrainingMaster;
import org.deeplearning4j.spark.impl.graph.SparkComputationGraph;
import org.nd4j.linalg.dataset.DataSet;

/**
 * Trains a ResNet of this project on Spark, through DL4J's {@link SparkComputationGraph} and a
 * DL4J training master ({@link ParameterAveraging} by default).
 *
 * <pre>{@code
 * SparkResNetTrainer trainer = SparkResNetTrainer.builder(sc, spec)
 *         .optTraining(new NeuralNetConfiguration.Builder().seed(42).updater(new Adam(1e-3)))
 *         .optParameterAveraging(new ParameterAveraging(4, 32, 5))
 *         .build();
 * ComputationGraph net = trainer.fit(rdd, 10, (epoch, graph, score) -> save(graph, epoch));
 * }</pre>
 *
 * <p>Each element of the RDD is one minibatch-sized {@code DataSet}; they should all hold the same
 * number of images ({@link #fitEpoch} reads it from the first). The graph's configuration,
 * with this project's layers and vertices, travels to the executors as DL4J's JSON and is rebuilt
 * there; each executor computes the layers with its own {@link LayerRuntime} (oneDNN on the CPU
 * backend unless {@code -Dresnet.runtime} is set in {@code spark.executor.extraJavaOptions}).
 * The network on the driver holds the averaged parameters and updater state after each epoch.
 */
public final class SparkResNetTrainer {

    /** Called on the driver after every epoch. */
    @FunctionalInterface
    public interface EpochCallback {
        /**
         * @param epoch the epoch just finished, from 1
         * @param graph the network on the driver, with the epoch's averaged parameters
         * @param score DL4J's mean training loss of the epoch's last averaging round
         * @throws Exception to stop training; {@link #fit} rethrows it wrapped
         */
        void afterEpoch(int epoch, ComputationGraph graph, double score) throws Exception;
    }

    private final JavaSparkContext sc;
    private final ComputationGraph graph;
    private final ParameterAveraging averaging;
    private final TrainingMaster<?, ?> customMaster;
    private final long seed;
    private SparkComputationGraph spark;
    private int examplesPerDataSet = -1;

    private SparkResNetTrainer(Builder b) {
        this.sc = b.sc;
        this.graph = b.graph != null ? b.graph
                : ResNets.create(b.spec, b.training != null ? b.training : new NeuralNetConfiguration.Builder());
        this.averaging = b.averaging;
        this.customMaster = b.master;
        this.seed = graph.getConfiguration().getDefaultConfiguration().getSeed();
    }

    /**
     * @param sc   the Spark context to train in
     * @param spec the architecture (ignored when {@link Builder#optGraph} gives a network)
     * @return a builder
     */
    public static Builder builder(JavaSparkContext sc, ResNetSpec spec) {
        return new Builder(Objects.requireNonNull(sc, "sc"), Objects.requireNonNull(spec, "spec"));
    }

    /** @return the network on the driver */
    public ComputationGraph graph() {
        return graph;
    }

    /** @return a line naming the Spark master and the training master, for logs */
    public String describe() {
        String master = customMaster != null ? customMaster.getClass().getSimpleName() : averaging.describe();
        return "Spark " + sc.version() + " master " + sc.master() + " (default parallelism " + sc.defaultParallelism()
                + "); training master: " + master;
    }

    /**
     * Trains {@code epochs} passes over {@code data}.
     *
     * @param data     minibatches; cache it if it is expensive to compute
     * @param epochs   passes, >= 1
     * @param callback called after each epoch, or null
     * @return the network on the driver
     * @throws IllegalArgumentException if {@code epochs < 1} or the RDD is empty
     * @throws IllegalStateException wrapping an exception from the callback
     */
    public ComputationGraph fit(JavaRDD<DataSet> data, int epochs, EpochCallback callback) {
        if (epochs < 1) {
            throw new IllegalArgumentException("epochs must be >= 1, got " + epochs);
        }
        for (int e = 1; e <= epochs; e++) {
            double score = fitEpoch(data);
            if (callback != null) {
                try {
                    callback.afterEpoch(e, graph, score);
                } catch (RuntimeException ex) {
                    throw ex;
                } catch (Exception ex) {
                    throw new IllegalStateException("epoch " + e + " callback failed: " + ex.getMessage(), ex);
                }
            }
        }
        return graph;
    }

    /** Same as {@code fit(data, epochs, null)}. */
    public ComputationGraph fit(JavaRDD<DataSet> data, int epochs) {
        return fit(data, epochs, null);
    }

    /**
     * One pass over {@code data}; the graph's epoch count goes up by one.
     *
     * @return DL4J's mean training loss of the pass's last averaging round
     * @throws IllegalArgumentException if the RDD is empty, or its DataSets differ in size from earlier epochs'
     */
    public double fitEpoch(JavaRDD<DataSet> data) {
        List<DataSet> first = data.take(1);
        if (first.isEmpty()) {
            throw new IllegalArgumentException("the training RDD is empty: expected minibatch DataSets");
        }
        int n = first.get(0).numExamples();
        if (spark == null) {
            examplesPerDataSet = n;
            TrainingMaster<?, ?> master = customMaster != null ? customMaster : averaging.create(n, seed, graph);
            spark = new SparkComputationGraph(sc, graph, master);
        } else if (n != examplesPerDataSet) {
            throw new IllegalArgumentException("the RDD's DataSets hold " + n + " images, earlier epochs' held "
                    + examplesPerDataSet + ": keep the minibatch size constant");
        }
        int epochBefore = graph.getEpochCount();
        spark.fit(data);
        if (graph.getEpochCount() == epochBefore) {
            graph.incrementEpochCount();
        }
        return spark.getScore();
    }

    /**
     * The layer runtime each executor computes with, asked from one task per partition of a small
     * job (for logs and tests).
     *
     * @param partitions tasks to run, >= 1 (use Spark's parallelism to reach every executor)
     * @return one {@code pid N: runtime} line per distinct executor JVM
     */
    public static List<String> executorRuntimes(JavaSparkContext sc, int partitions) {
        List<Integer> ids = new ArrayList<>();
        for (int i = 0; i < partitions; i++) {
            ids.add(i);
        }
        return sc.parallelize(ids, partitions).map(i -> "pid " + ProcessHandle.current().pid() + ": "
                + LayerRuntime.describe()).distinct().collect();
    }

    /** Builder of a {@link SparkResNetTrainer}. */
    public static final class Builder {
        private final JavaSparkContext sc;
        private final ResNetSpec spec;
        private NeuralNetConfiguration.Builder training;
        private ComputationGraph graph;
        private ParameterAveraging averaging = ParameterAveraging.DEFAULT;
        private TrainingMaster<?, ?> master;

        private Builder(JavaSparkContext sc, ResNetSpec spec) {
            this.sc = sc;
            this.spec = spec;
        }

        /** Updater, seed and data type of a new network (DL4J's defaults otherwise). */
        public Builder optTraining(NeuralNetConfiguration.Builder training) {
            this.training = Objects.requireNonNull(training, "training");
            return this;
        }

        /** Continues training this network (e.g. from a checkpoint) instead of building one from the spec. */
        public Builder optGraph(ComputationGraph graph) {
            this.graph = Objects.requireNonNull(graph, "graph");
            return this;
        }

        /** Parameter-averaging settings ({@link ParameterAveraging#DEFAULT} otherwise). */
        public Builder optParameterAveraging(ParameterAveraging averaging) {
            this.averaging = Objects.requireNonNull(averaging, "averaging");
            this.master = null;
            return this;
        }

        /** Any DL4J training master instead of parameter averaging, e.g. a {@code SharedTrainingMaster}. */
        public Builder optTrainingMaster(TrainingMaster<?, ?> master) {
            this.master = Objects.requireNonNull(master, "master");
            return this;
        }

        /** @return the trainer; the network is built now if none was given */
        public SparkResNetTrainer build() {
            return new SparkResNetTrainer(this);
        }
    }
}
