package dev.resnetzoo.examples.train;

import dev.resnetzoo.examples.data.FashionMnistIterator;
import dev.resnetzoo.examples.metrics.EpochMetrics;

/** How a run's epochs are trained: in this JVM ({@link LocalEpochs}) or on Spark ({@link SparkEpochs}). */
interface Epochs extends AutoCloseable {

    /**
     * Trains one epoch on {@code train}'s current epoch order, counts it in the network, and
     * evaluates the network on {@code test}.
     *
     * @param epoch the epoch's number (1-based), for the metrics
     * @return the epoch's metrics
     */
    EpochMetrics trainEpoch(TrainConfig config, FashionMnistIterator train, FashionMnistIterator test, int epoch);

    @Override
    void close();
}
