package dev.resnetzoo.zoo.download;

import static java.lang.System.Logger.Level.INFO;
import static java.lang.System.Logger.Level.WARNING;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.URI;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.time.Duration;
import java.util.List;
import java.util.Locale;

/**
 * One fetch's download of the {@code .part} file, across attempts: resumes with {@code Range},
 * retries network errors and retryable statuses with backoff, and holds the whole fetch to an
 * overall deadline and the body to the expected size (or the cap for files of unknown size).
 *
 * <p>When the deadline passes, the {@code .part} is kept, so that the next fetch resumes it instead
 * of starting again. A body longer than allowed is deleted: it is not the file that was asked for.
 */
final class Transfer {

    private static final System.Logger log = System.getLogger(Downloader.class.getName());

    private static final String RAISE_CAP = "(raise the cap with optMaxBytes, or --max-size on the command line)";

    /**
     * The limits set on {@link Downloader.Builder}.
     *
     * @param maxAttempts attempts in a row that may add nothing to the {@code .part}
     * @param backoff     delay before the first retry, doubled per failure in a row
     * @param maxBackoff  longest delay between retries, also the cap for {@code Retry-After}
     * @param readTimeout longest wait for the headers and for each chunk of the body
     * @param deadline    longest time a whole fetch may take, retries included
     * @param maxBytes    most bytes accepted for a file of unknown size
     */
    record Limits(int maxAttempts, Duration backoff, Duration maxBackoff, Duration readTimeout, Duration deadline,
                  long maxBytes) {
    }

    private final Limits limits;
    private final Http http;
    private final ProgressListener progress;
    private final FileSpec spec;
    private final URI source;
    private final PartFile part;
    /** {@link System#nanoTime()} by which the whole fetch, retries included, must be done. */
    private final long deadlineNanos;
    /** Strong ETag or Last-Modified of the first response, sent as If-Range when resuming. */
    private String validator;
    private boolean started;

    Transfer(Limits limits, Http http, ProgressListener progress, FileSpec spec, URI source, PartFile part) {
        this.limits = limits;
        this.http = http;
        this.progress = progress;
        this.spec = spec;
        this.source = source;
        this.part = part;
        long nanos;
        try {
            nanos = limits.deadline().toNanos();
        } catch (ArithmeticException e) {
            nanos = Long.MAX_VALUE / 2;         // centuries: no deadline in practice
        }
        this.deadlineNanos = System.nanoTime() + Math.min(nanos, Long.MAX_VALUE / 2);
    }

    /** The URL this transfer requests (a mirror's, when one is set). */
    URI source() {
        return source;
    }

    /** Whether a response body was started, so that the listener heard of this fetch. */
    boolean started() {
        return started;
    }

    /** Leaves the complete body in the {@code .part}, retrying as configured. */
    void run() throws IOException {
        int attempts = 0;
        int failuresInRow = 0;
        long best = part.size();
        while (true) {
            attempts++;
            IOException error;
            long retryAfterMillis = -1;
            try {
                attempt();
                return;
            } catch (DownloadException e) {
                throw e;
            } catch (RetryableStatusException e) {
                error = e;
                retryAfterMillis = e.retryAfterMillis;
            } catch (IOException e) {
                error = e;
            }
            if (Thread.currentThread().isInterrupted()) {
                throw error instanceof InterruptedIOException ? error
                        : new InterruptedIOException("interrupted while downloading " + spec.fileName());
            }
            if (deadlineNanos - System.nanoTime() <= 0) {
                throw deadlineExceeded(error);
            }
            long size = part.size();
            if (size > best) {
                best = size;
                failuresInRow = 0;          // progress was made: this failure is free
            } else {
                failuresInRow++;
            }
            if (failuresInRow >= limits.maxAttempts()) {
                throw new DownloadException("giving up on " + spec.fileName() + " from " + source + " after "
                        + attempts + " attempt" + (attempts == 1 ? "" : "s") + ": " + DownloadException.describe(error),
                        error);
            }
            long delay = backoffMillis(failuresInRow, retryAfterMillis);
            IOException cause = error;
            log.log(WARNING, () -> "Download of " + spec.fileName() + " from " + source + " failed ("
                    + DownloadException.describe(cause) + "); retrying in " + delay + " ms");
            sleep(Math.min(delay, Math.max(0, (deadlineNanos - System.nanoTime()) / 1_000_000)));
        }
    }

