package dev.resnetzoo.examples.train;

import dev.resnetzoo.spark.ParameterAveraging;
import dev.resnetzoo.spark.SparkMasters;

/**
 * How {@code ./resnet train --spark} trains: the Spark master and DL4J's parameter averaging.
 * Not part of a run's settings: a run started on Spark can be resumed on one machine and back.
 *
 * @param master             a Spark master URL ({@link SparkMasters#check})
 * @param workers            workers training at once, or null for Spark's default parallelism
 * @param batchPerWorker     images per worker minibatch, or null for {@code ceil(batch / workers)}, so
 *                           that one averaging round over all workers sees about one {@code --batch}
 * @param averagingFrequency minibatches per worker between two parameter averages
 */
public record SparkSettings(String master, Integer workers, Integer batchPerWorker, int averagingFrequency) {

    /** The default averaging frequency, {@link ParameterAveraging#DEFAULT_AVERAGING_FREQUENCY}. */
    public static final int DEFAULT_AVERAGING_FREQUENCY = ParameterAveraging.DEFAULT_AVERAGING_FREQUENCY;

    /** @throws IllegalArgumentException naming the bad value */
    public SparkSettings {
        master = SparkMasters.check(master);
        if (workers != null && workers < 1) {
            throw new IllegalArgumentException("--workers must be >= 1, got " + workers);
        }
        if (batchPerWorker != null && batchPerWorker < 1) {
            throw new IllegalArgumentException("--batch-per-worker must be >= 1, got " + batchPerWorker);
        }
        if (averagingFrequency < 1) {
            throw new IllegalArgumentException("--averaging-frequency must be >= 1, got " + averagingFrequency);
        }
    }

    /**
     * @param defaultParallelism Spark's default parallelism
     * @param batch              the run's {@code --batch}
     * @return the training master's settings
     */
    ParameterAveraging averaging(int defaultParallelism, int batch) {
        int w = workers != null ? workers : Math.max(1, defaultParallelism);
        int b = batchPerWorker != null ? batchPerWorker : (batch + w - 1) / w;
        return new ParameterAveraging(w, b, averagingFrequency);
    }
}
