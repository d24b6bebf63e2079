package dev.resnetzoo.examples.train;

import java.io.PrintStream;
import java.util.Locale;
import java.util.function.LongSupplier;

/**
 * Training progress on stderr: on a terminal a bar redrawn in place (loss, running accuracy,
 * images per second, time left in the epoch); otherwise, as in a log file or a pipe, a plain line
 * at the start of each epoch and then every 10% of it or every minute, whichever comes first.
 */
final class Progress {
    private static final int BAR = 24;
    private static final long REDRAW_NANOS = 250_000_000L;
    private static final long LINE_NANOS = 60_000_000_000L;

    private final PrintStream err;
    private final boolean interactive;
    private final LongSupplier clock;

    private int epoch;
    private int epochs;
    private int total;
    private long start;
    private long lastPrint;
    private int lastDecile;
    private int lastWidth;

    /**
     * @param err         where to write
     * @param interactive redraw a bar with carriage returns (a terminal) or print lines
     * @param clock       nanosecond clock
     */
    Progress(PrintStream err, boolean interactive, LongSupplier clock) {
        this.err = err;
        this.interactive = interactive;
        this.clock = clock;
    }

    void begin(int epoch, int epochs, int totalImages, int batches) {
        this.epoch = epoch;
        this.epochs = epochs;
        this.total = totalImages;
        this.start = clock.getAsLong();
        this.lastPrint = start;
        this.lastDecile = 0;
        this.lastWidth = 0;
        if (interactive) {
            draw(0, Double.NaN, Double.NaN);
        } else {
            err.printf(Locale.ROOT, "epoch %d/%d: training on %,d images (%,d batches)%n", epoch, epochs, totalImages,
                    batches);
            err.flush();
        }
    }

    /**
     * @param done images trained on so far in this epoch
     * @param loss mean training loss so far
     * @param acc  training accuracy so far, NaN if unknown
     */
    void update(int done, double loss, double acc) {
        long now = clock.getAsLong();
        if (interactive) {
            if (now - lastPrint >= REDRAW_NANOS || done >= total) {
                lastPrint = now;
                draw(done, loss, acc);
            }
        } else {
            int decile = (int) (10L * done / Math.max(1, total));
            if (decile > lastDecile && done < total || now - lastPrint >= LINE_NANOS) {
                lastDecile = decile;
                lastPrint = now;
                err.println(status(done, loss, acc, now));
                err.flush();
            }
        }
    }

    /** Ends the epoch's bar (a terminal keeps its last state on its own line). */
    void end(int done, double loss, double acc) {
        if (interactive) {
            draw(done, loss, acc);
            err.println();
            err.flush();
        }
    }

    private void draw(int done, double loss, double acc) {
        int filled = (int) ((long) BAR * done / Math.max(1, total));
        StringBuilder line = new StringBuilder().append('\r')
                .append(String.format(Locale.ROOT, "epoch %d/%d [", epoch, epochs))
                .append("=".repeat(filled));
        if (filled < BAR) {
            line.append('>').append(" ".repeat(BAR - filled - 1));
        }
        line.append("] ").append(status(done, loss, acc, clock.getAsLong()).replaceFirst("^epoch \\S+ ", ""));
        int width = line.length();
        if (width < lastWidth) {
            line.append(" ".repeat(lastWidth - width));
        }
        lastWidth = width;
        err.print(line);
        err.flush();
    }

    String status(int done, double loss, double acc, long now) {
        double seconds = (now - start) / 1e9;
        double rate = seconds > 0 ? done / seconds : 0;
        StringBuilder s = new StringBuilder(String.format(Locale.ROOT, "epoch %d/%d %,d/%,d", epoch, epochs, done, total));
        if (done > 0) {
            s.append(String.format(Locale.ROOT, "  loss %.4f", loss));
            if (!Double.isNaN(acc)) {
                s.append(String.format(Locale.ROOT, "  acc %.2f%%", 100 * acc));
            }
            s.append(String.format(Locale.ROOT, "  %.0f img/s", rate));
            if (done < total && rate > 0) {
                s.append("  ETA ").append(clockTime((total - done) / rate));
            } else {
                s.append("  ").append(clockTime(seconds));
            }
        }
        return s.toString();
    }

    /** {@code m:ss} or {@code h:mm:ss}. */
    static String clockTime(double seconds) {
        long t = Math.max(0, Math.round(seconds));
        long h = t / 3600;
        long m = t / 60 % 60;
        long s = t % 60;
        return h > 0 ? String.format(Locale.ROOT, "%d:%02d:%02d", h, m, s) : String.format(Locale.ROOT, "%d:%02d", m, s);
    }
}
