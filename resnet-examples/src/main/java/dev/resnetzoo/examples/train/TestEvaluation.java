package dev.resnetzoo.examples.train;

import dev.resnetzoo.examples.data.FashionMnist;
import dev.resnetzoo.examples.data.FashionMnistIterator;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.evaluation.classification.Evaluation;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * Test loss and accuracy of a network in inference mode (batch norm with its running statistics),
 * with DL4J's {@link Evaluation}.
 *
 * @param loss     mean cross-entropy
 * @param accuracy fraction of test images classified correctly
 */
record TestEvaluation(double loss, double accuracy) {

    /** Evaluates {@code graph} on every batch of {@code test}'s epoch 0. */
    static TestEvaluation of(ComputationGraph graph, FashionMnistIterator test) {
        Evaluation evaluation = new Evaluation(FashionMnist.NUM_CLASSES);
        test.setEpoch(0);
        double lossSum = 0;
        long n = 0;
        while (test.hasNext()) {
            DataSet batch = test.next();
            INDArray probabilities = graph.outputSingle(false, batch.getFeatures());
            evaluation.eval(batch.getLabels(), probabilities);
            INDArray logP = Transforms.log(Transforms.max(probabilities, 1e-12, true), false);
            lossSum -= logP.muli(batch.getLabels()).sumNumber().doubleValue();
            n += batch.numExamples();
        }
        return new TestEvaluation(lossSum / n, evaluation.accuracy());
    }
}
