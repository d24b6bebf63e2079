package dev.resnetzoo.examples.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.resnetzoo.examples.metrics.EpochMetrics;
import dev.resnetzoo.examples.metrics.MetricsCsv;
import dev.resnetzoo.examples.train.Checkpoint;
import dev.resnetzoo.examples.train.Threads;
import dev.resnetzoo.examples.train.TrainConfig;
import dev.resnetzoo.examples.train.TrainFixtures;
import dev.resnetzoo.examples.train.TrainOptions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class TrainCommandTest {

    @TempDir
    Path tmp;

    /** The command sets --threads for this JVM's main thread: put back what the other test classes expect. */
    private static int threads;

    @BeforeAll
    static void saveThreads() {
        threads = Threads.current();
    }

    @AfterAll
    static void restoreThreads() {
        Threads.set(threads);
    }

    private String out = "";
    private String err = "";

    private int run(String... args) {
        ImportCommandTest.Run r = ImportCommandTest.run(args);
        out = r.out();
        err = r.err();
        return r.code();
    }

    private Path sampleData() throws IOException {
        return TrainFixtures.sampleData(tmp.resolve("data"));
    }

    @Test
    void explicitOptionsOverrideThePreset() {
        TrainCommand cmd = new TrainCommand();
        new CommandLine(cmd).parseArgs("--preset", "fashion-fast", "--epochs", "2", "--widths", "8,16,32,64");
        TrainConfig c = cmd.training.toConfig();
        TrainConfig preset = TrainOptions.parse("--preset", "fashion-fast").toConfig();
        assertEquals(2, c.epochs());
        assertEquals(List.of(8, 16, 32, 64), c.table().widths());
        assertEquals("fashion-fast", c.preset());
        assertEquals(preset.batch(), c.batch());
        assertEquals(preset.lrSchedule(), c.lrSchedule());
        assertEquals(preset.table().depths(), c.table().depths());
        assertEquals(TrainConfig.DEFAULTS, new TrainCommand().training.toConfig());
    }

    @Test
    void trainsThenRefusesToOverwriteThenResumes() throws IOException {
        Path data = sampleData();
        Path dir = tmp.resolve("runs/tiny");
        List<String> args = new ArrayList<>(List.of("train", "--arch", "resnet18", "--dataset", "fashion-mnist",
                "--epochs", "1", "--batch", "32", "--limit", "64", "--test-limit", "64", "--widths", "8,16",
                "--depths", "1,1", "--threads", "1", "--data", data.toString(), "--out", dir.toString()));
        assertEquals(0, run(args.toArray(String[]::new)), err);
        assertTrue(out.contains("data: Fashion-MNIST from " + data), out);
        assertTrue(out.contains("epoch 1/1: train loss"), out);
        assertEquals(List.of(1), MetricsCsv.read(dir.resolve("metrics.csv")).stream().map(EpochMetrics::epoch).toList());

        assertEquals(1, run(args.toArray(String[]::new)));
        assertTrue(err.startsWith("error: ") && err.contains("already holds a run") && err.contains("--resume"), err);
        assertEquals(1, err.lines().count(), err);

        // Resume with more epochs is a different configuration: refused, naming the option.
        assertEquals(1, run("train", "--epochs", "2", "--out", dir.toString(), "--data", data.toString(), "--resume"));
        assertTrue(err.contains("--epochs: the run has 1, this command asks for 2"), err);

        // Resume reads the settings from run.json: the complete run stays as it is.
        assertEquals(0, run("train", "--out", dir.toString(), "--data", data.toString(), "--resume"), err);
        assertTrue(out.contains("run already complete"), out);
        assertEquals(1, Checkpoint.readState(dir.resolve("checkpoint.zip")).epoch());
    }

    @Test
    void badOptionsAreOneLineErrors() {
        // Each must fail while checking the settings; the missing --data folder is a backstop so that a
        // command accepted by mistake fails at once instead of training on the full data set.
        String x = tmp.resolve("x").toString();
        String noData = tmp.resolve("no-data").toString();
        assertEquals(1, run("train", "--resume", "--overwrite", "--out", x, "--data", noData));
        assertTrue(err.contains("--resume and --overwrite exclude each other"), err);
        assertEquals(2, run("train", "--preset", "fastest", "--out", x, "--data", noData));
        assertEquals("error: Invalid value for option '--preset': unknown preset 'fastest'; expected one of "
                + "fashion-fast, seeds-reference (see ./resnet train --help)", err.strip(), "one line, no usage text");
        assertEquals(1, run("train", "--dataset", "cifar10", "--out", x, "--data", noData));
        assertTrue(err.contains("--dataset: only fashion-mnist is supported, got 'cifar10'"), err);
        assertEquals(2, run("train", "--depths", "2,2,x", "--out", x, "--data", noData));
        assertTrue(err.startsWith("error: Invalid value for option '--depths' (D): 'x' is not an int"), err);
        assertEquals(1, err.lines().count(), err);
        assertEquals(1, run("train", "--depths", "2,2,2", "--widths", "8,16", "--out", x, "--data", noData));
        assertTrue(err.contains("must have the same number of stages"), err);
        assertEquals(1, run("train", "--arch", "resnet19", "--out", x, "--data", noData));
        assertTrue(err.contains("unknown architecture 'resnet19'"), err);
        assertTrue(!Files.exists(tmp.resolve("x")), "nothing written for a rejected command");
    }

    /** fashion-fast fixes the depth table: with --arch resnet34 it trained a 2,2,2,2 network labelled resnet34. */
    @Test
    void aPresetThatFixesTheNetworkRefusesAnotherArch() {
        String x = tmp.resolve("x").toString();
        String noData = tmp.resolve("no-data").toString();
        assertEquals(1, run("train", "--preset", "fashion-fast", "--arch", "resnet34", "--out", x, "--data", noData));
        assertEquals("error: --preset fashion-fast fixes the network (resnet18 [basic 2,2,2,2 x 16,32,64,128, small "
                + "stem 16] 1x28x28), so --arch resnet34 would only relabel it: drop --arch, or drop --preset and give "
                + "--arch with the other options of the recipe (or give --depths too)", err.strip());
        assertTrue(!Files.exists(tmp.resolve("x")), "nothing was written");

        // The preset's own arch is no change, and a preset that keeps the variant's table takes any arch.
        assertEquals("resnet18", TrainOptions.parse("--preset", "fashion-fast", "--arch", "resnet18").toConfig().arch());
        assertTrue(TrainOptions.parse("--preset", "fashion-fast", "--arch", "resnet34", "--depths", "3,4,6,3").toConfig()
                .describeNetwork().startsWith("resnet34 [basic 3,4,6,3 x 16,32,64,128"));
        TrainConfig c = TrainOptions.parse("--preset", "seeds-reference", "--arch", "resnet50").toConfig();
        assertEquals(List.of(3, 4, 6, 3), c.spec().depths());
        assertTrue(c.describeNetwork().startsWith("resnet50 [bottleneck 3,4,6,3"), c.describeNetwork());
    }

    @Test
    void sparkOptionsAreCheckedBeforeAnythingRuns() {
        assertEquals(1, run("train", "--spark", "local[two]", "--out", tmp.resolve("x").toString()));
        assertEquals("error: invalid Spark master 'local[two]': expected local, local[N], local[*], "
                + "local-cluster[WORKERS,CORES,MB], spark://HOST:PORT, yarn or k8s://URL", err.strip());
        assertEquals(1, run("train", "--workers", "2", "--out", tmp.resolve("x").toString()));
        assertEquals("error: --training-master, --workers, --batch-per-worker and --averaging-frequency need --spark MASTER",
                err.strip());
        assertEquals(1, run("train", "--spark", "local[2]", "--training-master", "shared", "--out", tmp.resolve("x").toString()));
        assertEquals("error: unknown --training-master 'shared': expected parameter-averaging", err.strip());
        assertEquals(1, run("train", "--spark", "local[2]", "--averaging-frequency", "0"));
        assertEquals("error: --averaging-frequency must be >= 1, got 0", err.strip());
        assertTrue(!Files.exists(tmp.resolve("x")), "nothing was written");
    }
}
