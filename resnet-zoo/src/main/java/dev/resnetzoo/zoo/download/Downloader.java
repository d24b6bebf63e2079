package dev.resnetzoo.zoo.download;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.ProxySelector;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * Fetches files into the {@link ZooCache} and hands them out only after checking their SHA-256.
 *
 * <pre>{@code
 * Downloader downloader = Downloader.builder().build();           // cache, mirror, offline from the environment
 * Path weights = downloader.fetch(new FileSpec(
 *         URI.create("https://download.pytorch.org/models/resnet50-0676ba61.pth"),
 *         "resnet50-0676ba61.pth", "0676ba61...", -1));
 * }</pre>
 *
 * <h2>What {@link #fetch(FileSpec)} does</h2>
 * <ol>
 *   <li>If {@code <cache>/<kind>/<fileName>} exists and has the expected SHA-256 it is returned. The
 *       result of hashing is remembered in {@code <fileName>.sha256} (hash, size, modification time),
 *       so an unchanged file is not hashed again; a file whose size or mtime changed is re-hashed,
 *       and one that no longer matches is downloaded again.</li>
 *   <li>Otherwise, unless {@linkplain ZooCache#offline() offline}, the file is downloaded from
 *       {@link ZooCache#sourceFor(FileSpec)} into {@code <fileName>.part} in the same directory. An
 *       existing {@code .part} is resumed with {@code Range: bytes=N-}; a server that answers
 *       {@code 200} instead of {@code 206} is downloaded from the start, and {@code 416} restarts too.</li>
 *   <li>Network errors, read timeouts, {@code 5xx}, {@code 408} and {@code 429} are retried with
 *       exponential backoff ({@code Retry-After} is honoured up to the maximum backoff), resuming
 *       where the previous attempt stopped. The attempt limit counts consecutive attempts that
 *       added nothing to the {@code .part}, so a slow but progressing download over a flaky
 *       connection is not abandoned. Other statuses (e.g. {@code 404}) fail at once.</li>
 *   <li>A whole fetch, retries included, must finish within an overall deadline
 *       ({@link Builder#optDeadline}, 1 h by default), so a server dripping a byte every few
 *       seconds cannot hold it forever; the {@code .part} is kept, and the next fetch resumes it.
 *       A body is never written past the expected size, or, when that is unknown, past
 *       {@link Builder#optMaxBytes} (2 GiB by default), so an endless body cannot fill the disk: a
 *       longer body (or {@code Content-Length}) is refused and its {@code .part} deleted.</li>
 *   <li>The complete {@code .part} is checked against the expected size (if known) and SHA-256. On
 *       a mismatch it is deleted and a {@link DownloadException} names the file, the expected and
 *       actual hash and the sizes, leaving nothing in the cache. (If the {@code .part} had been left
 *       by an earlier run, it is first downloaded once more from scratch, since stale partial
 *       files are the usual cause.) A verified file is moved into place atomically.</li>
 *   <li>All of this happens under an exclusive lock on {@code <fileName>.lock} (a
 *       {@link FileChannel#lock() file lock} across processes, plus an in-JVM lock across threads):
 *       a second process or thread fetching the same file waits and then finds the verified file.</li>
 * </ol>
 * Proxies come from the JVM's default {@link ProxySelector} (so {@code -Dhttps.proxyHost=...},
 * {@code -Dhttps.proxyPort=...}, {@code -Dhttp.nonProxyHosts=...} and
 * {@code -Djava.net.useSystemProxies=true} work) and redirects are followed, except from https to http.
 *
 * <p>Retries, waits for locks and re-downloads are logged through {@link System.Logger} (JDK platform
 * logging; route it to SLF4J with {@code slf4j-jdk-platform-logging} if desired). Progress goes to
 * the {@link ProgressListener}.
 *
 * <p>Instances are immutable and thread-safe. Lock files are left in place (deleting them would
 * open a race); they are empty and harmless. An incomplete {@code .part} is kept after a network
 * failure so that the next fetch resumes it.
 */
public final class Downloader {

    private final CachePolicy policy;

    private Downloader(Builder b) {
        ZooCache cache = b.cache != null ? b.cache : ZooCache.fromEnvironment();
        Transfer.Limits limits = new Transfer.Limits(b.maxAttempts, b.backoff, b.maxBackoff, b.readTimeout, b.deadline,
                b.maxBytes);
        this.policy = new CachePolicy(cache, b.kind, limits, new Http(b.connectTimeout),
                b.progress != null ? b.progress : ProgressListener.console());
    }

    /**
     * Starts configuring a downloader. Defaults: {@link ZooCache#fromEnvironment()}, kind
     * {@value ZooCache#WEIGHTS}, 4 attempts, backoff 1 s doubling up to 30 s, connect timeout 30 s,
     * read timeout 60 s, overall deadline 1 h, at most 2 GiB for a file of unknown size,
     * {@link ProgressListener#console()}.
     *
     * @return a new builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Returns the verified file for {@code spec}, downloading it first if needed (see the class
     * documentation for the exact behaviour).
     *
     * @param spec the file to fetch
     * @return the path of the verified file, {@code <cache>/<kind>/<fileName>}
     * @throws DownloadException      if the file cannot be obtained: permanent HTTP error, size or hash
     *                                mismatch, body longer than allowed, overall deadline passed,
     *                                retries exhausted, offline mode without a cached copy, or an
     *                                unwritable cache directory
     * @throws InterruptedIOException if the thread was interrupted (its interrupt flag is set again)
     * @throws IOException            on other local I/O errors
     */
    public Path fetch(FileSpec spec) throws IOException {
        return policy.fetch(Objects.requireNonNull(spec, "spec"));
    }

    /**
     * Configures a {@link Downloader}; every option has a default (see {@link Downloader#builder()}).
     */
    public static final class Builder {
        private ZooCache cache;
        private String kind = ZooCache.WEIGHTS;
        private int maxAttempts = 4;
        private Duration backoff = Duration.ofSeconds(1);
        private Duration maxBackoff = Duration.ofSeconds(30);
        private Duration connectTimeout = Duration.ofSeconds(30);
        private Duration readTimeout = Duration.ofSeconds(60);
        private Duration deadline = Duration.ofHours(1);
        private long maxBytes = 2L << 30;
        private ProgressListener progress;

        private Builder() {
        }

        /**
         * Sets the cache (directory, mirror, offline mode); default {@link ZooCache#fromEnvironment()},
         * read when {@link #build()} is called.
         *
         * @param cache the cache settings
         * @return this builder
         */
        public Builder optCache(ZooCache cache) {
            this.cache = Objects.requireNonNull(cache, "cache");
            return this;
        }

        /**
         * Sets the cache sub-directory files are stored in; default {@value ZooCache#WEIGHTS}.
         *
         * @param kind a plain directory name, e.g. {@link ZooCache#MODELS}
         * @return this builder
         */
        public Builder optKind(String kind) {
            this.kind = Objects.requireNonNull(kind, "kind");
            return this;
        }

        /**
         * Sets how many attempts in a row may fail without adding data before giving up; default 4.
         * {@code 1} disables retries of requests that fail outright.
         *
         * @param maxAttempts at least 1
         * @return this builder
         */
        public Builder optMaxAttempts(int maxAttempts) {
            if (maxAttempts < 1) {
                throw new IllegalArgumentException("maxAttempts must be >= 1, got " + maxAttempts);
            }
            this.maxAttempts = maxAttempts;
            return this;
        }

        /**
         * Sets the delay before the first retry; it doubles with each further failure in a row; default 1 s.
         *
         * @param initial a non-negative delay
         * @return this builder
         */
        public Builder optBackoff(Duration initial) {
            this.backoff = nonNegative(initial, "backoff");
            return this;
        }

        /**
         * Sets the longest delay between retries, also the cap for {@code Retry-After}; default 30 s.
         *
         * @param max a non-negative delay
         * @return this builder
         */
        public Builder optMaxBackoff(Duration max) {
            this.maxBackoff = nonNegative(max, "maxBackoff");
            return this;
        }

        /**
         * Sets the TCP/TLS connect timeout; default 30 s.
         *
         * @param timeout a positive duration
         * @return this builder
         */
        public Builder optConnectTimeout(Duration timeout) {
            this.connectTimeout = positive(timeout, "connectTimeout");
            return this;
        }

        /**
         * Sets the read timeout: the longest wait for the response headers, and for each chunk of
         * the body; default 60 s. A timeout is retried like a network error.
         *
         * @param timeout a positive duration
         * @return this builder
         */
        public Builder optReadTimeout(Duration timeout) {
            this.readTimeout = positive(timeout, "readTimeout");
            return this;
        }

        /**
         * Sets the overall deadline of a download, from its first request until the whole body is
         * on disk, retries and their backoff included (waiting for another process that holds the
         * file's lock is not); default 1 h. A server that sends a byte now and then never trips the
         * read timeout, but cannot hold a fetch past this. The partial file is kept, so the next fetch
         * resumes it: what arrived was not wrong, only slow. Not retried.
         *
         * @param deadline a positive duration
         * @return this builder
         */
        public Builder optDeadline(Duration deadline) {
            this.deadline = positive(deadline, "deadline");
            return this;
        }

        /**
         * Sets the most bytes accepted for a file whose {@link FileSpec#size()} is unknown; default
         * 2 GiB, several times the largest ResNet weight file. A file of known size is held to that
         * size instead. A larger {@code Content-Length} is refused before downloading, a longer
         * body as soon as it passes the cap, and the partial file is deleted.
         *
         * @param maxBytes at least 1
         * @return this builder
         */
        public Builder optMaxBytes(long maxBytes) {
            if (maxBytes < 1) {
                throw new IllegalArgumentException("maxBytes must be >= 1, got " + maxBytes);
            }
            this.maxBytes = maxBytes;
            return this;
        }

        /**
         * Sets the progress listener; default {@link ProgressListener#console()}; use
         * {@link ProgressListener#NONE} for silence.
         *
         * @param listener the listener
         * @return this builder
         */
        public Builder optProgress(ProgressListener listener) {
            this.progress = Objects.requireNonNull(listener, "listener");
            return this;
        }

        /**
         * Creates the downloader.
         *
         * @return a new, immutable downloader
         * @throws IllegalArgumentException if the kind is not a plain directory name, or the mirror
         *                                  configured in the environment is not an http(s) URL
         */
        public Downloader build() {
            return new Downloader(this);
        }

        private static Duration nonNegative(Duration d, String name) {
            if (Objects.requireNonNull(d, name).isNegative()) {
                throw new IllegalArgumentException(name + " must not be negative: " + d);
            }
            return d;
        }

        private static Duration positive(Duration d, String name) {
            if (Objects.requireNonNull(d, name).isNegative() || d.isZero()) {
                throw new IllegalArgumentException(name + " must be positive: " + d);
            }
            return d;
        }
    }
}
