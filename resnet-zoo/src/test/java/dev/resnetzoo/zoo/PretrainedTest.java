package dev.resnetzoo.zoo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;

import dev.resnetzoo.core.BlockKind;
import dev.resnetzoo.core.ResNetSpec;
import dev.resnetzoo.core.ResNets;
import dev.resnetzoo.core.TorchNames;
import dev.resnetzoo.core.TorchNames.ParamRef;
import dev.resnetzoo.zoo.download.DownloadException;
import dev.resnetzoo.zoo.download.Downloader;
import dev.resnetzoo.zoo.download.ProgressListener;
import dev.resnetzoo.zoo.download.ZooCache;
import dev.resnetzoo.zoo.registry.Registry;
import dev.resnetzoo.zoo.registry.WeightsEntry;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * {@link Pretrained} against a checkpoint served on loopback: a tiny ResNet written as safetensors
 * from Java. Only 127.0.0.1 is ever contacted.
 */
class PretrainedTest {

    private static final String TAG = "tiny.test_in5";
    private static final String PATH = "/weights/tiny-model.safetensors";

    /** Two BASIC stages, 16x16 input, 5 classes: a few thousand parameters. */
    private static final ResNetSpec SPEC = ResNetSpec.builder(BlockKind.BASIC, 1, 1)
            .name("tiny").widths(4, 8).stemWidth(4).input(3, 16, 16).numClasses(5).build();

    private static byte[] checkpoint;
    private static String sha256;

    private HttpServer server;
    private final AtomicInteger hits = new AtomicInteger();
    private volatile int status = 200;

    @TempDir
    Path home;

