package dev.resnetzoo.examples.train;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.List;

/**
 * The contents of a run's {@code run.json}: the settings and what they were applied to.
 *
 * @param format        {@value #FORMAT}
 * @param command       {@code train}
 * @param config        the settings
 * @param data          where the data came from, as {@code FashionMnist.describe()} says it
 * @param trainExamples training images per epoch (after {@code --limit})
 * @param testExamples  test images evaluated (after {@code --test-limit})
 * @param network       the network, as {@link TrainConfig#describeNetwork()} gives it
 * @param parameters    the network's parameter count (DL4J's, with batch-norm statistics)
 * @param input         channels, height and width of the network's input
 * @param created       when the run started (ISO-8601)
 */
public record RunRecord(int format, String command, TrainConfig config, String data, int trainExamples,
                        int testExamples, String network, long parameters, List<Integer> input, String created) {

    /** The format written and read (the same since the first run.json). */
    public static final int FORMAT = 1;

    /**
     * Reads {@code run.json}.
     *
     * @param text the file's text
     * @param what the file, for messages
     * @throws IOException if it is not JSON, not of a known format, or its settings are invalid;
     *                     the message is one line naming the file
     */
    static RunRecord parse(String text, String what) throws IOException {
        ObjectNode root = Json.readTree(text, what);
        if (root.path("format").asInt(-1) != FORMAT) {
            throw new IOException(what + " has format " + root.path("format") + ", this version reads " + FORMAT
                    + ": use --overwrite to start the run again");
        }
        if (!(root.get("config") instanceof ObjectNode config)) {
            throw new IOException(what + " has no \"config\" object: use --overwrite to start the run again");
        }
        try {
            root.set("config", Json.tree(TrainConfig.of(config, what)));
            return Json.bind(root, RunRecord.class, what);
        } catch (IllegalArgumentException e) {
            String m = e.getMessage();
            throw new IOException(m.startsWith(what) ? m : what + ": " + m, e);
        }
    }

    /** @return the file's text */
    String toJson() {
        return Json.write(this);
    }
}
