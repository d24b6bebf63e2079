package dev.resnetzoo.examples.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.resnetzoo.examples.metrics.EpochMetrics;
import dev.resnetzoo.examples.metrics.MetricsCsv;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ./resnet train --spark local[2]} against the same run in this JVM: the same data subset,
 * network, seed and epochs reach test accuracies within 2 points; the Spark run writes the same
 * files and resumes.
 */
class SparkTrainingTest {

    @TempDir
    static Path shared;
    static Path data;
    static int threads;

    @TempDir
    Path tmp;

    @BeforeAll
    static void data() throws IOException {
        data = TrainFixtures.sampleData(shared.resolve("data"));
        threads = TrainFixtures.oneThread();
    }

    @AfterAll
    static void restoreThreads() {
        Threads.set(threads);
    }

    private static Map<String, Object> settings(int epochs) {
        Map<String, Object> m = TrainFixtures.tiny(epochs, 1000);
        m.put("test-limit", 500);
        m.put("lr", 1e-2);
        m.put("lr-schedule", "cosine");
        return m;
    }

    private static Trainer trainer(ByteArrayOutputStream out) {
        PrintStream ps = new PrintStream(out, true, StandardCharsets.UTF_8);
        return new Trainer(ps, ps, false);
    }

    @Test
    void sparkReachesTheSingleMachineAccuracyAndCheckpointsEveryEpoch() throws IOException {
        int epochs = 8;
        ByteArrayOutputStream localLog = new ByteArrayOutputStream();
        Trainer.Result local = trainer(localLog).run(TrainFixtures.options(settings(epochs)), tmp.resolve("local"), data, RunFolder.Mode.NEW);

        ByteArrayOutputStream sparkLog = new ByteArrayOutputStream();
        SparkSettings onSpark = new SparkSettings("local[2]", 2, 16, 1);
        Trainer.Result spark = trainer(sparkLog).onSpark(onSpark)
                .run(TrainFixtures.options(settings(epochs)), tmp.resolve("spark"), data, RunFolder.Mode.NEW);
        String log = sparkLog.toString(StandardCharsets.UTF_8);
        System.out.println(log);
        System.out.println("test accuracy per epoch, single machine: " + local.epochs().stream().map(EpochMetrics::testAcc).toList()
                + "; local[2]: " + spark.epochs().stream().map(EpochMetrics::testAcc).toList());

        assertTrue(log.contains("spark: Spark 3.5") && log.contains("master local[2]")
                && log.contains("2 workers, batch 16 per worker, averaged every 1 minibatch"), log);
        assertTrue(log.contains("spark executors: pid ") && log.contains("oneDNN"), log);
        double a = local.finalTestAccuracy();
        double b = spark.finalTestAccuracy();
        assertTrue(a > 0.6, "the single-machine run learns: " + a);
        assertTrue(Math.abs(a - b) <= 0.02, "test accuracy on Spark " + b + " vs single machine " + a);

        Path dir = tmp.resolve("spark");
        for (String f : List.of(RunFolder.RUN_JSON, RunFolder.METRICS, RunFolder.CURVES, RunFolder.CHECKPOINT, RunFolder.MODEL)) {
            assertTrue(Files.size(dir.resolve(f)) > 0, f);
        }
        List<EpochMetrics> rows = MetricsCsv.read(dir.resolve(RunFolder.METRICS));
        assertEquals(epochs, rows.size());
        Checkpoint.State s = Checkpoint.read(dir.resolve(RunFolder.CHECKPOINT)).state();
        assertEquals(epochs, s.epoch());
        // 1000 images in worker minibatches of 16 = 63, shared by 2 workers: DL4J counts 31 or 32 steps an epoch
        assertTrue(s.iteration() >= epochs * 31L && s.iteration() <= epochs * 32L, "iterations " + s.iteration());
    }
}
