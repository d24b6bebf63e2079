package dev.resnetzoo.examples.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import dev.resnetzoo.examples.cli.ImportCommandTest.Run;
import dev.resnetzoo.zoo.registry.Registry;
import dev.resnetzoo.zoo.registry.WeightsEntry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ./resnet download}: offline, refusal without a hash, a verified fetch from a loopback mirror,
 * and the size cap and deadline against hostile loopback servers.
 */
class DownloadCommandTest {

    @TempDir
    Path tmp;

    /** Runs {@code action} with system properties set, restoring the previous values afterwards. */
    static <T> T withProperties(Map<String, String> properties, Supplier<T> action) {
        Map<String, String> old = new HashMap<>();
        properties.forEach((k, v) -> old.put(k, System.setProperty(k, v)));
        try {
            return action.get();
        } finally {
            old.forEach((k, v) -> {
                if (v == null) {
                    System.clearProperty(k);
                } else {
                    System.setProperty(k, v);
                }
            });
        }
    }

    private Map<String, String> offline() {
        return Map.of("resnetzoo.home", tmp.resolve("cache").toString(), "resnetzoo.offline", "true");
    }

    @Test
    void offlineWithoutACachedFileSaysWhereToGetIt() {
        Run r = withProperties(offline(), () -> ImportCommandTest.run("download", "resnet18"));
        assertEquals(1, r.code());
        assertEquals(1, r.errorLines().size(), r.err());
        String error = r.errorLines().get(0);
        assertTrue(error.startsWith("error: resnet18-f37072fd.pth is not in the cache and offline mode is on"), error);
        assertTrue(error.contains("https://download.pytorch.org/models/resnet18-f37072fd.pth"), error);
        assertEquals("", r.out());
    }

    @Test
    void entriesWithoutAHashAreRefused() {
        Run r = withProperties(offline(), () -> ImportCommandTest.run("download", "seresnext50_32x4d"));
        assertEquals(1, r.code());
        String error = r.errorLines().get(0);
        assertTrue(error.contains("no SHA-256 is published for seresnext50_32x4d.racm_in1k"), error);
        assertTrue(error.contains("--sha256"), error);
        assertFalse(Files.exists(tmp.resolve("cache/weights")));
    }

    @Test
    void unknownTagsAndBadHashesAreOneErrorLine() {
        Run r = withProperties(offline(), () -> ImportCommandTest.run("download", "resnet50.nope"));
        assertEquals(1, r.code());
        assertTrue(r.errorLines().get(0).startsWith("error: unknown weights 'resnet50.nope' for resnet50; known: "),
                r.err());
        Run r2 = withProperties(offline(), () -> ImportCommandTest.run("download", "resnet50", "--sha256", "xyz"));
        assertEquals(1, r2.code());
        assertTrue(r2.errorLines().get(0).contains("must be 64 hex digits"), r2.err());
        Run r3 = withProperties(offline(), () -> ImportCommandTest.run("download", "resnet50", "--sha256", "00000000"));
        assertEquals(1, r3.code());
        assertTrue(r3.errorLines().get(0).contains("contradicts the registry's prefix 11ad3fa6"), r3.err());
    }

