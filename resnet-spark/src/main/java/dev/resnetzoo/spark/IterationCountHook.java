package dev.resnetzoo.spark;

import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.spark.api.TrainingHook;
import org.nd4j.linalg.dataset.api.DataSet;
import org.nd4j.linalg.dataset.api.MultiDataSet;

/**
 * Gives each worker's copy of the network the driver's iteration and epoch counts.
 *
 * <p>Without it, DL4J 1.0.0-M2's parameter averaging restarts every averaging round at iteration 0:
 * the worker builds its network from {@code ComputationGraphConfiguration.clone()}, which in
 * 1.0.0-M2.1 copies neither count, although the driver keeps counting. Learning-rate schedules then
 * never advance, and Adam's bias correction is applied afresh each round (at iteration 1 with
 * carried-over moments it scales the step by about 0.32). This hook is serialized with every
 * round's tasks on the driver, where it writes the driver network's counts at that moment, and on
 * the worker it sets them before the round's first minibatch.
 */
final class IterationCountHook implements TrainingHook {
    private static final long serialVersionUID = 1L;

    private transient ComputationGraph driverGraph;
    private int iteration;
    private int epoch;

    IterationCountHook(ComputationGraph driverGraph) {
        this.driverGraph = driverGraph;
    }

    @Override
    public void preUpdate(DataSet minibatch, Model model) {
        apply(model);
    }

    @Override
    public void preUpdate(MultiDataSet minibatch, Model model) {
        apply(model);
    }

    @Override
    public void postUpdate(DataSet minibatch, Model model) {
    }

    @Override
    public void postUpdate(MultiDataSet minibatch, Model model) {
    }

    private void apply(Model model) {
        if (model instanceof ComputationGraph g) {
            ComputationGraphConfiguration conf = g.getConfiguration();
            if (conf.getIterationCount() < iteration) { // the round's first minibatch; later ones count on
                conf.setIterationCount(iteration);
                conf.setEpochCount(epoch);
            }
        }
    }

    private void writeObject(ObjectOutputStream out) throws IOException {
        if (driverGraph != null) {
            iteration = driverGraph.getIterationCount();
            epoch = driverGraph.getEpochCount();
        }
        out.defaultWriteObject();
    }

    private void readObject(ObjectInputStream in) throws IOException, ClassNotFoundException {
        in.defaultReadObject();
    }
}
