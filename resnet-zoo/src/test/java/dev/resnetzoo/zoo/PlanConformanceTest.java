package dev.resnetzoo.zoo;

import dev.resnetzoo.core.Taps;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.resnetzoo.core.ResNetSpec;
import dev.resnetzoo.core.onednn.OneDnn;
import dev.resnetzoo.core.plan.InferencePlan;
import dev.resnetzoo.zoo.ConformanceTest.Fixture;
import java.io.IOException;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The fp32 {@link InferencePlan} against PyTorch on the committed conformance fixtures (the same
 * ones {@link ConformanceTest} checks the graph with): its logits equal PyTorch's, and its taps
 * the graph's, within {@code max|diff| <= 1e-4 * max|ref| + 1e-5}.
 */
class PlanConformanceTest {

    @BeforeEach
    void needsOneDnn() {
        if (!OneDnn.available()) {
            System.out.println("PlanConformanceTest: SKIPPED, oneDNN unavailable: " + OneDnn.unavailableReason());
        }
        Assumptions.assumeTrue(OneDnn.available(), "oneDNN unavailable");
    }

    static Stream<String> fixtures() {
        return ConformanceTest.fixtures();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("fixtures")
    void planLogitsMatchPyTorchAndTapsMatchTheGraph(String name) throws IOException {
        Fixture f = Fixture.committed(name);
        ComputationGraph graph = WeightImporter.importCheckpoint(f.spec(), f.file("model.pth"));
        double err = check(f, graph, f.spec());
        System.out.printf(Locale.ROOT, "%s: plan max|plan - torch| = %.3g (relative %.3g)%n", name, err, err / f.maxAbsLogit());
        graph.close();
    }

    /**
     * Asserts the plan's logits against the fixture's PyTorch logits and every tap against the graph.
     *
     * @return the largest absolute logit difference to PyTorch
     */
    static double check(Fixture f, ComputationGraph graph, ResNetSpec spec) throws IOException {
        INDArray x = f.input();
        INDArray expected = Npy.read(f.file("logits.npy"));
        Map<String, INDArray> acts = graph.feedForward(x, false);
        try (InferencePlan plan = InferencePlan.builder(graph).build()) {
            Map<String, INDArray> out = plan.output(x, plan.taps());
            double err = within(f.name() + " logits vs torch", expected, out.get("logits"), f);
            for (String tap : plan.taps()) {
                within(f.name() + " " + tap + " vs graph", acts.get(Taps.vertex(graph, tap)), out.get(tap), f);
            }
            return err;
        }
    }

    private static double within(String what, INDArray ref, INDArray actual, Fixture f) {
        assertArrayEquals(ref.shape(), actual.shape(), what + ": shape");
        double err = Fixture.maxAbsDiff(actual, ref);
        double scale = ref.amaxNumber().doubleValue();
        double bound = f.manifest().path("tolerance").path("relative").asDouble(1e-4) * scale
                + f.manifest().path("tolerance").path("absolute").asDouble(1e-5);
        assertTrue(err <= bound, String.format(Locale.ROOT, "%s: max|diff| = %.3g exceeds %.3g (max|ref| = %.4g)",
                what, err, bound, scale));
        return err;
    }
}
