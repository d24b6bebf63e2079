package dev.resnetzoo.zoo.download;

import java.io.PrintStream;
import java.net.URI;
import java.util.Locale;
import java.util.function.LongSupplier;

/** The listener behind {@link ProgressListener#console()}; a bar on a terminal, plain lines otherwise. */
final class ConsoleProgress implements ProgressListener {

    private static final long DRAW_INTERVAL_NANOS = 100_000_000L;      // at most ~10 redraws per second
    private static final long LOG_INTERVAL_NANOS = 10_000_000_000L;    // plain mode: at least every 10 s...
    private static final long MIN_LOG_INTERVAL_NANOS = 1_000_000_000L; // ...but never more than once per second
    private static final int BAR_WIDTH = 24;

    private final PrintStream out;
    private final boolean interactive;
    private final LongSupplier clock;

    private String name = "";
    private long startNanos;
    private long startBytes;
    private long lastDone;
    private long lastTotal = -1;
    private long lastDrawNanos;
    private boolean drawn;
    private int lastLineLength;
    private long lastLogNanos;
    private int lastLoggedDecile;

    ConsoleProgress(PrintStream out, boolean interactive, LongSupplier clock) {
        this.out = out;
        this.interactive = interactive;
        this.clock = clock;
    }

    @Override
    public void onStart(FileSpec spec, long done, long total) {
        onStart(spec, spec.url(), done, total);
    }

    @Override
    public synchronized void onStart(FileSpec spec, URI source, long done, long total) {
        name = spec.fileName();
        startNanos = clock.getAsLong();
        startBytes = done;
        lastDone = done;
        lastTotal = total;
        lastLogNanos = startNanos;
        lastLoggedDecile = decile(done, total);
        if (interactive) {
            draw(startNanos);
        } else {
            StringBuilder sb = new StringBuilder("Downloading ").append(name).append(" from ").append(source);
            if (total >= 0) {
                sb.append(" (").append(mb(total)).append(" MB)");
            }
            if (done > 0) {
                sb.append(", resuming at ").append(mb(done)).append(" MB");
            }
            out.println(sb);
        }
    }

    @Override
    public synchronized void onProgress(long done, long total) {
        lastDone = done;
        lastTotal = total;
        long now = clock.getAsLong();
        if (interactive) {
            if (!drawn || now - lastDrawNanos >= DRAW_INTERVAL_NANOS || (total >= 0 && done >= total)) {
                draw(now);
            }
            return;
        }
        int decile = decile(done, total);
        long sinceLog = now - lastLogNanos;
        if (sinceLog >= LOG_INTERVAL_NANOS || (decile > lastLoggedDecile && sinceLog >= MIN_LOG_INTERVAL_NANOS)) {
            lastLogNanos = now;
            lastLoggedDecile = decile;
            out.println(line(now));
        }
    }

    @Override
    public synchronized void onFinish(FileSpec spec, boolean success) {
        long now = clock.getAsLong();
        if (interactive) {
            if (drawn) {
                draw(now);
                out.println();
                drawn = false;
                lastLineLength = 0;
            }
            if (!success) {
                out.println("Download of " + spec.fileName() + " failed");
            }
        } else if (success) {
            out.println("Downloaded " + spec.fileName() + " (" + mb(lastDone) + " MB in "
                    + duration((now - startNanos) / 1_000_000_000L) + ")");
        } else {
            out.println("Download of " + spec.fileName() + " failed at " + mb(lastDone) + " MB");
        }
        out.flush();
    }

    private void draw(long now) {
        String line = line(now);
        StringBuilder sb = new StringBuilder(line.length() + 8).append('\r').append(line);
        for (int i = line.length(); i < lastLineLength; i++) {
            sb.append(' ');        // wipe the rest of a longer previous line
        }
        lastLineLength = line.length();
        out.print(sb);
        out.flush();
        drawn = true;
        lastDrawNanos = now;
    }

    /** One status line: name, bar, percent, MB done/total, MB/s, ETA (parts that are unknown are left out). */
    String line(long now) {
        long done = lastDone;
        long total = lastTotal;
        double seconds = (now - startNanos) / 1e9;
        double rate = seconds > 0.05 ? (done - startBytes) / seconds : 0;     // bytes per second
        StringBuilder sb = new StringBuilder();
        sb.append(name.length() > 40 ? name.substring(0, 37) + "..." : name).append("  ");
        if (total > 0) {
            double frac = Math.min(1.0, (double) done / total);
            int filled = (int) (frac * BAR_WIDTH);
            if (interactive) {
                sb.append('[').append("#".repeat(filled)).append("-".repeat(BAR_WIDTH - filled)).append("]  ");
            }
            sb.append(String.format(Locale.ROOT, "%3d%%  %s/%s MB", (int) (frac * 100), mb(done), mb(total)));
        } else {
            sb.append(mb(done)).append(" MB");
        }
        if (rate > 0) {
            sb.append(String.format(Locale.ROOT, "  %.1f MB/s", rate / 1e6));
            if (total > 0 && done < total) {
                sb.append("  ETA ").append(duration((long) Math.ceil((total - done) / rate)));
            }
        }
        return sb.toString();
    }

    private static int decile(long done, long total) {
        return total > 0 ? (int) Math.min(10, done * 10 / total) : 0;
    }

    static String mb(long bytes) {
        return String.format(Locale.ROOT, "%.1f", bytes / 1e6);
    }

    static String duration(long seconds) {
        long h = seconds / 3600;
        long m = (seconds / 60) % 60;
        long s = seconds % 60;
        return h > 0 ? String.format(Locale.ROOT, "%d:%02d:%02d", h, m, s) : String.format(Locale.ROOT, "%d:%02d", m, s);
    }
}
