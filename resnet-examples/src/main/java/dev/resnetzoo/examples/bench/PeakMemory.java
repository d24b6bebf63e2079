package dev.resnetzoo.examples.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The process's peak resident memory on Linux ({@code VmHWM} in {@code /proc/self/status}), which
 * {@link #reset()} lowers to the current resident size (writing 5 to {@code /proc/self/clear_refs}),
 * so that one process can measure several configurations one after the other.
 */
final class PeakMemory {
    private PeakMemory() {
    }

    /** Starts a new peak from the current resident size; does nothing where Linux does not allow it. */
    static void reset() {
        try {
            Files.writeString(Path.of("/proc/self/clear_refs"), "5");
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            // not Linux, or not permitted: the peak then covers the process's whole life
        }
    }

    /** @return the peak resident memory in bytes since the last {@link #reset()}, or -1 where unknown */
    static long peakBytes() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmHWM:")) {
                    String[] parts = line.substring(6).trim().split("\\s+");
                    return Long.parseLong(parts[0]) * 1024;
                }
            }
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
        return -1;
    }
}
