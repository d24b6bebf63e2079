package dev.resnetzoo.examples.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.resnetzoo.core.BlockKind;
import dev.resnetzoo.core.ResNetSpec;
import dev.resnetzoo.core.ResNets;
import dev.resnetzoo.core.StemKind;
import dev.resnetzoo.examples.data.FashionMnist;
import dev.resnetzoo.zoo.SavedModel;
import dev.resnetzoo.zoo.files.AtomicFiles;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

class CheckpointTest {

    @TempDir
    Path tmp;

    static int threads;

    @BeforeAll
    static void oneThread() {
        threads = TrainFixtures.oneThread();
    }

    @AfterAll
    static void restoreThreads() {
        Threads.set(threads);
    }

    /** The architecture of {@link #trainedGraph()}. */
    static final ResNetSpec SPEC = ResNetSpec.builder(BlockKind.BASIC, 1, 1).widths(32, 64).stemWidth(32)
            .stem(StemKind.SMALL).input(1, 8, 8).numClasses(10).build();

    /** {@code g} (a graph of {@link #SPEC}) as the trainer holds it. */
    static SavedModel model(ComputationGraph g) {
        return SavedModel.of(g, SPEC, TrainedModel.preprocessing(SPEC), FashionMnist.CLASS_NAMES, "test");
    }

    /** A small network after two Adam steps, so it has updater state; cosine schedule to check it serialises. */
    static ComputationGraph trainedGraph() {
        ResNetSpec spec = SPEC;
        TrainConfig config = TrainOptions.parse("--epochs", "2", "--lr-schedule", "cosine", "--seed", "3").toConfig();
        ComputationGraph g = ResNets.create(spec, config.training(10));
        Nd4j.getRandom().setSeed(11);
        INDArray x = Nd4j.rand(DataType.FLOAT, 4, 1, 8, 8);
        INDArray y = Nd4j.zeros(DataType.FLOAT, 4, 10);
        for (int i = 0; i < 4; i++) {
            y.putScalar(i, i, 1f);
        }
        g.fit(new DataSet(x, y));
        g.fit(new DataSet(x, y));
        return g;
    }

    /** Sets every parameter and the iteration counter to {@code k}. */
    static void stamp(ComputationGraph g, int k) {
        g.params().assign(k);
        g.getConfiguration().setIterationCount(k);
    }

    private static List<Path> temps(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().endsWith(".tmp")).toList();
        }
    }

    @Test
    void roundTripKeepsParametersUpdaterAndState() throws IOException {
        ComputationGraph g = trainedGraph();
        Path file = tmp.resolve("checkpoint.zip");
        Checkpoint.State state = new Checkpoint.State(3, 2, 42, 3, 1000, "resnet18 [test]");
        Checkpoint.write(model(g), state, file);

        Checkpoint.Loaded back = Checkpoint.read(file);
        assertEquals(state, back.state());
        assertEquals(state, Checkpoint.readState(file));
        assertArrayEquals(g.params().toFloatVector(), back.graph().params().toFloatVector());
        assertArrayEquals(g.getUpdater().getStateViewArray().toFloatVector(),
                back.graph().getUpdater().getStateViewArray().toFloatVector());
        assertEquals(2, back.graph().getIterationCount());
        assertEquals(g.getConfiguration().toJson(), back.graph().getConfiguration().toJson());
        assertTrue(g.getConfiguration().toJson().contains("CosineSchedule"));
        assertEquals(List.of(), temps(tmp));
    }

    @Test
    void failedWriteKeepsThePreviousCheckpoint() throws IOException {
        ComputationGraph g = trainedGraph();
        Path file = tmp.resolve("checkpoint.zip");
        stamp(g, 1);
        Checkpoint.write(model(g), new Checkpoint.State(1, 1, 0, 1, 1, null), file);
        byte[] before = Files.readAllBytes(file);

        stamp(g, 2);
        IOException e = assertThrows(IOException.class, () -> Checkpoint.write(model(g), new Checkpoint.State(2, 2, 0, 2, 1, null), file,
                tmp -> {
                    try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                        ch.truncate(ch.size() / 2); // as if the disk filled up half way
                    }
                    throw new IOException("simulated failure");
                }));
        assertEquals("simulated failure", e.getMessage());
        assertArrayEquals(before, Files.readAllBytes(file));
        assertEquals(1, Checkpoint.read(file).state().epoch());
        assertEquals(List.of(), temps(tmp));
    }

    @Test
    void truncatedOrForeignFilesAreRejectedWithAMessage() throws IOException {
        ComputationGraph g = trainedGraph();
        Path file = tmp.resolve("checkpoint.zip");
        Checkpoint.write(model(g), new Checkpoint.State(1, 2, 0, 1, 1, null), file);
        byte[] bytes = Files.readAllBytes(file);
        Path cut = tmp.resolve("cut.zip");
        Files.write(cut, java.util.Arrays.copyOf(bytes, bytes.length / 2));
        IOException a = assertThrows(IOException.class, () -> Checkpoint.read(cut));
        assertTrue(a.getMessage().contains("cut.zip"), a.getMessage());

        Path model = tmp.resolve("model.zip");
        model(g).write(model);
        IOException b = assertThrows(IOException.class, () -> Checkpoint.read(model));
        assertTrue(b.getMessage().contains("not a training checkpoint"), b.getMessage());
    }

    /**
     * Kills a process that writes checkpoints back to back (most of its time is spent inside a
     * write) at random moments: the checkpoint must always be complete and self-consistent,
     * and an interrupted write leaves only a temporary file.
     */
    @Test
    void killedWriterNeverLeavesACorruptCheckpoint() throws Exception {
        Random random = new Random(5);
        Path file = tmp.resolve("checkpoint.zip");
        int interruptedWrites = 0;
        List<Integer> epochs = new ArrayList<>();
        for (int trial = 0; trial < 2; trial++) {
            Path log = tmp.resolve("writer" + trial + ".log");
            Process p = TrainFixtures.startJvm(CheckpointWriterMain.class.getName(), List.of(file.toString()), log);
            try {
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
                while (!TrainFixtures.read(log).contains("wrote 3")) {
                    assertTrue(p.isAlive(), () -> "writer ended early:\n" + TrainFixtures.read(log));
                    assertTrue(System.nanoTime() < deadline, "writer too slow");
                    Thread.sleep(10);
                }
                Thread.sleep(random.nextInt(200));
            } finally {
                p.destroyForcibly();
                p.waitFor();
            }
            if (!temps(tmp).isEmpty()) {
                interruptedWrites++;
            }
            Checkpoint.Loaded loaded = Checkpoint.read(file);
            int k = loaded.state().epoch();
            assertTrue(k >= 3, "epoch " + k);
            assertEquals(k, loaded.graph().getIterationCount());
            for (float v : loaded.graph().params().toFloatVector()) {
                assertEquals(k, v, "parameters and state from different writes");
            }
            epochs.add(k);
            AtomicFiles.deleteStaleTemps(tmp, file.getFileName().toString());
        }
        assertTrue(interruptedWrites > 0, "no kill landed inside a write (epochs " + epochs + "); the test proved nothing");
        assertEquals(List.of(), temps(tmp));
    }
}
