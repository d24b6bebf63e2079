package dev.resnetzoo.examples.train;

import dev.resnetzoo.examples.data.FashionMnistIterator;
import dev.resnetzoo.examples.metrics.EpochMetrics;
import dev.resnetzoo.examples.metrics.MetricsCsv;
import dev.resnetzoo.examples.metrics.TrainingPlot;
import java.io.IOException;
import java.io.PrintStream;
import java.util.Locale;
import org.deeplearning4j.nn.graph.ComputationGraph;

/**
 * The epochs of a run and what follows each: the metrics row, the checkpoint, the curves, one line
 * on stdout, in that order. A kill between the row and the checkpoint leaves a row for an epoch
 * that will run again; {@link MetricsCsv#open(java.nio.file.Path, int)} drops it on resume, so
 * every epoch appears exactly once.
 */
final class EpochLoop {

    private final TrainConfig config;
    private final RunFolder folder;
    private final PrintStream out;

    EpochLoop(TrainConfig config, RunFolder folder, PrintStream out) {
        this.config = config;
        this.folder = folder;
        this.out = out;
    }

    /**
     * Trains epochs {@code start.epochsDone() + 1 .. epochs}, the first with the data order of
     * iterator epoch {@code start.iteratorEpoch()}.
     *
     * @param epochs how the epochs are trained (closed at the end)
     */
    void run(ResumePoint start, FashionMnistIterator train, FashionMnistIterator test, Epochs epochs) throws IOException {
        ComputationGraph graph = start.graph();
        String title = config.arch() + " on Fashion-MNIST";
        int iteratorEpoch = start.iteratorEpoch();
        try (epochs; MetricsCsv csv = MetricsCsv.open(folder.metrics(), start.epochsDone())) {
            for (int epoch = start.epochsDone() + 1; epoch <= config.epochs(); epoch++, iteratorEpoch++) {
                train.setEpoch(iteratorEpoch); // the order depends only on (seed, iterator epoch)
                EpochMetrics m = epochs.trainEpoch(config, train, test, epoch);
                csv.append(m);
                Checkpoint.write(TrainedModel.of(config, graph), new Checkpoint.State(epoch, graph.getIterationCount(), config.seed(),
                        iteratorEpoch + 1, train.numExamples(), config.describeNetwork()), folder.checkpoint());
                TrainingPlot.writeFromCsv(folder.metrics(), title, folder.curves());
                out.println(line(m));
            }
        }
    }

    private String line(EpochMetrics m) {
        return String.format(Locale.ROOT,
                "epoch %d/%d: train loss %.4f acc %s | test loss %.4f acc %.2f%% | %.0f img/s, %.1f s",
                m.epoch(), config.epochs(), m.trainLoss(), Double.isNaN(m.trainAcc()) ? "-"
                        : String.format(Locale.ROOT, "%.2f%%", 100 * m.trainAcc()), m.testLoss(), 100 * m.testAcc(),
                m.imagesPerSec(), m.seconds());
    }
}