    @BeforeAll
    static void writeCheckpoint() throws Exception {
        ComputationGraph graph = ResNets.create(SPEC);
        SafetensorsWriter w = new SafetensorsWriter();
        Random random = new Random(42);
        for (ParamRef ref : TorchNames.expectedKeys(graph)) {
            long[] dl4j = graph.getLayer(ref.vertex()).getParam(ref.param()).shape();
            long n = 1;
            for (long d : dl4j) {
                n *= d;
            }
            // PyTorch's layout: linear weights transposed, convolutions as they are, vectors flat.
            long[] shape = ref.transpose() ? new long[] {dl4j[1], dl4j[0]} : dl4j.length == 4 ? dl4j : new long[] {n};
            float[] values = new float[(int) n];
            boolean variance = ref.key().endsWith("running_var");
            for (int i = 0; i < values.length; i++) {
                values[i] = variance ? 0.5f + random.nextFloat() : (float) (random.nextGaussian() * 0.3);
            }
            w.put(ref.key(), shape, values);
        }
        checkpoint = w.toBytes();
        sha256 = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(checkpoint));
    }

    @BeforeEach
    void startServer() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext(PATH, exchange -> {
            hits.incrementAndGet();
            try (exchange) {
                if (status != 200) {
                    exchange.sendResponseHeaders(status, -1);
                    return;
                }
                exchange.sendResponseHeaders(200, checkpoint.length);
                try (OutputStream out = exchange.getResponseBody()) {
                    out.write(checkpoint);
                }
            }
        });
        server.start();
    }

    @AfterEach
    void stopServer() {
        server.stop(0);
    }

    private String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort() + PATH;
    }

    private WeightsEntry entry(String hash) {
        return WeightsEntry.builder(TAG, SPEC, url())
                .fileName("tiny-model.safetensors")
                .sha256(hash)
                .format(WeightsEntry.Format.SAFETENSORS)
                .labels(List.of("a", "b", "c", "d", "e"))
                .build();
    }

    private Pretrained.Builder loader() {
        ZooCache cache = ZooCache.at(home);
        return Pretrained.builder().optCache(cache)
                .optDownloader(Downloader.builder().optCache(cache).optMaxAttempts(1)
                        .optProgress(ProgressListener.NONE).build());
    }

    private static INDArray input() {
        return Nd4j.rand(DataType.FLOAT, 2, 3, 16, 16).subi(0.5);
    }

    private static INDArray logits(ComputationGraph graph, INDArray x) {
        return graph.feedForward(x, false).get(ResNets.CLASSIFIER);
    }

    @Test
    void firstLoadDownloadsAndConvertsSecondLoadOnlyRestores() throws Exception {
        WeightsEntry entry = entry(sha256);
        ComputationGraph direct = WeightImporter.importCheckpoint(SPEC, writeLocally());
        INDArray x = input();

        SavedModel firstModel = loader().build().load(entry);
        ComputationGraph first = firstModel.graph();
        assertEquals(1, hits.get());
        assertEquals(SPEC, firstModel.spec());
        assertEquals(entry.preprocessing(), firstModel.preprocessing());
        assertEquals(entry.tag(), firstModel.source());
        Path model = cachedModel(sha256);
        assertTrue(Files.isRegularFile(model), "converted model cached as " + model);
        assertEquals(model, loader().build().modelFile(entry));
        assertTrue(logits(direct, x).equalsWithEps(logits(first, x), 1e-6));
        try (var files = Files.list(model.getParent())) {
            assertEquals(List.of(model), files.toList(), "no temporary files left behind");
        }

        // The second load neither downloads nor imports: the weights are gone and the server fails.
        FileTime written = Files.getLastModifiedTime(model);
        Files.delete(home.resolve("weights").resolve("tiny-model.safetensors"));
        status = 500;
        SavedModel secondModel = loader().build().load(entry);
        ComputationGraph second = secondModel.graph();
        assertEquals(1, hits.get());
        assertEquals(firstModel.spec(), secondModel.spec(), "the cached model keeps its architecture");
        assertEquals(firstModel.preprocessing(), secondModel.preprocessing(), "and its preprocessing");
        assertEquals(firstModel.labels(), secondModel.labels(), "and its labels");
        assertEquals(written, Files.getLastModifiedTime(model));
        assertFalse(Files.exists(home.resolve("weights").resolve("tiny-model.safetensors")));
        assertTrue(logits(direct, x).equalsWithEps(logits(second, x), 1e-6));
    }

    @Test
    void corruptConvertedModelIsDeletedAndRebuilt() throws Exception {
        WeightsEntry entry = entry(sha256);
        INDArray x = input();
        INDArray expected = logits(loader().build().load(entry).graph(), x);
        Path model = loader().build().modelFile(entry);

        Files.write(model, new byte[] {'P', 'K', 3, 4, 1, 2, 3});     // a truncated zip
        ComputationGraph rebuilt = loader().build().load(entry).graph();
        assertEquals(1, hits.get(), "the weights were still cached");
        assertTrue(expected.equalsWithEps(logits(rebuilt, x), 1e-6));
        ComputationGraph restored = ModelSerializer.restoreComputationGraph(model.toFile(), false);
        assertTrue(expected.equalsWithEps(logits(restored, x), 1e-6), "the cache holds a valid model again");

        // A model that restores but belongs to another architecture is rebuilt too.
        ModelSerializer.writeModel(ResNets.create(SPEC.toBuilder().numClasses(7).build()), model.toFile(), false);
        assertTrue(expected.equalsWithEps(logits(loader().build().load(entry).graph(), x), 1e-6));
        assertEquals(1, hits.get());
    }

    @Test
    void hashPrefixIsVerified() throws Exception {
        ComputationGraph g = loader().build().load(entry(sha256.substring(0, 8))).graph();
        assertEquals(1, hits.get());
        Path model = cachedModel(sha256.substring(0, 8));
        assertTrue(Files.isRegularFile(model));
        assertEquals(5, logits(g, input()).size(1));
        // Without the converted model, the cached weights are verified against the prefix and reused.
        Files.delete(model);
        loader().build().load(entry(sha256.substring(0, 8)));
        assertEquals(1, hits.get());
        assertTrue(Files.isRegularFile(model));

        String wrong = sha256.charAt(0) == '0' ? "1" + sha256.substring(1, 8) : "0" + sha256.substring(1, 8);
        WeightsEntry bad = WeightsEntry.builder("tiny.bad", SPEC, url()).fileName("tiny-bad.safetensors")
                .sha256(wrong).build();
        DownloadException e = assertThrows(DownloadException.class, () -> loader().build().load(bad));
        assertTrue(e.getMessage().contains("prefix check"), e.getMessage());
        assertTrue(e.getMessage().contains("got sha256 " + sha256), e.getMessage());
        assertFalse(Files.exists(home.resolve("weights").resolve("tiny-bad.safetensors")));
    }

    @Test
    void entryWithoutHashIsNotDownloadedUnlessTheUserGivesOne() throws Exception {
        WeightsEntry entry = entry(null);
        DownloadException e = assertThrows(DownloadException.class, () -> loader().build().load(entry));
        assertTrue(e.getMessage().contains("--sha256"), e.getMessage());
        assertTrue(e.getMessage().contains("tiny-model.safetensors"), e.getMessage());
        assertEquals(0, hits.get());

        IllegalArgumentException contradicts = assertThrows(IllegalArgumentException.class,
                () -> loader().optSha256(sha256).build().load(entry(flip(sha256).substring(0, 8))));
        assertTrue(contradicts.getMessage().contains("contradicts"), contradicts.getMessage());
        assertEquals(0, hits.get());

        loader().optSha256(sha256.toUpperCase()).build().load(entry);
        assertEquals(1, hits.get());
        assertTrue(Files.isRegularFile(cachedModel(sha256)));
    }

    @Test
    void fileWithoutHashPlacedByHandIsUsedAndKeyedByItsHash() throws Exception {
        Path weights = Files.createDirectories(home.resolve("weights")).resolve("tiny-model.safetensors");
        Files.write(weights, checkpoint);
        ComputationGraph g = loader().build().load(entry(null)).graph();
        assertEquals(0, hits.get());
        assertEquals(5, logits(g, input()).size(1));
        assertTrue(Files.isRegularFile(cachedModel(sha256)));
    }

    @Test
    void numClassesReplacesTheClassifierAndKeepsEverythingElse() throws Exception {
        WeightsEntry entry = entry(sha256);
        ComputationGraph full = loader().build().load(entry).graph();
        ComputationGraph three = loader().optNumClasses(3).build().load(entry).graph();
        assertEquals(1, hits.get());
        INDArray x = input();
        assertEquals(3, logits(three, x).size(1));
        INDArray pooledFull = full.feedForward(x, false).get(ResNets.POOL);
        INDArray pooledThree = three.feedForward(x, false).get(ResNets.POOL);
        assertTrue(pooledFull.equalsWithEps(pooledThree, 1e-6), "features are the pretrained ones");
        assertEquals(full.getLayer("conv1").getParam("W"), three.getLayer("conv1").getParam("W"));
        assertEquals(full.getLayer("layer2.0.bn2").getParam("mean"), three.getLayer("layer2.0.bn2").getParam("mean"));
        assertNotEquals(0.0, three.getLayer(ResNets.CLASSIFIER).getParam("W").norm2Number().doubleValue());
        // The cached conversion keeps the file's 5 classes.
        ComputationGraph cached = ModelSerializer.restoreComputationGraph(
                loader().build().modelFile(entry).toFile(), false);
        assertEquals(5, logits(cached, x).size(1));
        assertThrows(IllegalArgumentException.class, () -> Pretrained.builder().optNumClasses(-1));
    }

    @Test
    void namesAreResolvedInTheGivenRegistry() throws Exception {
        Registry registry = Registry.of(List.of(entry(sha256)), List.of(TAG));
        Pretrained pretrained = loader().optRegistry(registry).build();
        assertEquals(5, logits(pretrained.load("tiny").graph(), input()).size(1));
        assertEquals(5, logits(pretrained.load("TINY.test_in5").graph(), input()).size(1));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> pretrained.load("tiny.other"));
        assertTrue(e.getMessage().contains(TAG), e.getMessage());
        assertEquals(1, hits.get());
    }

    @Test
    void offlineWithoutCachedFilesFailsWithoutNetwork() {
        ZooCache cache = ZooCache.at(home).withOffline(true);
        Pretrained offline = Pretrained.builder().optCache(cache)
                .optDownloader(Downloader.builder().optCache(cache).optProgress(ProgressListener.NONE).build()).build();
        DownloadException e = assertThrows(DownloadException.class, () -> offline.load(entry(sha256)));
        assertTrue(e.getMessage().contains("offline"), e.getMessage());
        assertEquals(0, hits.get());
    }

    private Path writeLocally() throws IOException {
        Path file = Files.createTempFile(home, "direct", ".safetensors");
        Files.write(file, checkpoint);
        return file;
    }

    private static String flip(String hex) {
        return (hex.charAt(0) == 'a' ? "b" : "a") + hex.substring(1);
    }

    /** The converted model's cache file for weights with this hash (full or prefix). */
    private Path cachedModel(String hash) {
        return home.resolve("models").resolve(TAG + "-" + hash + "-c" + Pretrained.CONVERTER_VERSION + ".zip");
    }
}
