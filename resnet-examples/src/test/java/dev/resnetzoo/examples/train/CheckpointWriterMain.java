package dev.resnetzoo.examples.train;

import java.nio.file.Path;
import org.deeplearning4j.nn.graph.ComputationGraph;

/**
 * Child process of {@link CheckpointTest}: writes checkpoints to {@code args[0]} in a loop, the
 * k-th with every parameter and the iteration counter set to k, until it is killed.
 */
public final class CheckpointWriterMain {
    private CheckpointWriterMain() {
    }

    public static void main(String[] args) throws Exception {
        Path target = Path.of(args[0]);
        Threads.set(1);
        ComputationGraph graph = CheckpointTest.trainedGraph();
        for (int k = 1; ; k++) {
            CheckpointTest.stamp(graph, k);
            Checkpoint.write(CheckpointTest.model(graph), new Checkpoint.State(k, k, 0, k, 1, "test"), target);
            System.out.println("wrote " + k);
            System.out.flush();
        }
    }
}
