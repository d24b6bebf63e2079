package dev.resnetzoo.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.resnetzoo.core.ResNets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.evaluation.classification.Evaluation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.schedule.ISchedule;
import org.nd4j.linalg.schedule.MapSchedule;
import org.nd4j.linalg.schedule.ScheduleType;

/** Training on {@code local[2]}: two worker threads in this JVM, DL4J's parameter averaging. */
class SparkResNetTrainerTest {

    private static JavaSparkContext sc;

    @BeforeAll
    static void start() {
        sc = SparkMasters.context("local[2]", "resnet-spark-test");
    }

    @AfterAll
    static void stop() {
        if (sc != null) {
            sc.close();
        }
    }

    private static NeuralNetConfiguration.Builder adam() {
        return new NeuralNetConfiguration.Builder().seed(7).updater(new Adam(3e-3)).dataType(DataType.FLOAT);
    }

    static double accuracy(ComputationGraph g, List<DataSet> test) {
        Evaluation e = new Evaluation(Stripes.CLASSES);
        for (DataSet d : test) {
            e.eval(d.getLabels(), g.outputSingle(false, d.getFeatures()));
        }
        return e.accuracy();
    }

    @Test
    void trainsTheNetworkOnTheDriverFromWorkersUpdates() {
        List<DataSet> train = Stripes.batches(40, 16, 1);
        List<DataSet> test = Stripes.batches(8, 32, 2);
        JavaRDD<DataSet> rdd = sc.parallelize(train, 2).cache();
        SparkResNetTrainer trainer = SparkResNetTrainer.builder(sc, Stripes.spec()).optTraining(adam())
                .optParameterAveraging(new ParameterAveraging(2, 16, 2)).build();
        ComputationGraph g = trainer.graph();
        double before = accuracy(g, test);
        INDArray initial = g.params().dup();
        List<Double> scores = new ArrayList<>();
        List<Integer> epochs = new ArrayList<>();
        trainer.fit(rdd, 4, (epoch, graph, score) -> {
            assertTrue(graph == g, "the callback sees the driver's network");
            epochs.add(epoch);
            scores.add(score);
        });
        double after = accuracy(g, test);
        System.out.println("stripes test accuracy " + before + " -> " + after + ", scores " + scores);
        assertEquals(List.of(1, 2, 3, 4), epochs);
        assertEquals(4, g.getEpochCount());
        assertFalse(initial.equalsWithEps(g.params(), 1e-6), "the averaged parameters reached the driver's network");
        assertTrue(scores.stream().allMatch(s -> Double.isFinite(s) && s > 0), "scores " + scores);
        assertTrue(after >= 0.85 && after > before + 0.3, "test accuracy " + before + " -> " + after);
        assertTrue(g.getUpdater().getStateViewArray().amaxNumber().doubleValue() > 0, "Adam state averaged back");
    }

    @Test
    void learningRateScheduleFollowsTheIterationsDoneOnTheWorkers() {
        // 8 minibatches on 2 workers averaging every minibatch: 4 steps per worker and epoch. The
        // rate drops to 0 from iteration 4 on, so a second epoch must leave the parameters alone.
        ISchedule stopAfterFirstEpoch = new MapSchedule(ScheduleType.ITERATION, Map.of(0, 3e-3, 4, 0.0));
        SparkResNetTrainer trainer = SparkResNetTrainer.builder(sc, Stripes.spec())
                .optTraining(new NeuralNetConfiguration.Builder().seed(7).updater(new Adam(stopAfterFirstEpoch)))
                .optParameterAveraging(new ParameterAveraging(2, 16, 1)).build();
        JavaRDD<DataSet> rdd = sc.parallelize(Stripes.batches(8, 16, 4), 2);
        ComputationGraph g = trainer.graph();
        // A weight, not params(): that also holds the batch norms' running statistics, which move at any rate.
        INDArray initial = g.getLayer("fc").getParam("W").dup();
        trainer.fitEpoch(rdd);
        INDArray afterFirst = g.getLayer("fc").getParam("W").dup();
        assertEquals(4, g.getIterationCount());
        trainer.fitEpoch(rdd);
        assertEquals(8, g.getIterationCount());
        assertFalse(initial.equalsWithEps(afterFirst, 1e-6), "epoch 1 trains");
        double moved = afterFirst.sub(g.getLayer("fc").getParam("W")).norm2Number().doubleValue();
        // (averaging float parameters rounds: 6e-7 here, against 1.5 without the workers' iteration counts)
        assertEquals(0.0, moved, 1e-5, "epoch 2 ran at learning rate 0");
    }

    @Test
    void executorsRebuildTheCustomLayersFromJsonAndRunThemOnOneDnn() {
        // What DL4J broadcasts: the configuration as JSON, rebuilt on each worker.
        ComputationGraph g = ResNets.create(Stripes.spec(), adam());
        String json = g.getConfiguration().toJson();
        assertTrue(json.contains("NativeConvolution") && json.contains("NativeBatchNorm")
                && json.contains("ChannelScaleVertex"), "the JSON names this project's layers");
        ComputationGraph rebuilt = new ComputationGraph(ComputationGraphConfiguration.fromJson(json));
        rebuilt.init(g.params().dup(), false);
        INDArray x = Stripes.batches(1, 4, 3).get(0).getFeatures();
        assertTrue(g.outputSingle(false, x).equalsWithEps(rebuilt.outputSingle(false, x), 1e-6));

        List<String> runtimes = SparkResNetTrainer.executorRuntimes(sc, 4);
        assertFalse(runtimes.isEmpty());
        assertTrue(runtimes.stream().allMatch(r -> r.contains("oneDNN")), runtimes.toString());
    }

    @Test
    void describesBothMasters() {
        SparkResNetTrainer t = SparkResNetTrainer.builder(sc, Stripes.spec())
                .optParameterAveraging(new ParameterAveraging(2, 16, 3)).build();
        assertTrue(t.describe().contains("master local[2]"), t.describe());
        assertTrue(t.describe().contains("2 workers, batch 16 per worker, averaged every 3 minibatches"), t.describe());
    }

    @Test
    void refusesAnEmptyRddAndBadSettings() {
        SparkResNetTrainer t = SparkResNetTrainer.builder(sc, Stripes.spec()).build();
        JavaRDD<DataSet> empty = sc.parallelize(new ArrayList<DataSet>(), 2);
        assertEquals("the training RDD is empty: expected minibatch DataSets",
                assertThrows(IllegalArgumentException.class, () -> t.fit(empty, 1)).getMessage());
        assertEquals("epochs must be >= 1, got 0",
                assertThrows(IllegalArgumentException.class, () -> t.fit(empty, 0)).getMessage());
        assertEquals("averaging frequency must be >= 1 minibatch, got 0",
                assertThrows(IllegalArgumentException.class, () -> new ParameterAveraging(2, 16, 0)).getMessage());
        assertEquals("batch per worker must be >= 1, got -3",
                assertThrows(IllegalArgumentException.class, () -> new ParameterAveraging(2, -3, 1)).getMessage());
    }
}
