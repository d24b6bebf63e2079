package dev.resnetzoo.examples.train;

import dev.resnetzoo.core.ResNetSpec;
import dev.resnetzoo.core.ResNets;
import dev.resnetzoo.examples.data.FashionMnist;
import dev.resnetzoo.examples.data.FashionMnistIterator;
import dev.resnetzoo.examples.data.LabeledImages;
import dev.resnetzoo.examples.metrics.EpochMetrics;
import dev.resnetzoo.examples.metrics.MetricsCsv;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.function.LongSupplier;

/**
 * Trains a ResNet on Fashion-MNIST into a {@linkplain RunFolder run folder}, and resumes it after
 * a kill. The pieces: {@link TrainOptions} and {@link TrainConfig} (what to train),
 * {@link RunFolder} and {@link RunRecord} (where, and {@code run.json}), {@link ResumePoint} (a new
 * network or the checked checkpoint), {@link EpochLoop} (epochs and what follows each), with the
 * epochs trained by {@link LocalEpochs} or {@link SparkEpochs}, evaluated by {@link TestEvaluation}.
 *
 * <p>Optimiser: Adam with a constant or cosine learning rate ({@link TrainConfig#training});
 * softmax cross-entropy; inputs normalised with the training set's mean and standard deviation;
 * the training set reshuffled every epoch by (seed, epoch) and optionally
 * {@linkplain Augmentation augmented} by (seed, epoch, batch). Test accuracy is measured in
 * inference mode, with the batch norms' statistics of the epoch's last steps
 * ({@link BatchNormStatistics}).
 */
public final class Trainer {

    /**
     * The outcome of {@link #run}.
     *
     * @param config the settings trained with
     * @param folder the output folder
     * @param epochs one entry per epoch in the folder's metrics, in order
     * @param resumedFrom the last completed epoch found when starting (0 for a new run)
     */
    public record Result(TrainConfig config, Path folder, List<EpochMetrics> epochs, int resumedFrom) {
        /** @return the test accuracy after the last epoch, NaN if no epoch ran */
        public double finalTestAccuracy() {
            return epochs.isEmpty() ? Double.NaN : epochs.get(epochs.size() - 1).testAcc();
        }
    }

    private final PrintStream out;
    private final PrintStream err;
    private final boolean interactive;
    private final LongSupplier clock;
    private SparkSettings spark;

    /**
     * @param out         where the data source, the settings and one line per epoch are printed
     * @param err         where the progress goes
     * @param interactive whether {@code err} is a terminal (redrawn bar) or not (periodic lines)
     */
    public Trainer(PrintStream out, PrintStream err, boolean interactive) {
        this(out, err, interactive, System::nanoTime);
    }

    Trainer(PrintStream out, PrintStream err, boolean interactive, LongSupplier clock) {
        this.out = Objects.requireNonNull(out, "out");
        this.err = Objects.requireNonNull(err, "err");
        this.interactive = interactive;
        this.clock = clock;
    }

    /**
     * Trains on Spark instead of in this JVM (see {@link SparkEpochs}); everything else, the output
     * folder included, stays as it is. The driver is this JVM.
     *
     * @param settings the master and the training master's settings, or null for this JVM
     * @return this trainer
     */
    public Trainer onSpark(SparkSettings settings) {
        this.spark = settings;
        return this;
    }

    /** The folder used when none is given: {@code runs/<arch>-fashion-mnist}. */
    public static Path defaultFolder(TrainConfig config) {
        return Path.of("runs", config.arch() + "-" + config.dataset());
    }

