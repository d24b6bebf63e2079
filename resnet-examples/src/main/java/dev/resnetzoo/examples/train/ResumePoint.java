package dev.resnetzoo.examples.train;

import dev.resnetzoo.core.ResNets;
import java.io.IOException;
import java.nio.file.Files;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Where a run's training starts: a new network, or the folder's checkpoint once it is shown to
 * belong to the run. A checkpoint copied in from another run would otherwise be trained, and
 * saved, under this run's name; the check compares the network the checkpoint records and the
 * parameters it holds (names and shapes) with the run's settings, so checkpoints that predate the
 * recorded name are checked too.
 *
 * @param graph         the network to train
 * @param epochsDone    epochs completed (0 for a new network)
 * @param iteratorEpoch the data-iterator epoch the next training epoch uses
 */
record ResumePoint(ComputationGraph graph, int epochsDone, int iteratorEpoch) {

    /** A new network of {@code config}, initialised from its seed. */
    static ResumePoint fresh(TrainConfig config, int batchesPerEpoch) {
        return new ResumePoint(ResNets.create(config.spec(), config.training(batchesPerEpoch)), 0, 0);
    }

    /**
     * @return the folder's checkpoint, or null if it has none
     * @throws IllegalStateException if the checkpoint is another network's, or was written for
     *                               other data or another seed; the message names both sides
     * @throws IOException if the checkpoint cannot be read
     */
    static ResumePoint fromCheckpoint(RunFolder folder, TrainConfig config, int trainExamples) throws IOException {
        if (!Files.exists(folder.checkpoint())) {
            return null;
        }
        Checkpoint.Loaded loaded = Checkpoint.read(folder.checkpoint());
        Checkpoint.State s = loaded.state();
        String mismatch = networkMismatch(loaded, config);
        if (mismatch != null) {
            loaded.graph().close();
            throw new IllegalStateException(folder.checkpoint() + " holds " + mismatch + " but " + folder.runJson()
                    + " is a run of " + config.describeNetwork() + ": the checkpoint belongs to another run; resume in "
                    + "that run's folder, or use --overwrite to start this one again");
        }
        if (s.trainExamples() != trainExamples || s.seed() != config.seed()) {
            loaded.graph().close();
            throw new IllegalStateException(folder.checkpoint() + " was written for " + s.trainExamples()
                    + " training images and seed " + s.seed() + ", the run now has " + trainExamples
                    + " and seed " + config.seed() + ": use --overwrite to start again");
        }
        return new ResumePoint(loaded.graph(), s.epoch(), s.iteratorEpoch());
    }

    /** @return the checkpoint's network if it is not {@code config}'s, else null */
    private static String networkMismatch(Checkpoint.Loaded loaded, TrainConfig config) {
        String recorded = loaded.state().network();
        if (recorded != null && !recorded.equals(config.describeNetwork())) {
            return recorded;
        }
        Map<String, INDArray> theirs = loaded.graph().paramTable();
        ComputationGraph expected = ResNets.create(config.spec());
        try {
            Map<String, INDArray> ours = expected.paramTable();
            String difference = null;
            for (Map.Entry<String, INDArray> e : ours.entrySet()) {
                INDArray t = theirs.get(e.getKey());
                if (t == null || !Arrays.equals(t.shape(), e.getValue().shape())) {
                    difference = e.getKey() + " " + (t == null ? "absent" : Arrays.toString(t.shape()))
                            + " where the run's is " + Arrays.toString(e.getValue().shape());
                    break;
                }
            }
            if (difference == null && theirs.size() == ours.size()) {
                return null;
            }
            String name = recorded != null ? recorded : "a network";
            return String.format(Locale.ROOT, "%s of %,d parameters (%s)", name, ResNets.countParameters(loaded.graph()),
                    difference != null ? difference : theirs.size() + " parameter arrays, the run's " + ours.size());
        } finally {
            expected.close();
        }
    }

    /**
     * Refuses a resume on other data than the run's: another {@code --data}, or the data set
     * installed or removed since.
     */
    static void checkSameData(RunRecord stored, int trainExamples, int testExamples, RunFolder folder) {
        if (stored.trainExamples() != trainExamples || stored.testExamples() != testExamples) {
            throw new IllegalStateException("the data differs from the run's: " + folder.runJson() + " records "
                    + stored.trainExamples() + " training / " + stored.testExamples() + " test images, now there are "
                    + trainExamples + " / " + testExamples + " (another --data, or the data set was installed or removed?)");
        }
    }
}
