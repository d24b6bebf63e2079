package dev.resnetzoo.zoo.download;

import static java.lang.System.Logger.Level.DEBUG;
import static java.lang.System.Logger.Level.WARNING;

import dev.resnetzoo.zoo.files.Sha256;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * What {@link Downloader#fetch(FileSpec)} does with the cache: hand out a verified file, honour
 * offline mode, re-verify or replace a cached file that changed, and let a verified download in
 * only by an atomic move. The transfer itself is {@link Transfer}'s job, the locking
 * {@link FetchLock}'s.
 */
final class CachePolicy {

    private static final System.Logger log = System.getLogger(Downloader.class.getName());

    private final ZooCache cache;
    private final String kind;
    private final Transfer.Limits limits;
    private final Http http;
    private final ProgressListener progress;

    CachePolicy(ZooCache cache, String kind, Transfer.Limits limits, Http http, ProgressListener progress) {
        this.cache = cache;
        this.kind = kind;
        this.limits = limits;
        this.http = http;
        this.progress = progress;
        cache.directory(kind);                      // validates the kind early
    }

    Path fetch(FileSpec spec) throws IOException {
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
            throw new DownloadException("cannot write to the cache directory " + dir + " ("
                    + DownloadException.describe(e) + "); set -D" + ZooCache.HOME_PROPERTY + "=... or "
                    + ZooCache.HOME_ENV + " to a writable directory", e);
        }
        try (lockChannel) {
            return FetchLock.run(lockChannel, dir.toRealPath().resolve(spec.fileName() + ".lock"), spec.fileName(),
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
        PartFile part = new PartFile(target.resolveSibling(spec.fileName() + ".part"));
        boolean partFromEarlierRun = part.size() > 0;
        Transfer transfer = new Transfer(limits, http, progress, spec, cache.sourceFor(spec), part);
        boolean ok = false;
        try {
            transfer.run();
            Sha256 actual = Sha256.of(part.path());
            String mismatch = check(spec, part.path(), actual);
            if (mismatch != null && partFromEarlierRun) {
                // A stale partial file is the usual cause, so it is downloaded once more from scratch.
                String why = mismatch;
                log.log(WARNING, () -> spec.fileName() + " resumed from an earlier partial download does not verify ("
                        + why + "); downloading it from scratch");
                part.delete();
                transfer.restart();
                actual = Sha256.of(part.path());
                mismatch = check(spec, part.path(), actual);
            }
            if (mismatch != null) {
                part.delete();
                throw new DownloadException("verification failed for " + spec.fileName() + " downloaded from "
                        + transfer.source() + ": " + mismatch + "; the download was deleted");
            }
            moveIntoPlace(part.path(), target);
            writeStampQuietly(target, actual);
            ok = true;
            return target;
        } finally {
            if (transfer.started()) {
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
}
