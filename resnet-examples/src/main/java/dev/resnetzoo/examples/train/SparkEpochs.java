package dev.resnetzoo.examples.train;

import dev.resnetzoo.examples.data.FashionMnistIterator;
import dev.resnetzoo.examples.metrics.EpochMetrics;
import dev.resnetzoo.spark.ParameterAveraging;
import dev.resnetzoo.spark.SparkMasters;
import dev.resnetzoo.spark.SparkResNetTrainer;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongSupplier;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.dataset.DataSet;

/**
 * The epochs of a {@link Trainer} run on Spark. The driver reads and augments the epoch's
 * minibatches exactly as single-machine training does (same order, same mirroring), cuts each into
 * worker minibatches, and hands them to Spark as an RDD with one partition per worker; DL4J's
 * parameter averaging trains on the executors, and the averaged network comes back to the driver,
 * which evaluates and checkpoints it.
 */
final class SparkEpochs implements Epochs {

    private final JavaSparkContext sc;
    private final SparkResNetTrainer trainer;
    private final ParameterAveraging averaging;
    private final ComputationGraph graph;
    private final LongSupplier clock;

    private SparkEpochs(JavaSparkContext sc, SparkResNetTrainer trainer, ParameterAveraging averaging,
                        ComputationGraph graph, LongSupplier clock) {
        this.sc = sc;
        this.trainer = trainer;
        this.averaging = averaging;
        this.graph = graph;
        this.clock = clock;
    }

    static SparkEpochs start(SparkSettings settings, TrainConfig config, ComputationGraph graph, PrintStream out,
                             LongSupplier clock) {
        JavaSparkContext sc = SparkMasters.context(settings.master(), "resnet train " + config.arch());
        try {
            sc.setLogLevel("WARN");
            ParameterAveraging averaging = settings.averaging(sc.defaultParallelism(), config.batch());
            SparkResNetTrainer trainer = SparkResNetTrainer.builder(sc, config.spec()).optGraph(graph)
                    .optParameterAveraging(averaging).build();
            out.println("spark: " + trainer.describe());
            out.println("spark executors: " + String.join("; ",
                    SparkResNetTrainer.executorRuntimes(sc, Math.max(averaging.workers(), sc.defaultParallelism()))));
            return new SparkEpochs(sc, trainer, averaging, graph, clock);
        } catch (RuntimeException e) {
            sc.close();
            throw e;
        }
    }

    /**
     * One epoch; the train loss is DL4J's score of the last averaging round, the train accuracy is
     * not measured, and the batch norms keep the averaged running statistics.
     */
    @Override
    public EpochMetrics trainEpoch(TrainConfig config, FashionMnistIterator train, FashionMnistIterator test, int epoch) {
        long start = clock.getAsLong();
        List<DataSet> minibatches = new ArrayList<>();
        int seen = 0;
        for (int b = 0; train.hasNext(); b++) {
            DataSet batch = train.next();
            batch.setFeatures(config.augment().apply(batch.getFeatures(), config.seed(), train.epoch(), b));
            seen += batch.numExamples();
            minibatches.addAll(batch.batchBy(averaging.batchPerWorker()));
        }
        JavaRDD<DataSet> rdd = sc.parallelize(minibatches, averaging.workers());
        double score = trainer.fitEpoch(rdd); // DL4J advances the driver's iteration and epoch counts
        double seconds = (clock.getAsLong() - start) / 1e9;
        TestEvaluation t = TestEvaluation.of(graph, test);
        return new EpochMetrics(epoch, score, Double.NaN, t.loss(), t.accuracy(), seen / seconds, seconds);
    }

    @Override
    public void close() {
        sc.close();
    }
}
