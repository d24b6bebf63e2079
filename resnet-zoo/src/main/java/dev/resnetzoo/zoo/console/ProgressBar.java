package dev.resnetzoo.zoo.console;

import java.io.PrintStream;
import java.time.Duration;
import java.util.Locale;
import java.util.Objects;
import java.util.function.LongSupplier;

/**
 * One progress display on a console stream, for tasks counted in units (bytes of a download,
 * images of an epoch). It has two modes:
 * <ul>
 *   <li><b>terminal</b> ({@linkplain Builder#optInteractive interactive}): one line redrawn in place
 *       with a carriage return, {@code label [=====>     ] text}, at most once per
 *       {@linkplain Builder#optRedrawInterval redraw interval} and always when the task is
 *       complete; {@link #finish(String)} ends the line;</li>
 *   <li><b>plain</b> (a log file, a pipe, CI): whole lines, {@code label text}: a header when a task
 *       starts, then one each time another tenth of it is done or the
 *       {@linkplain Builder#optLineInterval line interval} has passed, whichever comes first, but
 *       never two within the {@linkplain Builder#optMinLineGap minimum gap}; no line for the
 *       completed task (the caller's footer or summary says that).</li>
 * </ul>
 * The text after the bar comes from the caller's {@link Status}, given a {@link Snapshot} with the
 * rate and the time left, so that each task says what its units are.
 *
 * <pre>{@code
 * ProgressBar bar = ProgressBar.builder(System.err, s -> s.done() + "/" + s.total() + " files").build();
 * bar.start("copying", "copying 120 files", 0, 120);
 * ... bar.update(done, 120); ...
 * bar.finish(null);
 * }</pre>
 *
 * <p>Instances are thread-safe; one instance shows one task at a time.
 */
public final class ProgressBar {

    private static final int WIDTH = 24;

    /**
     * The state of a task when a line is drawn.
     *
     * @param done      units done, including those done before {@link #start} (e.g. a resumed download)
     * @param total     units in all, or a negative number if unknown
     * @param startDone units that were already done when the task started
     * @param seconds   seconds since the task started
     */
    public record Snapshot(long done, long total, long startDone, double seconds) {

        /**
         * Returns the units per second since the start.
         *
         * @return the rate, or 0 in the first twentieth of a second (too early to say)
         */
        public double rate() {
            return seconds > 0.05 ? (done - startDone) / seconds : 0;
        }

        /**
         * Returns the estimated seconds until the task is complete.
         *
         * @return the time left at the current rate, or {@code NaN} if the total or the rate is unknown
         *         or the task is complete
         */
        public double secondsLeft() {
            double rate = rate();
            return total > 0 && done < total && rate > 0 ? (total - done) / rate : Double.NaN;
        }

        /**
         * Returns the fraction done.
         *
         * @return {@code done / total} capped at 1, or {@code NaN} if the total is unknown
         */
        public double fraction() {
            return total > 0 ? Math.min(1.0, (double) done / total) : Double.NaN;
        }
    }

    /** Describes a task's state for the text after the bar, e.g. {@code 20%  20.0/100.0 MB  10.0 MB/s}. */
    @FunctionalInterface
    public interface Status {
        /**
         * Returns the text after the bar.
         *
         * @param snapshot the task's state now
         * @return the text, on one line
         */
        String text(Snapshot snapshot);
    }

    private final PrintStream out;
    private final Status status;
    private final boolean interactive;
    private final LongSupplier clock;
    private final long redrawNanos;
    private final long lineNanos;
    private final long minGapNanos;

    private String label = "";
    private long startNanos;
    private long startDone;
    private long done;
    private long total = -1;
    private long lastDrawNanos;
    private int lastTenth;
    private int lastWidth;

    private ProgressBar(Builder b) {
        this.out = b.out;
        this.status = b.status;
        this.interactive = b.interactive;
        this.clock = b.clock;
        this.redrawNanos = b.redraw.toNanos();
        this.lineNanos = b.line.toNanos();
        this.minGapNanos = b.minGap.toNanos();
    }

    /**
     * Starts configuring a bar. Defaults: interactive when {@code System.console() != null},
     * {@link System#nanoTime()}, redraw at most every 250 ms, plain lines at least every minute and
     * with no minimum gap.
     *
     * @param out    where to write, e.g. {@code System.err}
     * @param status the text after the bar
     * @return a new builder
     */
    public static Builder builder(PrintStream out, Status status) {
        return new Builder(out, status);
    }

    /**
     * Tells which mode the bar is in.
     *
     * @return {@code true} for a bar redrawn in place, {@code false} for plain lines
     */
    public boolean interactive() {
        return interactive;
    }

    /**
     * Starts a task: a terminal shows the bar at once; plain mode prints the header.
     *
     * @param label  what the task is, shown before the bar, e.g. {@code epoch 2/5} or a file name
     * @param header the plain-mode line announcing the task, or {@code null} for none
     * @param done   units already done (e.g. resumed), usually 0
     * @param total  units in all, or a negative number if unknown
     */
    public synchronized void start(String label, String header, long done, long total) {
        this.label = Objects.requireNonNull(label, "label");
        this.startNanos = clock.getAsLong();
        this.startDone = done;
        this.done = done;
        this.total = total;
        this.lastDrawNanos = startNanos;
        this.lastTenth = tenth(done, total);
        this.lastWidth = 0;
        if (interactive) {
            draw(startNanos);
        } else if (header != null) {
            out.println(header);
            out.flush();
        }
    }

