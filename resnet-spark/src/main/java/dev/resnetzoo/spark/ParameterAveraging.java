package dev.resnetzoo.spark;

import java.util.Locale;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.spark.api.RDDTrainingApproach;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingMaster;

/**
 * Settings of DL4J's {@link ParameterAveragingTrainingMaster}: synchronous data-parallel training
 * in which every worker fits its own copy of the network on {@code averagingFrequency} minibatches
 * of {@code batchPerWorker} images, after which the driver averages the parameters and the Adam
 * state of all workers and broadcasts them again.
 *
 * <p>With {@code averagingFrequency = 1} each step is an average over {@code workers} minibatches,
 * close to single-machine training with a batch of {@code workers * batchPerWorker}; larger values
 * cut the communication per image and let the copies drift apart between averages.
 *
 * @param workers            workers training at once; 0 for Spark's default parallelism (one per executor core)
 * @param batchPerWorker     images in each worker's minibatch, >= 1
 * @param averagingFrequency minibatches each worker fits between two averages, >= 1
 */
public record ParameterAveraging(int workers, int batchPerWorker, int averagingFrequency) {

    /** Minibatches between averages unless set: 5, within the 5 to 10 DL4J's Spark guide recommends. */
    public static final int DEFAULT_AVERAGING_FREQUENCY = 5;

    /** Defaults of the API: Spark's parallelism, 32 images, averaging every 5 minibatches. */
    public static final ParameterAveraging DEFAULT = new ParameterAveraging(0, 32, DEFAULT_AVERAGING_FREQUENCY);

    /** @throws IllegalArgumentException naming the value that is out of range */
    public ParameterAveraging {
        if (workers < 0) {
            throw new IllegalArgumentException("workers must be >= 0 (0 = Spark's default parallelism), got " + workers);
        }
        if (batchPerWorker < 1) {
            throw new IllegalArgumentException("batch per worker must be >= 1, got " + batchPerWorker);
        }
        if (averagingFrequency < 1) {
            throw new IllegalArgumentException("averaging frequency must be >= 1 minibatch, got " + averagingFrequency);
        }
    }

    /**
     * The training master for an RDD whose every {@code DataSet} holds {@code examplesPerDataSet}
     * images. Data go to the workers directly (no export to a shared file system), and the Adam
     * state is averaged with the parameters.
     *
     * The workers start each round at the driver network's iteration and epoch counts (see
     * {@code IterationCountHook}: DL4J M2 restarts them at 0, which freezes learning-rate
     * schedules and Adam's bias correction).
     *
     * @param examplesPerDataSet images per element of the RDD, >= 1
     * @param seed               seed of DL4J's repartitioning
     * @param graph              the network on the driver that the master will train
     * @return a new training master
     */
    public ParameterAveragingTrainingMaster create(int examplesPerDataSet, long seed, ComputationGraph graph) {
        if (examplesPerDataSet < 1) {
            throw new IllegalArgumentException("images per DataSet must be >= 1, got " + examplesPerDataSet);
        }
        return new ParameterAveragingTrainingMaster.Builder(workers == 0 ? null : workers, examplesPerDataSet)
                .batchSizePerWorker(batchPerWorker)
                .averagingFrequency(averagingFrequency)
                .workerPrefetchNumBatches(2)
                .saveUpdater(true)
                .rddTrainingApproach(RDDTrainingApproach.Direct)
                .rngSeed(seed)
                .trainingHooks(new IterationCountHook(graph))
                .build();
    }

    /** @return e.g. {@code parameter averaging: 2 workers, batch 64 per worker, averaged every 5 minibatches} */
    public String describe() {
        return String.format(Locale.ROOT, "parameter averaging (DL4J ParameterAveragingTrainingMaster): %s, batch %d per "
                        + "worker, averaged every %d minibatch%s", workers == 0 ? "one worker per executor core"
                        : workers + " worker" + (workers == 1 ? "" : "s"), batchPerWorker, averagingFrequency,
                averagingFrequency == 1 ? "" : "es");
    }
}
