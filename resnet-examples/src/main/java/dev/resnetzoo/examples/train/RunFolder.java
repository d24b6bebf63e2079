package dev.resnetzoo.examples.train;

import dev.resnetzoo.zoo.files.AtomicFiles;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A run's output folder: its layout, what may be done with a folder that already holds a run, and
 * {@value #RUN_JSON}. Every file in it is replaced atomically ({@link AtomicFiles}).
 *
 * <p>The folder holds {@value #RUN_JSON} (the settings, a {@link RunRecord}), {@value #METRICS}
 * (one row per epoch), {@value #CURVES} (redrawn from the CSV after every epoch),
 * {@value #CHECKPOINT} (after every epoch: network, Adam state, counters and data position; see
 * {@link Checkpoint}) and, at the end, {@value #MODEL} (the network without updater state).
 */
public final class RunFolder {

    /** The settings of the run. */
    public static final String RUN_JSON = "run.json";
    /** Per-epoch metrics. */
    public static final String METRICS = "metrics.csv";
    /** Loss and accuracy curves. */
    public static final String CURVES = "curves.png";
    /** The last completed epoch's checkpoint. */
    public static final String CHECKPOINT = "checkpoint.zip";
    /** The final network. */
    public static final String MODEL = "model.zip";

    private static final List<String> FILES = List.of(RUN_JSON, METRICS, CURVES, CHECKPOINT, MODEL);

    /** What to do when the output folder already holds a run. */
    public enum Mode {
        /** Start a run; refuse if the folder holds one. */
        NEW,
        /** Continue the folder's run from its last completed epoch (start one if the folder is empty). */
        RESUME,
        /** Delete the folder's run files and start again. */
        OVERWRITE
    }

    private final Path dir;

    /** @param dir the folder (need not exist) */
    public RunFolder(Path dir) {
        this.dir = dir;
    }

    /** @return the folder */
    public Path dir() {
        return dir;
    }

    /** @return {@value #RUN_JSON} in the folder */
    public Path runJson() {
        return dir.resolve(RUN_JSON);
    }

    /** @return {@value #METRICS} in the folder */
    public Path metrics() {
        return dir.resolve(METRICS);
    }

    /** @return {@value #CURVES} in the folder */
    public Path curves() {
        return dir.resolve(CURVES);
    }

    /** @return {@value #CHECKPOINT} in the folder */
    public Path checkpoint() {
        return dir.resolve(CHECKPOINT);
    }

    /** @return {@value #MODEL} in the folder */
    public Path model() {
        return dir.resolve(MODEL);
    }

    /**
     * Checks the folder against the mode, clears it for {@link Mode#OVERWRITE} and removes
     * temporary files that a killed write left.
     *
     * @param mode new run, resume or overwrite
     * @param out  where "nothing to resume" is said
     * @return the run's record when resuming one, else null
     * @throws IllegalStateException if the folder holds a run that the mode does not allow to touch
     * @throws IOException if {@value #RUN_JSON} cannot be read, or is not a run this version reads
     */
    RunRecord prepare(Mode mode, PrintStream out) throws IOException {
        RunRecord stored = switch (mode) {
            case NEW -> {
                List<String> present = present();
                if (!present.isEmpty()) {
                    throw new IllegalStateException(dir + " already holds a run (" + String.join(", ", present)
                            + "): pass --resume to continue it, --overwrite to start it again, or choose another --out");
                }
                yield null;
            }
            case OVERWRITE -> {
                for (String f : FILES) {
                    Files.deleteIfExists(dir.resolve(f));
                }
                yield null;
            }
            case RESUME -> {
                if (Files.exists(runJson())) {
                    yield RunRecord.parse(Files.readString(runJson(), StandardCharsets.UTF_8), runJson().toString());
                }
                List<String> present = present();
                if (!present.isEmpty()) {
                    throw new IllegalStateException(dir + " holds run files (" + String.join(", ", present)
                            + ") but no " + RUN_JSON + ", so its settings are unknown: use --overwrite to start again");
                }
                out.println("nothing to resume in " + dir + ": starting a new run");
                yield null;
            }
        };
        for (String f : FILES) {
            AtomicFiles.deleteStaleTemps(dir, f);
        }
        return stored;
    }

    /** Writes {@value #RUN_JSON}. */
    void write(RunRecord record) throws IOException {
        AtomicFiles.writeString(runJson(), record.toJson());
    }

    private List<String> present() {
        List<String> present = new ArrayList<>();
        for (String f : FILES) {
            if (Files.exists(dir.resolve(f))) {
                present.add(f);
            }
        }
        return present;
    }

    @Override
    public String toString() {
        return dir.toString();
    }
}
