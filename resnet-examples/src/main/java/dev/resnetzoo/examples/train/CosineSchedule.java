package dev.resnetzoo.examples.train;

import org.nd4j.linalg.schedule.ISchedule;

/**
 * Cosine decay per optimiser step (Loshchilov and Hutter, "SGDR", 2016, without restarts):
 * {@code initial * (1 + cos(pi * step / totalSteps)) / 2}, reaching 0 after {@code totalSteps}.
 * It reads the iteration counter that DL4J stores with the network, so a resumed run continues
 * the same curve. DL4J 1.0.0-M2.1 ships no cosine schedule; this one serialises with the model
 * configuration through its fields (DL4J's mapper reads fields and needs a no-argument
 * constructor), so the class needs no Jackson annotations of ND4J's copy.
 */
public final class CosineSchedule implements ISchedule {
    private static final long serialVersionUID = 1L;

    private double initialValue;
    private int totalSteps;

    /** For DL4J's JSON deserialisation. */
    private CosineSchedule() {
        this.totalSteps = 1;
    }

    /**
     * @param initialValue value at step 0
     * @param totalSteps   steps over which it decays to 0, >= 1
     */
    public CosineSchedule(double initialValue, int totalSteps) {
        if (totalSteps < 1) {
            throw new IllegalArgumentException("cosine schedule needs totalSteps >= 1, got " + totalSteps);
        }
        this.initialValue = initialValue;
        this.totalSteps = totalSteps;
    }

    @Override
    public double valueAt(int iteration, int epoch) {
        double t = Math.min(Math.max(iteration, 0), totalSteps) / (double) totalSteps;
        return initialValue * 0.5 * (1 + Math.cos(Math.PI * t));
    }

    @Override
    public ISchedule clone() {
        return new CosineSchedule(initialValue, totalSteps);
    }

    /** @return the value at step 0 */
    public double getInitialValue() {
        return initialValue;
    }

    /** @return the steps to reach 0 */
    public int getTotalSteps() {
        return totalSteps;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof CosineSchedule c && c.initialValue == initialValue && c.totalSteps == totalSteps;
    }

    @Override
    public int hashCode() {
        return Double.hashCode(initialValue) * 31 + totalSteps;
    }

    @Override
    public String toString() {
        return "CosineSchedule(initialValue=" + initialValue + ", totalSteps=" + totalSteps + ")";
    }
}
