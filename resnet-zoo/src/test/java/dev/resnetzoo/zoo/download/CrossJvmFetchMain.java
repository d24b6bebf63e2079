package dev.resnetzoo.zoo.download;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;

/**
 * Run in a second JVM by {@link DownloaderTest}: fetches one file into a given cache and prints
 * {@code FETCHED <path>}. Arguments: cache home, url, file name, sha256, size.
 */
public final class CrossJvmFetchMain {

    private CrossJvmFetchMain() {
    }

    public static void main(String[] args) {
        try {
            Downloader downloader = Downloader.builder()
                    .optCache(ZooCache.at(Path.of(args[0])))
                    .optBackoff(Duration.ofMillis(5))
                    .optMaxBackoff(Duration.ofMillis(20))
                    .optConnectTimeout(Duration.ofSeconds(5))
                    .optReadTimeout(Duration.ofSeconds(15))
                    .optProgress(ProgressListener.NONE)
                    .build();
            Path path = downloader.fetch(new FileSpec(URI.create(args[1]), args[2], args[3], Long.parseLong(args[4])));
            System.out.println("FETCHED " + path);
        } catch (Throwable t) {
            t.printStackTrace(System.out);
            System.exit(2);
        }
    }
}
