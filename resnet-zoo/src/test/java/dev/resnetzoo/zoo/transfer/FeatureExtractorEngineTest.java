package dev.resnetzoo.zoo.transfer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.resnetzoo.core.StemKind;
import dev.resnetzoo.core.plan.InferenceEngine;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/** {@link FeatureExtractor} on the plan (the CPU default) and on the graph give the same features. */
class FeatureExtractorEngineTest {

    @AfterEach
    void clearProperty() {
        System.clearProperty(InferenceEngine.PROPERTY);
    }

    @Test
    void planIsTheDefaultOnCpuAndAgreesWithTheGraph() {
        org.junit.jupiter.api.Assumptions.assumeTrue(InferenceEngine.planAvailable(), "the plan cannot run here");
        ComputationGraph g = TransferTest.tinyGraph(StemKind.IMAGENET, 10);
        INDArray x = Nd4j.rand(DataType.FLOAT, 5, 3, 32, 32);
        List<String> taps = List.of("stem", "layer1", "layer2", "pool", "logits");
        try (FeatureExtractor plan = FeatureExtractor.builder(g).optBatchSize(2).build();
             FeatureExtractor graph = FeatureExtractor.builder(g).optBatchSize(2).optEngine(InferenceEngine.GRAPH).build()) {
            Map<String, INDArray> a = plan.extract(x, taps);
            assertEquals(InferenceEngine.PLAN, plan.engine(), plan.describeEngine());
            assertTrue(plan.describeEngine().startsWith("inference engine: plan"), plan.describeEngine());
            Map<String, INDArray> b = graph.extract(x, taps);
            assertEquals(InferenceEngine.GRAPH, graph.engine());
            for (String t : taps) {
                assertArrayEquals(b.get(t).shape(), a.get(t).shape(), t);
                double scale = b.get(t).amaxNumber().doubleValue();
                double diff = Transforms.abs(a.get(t).sub(b.get(t))).maxNumber().doubleValue();
                assertTrue(diff <= 1e-4 * scale + 1e-5, t + ": plan vs graph " + diff + " (max " + scale + ")");
            }
            // a vertex that is not a tap runs on the graph
            assertArrayEquals(new long[] {5, 8, 16, 16}, plan.extract(x, "conv1").shape());
        }
    }

    @Test
    void thePropertySwitchesToTheGraphAndRejectsUnknownNames() {
        ComputationGraph g = TransferTest.tinyGraph(StemKind.SMALL, 10);
        System.setProperty(InferenceEngine.PROPERTY, "graph");
        assertEquals(InferenceEngine.GRAPH, FeatureExtractor.builder(g).build().engine());
        System.setProperty(InferenceEngine.PROPERTY, "fast");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> FeatureExtractor.builder(g).build());
        assertEquals("-Dresnet.engine: unknown engine 'fast': expected plan, graph or auto", e.getMessage());
    }
}
