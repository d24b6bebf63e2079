package dev.resnetzoo.examples.cli;

import dev.resnetzoo.core.layers.LayerRuntime;
import dev.resnetzoo.examples.train.Preset;
import dev.resnetzoo.examples.train.SparkSettings;
import dev.resnetzoo.examples.train.Trainer;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code ./resnet train}: trains a ResNet on Fashion-MNIST with per-epoch checkpoints, metrics,
 * curves and {@code --resume}. See {@link Trainer} for the output folder.
 */
@Command(mixinStandardHelpOptions = true, header = "Train a ResNet on Fashion-MNIST (or Spark with --spark); checkpoints, metrics, curves.", name = "train", sortOptions = false,
        description = {"Train a ResNet on Fashion-MNIST: progress on stderr, test accuracy after every epoch,",
                "metrics.csv, curves.png, checkpoint.zip (every epoch), model.zip and run.json in --out.",
                "Presets: fashion-fast (narrow ResNet-18 at 28x28, 8 epochs to 93.4%%), seeds-reference."})
final class TrainCommand implements Callable<Integer> {

    @Option(names = "--arch", paramLabel = "ARCH", description = "variant whose depth table is the base (default resnet18)")
    String arch;

    @Option(names = "--dataset", paramLabel = "NAME", description = "data set (only fashion-mnist)")
    String dataset;

    @Option(names = "--preset", paramLabel = "NAME", description = "recipe: fashion-fast or seeds-reference; other options override it")
    String preset;

    @Option(names = "--epochs", paramLabel = "E", description = "epochs in total (default 5)")
    Integer epochs;

    @Option(names = "--batch", paramLabel = "B", description = "batch size (default 256)")
    Integer batch;

    @Option(names = "--lr", paramLabel = "LR", description = "Adam learning rate (default 1e-3)")
    Double lr;

    @Option(names = "--lr-schedule", paramLabel = "KIND", description = "constant (default) or cosine decay to 0")
    String lrSchedule;

    @Option(names = "--augment", paramLabel = "KIND", description = "none (default), flip, or flip-shift (mirror + up to 2 px shift)")
    String augment;

    @Option(names = "--seed", paramLabel = "N", description = "seed of the initialisation and the data order (default 42)")
    Long seed;

    @Option(names = "--data", paramLabel = "DIR", description = "Fashion-MNIST IDX files (default: $FASHION_MNIST_DIR, "
            + "/usr/share/datasets/fashion-mnist, else the embedded 1,000/500 sample)")
    Path data;

    @Option(names = "--limit", paramLabel = "N", description = "train on the first N images only (default all)")
    Integer limit;

    @Option(names = "--test-limit", paramLabel = "N", description = "evaluate the first N test images only (default all)")
    Integer testLimit;

    @Option(names = "--resize", paramLabel = "S", description = "resize images to SxS, bilinear (default 28: no resize)")
    Integer resize;

    @Option(names = "--depths", paramLabel = "D,D,..", description = "blocks per stage, e.g. 2,2,2,2")
    String depths;

    @Option(names = "--widths", paramLabel = "W,W,..", description = "stage widths, e.g. 16,32,64,128 (the stem follows the first)")
    String widths;

    @Option(names = "--block", paramLabel = "KIND", description = "basic or bottleneck (default: the variant's)")
    String block;

    @Option(names = "--stem", paramLabel = "KIND", description = "small (3x3 stride 1, default) or imagenet (7x7/2 + max pool)")
    String stem;

    @Option(names = "--stem-width", paramLabel = "N", description = "stem channels")
    Integer stemWidth;

    @Option(names = "--cardinality", paramLabel = "N", description = "bottleneck groups (ResNeXt)")
    Integer cardinality;

    @Option(names = "--base-width", paramLabel = "N", description = "bottleneck width per group")
    Integer baseWidth;

    @Option(names = "--se", paramLabel = "R", description = "squeeze-and-excitation reduction, 0 for none")
    Integer se;

    @Option(names = "--out", paramLabel = "DIR", description = "output folder (default runs/<arch>-fashion-mnist)")
    Path out;

    @Option(names = "--threads", paramLabel = "N", description = "CPU threads (default: one per core; 1 is faster "
            + "when other jobs keep the cores busy)")
    Integer threads;