    /** Downloads again from the first byte (the caller deleted the {@code .part}), within the same deadline. */
    void restart() throws IOException {
        validator = null;
        run();
    }

    /** The longest wait allowed now: the read timeout, or what is left before the deadline. */
    private Duration waitLimit() throws DownloadException {
        long left = deadlineNanos - System.nanoTime();
        if (left <= 0) {
            throw deadlineExceeded(null);
        }
        return left < limits.readTimeout().toNanos() ? Duration.ofNanos(left) : limits.readTimeout();
    }

    private DownloadException deadlineExceeded(IOException cause) {
        long size = part.size();
        String received = spec.size() >= 0 ? String.format(Locale.ROOT, "%,d of %,d bytes", size, spec.size())
                : String.format(Locale.ROOT, "%,d bytes", size);
        return new DownloadException("download of " + spec.fileName() + " from " + source + " did not finish "
                + "within the overall deadline of " + humanDuration(limits.deadline()) + " (" + received
                + " received); the partial file is kept and the next fetch resumes it (raise the deadline with "
                + "optDeadline, or --deadline on the command line)", cause);
    }

    private long backoffMillis(int failuresInRow, long retryAfterMillis) {
        long max = limits.maxBackoff().toMillis();
        long delay = limits.backoff().toMillis() << Math.min(Math.max(failuresInRow - 1, 0), 30);
        delay = Math.min(delay, max);
        if (retryAfterMillis > delay) {
            delay = Math.min(retryAfterMillis, max);
        }
        return Math.max(delay, 0);
    }

    private void attempt() throws IOException {
        long offset = part.size();
        long expected = spec.size();
        if (expected >= 0 && offset > expected) {
            log.log(INFO, () -> "Discarding " + part.path() + ": it is larger than the expected " + expected + " bytes");
            part.delete();
            offset = 0;
        }
        if (expected > 0 && offset == expected) {
            return;                             // already complete (e.g. interrupted before the move)
        }
        HttpRequest.Builder request = HttpRequest.newBuilder(source)
                .timeout(waitLimit())
                .header("User-Agent", Http.USER_AGENT)
                .GET();
        if (offset > 0) {
            request.header("Range", "bytes=" + offset + "-");
            if (validator != null) {
                request.header("If-Range", validator);
            }
        }
        HttpResponse<BodyQueue> response;
        try {
            response = http.client().send(request.build(), info -> new BodyQueue());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while downloading " + spec.fileName());
        }
        BodyQueue body = response.body();
        try {
            receive(response, body, offset);
        } finally {
            body.cancel();                      // no-op after a complete body; closes the stream otherwise
        }
    }

