package dev.resnetzoo.examples.metrics;

/**
 * Metrics of one training epoch, one row of {@link MetricsCsv}.
 *
 * <p>Accuracies are fractions in [0,1]. A value that was not measured is {@link Double#NaN}
 * (written as an empty CSV cell); {@code testLoss} is often not measured.
 *
 * @param epoch        epoch number, as the training loop counts it
 * @param trainLoss    mean training loss over the epoch
 * @param trainAcc     training accuracy over the epoch
 * @param testLoss     mean test loss, or NaN
 * @param testAcc      test accuracy after the epoch, or NaN
 * @param imagesPerSec training throughput
 * @param seconds      wall-clock duration of the epoch
 */
public record EpochMetrics(int epoch, double trainLoss, double trainAcc, double testLoss, double testAcc,
                           double imagesPerSec, double seconds) {
}
