package dev.resnetzoo.examples.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.resnetzoo.examples.metrics.EpochMetrics;
import dev.resnetzoo.examples.metrics.MetricsCsv;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Trains in a separate JVM, kills it during epoch 2, resumes it in this JVM and compares with an
 * uninterrupted run of the same settings: same epochs, each once, and bit-identical numbers.
 */
class ResumeAfterKillTest {

    @TempDir
    Path tmp;

    static int threads;

    @BeforeAll
    static void oneThread() {
        threads = TrainFixtures.oneThread(); // the same as the child's, so the numbers can be identical
    }

    @AfterAll
    static void restoreThreads() {
        Threads.set(threads);
    }

    @Test
    void killedRunResumesToExactlyTheUninterruptedResult() throws Exception {
        Path data = TrainFixtures.sampleData(tmp.resolve("data"));
        Map<String, Object> settings = TrainFixtures.tiny(3, 512);
        settings.put("lr-schedule", "cosine"); // the schedule and the augmentation must continue where they stopped
        settings.put("augment", "flip-shift");
        Path killed = tmp.resolve("killed");
        Path log = tmp.resolve("child.log");

        List<String> args = new ArrayList<>(List.of("train"));
        args.addAll(TrainFixtures.args(settings));
        args.addAll(List.of("--data", data.toString(), "--out", killed.toString()));
        Process child = TrainFixtures.startJvm("dev.resnetzoo.examples.cli.ResNetCli", args, log);
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (!(Files.exists(killed.resolve(RunFolder.CHECKPOINT))
                    && TrainFixtures.read(log).contains("epoch 2/3: training on"))) {
                assertTrue(child.isAlive(), () -> "training ended before epoch 2:\n" + TrainFixtures.read(log));
                assertTrue(System.nanoTime() < deadline, () -> "no epoch 2 after 120 s:\n" + TrainFixtures.read(log));
                Thread.sleep(10);
            }
        } finally {
            child.destroyForcibly();
            child.waitFor();
        }

        // What the kill left: the epoch-1 checkpoint, one metrics row, no final model.
        assertEquals(1, Checkpoint.readState(killed.resolve(RunFolder.CHECKPOINT)).epoch(), TrainFixtures.read(log));
        assertEquals(List.of(1), epochs(killed));
        assertFalse(Files.exists(killed.resolve(RunFolder.MODEL)));

        PrintStream quiet = new PrintStream(OutputStream.nullOutputStream());
        Trainer.Result resumed = new Trainer(quiet, quiet, false).run(TrainFixtures.options(settings), killed, data, RunFolder.Mode.RESUME);
        assertEquals(1, resumed.resumedFrom());
        Trainer.Result straight = new Trainer(quiet, quiet, false).run(TrainFixtures.options(settings), tmp.resolve("straight"), data,
                RunFolder.Mode.NEW);

        assertEquals(List.of(1, 2, 3), epochs(killed));
        assertEquals(List.of(1, 2, 3), epochs(tmp.resolve("straight")));
        List<EpochMetrics> a = MetricsCsv.read(killed.resolve(RunFolder.METRICS));
        List<EpochMetrics> b = MetricsCsv.read(tmp.resolve("straight").resolve(RunFolder.METRICS));
        for (int i = 0; i < 3; i++) {
            // Exact: same data order, same Adam state and counters, deterministic CPU kernels.
            assertEquals(b.get(i).trainLoss(), a.get(i).trainLoss(), 0.0, "train loss, epoch " + (i + 1));
            assertEquals(b.get(i).trainAcc(), a.get(i).trainAcc(), 0.0, "train accuracy, epoch " + (i + 1));
            assertEquals(b.get(i).testLoss(), a.get(i).testLoss(), 0.0, "test loss, epoch " + (i + 1));
            assertEquals(b.get(i).testAcc(), a.get(i).testAcc(), 0.0, "test accuracy, epoch " + (i + 1));
        }

        Checkpoint.Loaded ca = Checkpoint.read(killed.resolve(RunFolder.CHECKPOINT));
        Checkpoint.Loaded cb = Checkpoint.read(tmp.resolve("straight").resolve(RunFolder.CHECKPOINT));
        assertEquals(cb.state(), ca.state());
        assertEquals(3, ca.state().epoch());
        assertArrayEquals(cb.graph().params().toFloatVector(), ca.graph().params().toFloatVector());
        assertArrayEquals(cb.graph().getUpdater().getStateViewArray().toFloatVector(),
                ca.graph().getUpdater().getStateViewArray().toFloatVector());
        ComputationGraph model = ModelSerializer.restoreComputationGraph(killed.resolve(RunFolder.MODEL).toFile(), false);
        assertArrayEquals(ca.graph().params().toFloatVector(), model.params().toFloatVector());
    }

    private static List<Integer> epochs(Path run) throws java.io.IOException {
        return MetricsCsv.read(run.resolve(RunFolder.METRICS)).stream().map(EpochMetrics::epoch).toList();
    }
}
