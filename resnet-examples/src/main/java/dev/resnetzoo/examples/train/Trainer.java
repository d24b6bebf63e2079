package dev.resnetzoo.examples.train;

import dev.resnetzoo.core.ResNetSpec;
import dev.resnetzoo.core.ResNets;
import dev.resnetzoo.examples.data.FashionMnist;
import dev.resnetzoo.examples.data.FashionMnistIterator;
import dev.resnetzoo.examples.data.LabeledImages;
import dev.resnetzoo.examples.metrics.EpochMetrics;
import dev.resnetzoo.examples.metrics.MetricsCsv;
import dev.resnetzoo.examples.metrics.TrainingPlot;
import dev.resnetzoo.zoo.files.AtomicFiles;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.function.LongSupplier;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.optimize.api.BaseTrainingListener;
import org.nd4j.evaluation.classification.Evaluation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.ops.transforms.Transforms;
import org.nd4j.nativeblas.NativeOpsHolder;

/**
 * Trains a ResNet on Fashion-MNIST into an output folder, and resumes it after a kill.
 *
 * <p>The folder holds {@value #RUN_JSON} (the settings), {@value #METRICS} (one row per epoch),
 * {@value #CURVES} (redrawn from the CSV after every epoch), {@value #CHECKPOINT} (after every
 * epoch: network, Adam state, counters and data position; see {@link Checkpoint}) and, at the end,
 * {@value #MODEL} (the network without updater state). Every file is replaced atomically.
 *
 * <p>After each epoch the order of work is: metrics row, checkpoint, curves. A kill between the
 * row and the checkpoint leaves a row for an epoch that will run again; {@link MetricsCsv#open(Path, int)}
 * drops it on resume, so every epoch appears exactly once.
 *
 * <p>Optimiser: Adam (beta1 0.9, beta2 0.999, epsilon 1e-8, as PyTorch's defaults) with a constant
 * or cosine learning rate; softmax cross-entropy; inputs normalised with the training set's mean
 * and standard deviation; the training set reshuffled every epoch by (seed, epoch) and optionally
 * {@linkplain Augmentation augmented} by (seed, epoch, batch). Test accuracy
 * is DL4J's {@link Evaluation} on the test split in inference mode (batch norm with running statistics).
 */
public final class Trainer {

    /** The settings of the run. */
    public static final String RUN_JSON = "run.json";
    /** Per-epoch metrics. */
    public static final String METRICS = "metrics.csv";
    /** Loss and accuracy curves. */
    public static final String CURVES = "curves.png";
    /** The last completed epoch's checkpoint. */
    public static final String CHECKPOINT = "checkpoint.zip";
    /** The final network. */
    public static final String MODEL = "model.zip";

    private static final List<String> RUN_FILES = List.of(RUN_JSON, METRICS, CURVES, CHECKPOINT, MODEL);

    /** What to do when the output folder already holds a run. */
    public enum Mode {
        /** Start a run; refuse if the folder holds one. */
        NEW,
        /** Continue the folder's run from its last completed epoch (start one if the folder is empty). */
        RESUME,
        /** Delete the folder's run files and start again. */
        OVERWRITE
    }

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

