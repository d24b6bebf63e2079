package dev.resnetzoo.zoo.download;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Downloads against a loopback {@link TestServer}; nothing else on the network is contacted. */
@Timeout(value = 15, unit = TimeUnit.SECONDS)
class DownloaderTest {

    private static final String PATH = "/models/resnet-test-1234.pth";
    private static final String NAME = "resnet-test-1234.pth";

    @TempDir
    Path tmp;

    private TestServer server;
    private ExecutorService threads;
    private byte[] data;
    private String sha;

    @BeforeEach
    void setUp() throws IOException {
        server = TestServer.start();
        threads = Executors.newCachedThreadPool();
        data = randomBytes(200_000, 42);
        sha = sha256(data);
    }

    @AfterEach
    void tearDown() {
        threads.shutdownNow();
        server.close();
    }

    // ------------------------------------------------------------------------------------------

    @Test
    void plainDownloadIsVerifiedStampedAndReported() throws IOException {
        server.serve(PATH, data);
        List<long[]> reports = new CopyOnWriteArrayList<>();
        boolean[] finished = new boolean[1];
        ProgressListener listener = new ProgressListener() {
            @Override
            public void onProgress(long done, long total) {
                reports.add(new long[] {done, total});
            }

            @Override
            public void onFinish(FileSpec spec, boolean success) {
                finished[0] = success;
            }
        };
        Path file = downloader(cache(), listener).fetch(spec(-1));

        assertEquals(cache().weights().resolve(NAME), file);
        assertArrayEquals(data, Files.readAllBytes(file));
        assertFalse(Files.exists(part()), ".part must be gone");
        assertTrue(Files.readString(Stamp.of(file)).contains("sha256=" + sha));
        assertEquals(1, server.requests(PATH).size());
        assertNull(server.requests(PATH).get(0).range());
        long[] last = reports.get(reports.size() - 1);
        assertEquals(data.length, last[0]);
        assertEquals(data.length, last[1]);
        assertTrue(finished[0]);
    }

    @Test
    void truncatedBodyIsResumedByRetry() throws IOException {
        server.serve(PATH, data).truncateOnceAt = 50_000;

        Path file = downloader(cache()).fetch(spec(data.length));

        assertArrayEquals(data, Files.readAllBytes(file));
        List<TestServer.Request> requests = server.requests(PATH);
        assertEquals(2, requests.size(), requests.toString());
        assertEquals(50_000, requests.get(0).bytesSent());
        assertEquals("bytes=50000-", requests.get(1).range());
        assertEquals(206, requests.get(1).status());
        assertEquals(data.length - 50_000, requests.get(1).bytesSent());
    }

    @Test
    void stalledBodyHitsReadTimeoutAndResumes() throws IOException {
        server.serve(PATH, data).stallOnceAt = 30_000;
        Downloader downloader = base(cache()).optReadTimeout(Duration.ofMillis(300)).build();

        Path file = downloader.fetch(spec(data.length));

        assertArrayEquals(data, Files.readAllBytes(file));
        List<TestServer.Request> requests = server.requests(PATH);
        assertEquals(2, requests.size(), requests.toString());
        assertEquals("bytes=30000-", requests.get(1).range());
    }

