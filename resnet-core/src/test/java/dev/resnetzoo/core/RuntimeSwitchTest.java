package dev.resnetzoo.core;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.resnetzoo.core.layers.LayerRuntime;
import dev.resnetzoo.core.onednn.OneDnn;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;

/** A graph trained a few steps on one runtime and continued on the other gives the same losses. */
class RuntimeSwitchTest {
    @AfterEach
    void reset() {
        LayerRuntime.select(null);
    }

    private static double[] continueOn(ComputationGraph start, LayerRuntime runtime, DataSet ds, int steps) {
        ComputationGraph g = start.clone();
        LayerRuntime.select(runtime);
        double[] losses = new double[steps];
        for (int i = 0; i < steps; i++) {
            g.fit(ds);
            losses[i] = g.score();
        }
        return losses;
    }

    @Test
    void trainingContinuesOnTheOtherRuntimeWithTheSameLosses() {
        if (!OneDnn.available()) {
            System.out.println("RuntimeSwitchTest: SKIPPED, oneDNN unavailable: " + OneDnn.unavailableReason());
        }
        Assumptions.assumeTrue(OneDnn.available());
        ResNetSpec spec = ResNetSpec.builder(BlockKind.BOTTLENECK, 1, 1)
                .name("tiny-resnext").widths(16, 32).stemWidth(16).cardinality(4).baseWidth(16)
                .stem(StemKind.SMALL).input(3, 12, 12).numClasses(5).build();
        ComputationGraph g = ResNets.create(spec, new NeuralNetConfiguration.Builder().seed(3).updater(new Adam(1e-3)));
        INDArray x = Nd4j.rand(DataType.FLOAT, 8, 3, 12, 12).subi(0.5);
        INDArray y = Nd4j.zeros(DataType.FLOAT, 8, 5);
        for (int i = 0; i < 8; i++) {
            y.putScalar(i, i % 5, 1.0);
        }
        DataSet ds = new DataSet(x, y);
        for (LayerRuntime first : LayerRuntime.values()) {
            LayerRuntime.select(first);
            ComputationGraph trained = g.clone();
            for (int i = 0; i < 3; i++) {
                trained.fit(ds);
            }
            double[] same = continueOn(trained, first, ds, 3);
            double[] other = continueOn(trained, first == LayerRuntime.ONEDNN ? LayerRuntime.LIBND4J
                    : LayerRuntime.ONEDNN, ds, 3);
            for (int i = 0; i < 3; i++) {
                assertEquals(same[i], other[i], 1e-5 * Math.abs(same[i]),
                        "step " + (i + 4) + " after 3 steps on " + first);
            }
        }
    }
}
