package dev.resnetzoo.examples.train;

import dev.resnetzoo.zoo.console.ProgressBar;
import java.io.PrintStream;
import java.time.Duration;
import java.util.Locale;
import java.util.function.LongSupplier;

/**
 * Training progress on stderr, drawn by the {@link ProgressBar} that downloads use too: on a
 * terminal a bar redrawn in place (loss, running accuracy, images per second, time left in the
 * epoch); otherwise, as in a log file or a pipe, a plain line at the start of each epoch and then
 * every 10% of it or every minute, whichever comes first.
 */
final class Progress {

    private final ProgressBar bar;
    private int total;
    private double loss = Double.NaN;
    private double acc = Double.NaN;

    /**
     * @param err         where to write
     * @param interactive redraw a bar with carriage returns (a terminal) or print lines
     * @param clock       nanosecond clock
     */
    Progress(PrintStream err, boolean interactive, LongSupplier clock) {
        this.bar = ProgressBar.builder(err, this::status)
                .optInteractive(interactive)
                .optClock(clock)
                .optRedrawInterval(Duration.ofMillis(250))
                .optLineInterval(Duration.ofMinutes(1))
                .build();
    }

    void begin(int epoch, int epochs, int totalImages, int batches) {
        this.total = totalImages;
        this.loss = Double.NaN;
        this.acc = Double.NaN;
        bar.start(String.format(Locale.ROOT, "epoch %d/%d", epoch, epochs),
                String.format(Locale.ROOT, "epoch %d/%d: training on %,d images (%,d batches)", epoch, epochs,
                        totalImages, batches), 0, totalImages);
    }

    /**
     * @param done images trained on so far in this epoch
     * @param loss mean training loss so far
     * @param acc  training accuracy so far, NaN if unknown
     */
    void update(int done, double loss, double acc) {
        this.loss = loss;
        this.acc = acc;
        bar.update(done, total);
    }

    /** Ends the epoch's bar: a terminal keeps its last state on its own line; a log needs no line, the summary follows. */
    void end(int done, double loss, double acc) {
        this.loss = loss;
        this.acc = acc;
        if (bar.interactive()) {
            bar.update(done, total);
            bar.finish(null);
        }
    }

    /** {@code 100/1,000  loss 0.5000  acc 80.00%  100 img/s  ETA 0:09}; the counts alone before the first batch. */
    private String status(ProgressBar.Snapshot s) {
        StringBuilder text = new StringBuilder(String.format(Locale.ROOT, "%,d/%,d", s.done(), s.total()));
        if (s.done() > 0) {
            text.append(String.format(Locale.ROOT, "  loss %.4f", loss));
            if (!Double.isNaN(acc)) {
                text.append(String.format(Locale.ROOT, "  acc %.2f%%", 100 * acc));
            }
            text.append(String.format(Locale.ROOT, "  %.0f img/s", s.rate()));
            double left = s.secondsLeft();
            text.append("  ").append(Double.isNaN(left) ? clockTime(s.seconds()) : "ETA " + clockTime(left));
        }
        return text.toString();
    }

    /** {@code m:ss} or {@code h:mm:ss}. */
    static String clockTime(double seconds) {
        return ProgressBar.clockTime(seconds);
    }
}
