package dev.resnetzoo.zoo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.resnetzoo.core.BlockKind;
import dev.resnetzoo.core.ResNetSpec;
import dev.resnetzoo.core.ResNets;
import dev.resnetzoo.core.StemKind;
import dev.resnetzoo.core.Variant;
import dev.resnetzoo.zoo.io.StateDict;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * PyTorch logit conformance on the committed fixtures (resnet-zoo/src/test/resources/conformance,
 * written by scripts/make_conformance_fixtures.py): tiny depth tables covering basic and bottleneck
 * blocks, ResNeXt groups, Wide ResNet, SE-ResNeXt, the ImageNet and the small stem, 1 and 3 input
 * channels, 3 and 4 stages and odd, non-square inputs. No Python needed.
 *
 * <p>Tolerance (from each manifest): {@code max|dl4j - torch| <= 1e-4 * max|torch| + 1e-5}.
 */
class ConformanceTest {

    static Stream<String> fixtures() {
        List<String> names = new ArrayList<>();
        Fixture.index().path("fixtures").forEach(n -> names.add(n.asText()));
        return names.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("fixtures")
    void logitsMatchPyTorch(String name) throws IOException {
        Fixture f = Fixture.committed(name);
        ComputationGraph graph = WeightImporter.importCheckpoint(f.spec(), f.file("model.pth"));
        double err = f.check(graph, f.file("logits.npy"));
        System.out.printf(Locale.ROOT, "%s: max|dl4j - torch| = %.3g (relative %.3g), torch fp32 vs fp64 %.2g%n",
                name, err, err / f.maxAbsLogit(), f.manifest().path("torchFloat32Error").asDouble());
        graph.close();
    }

    @Test
    void fixturesCoverEveryFeature() {
        List<ResNetSpec> specs = fixtures().map(n -> Fixture.committed(n).spec()).toList();
        assertTrue(specs.stream().anyMatch(s -> s.block() == BlockKind.BASIC && s.stem() == StemKind.IMAGENET));
        assertTrue(specs.stream().anyMatch(s -> s.block() == BlockKind.BOTTLENECK && s.cardinality() == 1
                && s.baseWidth() == 64));
        assertTrue(specs.stream().anyMatch(s -> s.cardinality() > 1 && s.seReduction() == 0), "ResNeXt");
        assertTrue(specs.stream().anyMatch(s -> s.cardinality() == 1 && s.baseWidth() > 64), "wide");
        assertTrue(specs.stream().anyMatch(s -> s.cardinality() > 1 && s.seReduction() > 0), "SE-ResNeXt");
        assertTrue(specs.stream().anyMatch(s -> s.stem() == StemKind.SMALL && s.inputChannels() == 1), "small stem");
        assertTrue(specs.stream().anyMatch(s -> s.inputHeight() != s.inputWidth()), "non-square input");
        assertTrue(specs.stream().anyMatch(s -> s.numStages() != 4), "stage count other than 4");
    }

    /** One fixture directory: manifest, checkpoint, input, logits. */
    record Fixture(Path dir, JsonNode manifest) {
        static final ObjectMapper JSON = new ObjectMapper();

        static JsonNode index() {
            return json(resource("conformance/index.json"));
        }

        static Fixture committed(String name) {
            Path dir = resource("conformance/" + name);
            return new Fixture(dir, json(dir.resolve("manifest.json")));
        }

        static Fixture at(Path dir) {
            return new Fixture(dir, json(dir.resolve("manifest.json")));
        }

        static Path resource(String name) {
            URL url = ConformanceTest.class.getResource("/" + name);
            if (url == null) {
                throw new IllegalStateException("missing test resource " + name + "; regenerate with "
                        + "/usr/bin/python3 scripts/make_conformance_fixtures.py --extras tiny_resnext "
                        + "resnet-zoo/src/test/resources/conformance small");
            }
            try {
                return Paths.get(url.toURI());
            } catch (URISyntaxException e) {
                throw new IllegalStateException(e);
            }
        }

        static JsonNode json(Path p) {
            try {
                return JSON.readTree(Files.readAllBytes(p));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        String name() {
            return manifest.path("name").asText();
        }

        Path file(String name) {
            return dir.resolve(name);
        }

        double maxAbsLogit() {
            return manifest.path("maxAbsLogit").asDouble();
        }

        /** The Java spec: a named variant at the fixture's input size, or a custom table. */
        ResNetSpec spec() {
            if (manifest.has("variant")) {
                return Variant.of(manifest.get("variant").asText()).spec().toBuilder()
                        .input(manifest.get("inputChannels").asInt(), manifest.get("inputHeight").asInt(),
                                manifest.get("inputWidth").asInt())
                        .numClasses(manifest.get("numClasses").asInt())
                        .build();
            }
            JsonNode s = manifest.get("spec");
            ResNetSpec.Builder b = ResNetSpec.builder(BlockKind.valueOf(s.get("block").asText()), ints(s.get("depths")))
                    .name(name())
                    .widths(ints(s.get("widths")))
                    .stemWidth(s.get("stemWidth").asInt())
                    .cardinality(s.get("cardinality").asInt())
                    .baseWidth(s.get("baseWidth").asInt())
                    .se(s.get("seReduction").asInt())
                    .stem(StemKind.valueOf(s.get("stem").asText()))
                    .input(s.get("inputChannels").asInt(), s.get("inputHeight").asInt(), s.get("inputWidth").asInt())
                    .numClasses(s.get("numClasses").asInt());
            return b.build();
        }

        private static int[] ints(JsonNode a) {
            int[] v = new int[a.size()];
            for (int i = 0; i < v.length; i++) {
                v[i] = a.get(i).asInt();
            }
            return v;
        }

        StateDict stateDict(String file) throws IOException {
            return StateDict.read(file(file));
        }

        INDArray input() throws IOException {
            return Npy.read(file("input.npy"));
        }

        /** The classifier output of a graph on the fixture's input. */
        INDArray logits(ComputationGraph graph) throws IOException {
            return graph.feedForward(input(), false).get(ResNets.CLASSIFIER);
        }

        /**
         * Runs the fixture input through the graph and asserts the logits are within tolerance.
         *
         * @return the largest absolute difference
         */
        double check(ComputationGraph graph, Path expectedFile) throws IOException {
            INDArray expected = Npy.read(expectedFile);
            INDArray actual = logits(graph);
            assertArrayEquals(expected.shape(), actual.shape(), name() + ": logits shape");
            double err = maxAbsDiff(actual, expected);
            double scale = expected.amaxNumber().doubleValue();
            JsonNode tol = manifest.path("tolerance");
            double bound = tol.path("relative").asDouble() * scale + tol.path("absolute").asDouble();
            assertTrue(err <= bound, String.format(Locale.ROOT,
                    "%s: max|dl4j - torch| = %.3g exceeds %.3g (max|torch| = %.4g)", name(), err, bound, scale));
            return err;
        }

        static double maxAbsDiff(INDArray a, INDArray b) {
            return Transforms.abs(a.castTo(b.dataType()).sub(b)).maxNumber().doubleValue();
        }
    }

    @Test
    void indexAndManifestsAgree() {
        fixtures().forEach(n -> {
            Fixture f = Fixture.committed(n);
            assertEquals(n, f.name());
            for (JsonNode file : f.manifest().path("files")) {
                assertTrue(Files.isRegularFile(f.file(file.asText())), n + " lists " + file.asText());
            }
        });
    }
}