    /**
     * Sets the number of CPU threads libnd4j and oneDNN use for work started from the calling
     * thread (OpenMP). One thread per core is the default; on a machine shared with other jobs,
     * fewer threads avoid OpenMP's spinning barriers, which otherwise slow small operations by up
     * to 10x when a core is taken.
     *
     * @param threads threads, >= 1
     * @return the previous number, to restore it
     */
    public static int setThreads(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("--threads must be >= 1, got " + threads);
        }
        int previous = threads();
        Nd4j.getEnvironment().setMaxThreads(threads);
        Nd4j.getEnvironment().setMaxMasterThreads(threads);
        NativeOpsHolder.getInstance().getDeviceNativeOps().setOmpNumThreads(threads);
        return previous;
    }

    /** @return the number of CPU threads work started from the calling thread uses (see {@link #setThreads}) */
    public static int threads() {
        Nd4j.getEnvironment(); // loads the backend, which NativeOpsHolder needs
        return NativeOpsHolder.getInstance().getDeviceNativeOps().ompGetMaxThreads();
    }

    /** The folder used when none is given: {@code runs/<arch>-fashion-mnist}. */
    public static Path defaultFolder(TrainConfig config) {
        return Path.of("runs", config.arch() + "-" + config.dataset());
    }

    /**
     * Trains (or resumes) a run.
     *
     * @param requested the settings the user gave (option name without dashes to value); the rest
     *                  take defaults, or on resume the run's stored values
     * @param folder    output folder, or null for {@link #defaultFolder}
     * @param dataDir   Fashion-MNIST directory, or null to {@linkplain FashionMnist#locate locate} it
     * @param mode      new run, resume or overwrite
     * @return what was trained
     * @throws IllegalArgumentException for settings that are invalid, or differ from the run being resumed
     * @throws IllegalStateException if the folder holds a run and neither resume nor overwrite was asked for
     * @throws IOException if reading data or writing the folder fails
     */
    public Result run(Map<String, ?> requested, Path folder, Path dataDir, Mode mode) throws IOException {
        TrainConfig config = TrainConfig.fromMap(requested);
        Path dir = folder != null ? folder : defaultFolder(config);
        // Read the data before touching the folder, so that a bad --data changes nothing.
        FashionMnist data = FashionMnist.locate(dataDir);
        LabeledImages trainImages = data.load(FashionMnist.Split.TRAIN);
        LabeledImages testImages = data.load(FashionMnist.Split.TEST);
        Map<String, Object> stored = prepareFolder(dir, requested, mode);
        if (stored != null) {
            config = storedConfig(stored, dir.resolve(RUN_JSON));
        }

        out.println("data: " + data.describe());
        FashionMnistIterator train = FashionMnistIterator.builder(trainImages).batchSize(config.batch())
                .shuffle(config.seed()).normalize(true).limit(config.limit()).resize(config.resize()).build();
        FashionMnistIterator test = FashionMnistIterator.builder(testImages).batchSize(config.batch())
                .normalize(true).limit(config.testLimit()).resize(config.resize()).build();
        if (stored != null) {
            checkSameData(stored, train, test, dir.resolve(RUN_JSON));
        }
        for (String f : RUN_FILES) {
            AtomicFiles.deleteStaleTemps(dir, f);
        }

        ComputationGraph graph;
        int done;
        int iteratorEpoch;
        Path checkpoint = dir.resolve(CHECKPOINT);
        if (stored != null && Files.exists(checkpoint)) {
            Checkpoint.Loaded loaded = Checkpoint.read(checkpoint);
            Checkpoint.State s = loaded.state();
            checkSameNetwork(loaded, config, stored, checkpoint, dir.resolve(RUN_JSON));
            if (s.trainExamples() != train.numExamples() || s.seed() != config.seed()) {
                throw new IllegalStateException(checkpoint + " was written for " + s.trainExamples()
                        + " training images and seed " + s.seed() + ", the run now has " + train.numExamples()
                        + " and seed " + config.seed() + ": use --overwrite to start again");
            }
            graph = loaded.graph();
            done = s.epoch();
            iteratorEpoch = s.iteratorEpoch();
        } else {
            graph = ResNets.create(config.spec(), training(config, train.batchesPerEpoch()));
            done = 0;
            iteratorEpoch = 0;
            if (stored == null) {
                writeRunJson(dir.resolve(RUN_JSON), config, data, train, test, graph);
            }
        }

        out.println("network: " + config.describeNetwork() + String.format(Locale.ROOT, ", %,d parameters",
                ResNets.countParameters(graph)));
        out.println(String.format(Locale.ROOT, "training: %d epochs, batch %d, Adam lr %s (%s), augment %s, seed %d, %,d train"
                        + " / %,d test images; output %s", config.epochs(), config.batch(), config.lr(),
                config.lrSchedule().id(), config.augment().id(), config.seed(), train.numExamples(), test.numExamples(),
                dir));
        Path csvPath = dir.resolve(METRICS);
        Path model = dir.resolve(MODEL);
        if (done >= config.epochs()) {
            if (!Files.exists(model)) {
                Checkpoint.writeModel(graph, model); // killed between the last checkpoint and the model
            }
            out.println("run already complete: " + config.epochs() + " epochs in " + dir);
            return new Result(config, dir, MetricsCsv.read(csvPath), done);
        }
        if (done > 0) {
            out.println("resuming after epoch " + done + " of " + config.epochs() + " (" + checkpoint + ")");
        }
        trainEpochs(config, graph, train, test, dir, done, iteratorEpoch);
        Checkpoint.writeModel(graph, model);
        List<EpochMetrics> rows = MetricsCsv.read(csvPath);
        out.println(String.format(Locale.ROOT, "done: test accuracy %.2f%% after %d epochs; %s, %s, %s in %s",
                100 * rows.get(rows.size() - 1).testAcc(), config.epochs(), MODEL, METRICS, CURVES, dir));
        return new Result(config, dir, rows, done);
    }

    /**
     * Checks the folder against the mode and clears it for {@link Mode#OVERWRITE}.
     *
     * @return the run's {@value #RUN_JSON} when resuming one, else null
     */
    private Map<String, Object> prepareFolder(Path dir, Map<String, ?> requested, Mode mode) throws IOException {
        Path runJson = dir.resolve(RUN_JSON);
        switch (mode) {
            case NEW -> {
                List<String> present = presentRunFiles(dir);
                if (!present.isEmpty()) {
                    throw new IllegalStateException(dir + " already holds a run (" + String.join(", ", present)
                            + "): pass --resume to continue it, --overwrite to start it again, or choose another --out");
                }
                return null;
            }
            case OVERWRITE -> {
                deleteRun(dir);
                return null;
            }
            case RESUME -> {
                if (!Files.exists(runJson)) {
                    List<String> present = presentRunFiles(dir);
                    if (!present.isEmpty()) {
                        throw new IllegalStateException(dir + " holds run files (" + String.join(", ", present)
                                + ") but no " + RUN_JSON + ", so its settings are unknown: use --overwrite to start again");
                    }
                    out.println("nothing to resume in " + dir + ": starting a new run");
                    return null;
                }
                Map<String, Object> stored = Json.readObject(Files.readString(runJson, StandardCharsets.UTF_8),
                        runJson.toString());
                List<String> diffs = storedConfig(stored, runJson).differences(requested);
                if (!diffs.isEmpty()) {
                    throw new IllegalArgumentException("cannot resume " + dir + " with other settings: "
                            + String.join("; ", diffs) + ". Omit these options (a resumed run reads its settings from "
                            + runJson + "), or start a new run with another --out or --overwrite");
                }
                return stored;
            }
            default -> throw new AssertionError(mode);
        }
    }

    /**
     * Trains epochs {@code done + 1 .. epochs}, the first with the data order of iterator epoch
     * {@code iteratorEpoch}; after each: metrics row, checkpoint, curves, one line on stdout.
     */
    private void trainEpochs(TrainConfig config, ComputationGraph graph, FashionMnistIterator train,
                             FashionMnistIterator test, Path dir, int done, int iteratorEpoch) throws IOException {
        Path csvPath = dir.resolve(METRICS);
        String title = config.arch() + " on Fashion-MNIST";
        try (MetricsCsv csv = MetricsCsv.open(csvPath, done);
             SparkEpochs onSpark = spark == null ? null : SparkEpochs.start(spark, config, graph, out, clock)) {
            BatchAccuracy accuracy = new BatchAccuracy();
            if (onSpark == null) {
                graph.setListeners(accuracy); // the listener sees the local forward passes only
            }
            Progress progress = new Progress(err, interactive, clock);
            for (int epoch = done + 1; epoch <= config.epochs(); epoch++, iteratorEpoch++) {
                train.setEpoch(iteratorEpoch); // the order depends only on (seed, iterator epoch)
                EpochMetrics m;
                if (onSpark == null) {
                    m = trainEpoch(config, graph, train, test, accuracy, progress, epoch);
                    graph.incrementEpochCount();
                } else {
                    m = onSpark.trainEpoch(config, train, test, epoch); // counts the epoch itself
                }
                csv.append(m);
                Checkpoint.write(graph, new Checkpoint.State(epoch, graph.getIterationCount(), config.seed(),
                        iteratorEpoch + 1, train.numExamples(), config.describeNetwork()), dir.resolve(CHECKPOINT));
                TrainingPlot.writeFromCsv(csvPath, title, dir.resolve(CURVES));
                out.println(String.format(Locale.ROOT,
                        "epoch %d/%d: train loss %.4f acc %s | test loss %.4f acc %.2f%% | %.0f img/s, %.1f s",
                        epoch, config.epochs(), m.trainLoss(), Double.isNaN(m.trainAcc()) ? "-"
                                : String.format(Locale.ROOT, "%.2f%%", 100 * m.trainAcc()), m.testLoss(), 100 * m.testAcc(),
                        m.imagesPerSec(), m.seconds()));
            }
        } finally {
            graph.setListeners(new ArrayList<>());
        }
    }

    // ---------------------------------------------------------------------------------------

    static NeuralNetConfiguration.Builder training(TrainConfig config, int batchesPerEpoch) {
        Adam adam = switch (config.lrSchedule()) {
            case CONSTANT -> new Adam(config.lr());
            case COSINE -> new Adam(new CosineSchedule(config.lr(), Math.max(1, config.epochs() * batchesPerEpoch)));
        };
        return new NeuralNetConfiguration.Builder().seed(config.seed()).updater(adam).dataType(DataType.FLOAT);
    }

    private EpochMetrics trainEpoch(TrainConfig config, ComputationGraph graph, FashionMnistIterator train,
                                    FashionMnistIterator test, BatchAccuracy accuracy, Progress progress, int epoch) {
        progress.begin(epoch, config.epochs(), train.numExamples(), train.batchesPerEpoch());
        long start = clock.getAsLong();
        double lossSum = 0;
        long correct = 0;
        int seen = 0;
        boolean accKnown = true;
        for (int b = 0; train.hasNext(); b++) {
            DataSet batch = train.next();
            batch.setFeatures(config.augment().apply(batch.getFeatures(), config.seed(), train.epoch(), b));
            int n = batch.numExamples();
            accuracy.expect(batch.getLabels());
            graph.fit(batch);
            lossSum += graph.score() * n;
            seen += n;
            if (accuracy.correct < 0) {
                accKnown = false;
            }
            correct += Math.max(0, accuracy.correct);
            progress.update(seen, lossSum / seen, accKnown ? (double) correct / seen : Double.NaN);
        }
        double seconds = (clock.getAsLong() - start) / 1e9;
        double trainLoss = lossSum / seen;
        double trainAcc = accKnown ? (double) correct / seen : Double.NaN;
        progress.end(seen, trainLoss, trainAcc);
        double[] testLossAcc = evaluate(graph, test);
        return new EpochMetrics(epoch, trainLoss, trainAcc, testLossAcc[0], testLossAcc[1], seen / seconds, seconds);
    }

    /**
     * Test loss and accuracy in inference mode.
     *
     * @return {mean cross-entropy, accuracy}
     */
    static double[] evaluate(ComputationGraph graph, FashionMnistIterator test) {
        Evaluation evaluation = new Evaluation(FashionMnist.NUM_CLASSES);
        test.setEpoch(0);
        double lossSum = 0;
        long n = 0;
        while (test.hasNext()) {
            DataSet batch = test.next();
            INDArray probabilities = graph.outputSingle(false, batch.getFeatures());
            evaluation.eval(batch.getLabels(), probabilities);
            INDArray logP = Transforms.log(Transforms.max(probabilities, 1e-12, true), false);
            lossSum -= logP.muli(batch.getLabels()).sumNumber().doubleValue();
            n += batch.numExamples();
        }
        return new double[] {lossSum / n, evaluation.accuracy()};
    }

    /** Counts correct predictions of the training forward pass, from the logits DL4J hands to listeners. */
    static final class BatchAccuracy extends BaseTrainingListener {
        private static final long serialVersionUID = 1L;
        private transient INDArray labels;
        long correct = -1;

        void expect(INDArray oneHotLabels) {
            labels = Nd4j.argMax(oneHotLabels, 1);
            correct = -1;
        }

        @Override
        public void onForwardPass(Model model, Map<String, INDArray> activations) {
            INDArray logits = activations.get(ResNets.CLASSIFIER);
            if (logits == null || labels == null) {
                return;
            }
            correct = Nd4j.argMax(logits, 1).eq(labels).castTo(DataType.INT).sumNumber().longValue();
        }
    }

    private static TrainConfig storedConfig(Map<String, Object> stored, Path runJson) {
        Object c = stored.get("config");
        if (!(c instanceof Map<?, ?> m)) {
            throw new IllegalStateException(runJson + " has no \"config\" object; use --overwrite to start again");
        }
        Map<String, Object> values = new LinkedHashMap<>();
        m.forEach((k, v) -> {
            if (v != null) {
                values.put(k.toString(), v);
            }
        });
        try {
            return TrainConfig.fromMap(values);
        } catch (IllegalArgumentException e) {
            throw new IllegalStateException(runJson + ": " + e.getMessage(), e);
        }
    }

    /**
     * Refuses a checkpoint of another network than the run's (another run's checkpoint.zip copied
     * in would otherwise be trained, and saved, under this run's name). Checkpoints that predate
     * the recorded network are compared by parameter count.
     */
    private static void checkSameNetwork(Checkpoint.Loaded loaded, TrainConfig config, Map<String, Object> stored,
                                         Path checkpoint, Path runJson) {
        String ours = config.describeNetwork();
        String theirs = loaded.state().network();
        if (theirs == null) {
            long params = ResNets.countParameters(loaded.graph());
            Object recorded = stored.get("parameters");
            if (!(recorded instanceof Number n) || n.longValue() == params) {
                return;
            }
            theirs = String.format(Locale.ROOT, "a network of %,d parameters", params);
            ours += String.format(Locale.ROOT, " (%,d parameters)", n.longValue());
        } else if (theirs.equals(ours)) {
            return;
        }
        loaded.graph().close();
        throw new IllegalStateException(checkpoint + " holds " + theirs + " but " + runJson + " is a run of " + ours
                + ": the checkpoint belongs to another run; resume in that run's folder, or use --overwrite to start "
                + "this one again");
    }

    private static void checkSameData(Map<String, Object> stored, FashionMnistIterator train, FashionMnistIterator test,
                                      Path runJson) {
        Object tr = stored.get("trainExamples");
        Object te = stored.get("testExamples");
        if (tr instanceof Number a && te instanceof Number b
                && (a.intValue() != train.numExamples() || b.intValue() != test.numExamples())) {
            throw new IllegalStateException("the data differs from the run's: " + runJson + " records "
                    + a + " training / " + b + " test images, now there are " + train.numExamples() + " / "
                    + test.numExamples() + " (another --data, or the data set was installed or removed?)");
        }
    }

    private static void writeRunJson(Path runJson, TrainConfig config, FashionMnist data, FashionMnistIterator train,
                                     FashionMnistIterator test, ComputationGraph graph) throws IOException {
        ResNetSpec spec = config.spec();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("format", 1);
        m.put("command", "train");
        m.put("config", config.toMap());
        m.put("data", data.describe());
        m.put("trainExamples", train.numExamples());
        m.put("testExamples", test.numExamples());
        m.put("network", config.describeNetwork());
        m.put("parameters", ResNets.countParameters(graph));
        m.put("input", List.of(spec.inputChannels(), spec.inputHeight(), spec.inputWidth()));
        m.put("created", Instant.now().toString());
        String json = Json.write(m);
        AtomicFiles.write(runJson, o -> o.write(json.getBytes(StandardCharsets.UTF_8)));
    }

    private static List<String> presentRunFiles(Path dir) {
        List<String> present = new ArrayList<>();
        for (String f : RUN_FILES) {
            if (Files.exists(dir.resolve(f))) {
                present.add(f);
            }
        }
        return present;
    }

    private static void deleteRun(Path dir) throws IOException {
        for (String f : RUN_FILES) {
            Files.deleteIfExists(dir.resolve(f));
            AtomicFiles.deleteStaleTemps(dir, f);
        }
    }
}
