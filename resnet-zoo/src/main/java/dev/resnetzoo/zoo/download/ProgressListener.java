package dev.resnetzoo.zoo.download;

import java.net.URI;

/**
 * Receives progress reports while {@link Downloader} transfers a file.
 *
 * <p>All calls for one {@link Downloader#fetch(FileSpec) fetch} come from the thread that called
 * it. A listener shared by fetches running in several threads must therefore be thread-safe.
 * Nothing is reported when the file is already in the cache.
 */
@FunctionalInterface
public interface ProgressListener {

    /** A listener that ignores all reports. */
    ProgressListener NONE = (done, total) -> { };

    /**
     * Called when a transfer (a single HTTP request) starts, with the URL actually fetched: a
     * mirror's when one is configured ({@link ZooCache#sourceFor(FileSpec)}), not
     * {@link FileSpec#url()}. There may be several per fetch when a download is retried or resumed.
     *
     * @param spec   the file being downloaded
     * @param source the URL this transfer requests
     * @param done   bytes already present ({@code 0} on a fresh start)
     * @param total  the full size in bytes, or {@code -1} if unknown
     */
    default void onStart(FileSpec spec, URI source, long done, long total) {
    }

    /**
     * Called as bytes arrive.
     *
     * @param done  bytes of the file now on disk, including resumed ones
     * @param total the full size in bytes, or {@code -1} if unknown
     */
    void onProgress(long done, long total);

    /**
     * Called once at the end of a fetch that started at least one transfer.
     *
     * @param spec    the file
     * @param success {@code true} if the file was downloaded and verified
     */
    default void onFinish(FileSpec spec, boolean success) {
    }

    /**
     * A listener for humans, drawn with {@link dev.resnetzoo.zoo.console.ProgressBar}: on a terminal
     * ({@code System.console() != null}) it redraws a one-line bar on standard error (percent, MB
     * done/total, MB/s, ETA) at most about ten times a second; otherwise (CI logs, redirected
     * output) it prints a plain line at the start naming the URL requested, about every 10% or 10
     * seconds, and at the end.
     *
     * @return a new console listener writing to {@code System.err}
     */
    static ProgressListener console() {
        return new ConsoleProgress(System.err, System.console() != null, System::nanoTime);
    }
}
