package dev.resnetzoo.core.plan;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.resnetzoo.core.BlockKind;
import dev.resnetzoo.core.ResNetSpec;
import dev.resnetzoo.core.ResNets;
import dev.resnetzoo.core.StemKind;
import dev.resnetzoo.core.onednn.OneDnn;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Concurrency, caching per shape, closing and input checks of {@link InferencePlan}. */
class PlanUseTest {
    static final ResNetSpec SPEC = ResNetSpec.builder(BlockKind.BOTTLENECK, 1, 1).name("se-small").widths(8, 16)
            .stemWidth(16).cardinality(2).baseWidth(32).se(4).stem(StemKind.IMAGENET).input(3, 32, 32).numClasses(6)
            .build();
    static ComputationGraph graph;

    @BeforeAll
    static void build() {
        org.junit.jupiter.api.Assumptions.assumeTrue(OneDnn.available(), "oneDNN unavailable: " + OneDnn.unavailableReason());
        graph = ResNets.create(SPEC);
        PlanFidelityTest.randomiseBatchNorms(graph, 11);
    }

    @AfterAll
    static void close() {
        if (graph != null) {
            graph.close();
        }
    }

    static INDArray input(int i, int batch, int size) {
        return Nd4j.rand(1000L + i, new long[] {batch, 3, size, size}).castTo(DataType.FLOAT);
    }

    @Test
    void concurrentCallersGetTheSingleThreadedResultsBitForBit() throws Exception {
        int threads = 4;
        int callsEach = 12;
        List<INDArray> inputs = new ArrayList<>();
        List<Map<String, INDArray>> expected = new ArrayList<>();
        try (InferencePlan plan = InferencePlan.builder(graph).build()) {
            for (int i = 0; i < 6; i++) {
                // two shapes, so programs are compiled concurrently and cached per shape
                inputs.add(input(i, i % 2 == 0 ? 2 : 3, i % 3 == 0 ? 32 : 40));
                expected.add(plan.output(inputs.get(i), List.of("logits", "layer1", "pool")));
            }
        }
        try (InferencePlan plan = InferencePlan.builder(graph).build()) {
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            CountDownLatch start = new CountDownLatch(1);
            List<Future<Integer>> done = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int offset = t;
                done.add(pool.submit(() -> {
                    start.await();
                    int checked = 0;
                    for (int c = 0; c < callsEach; c++) {
                        int i = (c + offset) % inputs.size();
                        Map<String, INDArray> out = plan.output(inputs.get(i), List.of("logits", "layer1", "pool"));
                        for (String tap : List.of("logits", "layer1", "pool")) {
                            assertArrayEquals(expected.get(i).get(tap).data().asFloat(), out.get(tap).data().asFloat(),
                                    "thread " + offset + " call " + c + " " + tap);
                        }
                        checked++;
                    }
                    return checked;
                }));
            }
            start.countDown();
            int total = 0;
            for (Future<Integer> f : done) {
                total += f.get();
            }
            pool.shutdown();
            assertEquals(threads * callsEach, total);
        }
    }

    @Test
    void tapsAreNamedAsTheTransferApiNamesThem() {
        try (InferencePlan plan = InferencePlan.builder(graph).build()) {
            assertEquals(List.of("stem", "layer1", "layer2", "pool", "logits"), plan.taps());
            INDArray x = input(1, 2, 32);
            Map<String, INDArray> out = plan.output(x, List.of("POOL", "stem"));
            assertEquals(List.of("POOL", "stem"), List.copyOf(out.keySet()));
            assertArrayEquals(new long[] {2, 64}, out.get("POOL").shape());
            assertArrayEquals(new long[] {2, 16, 8, 8}, out.get("stem").shape());
            assertArrayEquals(new long[] {2, 6}, plan.output(x).shape());
        }
    }

    @Test
    void closeReleasesAndLaterCallsAreRefused() {
        InferencePlan plan = InferencePlan.builder(graph).build();
        INDArray x = input(2, 1, 32);
        plan.output(x);
        plan.close();
        plan.close();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> plan.output(x));
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
    }

    @Test
    void badInputsAreRefusedWithWhatWasExpected() {
        try (InferencePlan plan = InferencePlan.builder(graph).build()) {
            IllegalArgumentException channels = assertThrows(IllegalArgumentException.class,
                    () -> plan.output(Nd4j.zeros(DataType.FLOAT, 1, 1, 32, 32)));
            assertEquals("input must be [N, 3, H, W], got [1, 1, 32, 32]", channels.getMessage());
            IllegalArgumentException tap = assertThrows(IllegalArgumentException.class,
                    () -> plan.output(input(0, 1, 32), List.of("layer9")));
            assertEquals("unknown tap 'layer9'; valid taps: stem, layer1, layer2, pool, logits", tap.getMessage());
            IllegalArgumentException small = assertThrows(IllegalArgumentException.class,
                    () -> plan.output(Nd4j.zeros(DataType.FLOAT, 1, 3, 4, 4)));
            assertTrue(small.getMessage().contains("expected at least 8x8"), small.getMessage());
            assertFalse(plan.hasTap("layer3"));
        }
    }

    @Test
    void aGraphWithoutTheExpectedLayersIsRefusedNamingThem() {
        ComputationGraph stock = new ComputationGraph(new org.deeplearning4j.nn.conf.NeuralNetConfiguration.Builder()
                .graphBuilder().addInputs("in")
                .addLayer("dense", new org.deeplearning4j.nn.conf.layers.DenseLayer.Builder().nIn(3).nOut(2).build(), "in")
                .setOutputs("dense").build());
        stock.init();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> InferencePlan.builder(stock).build());
        assertEquals("not a ResNet graph of this project: expected layers conv1 and layer1.0.conv1 (PyTorch module paths)",
                e.getMessage());
    }

    @Test
    void bf16IsRefusedOrRunsCloseToFp32() {
        if (!Precision.BF16.supported()) {
            UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class,
                    () -> InferencePlan.builder(graph).optPrecision(Precision.BF16).build());
            System.out.println("PlanUseTest: bf16 refused as expected here: " + e.getMessage());
            return;
        }
        INDArray x = input(4, 2, 32);
        try (InferencePlan fp32 = InferencePlan.builder(graph).build();
             InferencePlan bf16 = InferencePlan.builder(graph).optPrecision(Precision.BF16).build()) {
            INDArray a = fp32.output(x);
            INDArray b = bf16.output(x);
            double scale = a.amaxNumber().doubleValue();
            double diff = a.sub(b).amaxNumber().doubleValue();
            // bf16 keeps 8 bits of mantissa: a few percent of the largest logit, not the fp32 tolerance
            assertTrue(diff <= 0.1 * scale, "bf16 vs fp32 logits: max diff " + diff + ", max|fp32| " + scale);
            assertTrue(diff > 0, "bf16 must differ from fp32 somewhere; identical logits mean it did not run in bf16");
            assertTrue(bf16.describe(2, 32, 32).contains("bf16"), bf16.describe(2, 32, 32));
        }
    }
}
