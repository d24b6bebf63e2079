package dev.resnetzoo.zoo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

import dev.resnetzoo.core.ResNets;
import dev.resnetzoo.core.Variant;
import dev.resnetzoo.zoo.ConformanceTest.Fixture;
import dev.resnetzoo.zoo.io.StateDict;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Full-size PyTorch logit conformance of all twelve named variants (ImageNet widths, 1000 classes).
 * For each variant, scripts/make_conformance_fixtures.py builds the reference model with random
 * weights and random BatchNorm statistics, saves its state_dict and its logits on a random batch of
 * {@value #BATCH} x 3 x {@value #SIZE} x {@value #SIZE}; the checkpoint is then imported with
 * {@link WeightImporter} and the logits compared, and the directory deleted before the next
 * variant (wide_resnet101_2 is about 500 MB).
 *
 * <p>128 x 128 instead of 224 x 224 keeps the run to a few minutes on 2 cores; every layer, stride
 * and padding is exercised all the same (feature maps 32/32/16/8/4). Override with
 * {@code -Dconformance.size=224}.
 *
 * <p>Needs Debian's python3-torchvision at /usr/bin/python3 (or {@code -Dconformance.python=...});
 * without it every case is reported as skipped with the reason, never as passed. Tagged
 * {@code full-conformance}: run it alone with {@code -Dgroups=full-conformance}, leave it out with
 * {@code -DexcludedGroups=full-conformance}.
 *
 * <p>Each variant's graph is also compiled into an fp32 {@code InferencePlan}: its logits are held
 * to the same tolerance against PyTorch, its taps against the graph ({@link PlanConformanceTest}).
 *
 * <p>Tolerance: {@code max|dl4j - torch| <= 1e-4 * max|torch| + 1e-5}.
 */
@Tag("full-conformance")
class ConformanceFullTest {

    static final int BATCH = 2;
    static final int SIZE = 128;
    static final String SKIP = "python3-torchvision not installed: full-size conformance not run "
            + "(apt-get install python3-torchvision)";

    static final String PYTHON = System.getProperty("conformance.python", "/usr/bin/python3");
    private static Boolean torchvision;
    private static final List<String> ROWS = new ArrayList<>();
    private static long started;

    @BeforeAll
    static void start() {
        started = System.nanoTime();
        if (!torchvisionAvailable()) {
            // the assumption below marks every case skipped with this reason; say it on the console too
            System.err.println("[ConformanceFullTest] SKIPPED: " + SKIP + " (" + PYTHON + " -c 'import torchvision' failed)");
        }
    }

    @AfterAll
    static void summary() {
        if (!ROWS.isEmpty()) {
            System.out.printf(Locale.ROOT, "%nfull-size conformance, %dx3x%dx%d, %.0f s in all%n"
                            + "%-20s %10s %10s %10s %10s %8s %8s %8s %8s %8s%n",
                    BATCH, size(), size(), (System.nanoTime() - started) / 1e9,
                    "variant", "max|torch|", "max err", "relative", "plan err", "torch s", "read s", "build s", "load s", "fwd s");
            ROWS.forEach(System.out::println);
        }
    }

    static int size() {
        return Integer.getInteger("conformance.size", SIZE);
    }

    static synchronized boolean torchvisionAvailable() {
        if (torchvision == null) {
            try {
                Process p = new ProcessBuilder(PYTHON, "-c", "import torchvision")
                        .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
                torchvision = p.waitFor(120, TimeUnit.SECONDS) && p.exitValue() == 0;
                if (p.isAlive()) {
                    p.destroyForcibly();
                }
            } catch (IOException e) {
                torchvision = false;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                torchvision = false;
            }
        }
        return torchvision;
    }

    /** scripts/make_conformance_fixtures.py, found from the working directory upwards. */
    static Path generator() {
        Path dir = Paths.get(System.getProperty("user.dir")).toAbsolutePath();
        for (Path d = dir; d != null; d = d.getParent()) {
            Path script = d.resolve("scripts").resolve("make_conformance_fixtures.py");
            if (Files.isRegularFile(script)) {
                return script;
            }
        }
        throw new IllegalStateException("scripts/make_conformance_fixtures.py not found above " + dir);
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Variant.class)
    void logitsMatchPyTorch(Variant variant, @TempDir Path tmp) throws Exception {
        assumeTrue(torchvisionAvailable(), SKIP);
        long t0 = System.nanoTime();
        Path log = tmp.resolve("generator.log");
        Process p = new ProcessBuilder(PYTHON, generator().toString(), "--no-fp64", "--threads", "2",
                "--batch", Integer.toString(BATCH), "--size", Integer.toString(size()),
                tmp.resolve("out").toString(), variant.id())
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        if (!p.waitFor(10, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new AssertionError("generator timed out for " + variant.id());
        }
        String output = Files.readString(log).strip();
        assertEquals(0, p.exitValue(), "generator failed for " + variant.id() + ":\n" + output);
        System.out.println(output);
        long t1 = System.nanoTime();

        Fixture f = Fixture.at(tmp.resolve("out").resolve(variant.id()));
        Path checkpoint = f.file("model.pth");
        StateDict sd = StateDict.read(checkpoint);
        long t2 = System.nanoTime();
        ComputationGraph graph = ResNets.create(f.spec());
        long t3 = System.nanoTime();
        WeightImporter.Report report = new WeightImporter().importInto(graph, sd);
        sd = null;
        Files.delete(checkpoint);
        long t4 = System.nanoTime();
        assertTrue(report.isComplete(), report.toString());
        double err = f.check(graph, f.file("logits.npy"));
        long t5 = System.nanoTime();
        // the compiled inference plan on the same weights: logits against PyTorch, taps against the graph
        double planErr = dev.resnetzoo.core.onednn.OneDnn.available()
                ? PlanConformanceTest.check(f, graph, f.spec()) : Double.NaN;
        double scale = Npy.read(f.file("logits.npy")).amaxNumber().doubleValue();
        graph.close();
        String row = String.format(Locale.ROOT, "%-20s %10.4g %10.3g %10.3g %10.3g %8.1f %8.1f %8.1f %8.1f %8.1f",
                variant.id(), scale, err, err / scale, planErr, (t1 - t0) / 1e9, (t2 - t1) / 1e9, (t3 - t2) / 1e9,
                (t4 - t3) / 1e9, (t5 - t4) / 1e9);
        ROWS.add(row);
        System.out.println(row);
    }
}