    @Test
    void wrongHashFailsNamingBothHashesAndLeavesNothing() throws IOException {
        server.serve(PATH, data);
        String wrong = "ab".repeat(32);

        DownloadException e = assertThrows(DownloadException.class,
                () -> downloader(cache()).fetch(new FileSpec(server.uri(PATH), NAME, wrong, -1)));

        assertTrue(e.getMessage().contains(NAME), e.getMessage());
        assertTrue(e.getMessage().contains("expected sha256 " + wrong), e.getMessage());
        assertTrue(e.getMessage().contains("got sha256 " + sha), e.getMessage());
        assertTrue(e.getMessage().contains(data.length + " bytes"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
        assertFalse(Files.exists(target()), "no final file");
        assertFalse(Files.exists(part()), "no .part");
        assertFalse(Files.exists(Stamp.of(target())), "no stamp");
    }

    @Test
    void wrongSizeFailsBeforeDownloading() {
        server.serve(PATH, data);

        DownloadException e = assertThrows(DownloadException.class,
                () -> downloader(cache()).fetch(spec(data.length + 1)));

        assertTrue(e.getMessage().contains(data.length + " bytes"), e.getMessage());
        assertTrue(e.getMessage().contains((data.length + 1) + " bytes"), e.getMessage());
        assertEquals(1, server.requests(PATH).size());
        assertFalse(Files.exists(target()));
        assertFalse(Files.exists(part()));
    }

    @Test
    void notFoundFailsAtOnceWithStatusAndUrl() {
        DownloadException e = assertThrows(DownloadException.class,
                () -> downloader(cache()).fetch(spec(-1)));

        assertTrue(e.getMessage().contains("404"), e.getMessage());
        assertTrue(e.getMessage().contains(server.uri(PATH).toString()), e.getMessage());
        assertEquals(1, server.requests(PATH).size(), "a 404 must not be retried");
        assertFalse(Files.exists(target()));
    }

    @Test
    void serviceUnavailableTwiceThenSuccess() throws IOException {
        TestServer.Route route = server.serve(PATH, data);
        route.failuresLeft = 2;

        Path file = downloader(cache()).fetch(spec(data.length));

        assertArrayEquals(data, Files.readAllBytes(file));
        List<TestServer.Request> requests = server.requests(PATH);
        assertEquals(List.of(503, 503, 200), requests.stream().map(TestServer.Request::status).toList());
    }

    @Test
    void tooManyRequestsIsRetriedToo() throws IOException {
        TestServer.Route route = server.serve(PATH, data);
        route.failuresLeft = 1;
        route.failStatus = 429;

        assertArrayEquals(data, Files.readAllBytes(downloader(cache()).fetch(spec(-1))));
        assertEquals(2, server.requests(PATH).size());
    }

    @Test
    void givesUpAfterMaxAttemptsNamingTheLastError() {
        TestServer.Route route = server.serve(PATH, data);
        route.failuresLeft = 100;
        route.failStatus = 500;

        DownloadException e = assertThrows(DownloadException.class, () -> downloader(cache()).fetch(spec(-1)));

        assertTrue(e.getMessage().contains("after 4 attempts"), e.getMessage());
        assertTrue(e.getMessage().contains("HTTP 500"), e.getMessage());
        assertEquals(4, server.requests(PATH).size());
        assertFalse(Files.exists(target()));
    }

    @Test
    void connectionRefusedIsRetriedThenReported() throws IOException {
        URI dead;
        try (TestServer gone = TestServer.start()) {
            dead = gone.uri(PATH);                   // a loopback port that is closed again below
        }

        DownloadException e = assertThrows(DownloadException.class,
                () -> downloader(cache()).fetch(new FileSpec(dead, NAME, sha, -1)));

        assertTrue(e.getMessage().contains("after 4 attempts"), e.getMessage());
        assertTrue(e.getMessage().contains(dead.toString()), e.getMessage());
        assertFalse(Files.exists(target()));
    }

    @Test
    void redirectsAreFollowed() throws IOException {
        server.serve("/real/" + NAME, data);
        server.redirect(PATH, "/real/" + NAME);

        Path file = downloader(cache()).fetch(spec(-1));

        assertArrayEquals(data, Files.readAllBytes(file));
        assertEquals(List.of(302, 200), server.requests().stream().map(TestServer.Request::status).toList());
    }

    @Test
    void resumesFromExistingPart() throws IOException {
        server.serve(PATH, data);
        Files.createDirectories(cache().weights());
        Files.write(part(), Arrays.copyOf(data, 70_000));

        Path file = downloader(cache()).fetch(spec(data.length));

        assertArrayEquals(data, Files.readAllBytes(file));
        List<TestServer.Request> requests = server.requests(PATH);
        assertEquals(1, requests.size());
        assertEquals("bytes=70000-", requests.get(0).range());
        assertEquals(206, requests.get(0).status());
        assertEquals(data.length - 70_000, requests.get(0).bytesSent());
    }

    @Test
    void serverIgnoringRangeRestartsFromZero() throws IOException {
        server.serve(PATH, data).ignoreRange = true;
        Files.createDirectories(cache().weights());
        Files.write(part(), randomBytes(70_000, 7));     // wrong bytes: must be thrown away, not kept

        Path file = downloader(cache()).fetch(spec(data.length));

        assertArrayEquals(data, Files.readAllBytes(file));
        List<TestServer.Request> requests = server.requests(PATH);
        assertEquals(1, requests.size());
        assertEquals("bytes=70000-", requests.get(0).range());
        assertEquals(200, requests.get(0).status());
        assertEquals(data.length, requests.get(0).bytesSent());
    }

    @Test
    void rangeNotSatisfiableRestartsFromZero() throws IOException {
        server.serve(PATH, data);
        Files.createDirectories(cache().weights());
        Files.write(part(), randomBytes(data.length + 10, 7));   // longer than the file; size unknown to the spec

        Path file = downloader(cache()).fetch(spec(-1));

        assertArrayEquals(data, Files.readAllBytes(file));
        List<TestServer.Request> requests = server.requests(PATH);
        assertEquals(List.of(416, 200), requests.stream().map(TestServer.Request::status).toList());
        assertNull(requests.get(1).range());
    }

    @Test
    void stalePartThatDoesNotVerifyIsDownloadedAgainFromScratch() throws IOException {
        server.serve(PATH, data);
        Files.createDirectories(cache().weights());
        Files.write(part(), randomBytes(10_000, 7));     // left by an earlier run, content wrong

        Path file = downloader(cache()).fetch(spec(data.length));

        assertArrayEquals(data, Files.readAllBytes(file));
        List<TestServer.Request> requests = server.requests(PATH);
        assertEquals(2, requests.size());
        assertEquals("bytes=10000-", requests.get(0).range());
        assertNull(requests.get(1).range());
    }

    @Test
    void twoThreadsFetchingTheSameFileDownloadItOnce() throws Exception {
        TestServer.Route route = server.serve(PATH, data);
        route.gate = new CountDownLatch(1);
        Downloader first = downloader(cache());
        Downloader second = downloader(cache());      // a separate instance: the lock is per file, not per instance

        Future<Path> a = threads.submit(() -> first.fetch(spec(data.length)));
        assertTrue(route.arrived.await(5, TimeUnit.SECONDS));
        Future<Path> b = threads.submit(() -> second.fetch(spec(data.length)));
        Thread.sleep(200);
        assertFalse(b.isDone(), "the second fetch must wait for the first");
        route.gate.countDown();

        Path pa = a.get(5, TimeUnit.SECONDS);
        Path pb = b.get(5, TimeUnit.SECONDS);
        assertEquals(pa, pb);
        assertArrayEquals(data, Files.readAllBytes(pa));
        assertEquals(1, route.hits.get(), "one download only");
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void twoJvmsFetchingTheSameFileDownloadItOnce() throws Exception {
        TestServer.Route route = server.serve(PATH, data);
        route.gate = new CountDownLatch(1);
        Path childOutput = tmp.resolve("child.out");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process child = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                "-Xshare:auto", "-XX:TieredStopAtLevel=1",
                CrossJvmFetchMain.class.getName(),
                cache().home().toString(), server.uri(PATH).toString(), NAME, sha, Long.toString(data.length))
                .redirectErrorStream(true)
                .redirectOutput(childOutput.toFile())
                .start();
        try {
            assertTrue(route.arrived.await(40, TimeUnit.SECONDS), "child JVM never reached the server");
            // The child now holds the file lock and waits for the gate; this JVM must block on the lock.
            Future<Path> mine = threads.submit(() -> downloader(cache()).fetch(spec(data.length)));
            Thread.sleep(300);
            assertFalse(mine.isDone(), "this JVM must wait for the other one");
            route.gate.countDown();

            Path file = mine.get(10, TimeUnit.SECONDS);
            assertTrue(child.waitFor(20, TimeUnit.SECONDS), "child JVM did not finish");
            String out = Files.readString(childOutput);
            assertEquals(0, child.exitValue(), out);
            assertTrue(out.contains("FETCHED " + file), out);
            assertArrayEquals(data, Files.readAllBytes(file));
            assertEquals(1, route.hits.get(), "one download only");
        } finally {
            child.destroyForcibly();
        }
    }

    @Test
    void cachedFileIsReusedWithoutRequest() throws IOException {
        server.serve(PATH, data);
        Path first = downloader(cache()).fetch(spec(data.length));
        Path second = downloader(cache()).fetch(spec(data.length));

        assertEquals(first, second);
        assertEquals(1, server.requests().size());
    }

    @Test
    void handPlacedFileIsVerifiedAndStampedWithoutRequest() throws IOException {
        Files.createDirectories(cache().weights());
        Files.write(target(), data);

        Path file = downloader(cache()).fetch(spec(-1));

        assertEquals(target(), file);
        assertTrue(Files.exists(Stamp.of(file)));
        assertEquals(0, server.requests().size());
    }

    @Test
    void unchangedSizeAndMtimeAreTrustedWithoutRehashing() throws IOException {
        server.serve(PATH, data);
        Path file = downloader(cache()).fetch(spec(-1));
        FileTime mtime = Files.getLastModifiedTime(file);
        byte[] tampered = data.clone();
        tampered[1000] ^= 1;
        Files.write(file, tampered);
        Files.setLastModifiedTime(file, mtime);

        Path again = downloader(cache()).fetch(spec(-1));

        // The stamp (size + mtime + hash) short-circuits hashing: the file is not read again.
        assertArrayEquals(tampered, Files.readAllBytes(again));
        assertEquals(1, server.requests().size());
    }

    @Test
    void theStampRecordsTheFullDigestEvenWhenOnlyAPrefixWasExpected() throws IOException {
        server.serve(PATH, data);
        Path file = downloader(cache()).fetch(new FileSpec(server.uri(PATH), NAME, sha.substring(0, 8), -1));
        assertTrue(Files.readString(Stamp.of(file)).contains("sha256=" + sha + "\n"), Files.readString(Stamp.of(file)));

        FileTime mtime = Files.getLastModifiedTime(file);
        byte[] tampered = data.clone();
        tampered[1000] ^= 1;
        Files.write(file, tampered);
        Files.setLastModifiedTime(file, mtime);
        Path again = downloader(cache()).fetch(spec(-1));

        // The full hash is satisfied by the stamp alone: no re-hash, no request.
        assertArrayEquals(tampered, Files.readAllBytes(again));
        assertEquals(1, server.requests().size());
    }

    @Test
    void corruptedCachedFileIsDownloadedAgain() throws IOException {
        server.serve(PATH, data);
        Path file = downloader(cache()).fetch(spec(-1));
        byte[] corrupt = data.clone();
        corrupt[1000] ^= 1;
        Files.write(file, corrupt);
        Files.setLastModifiedTime(file, FileTime.fromMillis(Files.getLastModifiedTime(file).toMillis() + 5_000));

        Path again = downloader(cache()).fetch(spec(-1));

        assertArrayEquals(data, Files.readAllBytes(again));
        assertEquals(2, server.requests(PATH).size());
    }

    @Test
    void offlineWithMissingFileFailsClearlyWithoutRequest() {
        server.serve(PATH, data);
        ZooCache offline = cache().withOffline(true);

        DownloadException e = assertThrows(DownloadException.class, () -> downloader(offline).fetch(spec(-1)));

        String m = e.getMessage();
        assertTrue(m.contains("offline"), m);
        assertTrue(m.contains(server.uri(PATH).toString()), "names the URL: " + m);
        assertTrue(m.contains(target().toString()), "names where to put it: " + m);
        assertEquals(0, server.requests().size());
        assertFalse(Files.exists(cache().weights()), "offline mode does not even create directories");
    }

    @Test
    void offlineWithCachedFileWorks() throws IOException {
        Files.createDirectories(cache().weights());
        Files.write(target(), data);

        Path file = downloader(cache().withOffline(true)).fetch(spec(-1));

        assertArrayEquals(data, Files.readAllBytes(file));
        assertEquals(0, server.requests().size());
    }

    @Test
    void mirrorReplacesSchemeHostAndPath() throws IOException {
        server.serve("/mirror/" + NAME, data);
        String original = "/original/a/b/" + NAME;
        ZooCache mirrored = cache().withMirror(server.uri("/mirror/").toString());

        Path file = downloader(mirrored).fetch(new FileSpec(server.uri(original), NAME, sha, -1));

        assertArrayEquals(data, Files.readAllBytes(file));
        assertEquals(1, server.requests().size());
        assertEquals("/mirror/" + NAME, server.requests().get(0).path());
        assertTrue(server.requests(original).isEmpty());
    }

    @Test
    void anEndlessBodyOfUnknownSizeStopsAtTheCapAndLeavesNothing() {
        server.serve(PATH, randomBytes(64 * 1024, 1)).endless = true;
        Downloader downloader = base(cache()).optMaxBytes(1_000_000).build();

        DownloadException e = assertThrows(DownloadException.class, () -> downloader.fetch(spec(-1)));
        assertEquals(server.uri(PATH) + " sent more than the 1,000,000 bytes allowed for " + NAME + ", whose size is "
                + "not known (raise the cap with optMaxBytes, or --max-size on the command line); the download was deleted", e.getMessage());
        assertFalse(Files.exists(part()), ".part must be gone");
        assertFalse(Files.exists(target()));
    }

    @Test
    void anEndlessBodyOfKnownSizeStopsAtThatSizeNotAtTheCap() {
        server.serve(PATH, randomBytes(64 * 1024, 1)).endless = true;
        Downloader downloader = base(cache()).build();           // the 2 GiB cap is not what stops it

        DownloadException e = assertThrows(DownloadException.class, () -> downloader.fetch(spec(300_000)));
        assertEquals(server.uri(PATH) + " sent more than the 300,000 bytes expected for " + NAME + " (wrong URL or "
                + "mirror?); the download was deleted", e.getMessage());
        assertFalse(Files.exists(part()), ".part must be gone");
        assertFalse(Files.exists(target()));
    }

    @Test
    void aBodyLargerThanTheCapIsRefusedFromItsContentLength() {
        server.serve(PATH, data);
        Downloader downloader = base(cache()).optMaxBytes(100_000).build();

        DownloadException e = assertThrows(DownloadException.class, () -> downloader.fetch(spec(-1)));
        assertEquals(server.uri(PATH) + " has 200,000 bytes, more than the 100,000 allowed for " + NAME + ", whose "
                + "size is not known (raise the cap with optMaxBytes, or --max-size on the command line); not downloading", e.getMessage());
        assertFalse(Files.exists(part()));
    }

    @Test
    void aDripFedBodyHitsTheOverallDeadlineAndKeepsThePartToResume() throws IOException {
        // one byte every 50 ms never trips the 5 s read timeout, and would take almost 3 hours
        server.serve(PATH, data).dripMillis = 50;
        Downloader downloader = base(cache()).optDeadline(Duration.ofMillis(600)).build();

        long start = System.nanoTime();
        DownloadException e = assertThrows(DownloadException.class, () -> downloader.fetch(spec(data.length)));
        assertTrue(System.nanoTime() - start < 5_000_000_000L, "gave up within seconds");
        assertTrue(e.getMessage().startsWith("download of " + NAME + " from " + server.uri(PATH) + " did not finish "
                + "within the overall deadline of 600 ms ("), e.getMessage());
        assertTrue(e.getMessage().endsWith(" of 200,000 bytes received); the partial file is kept and the next fetch "
                + "resumes it (raise the deadline with optDeadline, or --deadline on the command line)"), e.getMessage());
        assertEquals(1, server.requests(PATH).size(), "a deadline is not retried");
        assertTrue(Files.size(part()) > 0 && Files.size(part()) < data.length);
    }

    @Test
    void progressNamesTheMirrorActuallyFetched() throws IOException {
        server.serve("/mirror/" + NAME, data);
        java.io.ByteArrayOutputStream lines = new java.io.ByteArrayOutputStream();
        ProgressListener console = new ConsoleProgress(new java.io.PrintStream(lines, true,
                java.nio.charset.StandardCharsets.UTF_8), false, System::nanoTime);
        URI publisher = URI.create("https://download.example.invalid/models/" + NAME);
        ZooCache mirrored = cache().withMirror(server.uri("/mirror/").toString());

        downloader(mirrored, console).fetch(new FileSpec(publisher, NAME, sha, data.length));

        String printed = lines.toString(java.nio.charset.StandardCharsets.UTF_8);
        assertTrue(printed.startsWith("Downloading " + NAME + " from " + server.uri("/mirror/" + NAME) + " ("),
                printed);
        assertFalse(printed.contains("example.invalid"), printed);
    }

    @Test
    void otherKindGoesToItsOwnDirectory() throws IOException {
        server.serve(PATH, data);

        Path file = base(cache()).optKind(ZooCache.MODELS).build().fetch(spec(-1));

        assertEquals(cache().models().resolve(NAME), file);
    }

    // ------------------------------------------------------------------------------------------

    private ZooCache cache() {
        return ZooCache.at(tmp.resolve("cache"));
    }

    private Path target() {
        return cache().weights().resolve(NAME);
    }

    private Path part() {
        return cache().weights().resolve(NAME + ".part");
    }

    private FileSpec spec(long size) {
        return new FileSpec(server.uri(PATH), NAME, sha, size);
    }

    private static Downloader.Builder base(ZooCache cache) {
        return Downloader.builder()
                .optCache(cache)
                .optMaxAttempts(4)
                .optBackoff(Duration.ofMillis(5))
                .optMaxBackoff(Duration.ofMillis(20))
                .optConnectTimeout(Duration.ofSeconds(2))
                .optReadTimeout(Duration.ofSeconds(5))
                .optProgress(ProgressListener.NONE);
    }

    private static Downloader downloader(ZooCache cache) {
        return base(cache).build();
    }

    private static Downloader downloader(ZooCache cache, ProgressListener listener) {
        return base(cache).optProgress(listener).build();
    }

    static byte[] randomBytes(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    static String sha256(byte[] data) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }
}
