package dev.resnetzoo.examples.train;

import dev.resnetzoo.examples.data.FashionMnistIterator;
import dev.resnetzoo.examples.metrics.EpochMetrics;
import java.util.ArrayList;
import java.util.function.LongSupplier;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.dataset.DataSet;

/**
 * The epochs of a {@link Trainer} run in this JVM: each batch augmented by (seed, iterator epoch,
 * batch), one optimiser step, the training loss and accuracy of the step's own forward pass, the
 * progress on stderr; after the epoch the batch norms' {@linkplain BatchNormStatistics statistics}
 * and the test evaluation.
 */
final class LocalEpochs implements Epochs {

    private final ComputationGraph graph;
    private final Progress progress;
    private final LongSupplier clock;
    private final BatchAccuracy accuracy = new BatchAccuracy();
    private final BatchNormStatistics statistics = new BatchNormStatistics();

    LocalEpochs(ComputationGraph graph, Progress progress, LongSupplier clock) {
        this.graph = graph;
        this.progress = progress;
        this.clock = clock;
        graph.setListeners(accuracy, statistics);
    }

    @Override
    public EpochMetrics trainEpoch(TrainConfig config, FashionMnistIterator train, FashionMnistIterator test, int epoch) {
        int steps = train.batchesPerEpoch();
        progress.begin(epoch, config.epochs(), train.numExamples(), steps);
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
            statistics.beforeStep(b, steps, n);
            graph.fit(batch);
            lossSum += graph.score() * n;
            seen += n;
            if (accuracy.correct() < 0) {
                accKnown = false;
            }
            correct += Math.max(0, accuracy.correct());
            progress.update(seen, lossSum / seen, accKnown ? (double) correct / seen : Double.NaN);
        }
        statistics.apply(graph);
        graph.incrementEpochCount();
        double seconds = (clock.getAsLong() - start) / 1e9;
        double trainLoss = lossSum / seen;
        double trainAcc = accKnown ? (double) correct / seen : Double.NaN;
        progress.end(seen, trainLoss, trainAcc);
        TestEvaluation t = TestEvaluation.of(graph, test);
        return new EpochMetrics(epoch, trainLoss, trainAcc, t.loss(), t.accuracy(), seen / seconds, seconds);
    }

    @Override
    public void close() {
        graph.setListeners(new ArrayList<>());
    }
}
