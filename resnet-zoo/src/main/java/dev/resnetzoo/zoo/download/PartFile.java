package dev.resnetzoo.zoo.download;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The {@code <fileName>.part} a download is written to before it is verified. Failures to write it
 * are local, not network errors, so they become a {@link DownloadException} (not retried) naming
 * the file.
 */
final class PartFile {

    private final Path path;

    PartFile(Path path) {
        this.path = path;
    }

    Path path() {
        return path;
    }

    /** Bytes on disk, {@code 0} if there is no file. */
    long size() {
        try {
            return Files.isRegularFile(path) ? Files.size(path) : 0;
        } catch (IOException e) {
            return 0;
        }
    }

    void delete() throws IOException {
        Files.deleteIfExists(path);
    }

    /** Opens the file for writing at {@code start}, dropping anything after it. */
    FileChannel openAt(long start) throws DownloadException {
        FileChannel channel;
        try {
            channel = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        } catch (IOException e) {
            throw failure(e);
        }
        try {
            channel.truncate(start);
            channel.position(start);
            return channel;
        } catch (IOException e) {
            try {
                channel.close();
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw failure(e);
        }
    }

    /** Writes all of {@code buffer}; returns how many bytes that was. */
    long write(FileChannel channel, ByteBuffer buffer) throws DownloadException {
        long n = 0;
        try {
            while (buffer.hasRemaining()) {
                n += channel.write(buffer);
            }
        } catch (IOException e) {
            throw failure(e);
        }
        return n;
    }

    void force(FileChannel channel) throws DownloadException {
        try {
            channel.force(true);
        } catch (IOException e) {
            throw failure(e);
        }
    }

    private DownloadException failure(IOException e) {
        return new DownloadException("cannot write " + path + ": " + DownloadException.describe(e), e);
    }
}