    private void receive(HttpResponse<BodyQueue> response, BodyQueue body, long offset) throws IOException {
        int status = response.statusCode();
        HttpHeaders headers = response.headers();
        long expected = spec.size();
        long start;
        long total;
        if (status == 200) {
            if (offset > 0) {
                log.log(INFO, () -> source.getHost() + " ignored the range request for " + spec.fileName()
                        + "; downloading it from the start");
            }
            start = 0;
            total = ResponseHeaders.contentLength(headers);
        } else if (status == 206) {
            String contentRange = headers.firstValue("Content-Range").orElse("");
            ResponseHeaders.ContentRange range = ResponseHeaders.parseContentRange(contentRange);
            if (range == null || range.first() != offset) {
                part.delete();
                throw new IOException("unexpected Content-Range '" + contentRange + "' for Range bytes="
                        + offset + "-; restarting from 0");
            }
            start = offset;
            total = range.total();
            if (total < 0) {
                long length = ResponseHeaders.contentLength(headers);
                total = length >= 0 ? offset + length : -1;
            }
        } else if (status == 416) {
            ResponseHeaders.ContentRange range =
                    ResponseHeaders.parseContentRange(headers.firstValue("Content-Range").orElse(""));
            if (range != null && range.total() == offset) {
                return;                         // what we have is already the whole file
            }
            part.delete();
            throw new IOException("HTTP 416 (range not satisfiable) for Range bytes=" + offset
                    + "-; restarting from 0");
        } else if (status == 408 || status == 429 || status >= 500) {
            throw new RetryableStatusException(status, source, ResponseHeaders.retryAfterMillis(headers));
        } else {
            String location = headers.firstValue("Location").map(l -> ", Location: " + l).orElse("");
            throw new DownloadException("HTTP " + status + " for " + source + " (" + spec.fileName() + location
                    + "); not retrying");
        }

        if (expected >= 0 && total >= 0 && total != expected) {
            part.delete();
            throw new DownloadException(source + " has " + total + " bytes but " + spec.fileName() + " should have "
                    + expected + " bytes (wrong URL or mirror?); not downloading");
        }
        long maxBytes = limits.maxBytes();
        if (expected < 0 && total > maxBytes) {
            part.delete();
            throw new DownloadException(String.format(Locale.ROOT, "%s has %,d bytes, more than the %,d allowed "
                    + "for %s, whose size is not known %s; not downloading", source, total, maxBytes, spec.fileName(),
                    RAISE_CAP));
        }
        if (validator == null) {
            validator = ResponseHeaders.validator(headers);
        }
        long cap = expected >= 0 ? expected : maxBytes;
        long reportTotal = total >= 0 ? total : expected;
        started = true;
        progress.onStart(spec, source, start, reportTotal);
        long done = copyBody(body, start, cap, reportTotal);
        if (done > cap) {
            part.delete();
            if (expected < 0) {
                throw new DownloadException(String.format(Locale.ROOT, "%s sent more than the %,d bytes allowed "
                        + "for %s, whose size is not known %s; the download was deleted", source, maxBytes,
                        spec.fileName(), RAISE_CAP));
            }
            throw new DownloadException(String.format(Locale.ROOT, "%s sent more than the %,d bytes expected for %s "
                    + "(wrong URL or mirror?); the download was deleted", source, expected, spec.fileName()));
        }
        if (total >= 0 && done < total) {
            throw new IOException("connection closed after " + done + " of " + total + " bytes");
        }
    }

    /**
     * Writes the body into the {@code .part} from {@code start}, stopping as soon as it passes
     * {@code cap}; returns where it stopped (more than {@code cap} if the body was too long).
     */
    private long copyBody(BodyQueue body, long start, long cap, long reportTotal) throws IOException {
        long done = start;
        try (FileChannel channel = part.openAt(start)) {
            for (List<ByteBuffer> buffers; (buffers = body.next(waitLimit())) != null; ) {
                for (ByteBuffer buffer : buffers) {
                    done += part.write(channel, buffer);
                }
                progress.onProgress(done, reportTotal);
                if (done > cap) {
                    return done;
                }
            }
            part.force(channel);
        }
        return done;
    }

    /** {@code 600 ms}, {@code 45 s}, {@code 10 min}, {@code 1 h}. */
    static String humanDuration(Duration d) {
        long ms = d.toMillis();
        if (ms < 1000 || ms % 1000 != 0) {
            return ms + " ms";
        }
        long seconds = ms / 1000;
        if (seconds % 3600 == 0) {
            return seconds / 3600 + " h";
        }
        return seconds % 60 == 0 ? seconds / 60 + " min" : seconds + " s";
    }

    private static void sleep(long millis) throws InterruptedIOException {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted");
        }
    }

    /** A status worth retrying: 408, 429 or 5xx. */
    static final class RetryableStatusException extends IOException {
        private static final long serialVersionUID = 1L;
        final transient long retryAfterMillis;

        RetryableStatusException(int status, URI uri, long retryAfterMillis) {
            super("HTTP " + status + " for " + uri);
            this.retryAfterMillis = retryAfterMillis;
        }
    }
}
