package dev.resnetzoo.examples.train;

import dev.resnetzoo.core.ResNets;
import java.io.IOException;
import java.nio.file.Files;
import java.util.Locale;
import org.deeplearning4j.nn.graph.ComputationGraph;

/**
 * Where a run's training starts: a new network, or the folder's checkpoint once it is shown to
 * belong to the run. A checkpoint copied in from another run would otherwise be trained, and
 * saved, under this run's name; the check compares the network the checkpoint records with
 * the run's (checkpoints that predate the record: the parameter count).
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
    static ResumePoint fromCheckpoint(RunFolder folder, TrainConfig config, RunRecord stored, int trainExamples) throws IOException {
        if (!Files.exists(folder.checkpoint())) {
            return null;
        }
        Checkpoint.Loaded loaded = Checkpoint.read(folder.checkpoint());
        Checkpoint.State s = loaded.state();
        String mismatch = networkMismatch(loaded, config, stored);
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
    private static String networkMismatch(Checkpoint.Loaded loaded, TrainConfig config, RunRecord stored) {
        String recorded = loaded.state().network();
        if (recorded != null) {
            return recorded.equals(config.describeNetwork()) ? null : recorded;
        }
        long params = ResNets.countParameters(loaded.graph());
        return stored.parameters() == 0 || stored.parameters() == params ? null
                : String.format(Locale.ROOT, "a network of %,d parameters", params);
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