    @Option(names = "--runtime", paramLabel = "NAME", description = "how the convolution and batch-norm layers "
            + "compute: onednn, libnd4j or auto (default: auto = oneDNN on the CPU backend)")
    String runtime;

    @Option(names = "--spark", paramLabel = "MASTER", description = "train on Spark through DL4J's parameter averaging: "
            + "local[N], local-cluster[W,C,MB], spark://HOST:PORT, yarn or k8s://URL (this JVM is the driver)")
    String spark;

    @Option(names = "--training-master", paramLabel = "KIND", description = "with --spark: parameter-averaging (the default "
            + "and only one; see the README for SharedTrainingMaster)")
    String trainingMaster;

    @Option(names = "--workers", paramLabel = "N", description = "with --spark: workers training at once (default: "
            + "Spark's default parallelism)")
    Integer workers;

    @Option(names = "--batch-per-worker", paramLabel = "B", description = "with --spark: images per worker minibatch "
            + "(default: ceil(batch / workers))")
    Integer batchPerWorker;

    @Option(names = "--averaging-frequency", paramLabel = "N", description = "with --spark: minibatches per worker "
            + "between parameter averages (default " + SparkSettings.DEFAULT_AVERAGING_FREQUENCY + ")")
    Integer averagingFrequency;

    @Option(names = "--resume", description = "continue the run in --out from its last completed epoch")
    boolean resume;

    @Option(names = "--overwrite", description = "delete the run in --out and start again")
    boolean overwrite;

    @Override
    public Integer call() throws Exception {
        if (resume && overwrite) {
            throw new IllegalArgumentException("--resume and --overwrite exclude each other");
        }
        Trainer.Mode mode = resume ? Trainer.Mode.RESUME : overwrite ? Trainer.Mode.OVERWRITE : Trainer.Mode.NEW;
        Map<String, Object> settings = requested();
        if (threads != null) {
            Trainer.setThreads(threads);
        }
        if (runtime != null) {
            LayerRuntime.select(LayerRuntime.parse(runtime));
        }
        SparkSettings onSpark = sparkSettings();
        System.out.println("layer runtime: " + LayerRuntime.describe());
        new Trainer(System.out, System.err, System.console() != null).onSpark(onSpark).run(settings, out, data, mode);
        return 0;
    }

    /** @return the Spark settings, or null without {@code --spark} */
    SparkSettings sparkSettings() {
        if (spark == null) {
            if (trainingMaster != null || workers != null || batchPerWorker != null || averagingFrequency != null) {
                throw new IllegalArgumentException("--training-master, --workers, --batch-per-worker and "
                        + "--averaging-frequency need --spark MASTER");
            }
            return null;
        }
        if (trainingMaster != null && !trainingMaster.trim().equalsIgnoreCase("parameter-averaging")) {
            throw new IllegalArgumentException("unknown --training-master '" + trainingMaster
                    + "': expected parameter-averaging");
        }
        return new SparkSettings(spark, workers, batchPerWorker,
                averagingFrequency != null ? averagingFrequency : SparkSettings.DEFAULT_AVERAGING_FREQUENCY);
    }

    /** The settings given on the command line (a preset's first, then the explicit options). */
    Map<String, Object> requested() {
        Map<String, Object> m = new LinkedHashMap<>();
        if (preset != null) {
            m.putAll(Preset.of(preset).settings());
        }
        put(m, "arch", arch);
        put(m, "dataset", dataset);
        put(m, "epochs", epochs);
        put(m, "batch", batch);
        put(m, "lr", lr);
        put(m, "lr-schedule", lrSchedule);
        put(m, "seed", seed);
        put(m, "limit", limit);
        put(m, "test-limit", testLimit);
        put(m, "resize", resize);
        put(m, "augment", augment);
        put(m, "depths", depths);
        put(m, "widths", widths);
        put(m, "block", block);
        put(m, "stem", stem);
        put(m, "stem-width", stemWidth);
        put(m, "cardinality", cardinality);
        put(m, "base-width", baseWidth);
        put(m, "se", se);
        return m;
    }

    private static void put(Map<String, Object> m, String key, Object value) {
        if (value != null) {
            m.put(key, value);
        }
    }
}