    /**
     * Reports progress; draws or prints a line when one is due.
     *
     * @param done  units done so far
     * @param total units in all, or a negative number if unknown
     */
    public synchronized void update(long done, long total) {
        this.done = done;
        this.total = total;
        long now = clock.getAsLong();
        long since = now - lastDrawNanos;
        if (interactive) {
            if (since >= redrawNanos || total > 0 && done >= total) {
                draw(now);
            }
            return;
        }
        int tenth = tenth(done, total);
        if (since >= lineNanos || tenth > lastTenth && done < total && since >= minGapNanos) {
            lastTenth = tenth;
            lastDrawNanos = now;
            out.println(plainLine(now));
            out.flush();
        }
    }

    /**
     * Ends the task: a terminal shows its last state and ends the line; then the footer, if any, is
     * printed on a line of its own.
     *
     * @param footer a closing line, e.g. a summary or a failure, or {@code null} for none
     */
    public synchronized void finish(String footer) {
        if (interactive) {
            draw(clock.getAsLong());
            out.println();
            lastWidth = 0;
        }
        if (footer != null) {
            out.println(footer);
        }
        out.flush();
    }

    /**
     * Returns the time since the task started.
     *
     * @return seconds since {@link #start}
     */
    public synchronized double elapsedSeconds() {
        return (clock.getAsLong() - startNanos) / 1e9;
    }

    /**
     * Formats a time as a clock shows it.
     *
     * @param seconds a duration in seconds (rounded; negative counts as 0)
     * @return {@code m:ss}, or {@code h:mm:ss} from one hour on
     */
    public static String clockTime(double seconds) {
        long t = Math.max(0, Math.round(seconds));
        long h = t / 3600;
        long m = t / 60 % 60;
        long s = t % 60;
        return h > 0 ? String.format(Locale.ROOT, "%d:%02d:%02d", h, m, s) : String.format(Locale.ROOT, "%d:%02d", m, s);
    }

    private Snapshot snapshot(long now) {
        return new Snapshot(done, total, startDone, (now - startNanos) / 1e9);
    }

    private String plainLine(long now) {
        return label + " " + status.text(snapshot(now));
    }

    private void draw(long now) {
        StringBuilder line = new StringBuilder().append('\r').append(label).append(' ');
        if (total > 0) {
            int filled = (int) Math.min(WIDTH, WIDTH * done / total);
            line.append('[').append("=".repeat(filled));
            if (filled < WIDTH) {
                line.append('>').append(" ".repeat(WIDTH - filled - 1));
            }
            line.append("] ");
        }
        line.append(status.text(snapshot(now)));
        int width = line.length();
        if (width < lastWidth) {
            line.append(" ".repeat(lastWidth - width));     // wipe the rest of a longer previous line
        }
        lastWidth = width;
        out.print(line);
        out.flush();
        lastDrawNanos = now;
    }

    private static int tenth(long done, long total) {
        return total > 0 ? (int) Math.min(10, 10 * done / total) : 0;
    }

    /** Configures a {@link ProgressBar}; see {@link ProgressBar#builder(PrintStream, Status)} for the defaults. */
    public static final class Builder {
        private final PrintStream out;
        private final Status status;
        private boolean interactive = System.console() != null;
        private LongSupplier clock = System::nanoTime;
        private Duration redraw = Duration.ofMillis(250);
        private Duration line = Duration.ofMinutes(1);
        private Duration minGap = Duration.ZERO;

        private Builder(PrintStream out, Status status) {
            this.out = Objects.requireNonNull(out, "out");
            this.status = Objects.requireNonNull(status, "status");
        }

        /**
         * Chooses the mode.
         *
         * @param interactive {@code true} to redraw a bar in place (a terminal), {@code false} for plain lines
         * @return this builder
         */
        public Builder optInteractive(boolean interactive) {
            this.interactive = interactive;
            return this;
        }

        /**
         * Sets the clock, e.g. a fake one in tests.
         *
         * @param nanos a clock in nanoseconds, like {@link System#nanoTime()}
         * @return this builder
         */
        public Builder optClock(LongSupplier nanos) {
            this.clock = Objects.requireNonNull(nanos, "nanos");
            return this;
        }

        /**
         * Sets the shortest time between two redraws of a terminal bar.
         *
         * @param interval a non-negative duration
         * @return this builder
         */
        public Builder optRedrawInterval(Duration interval) {
            this.redraw = nonNegative(interval, "redraw interval");
            return this;
        }

        /**
         * Sets the longest time without a plain line while a task runs.
         *
         * @param interval a non-negative duration
         * @return this builder
         */
        public Builder optLineInterval(Duration interval) {
            this.line = nonNegative(interval, "line interval");
            return this;
        }

        /**
         * Sets the shortest time between two plain lines for tenths done (so that a fast task does
         * not print ten lines in a second).
         *
         * @param gap a non-negative duration
         * @return this builder
         */
        public Builder optMinLineGap(Duration gap) {
            this.minGap = nonNegative(gap, "minimum line gap");
            return this;
        }

        /**
         * Creates the bar.
         *
         * @return a new bar
         */
        public ProgressBar build() {
            return new ProgressBar(this);
        }

        private static Duration nonNegative(Duration d, String name) {
            if (Objects.requireNonNull(d, name).isNegative()) {
                throw new IllegalArgumentException(name + " must not be negative, got " + d);
            }
            return d;
        }
    }
}
