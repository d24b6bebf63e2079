package dev.resnetzoo.examples.cli;

import dev.resnetzoo.core.layers.LayerRuntime;
import dev.resnetzoo.examples.train.RunFolder;
import dev.resnetzoo.examples.train.SparkSettings;
import dev.resnetzoo.examples.train.Threads;
import dev.resnetzoo.examples.train.TrainOptions;
import dev.resnetzoo.examples.train.Trainer;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code ./resnet train}: trains a ResNet on Fashion-MNIST with per-epoch checkpoints, metrics,
 * curves and {@code --resume}. See {@link Trainer} for the output folder.
 */
@Command(mixinStandardHelpOptions = true, header = "Train a ResNet on Fashion-MNIST (or Spark with --spark); checkpoints, metrics, curves.", name = "train", sortOptions = false,
        description = {"Train a ResNet on Fashion-MNIST: progress on stderr, test accuracy after every",
                "epoch (chance is 10%%), and in --out: metrics.csv, curves.png, checkpoint.zip",
                "(every epoch), model.zip and run.json.",
                "Presets: fashion-fast (a narrow ResNet-18 at 28x28, 8 epochs; it fixes the",
                "network, so --arch needs --depths) and seeds-reference (the PyTorch recipe at",
                "96x96; --arch picks the variant)."})
final class TrainCommand implements Callable<Integer> {

    @Mixin
    TrainOptions training = new TrainOptions();

    @Option(names = "--data", paramLabel = "DIR", description = "Fashion-MNIST IDX files (default: $FASHION_MNIST_DIR, "
            + "/usr/share/datasets/fashion-mnist, else the embedded 1,000/500 sample)")
    Path data;

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
        RunFolder.Mode mode = resume ? RunFolder.Mode.RESUME : overwrite ? RunFolder.Mode.OVERWRITE : RunFolder.Mode.NEW;
        training.toConfig(); // checks the options before anything runs
        if (threads != null) {
            Threads.set(threads);
        }
        if (runtime != null) {
            LayerRuntime.select(LayerRuntime.parse(runtime));
        }
        SparkSettings onSpark = sparkSettings();
        System.out.println("layer runtime: " + LayerRuntime.describe());
        new Trainer(System.out, System.err, System.console() != null).onSpark(onSpark).run(training, out, data, mode);
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
}
