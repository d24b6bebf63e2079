package dev.resnetzoo.examples.train;

import dev.resnetzoo.core.ResNets;
import java.util.Map;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.optimize.api.BaseTrainingListener;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Counts correct predictions of the training forward pass, from the logits DL4J hands to
 * listeners, so that the training accuracy costs no second forward pass.
 */
final class BatchAccuracy extends BaseTrainingListener {
    private static final long serialVersionUID = 1L;
    private transient INDArray labels;
    private long correct = -1;

    /** Call before each step with its one-hot labels. */
    void expect(INDArray oneHotLabels) {
        labels = Nd4j.argMax(oneHotLabels, 1);
        correct = -1;
    }

    /** @return correct predictions of the last step, or -1 if its logits were not seen */
    long correct() {
        return correct;
    }

    @Override
    public void onForwardPass(Model model, Map<String, INDArray> activations) {
        INDArray logits = activations.get(ResNets.CLASSIFIER);
        if (logits == null || labels == null) {
            return;
        }
        correct = Nd4j.argMax(logits, 1).eq(labels).castTo(DataType.INT).sumNumber().longValue();
    }
}
