package dev.resnetzoo.zoo.download;

import static java.lang.System.Logger.Level.INFO;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Path;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The exclusive lock on {@code <fileName>.lock} a fetch holds while it checks and downloads: a
 * {@link FileChannel#lock() file lock} across processes, plus an in-JVM lock across threads, since
 * a {@link FileLock} cannot be taken twice in one JVM.
 */
final class FetchLock {

    private static final System.Logger log = System.getLogger(Downloader.class.getName());

    /** In-JVM locks by lock-file path. */
    private static final ConcurrentHashMap<Path, ReentrantLock> JVM_LOCKS = new ConcurrentHashMap<>();

    /** Work done under the lock. */
    interface Action {
        Path run() throws IOException;
    }

    private FetchLock() {
    }

    /**
     * Runs {@code action} holding both locks, waiting (and saying so in the log) while another
     * thread or process holds them.
     *
     * @param channel  the open lock file
     * @param lockPath its real path, the key of the in-JVM lock
     * @param fileName the file being fetched, for the log
     */
    static Path run(FileChannel channel, Path lockPath, String fileName, Action action) throws IOException {
        ReentrantLock jvmLock = JVM_LOCKS.computeIfAbsent(lockPath, p -> new ReentrantLock());
        try {
            if (!jvmLock.tryLock()) {
                log.log(INFO, () -> "Waiting for another thread downloading " + fileName);
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
                        log.log(INFO, () -> "Waiting for another process downloading " + fileName
                                + " (lock " + lockPath + ")");
                        announced = true;
                        fileLock = channel.lock();
                    }
                } catch (OverlappingFileLockException e) {
                    // Held elsewhere in this JVM outside our lock map (e.g. another class loader): poll.
                    if (!announced) {
                        log.log(INFO, () -> "Waiting for another download of " + fileName + " in this JVM");
                        announced = true;
                    }
                    pause(lockPath);
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

    private static void pause(Path lockPath) throws InterruptedIOException {
        try {
            Thread.sleep(100);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while waiting for the lock on " + lockPath);
        }
    }
}
