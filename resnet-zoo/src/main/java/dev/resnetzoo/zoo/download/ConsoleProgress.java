package dev.resnetzoo.zoo.download;

import dev.resnetzoo.zoo.console.ProgressBar;
import java.io.PrintStream;
import java.net.URI;
import java.time.Duration;
import java.util.Locale;
import java.util.function.LongSupplier;

/**
 * The listener behind {@link ProgressListener#console()}: a {@link ProgressBar} of bytes, redrawn on
 * a terminal about ten times a second, in a log a line about every 10% (at most one a second) or
 * 10 seconds. Each transfer's header names the URL actually requested (a mirror's when one is set).
 */
final class ConsoleProgress implements ProgressListener {

    private final ProgressBar bar;
    private long done;

    ConsoleProgress(PrintStream out, boolean interactive, LongSupplier clock) {
        this.bar = ProgressBar.builder(out, ConsoleProgress::status)
                .optInteractive(interactive)
                .optClock(clock)
                .optRedrawInterval(Duration.ofMillis(100))
                .optLineInterval(Duration.ofSeconds(10))
                .optMinLineGap(Duration.ofSeconds(1))
                .build();
    }

    @Override
    public synchronized void onStart(FileSpec spec, URI source, long done, long total) {
        this.done = done;
        String name = spec.fileName();
        StringBuilder header = new StringBuilder("Downloading ").append(name).append(" from ").append(source);
        if (total >= 0) {
            header.append(" (").append(mb(total)).append(" MB)");
        }
        if (done > 0) {
            header.append(", resuming at ").append(mb(done)).append(" MB");
        }
        bar.start(name.length() > 40 ? name.substring(0, 37) + "..." : name, header.toString(), done, total);
    }

    @Override
    public synchronized void onProgress(long done, long total) {
        this.done = done;
        bar.update(done, total);
    }

    @Override
    public synchronized void onFinish(FileSpec spec, boolean success) {
        String footer;
        if (bar.interactive()) {
            footer = success ? null : "Download of " + spec.fileName() + " failed";
        } else if (success) {
            footer = "Downloaded " + spec.fileName() + " (" + mb(done) + " MB in "
                    + ProgressBar.clockTime(Math.floor(bar.elapsedSeconds())) + ")";
        } else {
            footer = "Download of " + spec.fileName() + " failed at " + mb(done) + " MB";
        }
        bar.finish(footer);
    }

    /** Percent, MB done/total, MB/s, ETA; the parts that are unknown are left out. */
    private static String status(ProgressBar.Snapshot s) {
        StringBuilder text = new StringBuilder();
        if (s.total() > 0) {
            text.append(String.format(Locale.ROOT, "%3d%%  %s/%s MB", (int) (s.fraction() * 100), mb(s.done()),
                    mb(s.total())));
        } else {
            text.append(mb(s.done())).append(" MB");
        }
        if (s.rate() > 0) {
            text.append(String.format(Locale.ROOT, "  %.1f MB/s", s.rate() / 1e6));
            if (!Double.isNaN(s.secondsLeft())) {
                text.append("  ETA ").append(ProgressBar.clockTime(Math.ceil(s.secondsLeft())));
            }
        }
        return text.toString();
    }

    private static String mb(long bytes) {
        return String.format(Locale.ROOT, "%.1f", bytes / 1e6);
    }
}
