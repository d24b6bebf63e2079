package dev.resnetzoo.examples.train;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.resnetzoo.zoo.SavedModel;
import dev.resnetzoo.zoo.files.AtomicFiles;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.lang.reflect.RecordComponent;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;

/**
 * A training checkpoint: a {@link SavedModel} zip with the updater state (DL4J's configuration,
 * parameters and updater entries, and the model's metadata) plus {@value #STATE_ENTRY}, the
 * loop's own state. Because everything is in one file that is
 * {@linkplain AtomicFiles replaced atomically}, the parameters, the Adam moments, the iteration
 * count and the epoch number always belong to the same moment of training.
 *
 * <p>What "continue exactly" needs: the parameters and batch-norm statistics, the updater state,
 * the iteration and epoch counters (stored in the configuration; Adam's bias correction and any
 * learning-rate schedule read them), and the data order. The order of epoch {@code e} is a pure
 * function of (seed, e) (see {@code FashionMnistIterator}), so the state records the seed and
 * the iterator epoch to continue with. The networks trained here draw no other random numbers
 * during training (no dropout; {@link Augmentation} draws from (seed, iterator epoch, batch) alone);
 * weight initialisation happens only once, before the first epoch.
 */
public final class Checkpoint {

    /** Zip entry holding {@link State} as JSON. */
    public static final String STATE_ENTRY = "resnet-train-state.json";

    /**
     * The training loop's state after an epoch.
     *
     * @param epoch         epochs completed (1-based count)
     * @param iteration     optimiser steps taken so far
     * @param seed          seed of the weight initialisation and the data order
     * @param iteratorEpoch the data-iterator epoch (0-based) the next training epoch uses
     * @param trainExamples training examples per epoch (after --limit)
     * @param network       the network trained, as {@code TrainConfig.describeNetwork()} gives it, so
     *                      that a resume can tell another run's checkpoint; null in checkpoints
     *                      written before it was recorded
     */
    public record State(int epoch, long iteration, long seed, int iteratorEpoch, int trainExamples, String network) {
        /** The state entry's format. */
        static final int FORMAT = 1;

        String toJson() {
            return Json.write(Json.tree(this).put("format", FORMAT));
        }

        static State parse(String text, String what) throws IOException {
            ObjectNode m = Json.readTree(text, what);
            m.remove("format");
            for (RecordComponent c : State.class.getRecordComponents()) {
                if (c.getType().isPrimitive() && !m.path(c.getName()).isNumber()) {
                    throw new IOException(what + " lacks \"" + c.getName() + "\" or has a wrong type: " + m);
                }
            }
            try {
                return Json.bind(m, State.class, what);
            } catch (IllegalArgumentException e) {
                throw new IOException(e.getMessage(), e);
            }
        }
    }

    /**
     * A checkpoint read back.
     *
     * @param graph the network with its updater state
     * @param state the loop's state
     */
    public record Loaded(ComputationGraph graph, State state) {
    }

    private Checkpoint() {
    }

    /**
     * Writes a checkpoint atomically: {@code target} holds either the previous checkpoint or this one.
     *
     * @param model the network being trained with its metadata ({@link TrainedModel#of})
     * @throws IOException if writing fails (the previous checkpoint is kept)
     */
    public static void write(SavedModel model, State state, Path target) throws IOException {
        write(model, state, target, tmp -> { });
    }

    static void write(SavedModel model, State state, Path target, AtomicFiles.BeforeMove beforeMove)
            throws IOException {
        model.write(target, true, Map.of(STATE_ENTRY, state.toJson().getBytes(StandardCharsets.UTF_8)), beforeMove);
    }

    /**
     * Reads only the state entry.
     *
     * @throws IOException if the file is not a complete checkpoint of this format
     */
    public static State readState(Path file) throws IOException {
        try (ZipFile zip = new ZipFile(file.toFile())) {
            return state(zip, file);
        } catch (ZipException e) {
            throw new IOException(file + ": not a valid checkpoint zip (" + e.getMessage() + ")", e);
        }
    }

    /**
     * Reads the network (with its updater state) and the loop's state.
     *
     * @throws IOException if the file is not a complete checkpoint
     */
    public static Loaded read(Path file) throws IOException {
        State state = readState(file);
        ComputationGraph graph = SavedModel.read(file, true).graph();
        if (graph.getIterationCount() != state.iteration()) {
            graph.close();
            throw new IOException(file + ": inconsistent checkpoint: network at iteration " + graph.getIterationCount()
                    + ", state says " + state.iteration());
        }
        return new Loaded(graph, state);
    }

    private static State state(ZipFile zip, Path file) throws IOException {
        ZipEntry e = zip.getEntry(STATE_ENTRY);
        if (e == null) {
            throw new IOException(file + ": not a training checkpoint (no " + STATE_ENTRY + ")");
        }
        for (String required : new String[] {ModelSerializer.CONFIGURATION_JSON, ModelSerializer.COEFFICIENTS_BIN,
                ModelSerializer.UPDATER_BIN}) {
            if (zip.getEntry(required) == null) {
                throw new IOException(file + ": incomplete checkpoint, no " + required);
            }
        }
        try (InputStream in = zip.getInputStream(e)) {
            return State.parse(new String(in.readAllBytes(), StandardCharsets.UTF_8), file + "!" + STATE_ENTRY);
        }
    }
}
