package dev.resnetzoo.examples.train;

import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.nativeblas.NativeOpsHolder;

/** The number of CPU threads libnd4j and oneDNN use for work started from the calling thread (OpenMP). */
public final class Threads {

    private Threads() {
    }

    /**
     * Sets the thread count. One thread per core is the default; on a machine shared with other
     * jobs, fewer threads avoid OpenMP's spinning barriers, which otherwise slow small operations
     * down several times when a core is taken.
     *
     * @param threads threads, >= 1
     * @return the previous number, to restore it
     * @throws IllegalArgumentException if {@code threads < 1}
     */
    public static int set(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("--threads must be >= 1, got " + threads);
        }
        int previous = current();
        Nd4j.getEnvironment().setMaxThreads(threads);
        Nd4j.getEnvironment().setMaxMasterThreads(threads);
        NativeOpsHolder.getInstance().getDeviceNativeOps().setOmpNumThreads(threads);
        return previous;
    }

    /** @return the number of threads work started from the calling thread uses */
    public static int current() {
        Nd4j.getEnvironment(); // loads the backend, which NativeOpsHolder needs
        return NativeOpsHolder.getInstance().getDeviceNativeOps().ompGetMaxThreads();
    }
}