    /**
     * Trains (or resumes) a run.
     *
     * @param requested the options the user gave; the rest take defaults, or on resume the run's stored values
     * @param folder    output folder, or null for {@link #defaultFolder}
     * @param dataDir   Fashion-MNIST directory, or null to {@linkplain FashionMnist#locate locate} it
     * @param mode      new run, resume or overwrite
     * @return what was trained
     * @throws IllegalArgumentException for settings that are invalid, or differ from the run being resumed
     * @throws IllegalStateException if the folder holds a run that the mode does not allow to touch,
     *                               or a checkpoint that is not the run's
     * @throws IOException if reading data or writing the folder fails
     */
    public Result run(TrainOptions requested, Path folder, Path dataDir, RunFolder.Mode mode) throws IOException {
        TrainConfig config = requested.toConfig();
        RunFolder run = new RunFolder(folder != null ? folder : defaultFolder(config));
        // Read the data before touching the folder, so that a bad --data changes nothing.
        FashionMnist data = FashionMnist.locate(dataDir);
        LabeledImages trainImages = data.load(FashionMnist.Split.TRAIN);
        LabeledImages testImages = data.load(FashionMnist.Split.TEST);
        RunRecord stored = run.prepare(mode, out);
        if (stored != null) {
            List<String> diffs = stored.config().differences(requested.overrides());
            if (!diffs.isEmpty()) {
                throw new IllegalArgumentException("cannot resume " + run + " with other settings: "
                        + String.join("; ", diffs) + ". Omit these options (a resumed run reads its settings from "
                        + run.runJson() + "), or start a new run with another --out or --overwrite");
            }
            config = stored.config();
        }

        out.println("data: " + data.describe());
        FashionMnistIterator train = FashionMnistIterator.builder(trainImages).batchSize(config.batch())
                .shuffle(config.seed()).normalize(true).limit(config.limit()).resize(config.resize()).build();
        FashionMnistIterator test = FashionMnistIterator.builder(testImages).batchSize(config.batch())
                .normalize(true).limit(config.testLimit()).resize(config.resize()).build();
        ResumePoint start = null;
        if (stored != null) {
            ResumePoint.checkSameData(stored, train.numExamples(), test.numExamples(), run);
            start = ResumePoint.fromCheckpoint(run, config, train.numExamples());
        }
        if (start == null) {
            start = ResumePoint.fresh(config, train.batchesPerEpoch());
            if (stored == null) {
                run.write(record(config, data, train, test, ResNets.countParameters(start.graph())));
            }
        }

        out.println("network: " + config.describeNetwork() + String.format(Locale.ROOT, ", %,d parameters",
                ResNets.countParameters(start.graph())));
        out.println(String.format(Locale.ROOT, "training: %d epochs, batch %d, Adam lr %s (%s), augment %s, seed %d, "
                        + "%,d train / %,d test images; output %s", config.epochs(), config.batch(), config.lr(),
                config.lrSchedule().id(), config.augment().id(), config.seed(), train.numExamples(), test.numExamples(),
                run));
        if (start.epochsDone() >= config.epochs()) {
            if (!Files.exists(run.model())) {
                TrainedModel.of(config, start.graph()).write(run.model()); // killed between the last checkpoint and the model
            }
            out.println("run already complete: " + config.epochs() + " epochs in " + run);
            return new Result(config, run.dir(), MetricsCsv.read(run.metrics()), start.epochsDone());
        }
        if (start.epochsDone() > 0) {
            out.println("resuming after epoch " + start.epochsDone() + " of " + config.epochs() + " (" + run.checkpoint() + ")");
        }
        Epochs epochs = spark == null ? new LocalEpochs(start.graph(), new Progress(err, interactive, clock), clock)
                : SparkEpochs.start(spark, config, start.graph(), out, clock);
        new EpochLoop(config, run, out).run(start, train, test, epochs);
        TrainedModel.of(config, start.graph()).write(run.model());
        List<EpochMetrics> rows = MetricsCsv.read(run.metrics());
        out.println(String.format(Locale.ROOT, "done: test accuracy %.2f%% after %d epochs (chance: 10%%); %s, %s, %s in %s",
                100 * rows.get(rows.size() - 1).testAcc(), config.epochs(), RunFolder.MODEL, RunFolder.METRICS,
                RunFolder.CURVES, run));
        return new Result(config, run.dir(), rows, start.epochsDone());
    }

    private static RunRecord record(TrainConfig config, FashionMnist data, FashionMnistIterator train,
                                    FashionMnistIterator test, long parameters) {
        ResNetSpec spec = config.spec();
        return new RunRecord(RunRecord.FORMAT, "train", config, data.describe(), train.numExamples(), test.numExamples(),
                config.describeNetwork(), parameters, List.of(spec.inputChannels(), spec.inputHeight(), spec.inputWidth()),
                Instant.now().toString());
    }
}
