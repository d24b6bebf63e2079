package dev.resnetzoo.examples.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.resnetzoo.core.ResNets;
import dev.resnetzoo.examples.data.FashionMnist;
import dev.resnetzoo.examples.data.FashionMnistIterator;
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
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;
import org.nd4j.evaluation.classification.Evaluation;
import org.nd4j.linalg.dataset.DataSet;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainerTest {

    private static final String TINY_NETWORK = "resnet18 [basic 1,1 x 8,16, small stem 8] 1x28x28";

    @TempDir
    static Path shared;
    static Path data;
    static int threads;

    @TempDir
    Path tmp;

    private final ByteArrayOutputStream stdout = new ByteArrayOutputStream();
    private final ByteArrayOutputStream stderr = new ByteArrayOutputStream();

    @BeforeAll
    static void data() throws IOException {
        data = TrainFixtures.sampleData(shared.resolve("data"));
        threads = TrainFixtures.oneThread();
    }

    @AfterAll
    static void restoreThreads() {
        Threads.set(threads);
    }

    private Trainer trainer() {
        return new Trainer(new PrintStream(stdout, true, StandardCharsets.UTF_8),
                new PrintStream(stderr, true, StandardCharsets.UTF_8), false);
    }

    @Test
    void runWritesEveryFileWithTheRightEpochs() throws IOException {
        Path out = tmp.resolve("run");
        Trainer.Result r = trainer().run(TrainFixtures.options(TrainFixtures.tiny(2, 128)), out, data, RunFolder.Mode.NEW);

        for (String f : List.of(RunFolder.RUN_JSON, RunFolder.METRICS, RunFolder.CURVES, RunFolder.CHECKPOINT, RunFolder.MODEL)) {
            assertTrue(Files.size(out.resolve(f)) > 0, f);
        }
        List<EpochMetrics> rows = MetricsCsv.read(out.resolve(RunFolder.METRICS));
        assertEquals(List.of(1, 2), rows.stream().map(EpochMetrics::epoch).toList());
        for (EpochMetrics m : rows) {
            assertTrue(m.trainLoss() > 0 && m.testLoss() > 0 && m.imagesPerSec() > 0 && m.seconds() > 0, m.toString());
            assertTrue(m.trainAcc() >= 0 && m.trainAcc() <= 1 && m.testAcc() >= 0 && m.testAcc() <= 1, m.toString());
        }
        assertEquals(rows, r.epochs());

        Checkpoint.Loaded ck = Checkpoint.read(out.resolve(RunFolder.CHECKPOINT));
        assertEquals(new Checkpoint.State(2, 8, 7, 2, 128, TINY_NETWORK), ck.state()); // 128 images / 32 = 4 steps per epoch
        assertEquals(2, ck.graph().getEpochCount());
        ComputationGraph model = ModelSerializer.restoreComputationGraph(out.resolve(RunFolder.MODEL).toFile(), false);
        assertArrayEquals(ck.graph().params().toFloatVector(), model.params().toFloatVector());

        byte[] png = Files.readAllBytes(out.resolve(RunFolder.CURVES));
        assertEquals((byte) 0x89, png[0]);
        assertEquals("PNG", new String(png, 1, 3, StandardCharsets.US_ASCII));

        String json = Files.readString(out.resolve(RunFolder.RUN_JSON));
        assertTrue(json.contains("\"epochs\" : 2") && json.contains("\"widths\" : [ 8, 16 ]"), json);

        String printed = stdout.toString(StandardCharsets.UTF_8);
        assertTrue(printed.contains("data: Fashion-MNIST from " + data + " (--data)"), printed);
        assertTrue(printed.contains("network: resnet18 [basic 1,1 x 8,16, small stem 8] 1x28x28"), printed);
        assertTrue(printed.lines().anyMatch(l -> l.matches("epoch 2/2: train loss \\S+ acc \\S+% \\| test loss \\S+ acc \\S+% \\|.*")),
                printed);
        String progress = stderr.toString(StandardCharsets.UTF_8);
        assertTrue(progress.contains("epoch 1/2: training on 128 images (4 batches)"), progress);
        assertTrue(progress.lines().anyMatch(l -> l.matches("epoch 1/2 \\d+/128  loss \\S+  acc \\S+%  \\d+ img/s  ETA .*")),
                progress);
        assertFalse(progress.contains("\r"), "no carriage returns when not on a terminal");

        // A finished run resumed again does nothing and keeps its files.
        long modified = Files.getLastModifiedTime(out.resolve(RunFolder.MODEL)).toMillis();
        Trainer.Result again = trainer().run(TrainOptions.parse(), out, data, RunFolder.Mode.RESUME);
        assertEquals(2, again.resumedFrom());
        assertEquals(rows, again.epochs());
        assertEquals(modified, Files.getLastModifiedTime(out.resolve(RunFolder.MODEL)).toMillis());
        assertTrue(stdout.toString(StandardCharsets.UTF_8).contains("run already complete"));
    }

    @Test
    void refusesToReuseAFolderUnlessResumeOrOverwrite() throws IOException {
        Path out = tmp.resolve("run");
        Map<String, Object> tiny = TrainFixtures.tiny(1, 64);
        trainer().run(TrainFixtures.options(tiny), out, data, RunFolder.Mode.NEW);

        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> trainer().run(TrainFixtures.options(tiny), out, data, RunFolder.Mode.NEW));
        assertTrue(e.getMessage().contains("already holds a run") && e.getMessage().contains("--resume")
                && e.getMessage().contains("--overwrite"), e.getMessage());

        Map<String, Object> other = TrainFixtures.tiny(1, 64);
        other.put("batch", 16);
        other.put("widths", "8,8");
        IllegalArgumentException d = assertThrows(IllegalArgumentException.class,
                () -> trainer().run(TrainFixtures.options(other), out, data, RunFolder.Mode.RESUME));
        assertTrue(d.getMessage().contains("--batch: the run has 32, this command asks for 16")
                && d.getMessage().contains("--widths: the run has 8,16, this command asks for 8,8"),
                d.getMessage());

        Trainer.Result r = trainer().run(TrainFixtures.options(other), out, data, RunFolder.Mode.OVERWRITE);
        assertEquals(16, r.config().batch());
        assertEquals(new Checkpoint.State(1, 4, 7, 1, 64, "resnet18 [basic 1,1 x 8,8, small stem 8] 1x28x28"), Checkpoint.readState(out.resolve(RunFolder.CHECKPOINT)));
    }

    @Test
    void resumeRefusesACheckpointOfAnotherArchitecture() throws IOException {
        Path ours = tmp.resolve("resnet18-run");
        Path theirs = tmp.resolve("resnet50-run");
        trainer().run(TrainFixtures.options(TrainFixtures.tiny(1, 32)), ours, data, RunFolder.Mode.NEW);
        Map<String, Object> other = TrainFixtures.tiny(1, 32);
        other.put("arch", "resnet50");
        trainer().run(TrainFixtures.options(other), theirs, data, RunFolder.Mode.NEW);
        // another run's checkpoint copied in, and our run killed before its model was written
        Files.copy(theirs.resolve(RunFolder.CHECKPOINT), ours.resolve(RunFolder.CHECKPOINT),
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        Files.delete(ours.resolve(RunFolder.MODEL));

        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> trainer().run(TrainOptions.parse(), ours, data, RunFolder.Mode.RESUME));
        assertEquals(ours.resolve(RunFolder.CHECKPOINT) + " holds resnet50 [bottleneck 1,1 x 8,16, small stem 8] 1x28x28 "
                + "but " + ours.resolve(RunFolder.RUN_JSON) + " is a run of resnet18 [basic 1,1 x 8,16, small stem 8] "
                + "1x28x28: the checkpoint belongs to another run; resume in that run's folder, or use --overwrite "
                + "to start this one again", e.getMessage());
        assertFalse(Files.exists(ours.resolve(RunFolder.MODEL)), "nothing written under the wrong name");
    }

    /**
     * A checkpoint written before checkpoints recorded their network, of another network with the
     * same parameter count (stem 16, widths 10,16 against stem 8, widths 12,16: 6,906 each), used to
     * pass the parameter-count check and be trained under this run's name.
     */
    @Test
    void resumeRefusesAnOlderCheckpointOfAnotherNetworkWithTheSameParameterCount() throws IOException {
        Path ours = tmp.resolve("ours");
        Path theirs = tmp.resolve("theirs");
        Map<String, Object> mine = TrainFixtures.tiny(1, 32);
        mine.put("widths", "12,16");
        mine.put("stem-width", 8);
        Map<String, Object> other = TrainFixtures.tiny(1, 32);
        other.put("widths", "10,16");
        other.put("stem-width", 16);
        trainer().run(TrainFixtures.options(mine), ours, data, RunFolder.Mode.NEW);
        trainer().run(TrainFixtures.options(other), theirs, data, RunFolder.Mode.NEW);
        Checkpoint.Loaded loaded = Checkpoint.read(theirs.resolve(RunFolder.CHECKPOINT));
        assertEquals(ResNets.countParameters(loaded.graph()), ResNets.countParameters(
                Checkpoint.read(ours.resolve(RunFolder.CHECKPOINT)).graph()), "the test needs equal counts");
        Checkpoint.State s = loaded.state();
        TrainConfig theirConfig = TrainFixtures.options(other).toConfig();
        Checkpoint.write(TrainedModel.of(theirConfig, loaded.graph()), new Checkpoint.State(s.epoch(), s.iteration(), s.seed(), s.iteratorEpoch(),
                s.trainExamples(), null), ours.resolve(RunFolder.CHECKPOINT));
        Files.delete(ours.resolve(RunFolder.MODEL));

        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> trainer().run(TrainOptions.parse(), ours, data, RunFolder.Mode.RESUME));
        assertEquals(ours.resolve(RunFolder.CHECKPOINT) + " holds a network of 6,906 parameters (conv1_W [16, 1, 3, 3] "
                + "where the run's is [8, 1, 3, 3]) but " + ours.resolve(RunFolder.RUN_JSON) + " is a run of resnet18 "
                + "[basic 1,1 x 12,16, small stem 8] 1x28x28: the checkpoint belongs to another run; resume in that run's "
                + "folder, or use --overwrite to start this one again", e.getMessage());
        assertFalse(Files.exists(ours.resolve(RunFolder.MODEL)), "nothing written under the wrong name");
    }

    /**
     * After an epoch of few steps the running batch-norm averages still weighed the first steps'
     * statistics (and the initial 0 and 1): inference normalised with another network's statistics
     * and the test accuracy fell far below what the trained weights reach with the test batches'
     * own statistics (the README's first run printed 27% after 16 steps where the trained weights reached 68%).
     */
    @Test
    void testAccuracyAfterFewStepsIsThatOfTheTrainedWeights() throws IOException {
        Path out = tmp.resolve("short");
        TrainOptions options = TrainOptions.parse("--preset", "fashion-fast", "--epochs", "1", "--batch", "64",
                "--limit", "1000", "--test-limit", "500"); // 16 steps
        Trainer.Result r = trainer().run(options, out, data, RunFolder.Mode.NEW);

        ComputationGraph model = ModelSerializer.restoreComputationGraph(out.resolve(RunFolder.MODEL).toFile(), false);
        FashionMnistIterator test = FashionMnistIterator.builder(FashionMnist.locate(data).load(FashionMnist.Split.TEST))
                .batchSize(64).normalize(true).limit(500).build();
        Evaluation batchStatistics = new Evaluation(FashionMnist.NUM_CLASSES);
        while (test.hasNext()) {
            DataSet batch = test.next();
            batchStatistics.eval(batch.getLabels(), model.outputSingle(true, batch.getFeatures()));
        }
        double inference = r.finalTestAccuracy();
        assertTrue(inference > batchStatistics.accuracy() - 0.05, "test accuracy " + inference
                + " with the running statistics, " + batchStatistics.accuracy() + " with the batches' own");
    }

    @Test
    void resumeWithoutAnEarlierRunStartsOne() throws IOException {
        Path out = tmp.resolve("fresh");
        Trainer.Result r = trainer().run(TrainFixtures.options(TrainFixtures.tiny(1, 32)), out, data, RunFolder.Mode.RESUME);
        assertEquals(0, r.resumedFrom());
        assertEquals(1, r.epochs().size());
        assertTrue(stdout.toString(StandardCharsets.UTF_8).contains("nothing to resume"));
    }
}
