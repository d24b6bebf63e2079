package dev.resnetzoo.zoo.download;

import static java.lang.System.Logger.Level.DEBUG;
import static java.lang.System.Logger.Level.INFO;
import static java.lang.System.Logger.Level.WARNING;

import dev.resnetzoo.zoo.files.Sha256;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.Authenticator;
import java.net.ProxySelector;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Flow;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.ReentrantLock;

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
 *       seconds cannot hold it forever; the {@code .part} is kept for the next fetch. A body is
 *       never longer than the expected size, or, when that is unknown, than
 *       {@link Builder#optMaxBytes} (2 GiB by default), so an endless body cannot fill the disk.</li>
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

    /**
     * Hashes a file.
     *
     * @param file a file
     * @return the lower-case hex SHA-256 of its content
     * @throws IOException if it cannot be read
     * @deprecated use {@link Sha256#of(Path)}, which returns the value type
     */
    @Deprecated
    public static String sha256(Path file) throws IOException {
        return Sha256.of(file).hex();
    }


    /** JDK platform logging, so that this package needs no logging dependency. */
    private static final System.Logger log = System.getLogger(Downloader.class.getName());

    /** In-JVM locks by lock-file path: a FileLock cannot be taken twice in one JVM. */
    private static final ConcurrentHashMap<Path, ReentrantLock> JVM_LOCKS = new ConcurrentHashMap<>();

    private static final String USER_AGENT = "resnet-zoo-downloader (Java " + Runtime.version().feature() + ")";

    private final ZooCache cache;
    private final String kind;
    private final int maxAttempts;
    private final Duration backoff;
    private final Duration maxBackoff;
    private final Duration connectTimeout;
    private final Duration readTimeout;
    private final Duration deadline;
    private final long maxBytes;
    private final ProgressListener progress;
    private volatile HttpClient client;

    private Downloader(Builder b) {
        this.cache = b.cache != null ? b.cache : ZooCache.fromEnvironment();
        this.kind = b.kind;
        this.cache.directory(kind);                 // validates the kind early
        this.maxAttempts = b.maxAttempts;
        this.backoff = b.backoff;
        this.maxBackoff = b.maxBackoff;
        this.connectTimeout = b.connectTimeout;
        this.readTimeout = b.readTimeout;
        this.deadline = b.deadline;
        this.maxBytes = b.maxBytes;
        this.progress = b.progress != null ? b.progress : ProgressListener.console();
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
     *                                mismatch, retries exhausted, offline mode without a cached copy,
     *                                or an unwritable cache directory
     * @throws InterruptedIOException if the thread was interrupted (its interrupt flag is set again)
     * @throws IOException            on other local I/O errors
     */
    public Path fetch(FileSpec spec) throws IOException {
        Objects.requireNonNull(spec, "spec");
        Path dir = cache.directory(kind);
        Path target = dir.resolve(spec.fileName());
        if (Stamp.matches(target, spec.sha256())) {
            return target;                                  // fast path: no lock, no hashing
        }
        if (cache.offline()) {
            return fetchOffline(spec, target);
        }
        FileChannel lockChannel;
        try {
            Files.createDirectories(dir);
            lockChannel = FileChannel.open(dir.resolve(spec.fileName() + ".lock"),
                    StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        } catch (IOException e) {
            // A read-only cache (e.g. shared) is fine as long as the file is there and correct.
            if (Files.isRegularFile(target) && spec.matches(Sha256.of(target))) {
                return target;
            }
            throw new DownloadException("cannot write to the cache directory " + dir + " (" + describe(e)
                    + "); set -D" + ZooCache.HOME_PROPERTY + "=... or " + ZooCache.HOME_ENV
                    + " to a writable directory", e);
        }
        try (lockChannel) {
            return withLock(lockChannel, dir.toRealPath().resolve(spec.fileName() + ".lock"), spec,
                    () -> fetchLocked(spec, target));
        }
    }

    private Path fetchOffline(FileSpec spec, Path target) throws IOException {
        String how = "download " + cache.sourceFor(spec) + " (" + spec.describeSha256() + ") and save it as "
                + target + ", or turn offline mode off (-D" + ZooCache.OFFLINE_PROPERTY + "=false, unset "
                + ZooCache.OFFLINE_ENV + ")";
        if (Files.isRegularFile(target)) {
            Sha256 actual = Sha256.of(target);
            if (spec.matches(actual)) {
                writeStampQuietly(target, actual);
                return target;
            }
            throw new DownloadException("cached " + spec.fileName() + " has sha256 " + actual + " but "
                    + spec.describeSha256() + " is expected, and offline mode is on: " + how);
        }
        throw new DownloadException(spec.fileName() + " is not in the cache and offline mode is on: " + how);
    }

    private Path fetchLocked(FileSpec spec, Path target) throws IOException {
        if (Files.isRegularFile(target)) {
            if (Stamp.matches(target, spec.sha256())) {
                return target;                              // another thread or process just finished it
            }
            Sha256 actual = Sha256.of(target);
            if (spec.matches(actual)) {
                writeStampQuietly(target, actual);
                return target;
            }
            log.log(WARNING, () -> "Cached " + target + " has sha256 " + actual + " but " + spec.describeSha256()
                    + " is expected; downloading it again");
            Files.delete(target);
        }
        Stamp.delete(target);
        return download(spec, target);
    }

    private Path download(FileSpec spec, Path target) throws IOException {
        Path part = target.resolveSibling(spec.fileName() + ".part");
        boolean partFromEarlierRun = Files.isRegularFile(part) && Files.size(part) > 0;
        Transfer transfer = new Transfer(spec, cache.sourceFor(spec), part);
        boolean ok = false;
        try {
            transfer.run();
            Sha256 actual = Sha256.of(part);
            String mismatch = check(spec, part, actual);
            if (mismatch != null && partFromEarlierRun) {
                String why = mismatch;
                log.log(WARNING, () -> spec.fileName() + " resumed from an earlier partial download does not verify ("
                        + why + "); downloading it from scratch");
                Files.deleteIfExists(part);
                transfer.validator = null;
                transfer.run();
                actual = Sha256.of(part);
                mismatch = check(spec, part, actual);
            }
            if (mismatch != null) {
                Files.deleteIfExists(part);
                throw new DownloadException("verification failed for " + spec.fileName() + " downloaded from "
                        + transfer.source + ": " + mismatch + "; the download was deleted");
            }
            moveIntoPlace(part, target);
            writeStampQuietly(target, actual);
            ok = true;
            return target;
        } finally {
            if (transfer.started) {
                progress.onFinish(spec, ok);
            }
        }
    }

    /** Null if {@code part} has the expected size and hash, otherwise a description of the difference. */
    private static String check(FileSpec spec, Path part, Sha256 actual) throws IOException {
        long size = Files.size(part);
        if (spec.size() >= 0 && size != spec.size()) {
            return "expected " + spec.size() + " bytes with " + spec.describeSha256() + ", got " + size
                    + " bytes with sha256 " + actual;
        }
        if (!spec.matches(actual)) {
            return "expected " + spec.describeSha256() + ", got sha256 " + actual + " (" + size + " bytes)";
        }
        return null;
    }

    private static void moveIntoPlace(Path part, Path target) throws IOException {
        try {
            Files.move(part, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException | FileAlreadyExistsException e) {
            Files.move(part, target, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    private static void writeStampQuietly(Path file, Sha256 sha256) {
        try {
            Stamp.write(file, sha256);
        } catch (IOException | RuntimeException e) {
            log.log(DEBUG, () -> "Cannot write verification stamp for " + file + ": " + e);
        }
    }

    // ------------------------------------------------------------------------------------------
    // Locking

    private interface LockedAction {
        Path run() throws IOException;
    }

    private static Path withLock(FileChannel channel, Path lockPath, FileSpec spec, LockedAction action)
            throws IOException {
        ReentrantLock jvmLock = JVM_LOCKS.computeIfAbsent(lockPath, p -> new ReentrantLock());
        try {
            if (!jvmLock.tryLock()) {
                log.log(INFO, () -> "Waiting for another thread downloading " + spec.fileName());
                jvmLock.lockInterruptibly();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while waiting for the lock on " + lockPath);
        }
        try {
            FileLock fileLock = null;
            boolean announced = false;
            while (fileLock == null) {
                try {
                    fileLock = channel.tryLock();
                    if (fileLock == null) {
                        log.log(INFO, () -> "Waiting for another process downloading " + spec.fileName()
                                + " (lock " + lockPath + ")");
                        announced = true;
                        fileLock = channel.lock();
                    }
                } catch (OverlappingFileLockException e) {
                    // Held elsewhere in this JVM outside our lock map (e.g. another class loader): poll.
                    if (!announced) {
                        log.log(INFO, () -> "Waiting for another download of " + spec.fileName() + " in this JVM");
                        announced = true;
                    }
                    sleep(100);
                }
            }
            try {
                return action.run();
            } finally {
                fileLock.release();
            }
        } finally {
            jvmLock.unlock();
        }
    }

    // ------------------------------------------------------------------------------------------
    // Transfer with retries and resume

    /** One fetch's download of the {@code .part}, across retries. */
    private final class Transfer {
        final FileSpec spec;
        final URI source;
        final Path part;
        /** Strong ETag or Last-Modified of the first response, sent as If-Range when resuming. */
        String validator;
        boolean started;
        /** {@link System#nanoTime()} by which the whole fetch, retries included, must be done. */
        final long deadlineNanos;

        Transfer(FileSpec spec, URI source, Path part) {
            this.spec = spec;
            this.source = source;
            this.part = part;
            long nanos;
            try {
                nanos = deadline.toNanos();
            } catch (ArithmeticException e) {
                nanos = Long.MAX_VALUE / 2;         // centuries: no deadline in practice
            }
            this.deadlineNanos = System.nanoTime() + Math.min(nanos, Long.MAX_VALUE / 2);
        }

        /** The longest wait allowed now: the read timeout, or what is left before the deadline. */
        private Duration waitLimit() throws DownloadException {
            long left = deadlineNanos - System.nanoTime();
            if (left <= 0) {
                throw deadlineExceeded(null);
            }
            return left < readTimeout.toNanos() ? Duration.ofNanos(left) : readTimeout;
        }

        private DownloadException deadlineExceeded(IOException cause) {
            long size = partSize();
            String received = spec.size() >= 0 ? String.format(Locale.ROOT, "%,d of %,d bytes", size, spec.size())
                    : String.format(Locale.ROOT, "%,d bytes", size);
            return new DownloadException("download of " + spec.fileName() + " from " + source + " did not finish "
                    + "within the overall deadline of " + humanDuration(deadline) + " (" + received + " received); "
                    + "the partial file is kept and the next fetch resumes it (raise the deadline with optDeadline)",
                    cause);
        }

        /** Leaves the complete body in {@code part}, retrying as configured. */
        void run() throws IOException {
            int attempts = 0;
            int failuresInRow = 0;
            long best = partSize();
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
                long size = partSize();
                if (size > best) {
                    best = size;
                    failuresInRow = 0;          // progress was made: this failure is free
                } else {
                    failuresInRow++;
                }
                if (failuresInRow >= maxAttempts) {
                    throw new DownloadException("giving up on " + spec.fileName() + " from " + source + " after "
                            + attempts + " attempt" + (attempts == 1 ? "" : "s") + ": " + describe(error), error);
                }
                long delay = backoffMillis(failuresInRow, retryAfterMillis);
                IOException cause = error;
                log.log(WARNING, () -> "Download of " + spec.fileName() + " from " + source + " failed ("
                        + describe(cause) + "); retrying in " + delay + " ms");
                sleep(Math.min(delay, Math.max(0, (deadlineNanos - System.nanoTime()) / 1_000_000)));
            }
        }

        private long backoffMillis(int failuresInRow, long retryAfterMillis) {
            long max = maxBackoff.toMillis();
            long delay = backoff.toMillis() << Math.min(Math.max(failuresInRow - 1, 0), 30);
            delay = Math.min(delay, max);
            if (retryAfterMillis > delay) {
                delay = Math.min(retryAfterMillis, max);
            }
            return Math.max(delay, 0);
        }

        private long partSize() {
            try {
                return Files.isRegularFile(part) ? Files.size(part) : 0;
            } catch (IOException e) {
                return 0;
            }
        }

        private void attempt() throws IOException {
            long offset = partSize();
            long expected = spec.size();
            if (expected >= 0 && offset > expected) {
                log.log(INFO, () -> "Discarding " + part + ": it is larger than the expected " + expected + " bytes");
                Files.delete(part);
                offset = 0;
            }
            if (expected > 0 && offset == expected) {
                return;                             // already complete (e.g. interrupted before the move)
            }
            HttpRequest.Builder request = HttpRequest.newBuilder(source)
                    .timeout(waitLimit())
                    .header("User-Agent", USER_AGENT)
                    .GET();
            if (offset > 0) {
                request.header("Range", "bytes=" + offset + "-");
                if (validator != null) {
                    request.header("If-Range", validator);
                }
            }
            HttpResponse<BodyQueue> response;
            try {
                response = client().send(request.build(), info -> new BodyQueue());
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
                total = headers.firstValueAsLong("Content-Length").orElse(-1);
            } else if (status == 206) {
                String contentRange = headers.firstValue("Content-Range").orElse("");
                long[] range = parseContentRange(contentRange);
                if (range == null || range[0] != offset) {
                    Files.deleteIfExists(part);
                    throw new IOException("unexpected Content-Range '" + contentRange + "' for Range bytes="
                            + offset + "-; restarting from 0");
                }
                start = offset;
                total = range[2];
                if (total < 0) {
                    long length = headers.firstValueAsLong("Content-Length").orElse(-1);
                    total = length >= 0 ? offset + length : -1;
                }
            } else if (status == 416) {
                long[] range = parseContentRange(headers.firstValue("Content-Range").orElse(""));
                if (range != null && range[2] == offset) {
                    return;                         // what we have is already the whole file
                }
                Files.deleteIfExists(part);
                throw new IOException("HTTP 416 (range not satisfiable) for Range bytes=" + offset
                        + "-; restarting from 0");
            } else if (status == 408 || status == 429 || status >= 500) {
                throw new RetryableStatusException(status, source, retryAfterMillis(headers));
            } else {
                String location = headers.firstValue("Location").map(l -> ", Location: " + l).orElse("");
                throw new DownloadException("HTTP " + status + " for " + source + " (" + spec.fileName() + location
                        + "); not retrying");
            }

            if (expected >= 0 && total >= 0 && total != expected) {
                Files.deleteIfExists(part);
                throw new DownloadException(source + " has " + total + " bytes but " + spec.fileName() + " should have "
                        + expected + " bytes (wrong URL or mirror?); not downloading");
            }
            if (expected < 0 && total > maxBytes) {
                Files.deleteIfExists(part);
                throw new DownloadException(String.format(Locale.ROOT, "%s has %,d bytes, more than the %,d allowed "
                        + "for %s, whose size is not known (raise the cap with optMaxBytes); not downloading", source,
                        total, maxBytes, spec.fileName()));
            }
            long cap = expected >= 0 ? expected : maxBytes;
            if (validator == null) {
                validator = headers.firstValue("ETag").filter(t -> !t.startsWith("W/"))
                        .or(() -> headers.firstValue("Last-Modified").filter(Downloader::isHttpDate))
                        .orElse(null);
            }
            long reportTotal = total >= 0 ? total : expected;
            long done = start;
            boolean overflow = false;
            started = true;
            progress.onStart(spec, source, done, reportTotal);
            try (FileChannel channel = openPart()) {
                local(() -> {
                    channel.truncate(start);
                    channel.position(start);
                });
                for (List<ByteBuffer> buffers; (buffers = body.next(waitLimit())) != null; ) {
                    for (ByteBuffer buffer : buffers) {
                        done += write(channel, buffer);
                    }
                    progress.onProgress(done, reportTotal);
                    if (done > cap) {
                        overflow = true;
                        break;
                    }
                }
                if (!overflow) {
                    local(() -> channel.force(true));
                }
            }
            if (overflow) {
                Files.deleteIfExists(part);
                if (expected < 0) {
                    throw new DownloadException(String.format(Locale.ROOT, "%s sent more than the %,d bytes allowed "
                            + "for %s, whose size is not known (raise the cap with optMaxBytes); the download was "
                            + "deleted", source, maxBytes, spec.fileName()));
                }
                throw new DownloadException(source + " sent more than the " + expected + " bytes expected for "
                        + spec.fileName() + " (wrong URL or mirror?)");
            }
            if (total >= 0 && done < total) {
                throw new IOException("connection closed after " + done + " of " + total + " bytes");
            }
        }

        private FileChannel openPart() throws DownloadException {
            try {
                return FileChannel.open(part, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            } catch (IOException e) {
                throw new DownloadException("cannot write " + part + ": " + describe(e), e);
            }
        }

        private long write(FileChannel channel, ByteBuffer buffer) throws DownloadException {
            long n = 0;
            try {
                while (buffer.hasRemaining()) {
                    n += channel.write(buffer);
                }
            } catch (IOException e) {
                throw new DownloadException("cannot write " + part + ": " + describe(e), e);
            }
            return n;
        }

        private void local(LocalIo io) throws DownloadException {
            try {
                io.run();
            } catch (IOException e) {
                throw new DownloadException("cannot write " + part + ": " + describe(e), e);
            }
        }
    }

    private interface LocalIo {
        void run() throws IOException;
    }

    private HttpClient client() {
        HttpClient c = client;
        if (c == null) {
            synchronized (this) {
                c = client;
                if (c == null) {
                    HttpClient.Builder b = HttpClient.newBuilder()
                            .connectTimeout(connectTimeout)
                            .followRedirects(HttpClient.Redirect.NORMAL);
                    ProxySelector proxies = ProxySelector.getDefault();
                    if (proxies != null) {
                        b.proxy(proxies);
                    }
                    Authenticator authenticator = Authenticator.getDefault();
                    if (authenticator != null) {
                        b.authenticator(authenticator);     // e.g. for proxy authentication
                    }
                    client = c = b.build();
                }
            }
        }
        return c;
    }

    /** Parses {@code bytes first-last/length} or {@code bytes *}{@code /length}; {@code -1} for unknown parts. */
    static long[] parseContentRange(String value) {
        String v = value.trim();
        if (!v.regionMatches(true, 0, "bytes ", 0, 6)) {
            return null;
        }
        v = v.substring(6).trim();
        int slash = v.indexOf('/');
        if (slash < 0) {
            return null;
        }
        try {
            String range = v.substring(0, slash).trim();
            String length = v.substring(slash + 1).trim();
            long total = length.equals("*") ? -1 : Long.parseLong(length);
            if (range.equals("*")) {
                return new long[] {-1, -1, total};
            }
            int dash = range.indexOf('-');
            if (dash < 0) {
                return null;
            }
            return new long[] {Long.parseLong(range.substring(0, dash).trim()),
                    Long.parseLong(range.substring(dash + 1).trim()), total};
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private static long retryAfterMillis(HttpHeaders headers) {
        String value = headers.firstValue("Retry-After").orElse(null);
        if (value == null) {
            return -1;
        }
        try {
            return Math.max(0, Long.parseLong(value.trim())) * 1000;
        } catch (NumberFormatException e) {
            try {
                ZonedDateTime when = ZonedDateTime.parse(value.trim(), DateTimeFormatter.RFC_1123_DATE_TIME);
                return Math.max(0, Duration.between(ZonedDateTime.now(when.getZone()), when).toMillis());
            } catch (RuntimeException ignored) {
                return -1;
            }
        }
    }

    private static boolean isHttpDate(String value) {
        try {
            DateTimeFormatter.RFC_1123_DATE_TIME.parse(value);
            return true;
        } catch (RuntimeException e) {
            return false;
        }
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

    private static String describe(Throwable e) {
        String message = e.getMessage();
        if (e instanceof RetryableStatusException || e instanceof DownloadException) {
            return message;
        }
        return message == null || message.isBlank() ? e.getClass().getSimpleName()
                : e.getClass().getSimpleName() + ": " + message;
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
    private static final class RetryableStatusException extends IOException {
        private static final long serialVersionUID = 1L;
        final transient long retryAfterMillis;

        RetryableStatusException(int status, URI uri, long retryAfterMillis) {
            super("HTTP " + status + " for " + uri);
            this.retryAfterMillis = retryAfterMillis;
        }
    }

    /**
     * Bridges the HTTP client's body publisher to the downloading thread, one chunk at a time, so
     * that a stalled connection can be detected ({@link HttpRequest#timeout} only covers the headers).
     */
    private static final class BodyQueue implements HttpResponse.BodySubscriber<BodyQueue> {
        private static final Object END = new Object();
        private final LinkedBlockingQueue<Object> queue = new LinkedBlockingQueue<>();
        private final AtomicReference<Flow.Subscription> subscription = new AtomicReference<>();
        private volatile boolean cancelled;

        @Override
        public CompletionStage<BodyQueue> getBody() {
            return CompletableFuture.completedFuture(this);
        }

        @Override
        public void onSubscribe(Flow.Subscription s) {
            if (!subscription.compareAndSet(null, s)) {
                s.cancel();
                return;
            }
            if (cancelled) {
                s.cancel();
            } else {
                s.request(1);
            }
        }

        @Override
        public void onNext(List<ByteBuffer> item) {
            queue.add(item);
        }

        @Override
        public void onError(Throwable throwable) {
            queue.add(throwable);
        }

        @Override
        public void onComplete() {
            queue.add(END);
        }

        /** The next chunk, or null at the end of the body. */
        @SuppressWarnings("unchecked")
        List<ByteBuffer> next(Duration timeout) throws IOException {
            Object item;
            try {
                item = queue.poll(timeout.toNanos(), TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                cancel();
                throw new InterruptedIOException("interrupted while reading the response");
            }
            if (item == null) {
                cancel();
                throw new HttpTimeoutException("no data received for " + timeout.toMillis() + " ms (read timeout)");
            }
            if (item == END) {
                return null;
            }
            if (item instanceof Throwable t) {
                throw t instanceof IOException io ? io : new IOException(t.toString(), t);
            }
            subscription.get().request(1);
            return (List<ByteBuffer>) item;
        }

        void cancel() {
            cancelled = true;
            Flow.Subscription s = subscription.get();
            if (s != null) {
                s.cancel();
            }
        }
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
         * Sets the overall deadline of a fetch, retries and waits included; default 1 h. A server
         * that sends a byte now and then never trips the read timeout, but cannot hold a fetch
         * past this. The partial file is kept, so the next fetch resumes it. Not retried.
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
         * 2 GiB (the largest ResNet weights are about 500 MB). A file of known size is held to that
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
