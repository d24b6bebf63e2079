package dev.resnetzoo.examples.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.function.Function;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FashionMnistTest {

    @TempDir
    Path tmp;

    private static Function<String, String> env(String value) {
        return value == null ? Map.<String, String>of()::get : Map.of(FashionMnist.ENV_VAR, value)::get;
    }

    @Test
    void classNames() {
        assertEquals(10, FashionMnist.CLASS_NAMES.size());
        assertEquals("T-shirt/top", FashionMnist.CLASS_NAMES.get(0));
        assertEquals("Ankle boot", FashionMnist.CLASS_NAMES.get(9));
    }

    @Test
    void explicitBeatsEnvBeatsSystemBeatsSample() throws IOException {
        Path explicit = IdxFiles.fashionDir(tmp.resolve("explicit"), 3, 2);
        Path fromEnv = IdxFiles.fashionDir(tmp.resolve("env"), 4, 2);
        Path system = IdxFiles.fashionDir(tmp.resolve("system"), 5, 2);

        FashionMnist a = FashionMnist.locate(explicit, env(fromEnv.toString()), system);
        assertEquals(FashionMnist.Source.EXPLICIT, a.source());
        assertEquals(explicit, a.directory().orElseThrow());
        assertTrue(a.describe().contains(explicit.toString()) && a.describe().contains("--data"), a.describe());
        assertEquals(3, a.load(FashionMnist.Split.TRAIN).size());

        FashionMnist b = FashionMnist.locate(null, env(fromEnv.toString()), system);
        assertEquals(FashionMnist.Source.ENVIRONMENT, b.source());
        assertTrue(b.describe().contains(FashionMnist.ENV_VAR), b.describe());
        assertEquals(4, b.load(FashionMnist.Split.TRAIN).size());

        FashionMnist c = FashionMnist.locate(null, env(null), system);
        assertEquals(FashionMnist.Source.SYSTEM, c.source());
        assertEquals(5, c.load(FashionMnist.Split.TRAIN).size());
        assertEquals(2, c.load(FashionMnist.Split.TEST).size());

        FashionMnist d = FashionMnist.locate(null, env("  "), tmp.resolve("no-such-dir"));
        assertEquals(FashionMnist.Source.SAMPLE, d.source());
        assertFalse(d.directory().isPresent());
        assertTrue(d.describe().contains("sample"), d.describe());
        assertEquals(1000, d.load(FashionMnist.Split.TRAIN).size());
    }

    @Test
    void incompleteSystemDirFallsBackToSample() throws IOException {
        Path system = IdxFiles.fashionDir(tmp.resolve("system"), 5, 2);
        Files.delete(system.resolve("t10k-labels-idx1-ubyte"));
        assertEquals(FashionMnist.Source.SAMPLE, FashionMnist.locate(null, env(null), system).source());
    }

    @Test
    void badExplicitOrEnvDirIsAnError() throws IOException {
        Path incomplete = IdxFiles.fashionDir(tmp.resolve("incomplete"), 3, 2);
        Files.delete(incomplete.resolve("train-images-idx3-ubyte.gz"));
        Path system = IdxFiles.fashionDir(tmp.resolve("system"), 5, 2);

        IOException e = assertThrows(IOException.class,
                () -> FashionMnist.locate(incomplete, env(null), system));
        assertTrue(e.getMessage().contains("--data") && e.getMessage().contains("train-images-idx3-ubyte"),
                e.getMessage());

        IOException e2 = assertThrows(IOException.class,
                () -> FashionMnist.locate(null, env(tmp.resolve("nowhere").toString()), system));
        assertTrue(e2.getMessage().contains(FashionMnist.ENV_VAR) && e2.getMessage().contains("no such directory"),
                e2.getMessage());
    }

    @Test
    void loadRejectsWrongImageSize() throws IOException {
        Path dir = IdxFiles.fashionDir(tmp.resolve("d"), 3, 2);
        Files.write(dir.resolve("train-images-idx3-ubyte.gz"), IdxFiles.gzip(IdxFiles.images(3, 32, 32)));
        FashionMnist fm = FashionMnist.locate(dir, env(null), null);
        IOException e = assertThrows(IOException.class, () -> fm.load(FashionMnist.Split.TRAIN));
        assertTrue(e.getMessage().contains("32x32") && e.getMessage().contains("28x28"), e.getMessage());
    }

    /** Checks the real data set when Debian's package is installed; skipped elsewhere. */
    @Test
    void systemDataSetTestSplitIfInstalled() throws IOException {
        assumeTrue(Files.isRegularFile(FashionMnist.SYSTEM_DIR.resolve("t10k-labels-idx1-ubyte.gz")),
                "dataset-fashion-mnist not installed");
        FashionMnist fm = FashionMnist.locate(null, env(null), FashionMnist.SYSTEM_DIR);
        assertEquals(FashionMnist.Source.SYSTEM, fm.source());
        LabeledImages test = fm.load(FashionMnist.Split.TEST);
        assertEquals(10_000, test.size());
        int[] expected = new int[10];
        Arrays.fill(expected, 1000);
        assertArrayEquals(expected, test.labelCounts(10));
    }
}