    @Test
    void fetchesFromAMirrorVerifiesTheGivenHashAndPrintsThePath() throws Exception {
        byte[] body = "pretend these are weights".getBytes(StandardCharsets.UTF_8);
        String sha = HexFormat.of().formatHex(sha256(body));
        WeightsEntry entry = Registry.builtin().get("seresnext50_32x4d");
        List<String> requests = new CopyOnWriteArrayList<>();
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", exchange -> {
            requests.add(exchange.getRequestURI().getPath());
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream os = exchange.getResponseBody()) {
                os.write(body);
            }
        });
        server.start();
        Path cache = tmp.resolve("cache");
        Map<String, String> props = Map.of("resnetzoo.home", cache.toString(), "resnetzoo.offline", "false",
                "resnetzoo.mirror", "http://127.0.0.1:" + server.getAddress().getPort());
        try {
            Run wrong = withProperties(props, () -> ImportCommandTest.run("download", entry.tag(), "--sha256",
                    "0".repeat(64)));
            assertEquals(1, wrong.code());
            assertTrue(wrong.errorLines().get(0).contains(sha), wrong.err());
            assertFalse(Files.exists(cache.resolve("weights").resolve(entry.fileName())));

            Run r = withProperties(props, () -> ImportCommandTest.run("download", entry.tag(), "--sha256", sha));
            assertEquals(0, r.code(), r.err());
            Path file = cache.resolve("weights").resolve(entry.fileName());
            assertEquals(file.toString(), r.out().strip());
            assertEquals(new String(body, StandardCharsets.UTF_8), Files.readString(file));
            assertTrue(requests.contains("/" + entry.fileName()), requests.toString());
            String mirrored = "http://127.0.0.1:" + server.getAddress().getPort() + "/" + entry.fileName();
            assertTrue(r.err().contains("Downloading " + entry.fileName() + " from " + mirrored), r.err());
            assertFalse(r.err().contains(entry.url().getHost()), "progress names the mirror, not the publisher: "
                    + r.err());
        } finally {
            server.stop(0);
        }
        // cached and verified: no network needed any more
        Run again = withProperties(props, () -> ImportCommandTest.run("download", entry.tag(), "--sha256", sha));
        assertEquals(0, again.code(), again.err());
        assertEquals(cache.resolve("weights").resolve(entry.fileName()).toString(), again.out().strip());
    }

    /** Serves every path with {@code body}, started on the loopback interface. */
    private static HttpServer serve(com.sun.net.httpserver.HttpHandler body) throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", body);
        server.start();
        return server;
    }

    private Map<String, String> mirror(Path cache, HttpServer server) {
        return Map.of("resnetzoo.home", cache.toString(), "resnetzoo.offline", "false",
                "resnetzoo.mirror", "http://127.0.0.1:" + server.getAddress().getPort());
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void maxSizeStopsAnEndlessBodyInOneLineAndLeavesNothing() throws Exception {
        byte[] chunk = new byte[16 * 1024];
        HttpServer server = serve(exchange -> {
            exchange.sendResponseHeaders(200, 0);          // chunked, no length: it never ends
            try (OutputStream os = exchange.getResponseBody()) {
                while (true) {
                    os.write(chunk);
                }
            } catch (IOException clientWentAway) {
                exchange.close();
            }
        });
        WeightsEntry entry = Registry.builtin().get("seresnext50_32x4d");
        Path cache = tmp.resolve("cache");
        try {
            Run r = withProperties(mirror(cache, server), () -> ImportCommandTest.run("download", entry.tag(),
                    "--sha256", "0".repeat(64), "--max-size", "100kB"));
            assertEquals(1, r.code(), r.err());
            assertEquals(List.of("error: http://127.0.0.1:" + server.getAddress().getPort() + "/" + entry.fileName()
                    + " sent more than the 100,000 bytes allowed for " + entry.fileName() + ", whose size is not "
                    + "known (raise the cap with optMaxBytes, or --max-size on the command line); the download was "
                    + "deleted"), r.errorLines());
            assertFalse(Files.exists(cache.resolve("weights").resolve(entry.fileName() + ".part")));
            assertFalse(Files.exists(cache.resolve("weights").resolve(entry.fileName())));
            assertEquals("", r.out());
        } finally {
            server.stop(0);
        }
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void deadlineStopsADripFedBodyInOneLineAndKeepsWhatArrivedForResume() throws Exception {
        CountDownLatch done = new CountDownLatch(1);
        HttpServer server = serve(exchange -> {
            exchange.sendResponseHeaders(200, 100_000);    // one byte every 20 ms: more than half an hour
            try (OutputStream os = exchange.getResponseBody()) {
                while (!done.await(20, TimeUnit.MILLISECONDS)) {
                    os.write(7);
                    os.flush();
                }
            } catch (IOException | InterruptedException clientWentAway) {
                exchange.close();
            }
        });
        WeightsEntry entry = Registry.builtin().get("seresnext50_32x4d");
        Path cache = tmp.resolve("cache");
        try {
            long start = System.nanoTime();
            Run r = withProperties(mirror(cache, server), () -> ImportCommandTest.run("download", entry.tag(),
                    "--sha256", "0".repeat(64), "--deadline", "700ms"));
            assertTrue(System.nanoTime() - start < 20_000_000_000L, "stopped by the deadline");
            assertEquals(1, r.code(), r.err());
            assertEquals(1, r.errorLines().size(), r.err());
            String error = r.errorLines().get(0);
            assertTrue(error.startsWith("error: download of " + entry.fileName() + " from http://127.0.0.1:"
                    + server.getAddress().getPort() + "/" + entry.fileName() + " did not finish within the overall "
                    + "deadline of 700 ms ("), error);
            assertTrue(error.endsWith("the partial file is kept and the next fetch resumes it (raise the deadline "
                    + "with optDeadline, or --deadline on the command line)"), error);
            Path part = cache.resolve("weights").resolve(entry.fileName() + ".part");
            assertTrue(Files.isRegularFile(part) && Files.size(part) > 0, "what arrived is kept");
        } finally {
            done.countDown();
            server.stop(0);
        }
    }

    @Test
    void badSizesAndDurationsAreOneErrorLine() {
        Run size = withProperties(offline(), () -> ImportCommandTest.run("download", "resnet50", "--max-size", "lots"));
        assertEquals(1, size.code());
        assertEquals(List.of("error: --max-size must be a positive size such as 500MB or 2GiB (units B, kB, MB, GB, "
                + "TB, KiB, MiB, GiB, TiB), got 'lots'"), size.errorLines());
        Run zero = withProperties(offline(), () -> ImportCommandTest.run("download", "resnet50", "--deadline", "0s"));
        assertEquals(1, zero.code());
        assertEquals(List.of("error: --deadline must be a positive duration such as 90s, 30m or 2h (units ms, s, m, "
                + "h), got '0s'"), zero.errorLines());
    }

    @Test
    void sizesAndDurations() {
        assertEquals(123, DownloadCommand.parseSize("123", "x"));
        assertEquals(500_000_000L, DownloadCommand.parseSize("500MB", "x"));
        assertEquals(1_500_000_000L, DownloadCommand.parseSize("1.5 GB", "x"));
        assertEquals(2L << 30, DownloadCommand.parseSize("2GiB", "x"));
        assertEquals(java.time.Duration.ofMillis(700), DownloadCommand.parseDuration("700ms", "x"));
        assertEquals(java.time.Duration.ofSeconds(90), DownloadCommand.parseDuration("90s", "x"));
        assertEquals(java.time.Duration.ofMinutes(30), DownloadCommand.parseDuration("30m", "x"));
        assertEquals(java.time.Duration.ofMinutes(30), DownloadCommand.parseDuration("30min", "x"));
        assertEquals(java.time.Duration.ofHours(2), DownloadCommand.parseDuration("2h", "x"));
        assertEquals(java.time.Duration.ofMinutes(90), DownloadCommand.parseDuration("PT1H30M", "x"));
    }

    private static byte[] sha256(byte[] data) throws NoSuchAlgorithmException {
        return MessageDigest.getInstance("SHA-256").digest(data);
    }
}
