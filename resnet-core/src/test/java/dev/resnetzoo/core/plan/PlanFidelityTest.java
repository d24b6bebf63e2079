package dev.resnetzoo.core.plan;

import dev.resnetzoo.core.Taps;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.resnetzoo.core.BlockKind;
import dev.resnetzoo.core.ResNetSpec;
import dev.resnetzoo.core.ResNets;
import dev.resnetzoo.core.StemKind;
import dev.resnetzoo.core.Variant;
import dev.resnetzoo.core.onednn.OneDnn;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * The fp32 plan computes what the graph computes: logits and every tap, for all twelve variants
 * (at 64x64, with random batch-norm statistics so that folding is exercised) and for small-stem,
 * three-stage and odd-sized tables. Tolerance: {@code max|plan - graph| <= 1e-4 * max|graph| + 1e-5}.
 * The PyTorch side is in resnet-zoo ({@code PlanConformanceTest}).
 */
class PlanFidelityTest {

    @BeforeEach
    void needsOneDnn() {
        if (!OneDnn.available()) {
            System.out.println("PlanFidelityTest: SKIPPED, oneDNN unavailable: " + OneDnn.unavailableReason());
        }
        Assumptions.assumeTrue(OneDnn.available(), "oneDNN unavailable");
    }

    /** Gives every batch norm non-trivial statistics and affine parameters. */
    static void randomiseBatchNorms(ComputationGraph g, long seed) {
        Random r = new Random(seed);
        for (Layer l : g.getLayers()) {
            if (l.conf().getLayer() instanceof BatchNormalization) {
                for (String p : List.of("gamma", "beta", "mean", "var")) {
                    INDArray a = l.getParam(p);
                    for (long i = 0; i < a.length(); i++) {
                        double v = switch (p) {
                            case "gamma" -> 0.5 + r.nextDouble();
                            case "var" -> 0.3 + r.nextDouble();
                            default -> 0.2 * r.nextGaussian();
                        };
                        a.putScalar(i, v);
                    }
                }
            }
        }
    }

    static void assertClose(String what, INDArray ref, INDArray actual) {
        assertArrayEquals(ref.shape(), actual.shape(), what + ": shape");
        double scale = ref.amaxNumber().doubleValue();
        double diff = Transforms.abs(ref.castTo(DataType.FLOAT).sub(actual)).maxNumber().doubleValue();
        double bound = 1e-4 * scale + 1e-5;
        assertTrue(diff <= bound, String.format(Locale.ROOT, "%s: max|plan - graph| = %.3g exceeds %.3g (max|graph| %.4g)",
                what, diff, bound, scale));
    }

    /** Runs graph and plan on one random batch and compares every tap. */
    static void compare(ResNetSpec spec, ComputationGraph g, int batch, int h, int w, boolean withSpec) {
        randomiseBatchNorms(g, 7);
        INDArray x = Nd4j.rand(new Random(3).nextLong(), new long[] {batch, spec.inputChannels(), h, w}).castTo(DataType.FLOAT)
                .subi(0.5).muli(2);
        Map<String, INDArray> acts = g.feedForward(x, false);
        InferencePlan.Builder b = InferencePlan.builder(g);
        if (withSpec) {
            b.optSpec(spec);
        }
        try (InferencePlan plan = b.build()) {
            Map<String, INDArray> out = plan.output(x, plan.taps());
            for (String tap : plan.taps()) {
                INDArray ref = acts.get(Taps.vertex(g, tap));
                assertClose(spec.name() + " " + tap, ref, out.get(tap));
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Variant.class)
    void everyVariantMatchesTheGraph(Variant v) {
        ResNetSpec spec = v.spec().toBuilder().input(3, 64, 64).build();
        ComputationGraph g = ResNets.create(spec);
        compare(spec, g, 2, 64, 64, true);
        g.close();
    }

    static Stream<ResNetSpec> tables() {
        return Stream.of(
                Variant.RESNET18.spec().toBuilder().name("fashion-small-stem").stem(StemKind.SMALL).input(1, 28, 28)
                        .numClasses(10).widths(16, 32, 64, 128).build(),
                ResNetSpec.builder(BlockKind.BOTTLENECK, 1, 2, 1).name("three-stage-small").widths(8, 16, 32)
                        .stemWidth(16).cardinality(4).baseWidth(8).se(4).stem(StemKind.SMALL).input(3, 19, 23)
                        .numClasses(7).build(),
                ResNetSpec.builder(BlockKind.BASIC, 1, 1, 1, 1).name("odd-imagenet").widths(8, 16, 24, 32).stemWidth(8)
                        .input(3, 37, 45).numClasses(5).build());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("tables")
    void customTablesMatchTheGraph(ResNetSpec spec) {
        ComputationGraph g = ResNets.create(spec);
        compare(spec, g, 3, spec.inputHeight(), spec.inputWidth(), false);
        g.close();
    }
}
