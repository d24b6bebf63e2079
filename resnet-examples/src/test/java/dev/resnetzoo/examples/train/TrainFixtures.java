package dev.resnetzoo.examples.train;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/** Shared pieces of the training tests: the embedded sample as a data folder, tiny settings, child JVMs. */
public final class TrainFixtures {

    private TrainFixtures() {
    }

    /**
     * Copies the embedded 1,000/500-image sample into {@code dir}, so runs use it whatever is
     * installed on the machine (the tests pass it as {@code --data}).
     */
    public static Path sampleData(Path dir) throws IOException {
        Files.createDirectories(dir);
        for (String name : List.of("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")) {
            try (InputStream in = Objects.requireNonNull(TrainFixtures.class.getResourceAsStream(
                    "/fashion-mnist-sample/" + name), name)) {
                Files.copy(in, dir.resolve(name));
            }
        }
        return dir;
    }

    /**
     * A network and data small enough for an epoch in well under a second: two stages (1,1 x 8,16),
     * batches of 32, 64 test images (two batches of the training shape).
     */
    static Map<String, Object> tiny(int epochs, int limit) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("epochs", epochs);
        m.put("batch", 32);
        m.put("limit", limit);
        m.put("test-limit", 64);
        m.put("widths", "8,16");
        m.put("depths", "1,1");
        m.put("seed", 7L);
        return m;
    }

    /** Settings as {@link #tiny} gives them, parsed as the command line does. */
    static TrainOptions options(Map<String, Object> settings) {
        return TrainOptions.parse(args(settings).toArray(String[]::new));
    }

    /** The same settings as command-line arguments. */
    static List<String> args(Map<String, Object> settings) {
        List<String> a = new ArrayList<>();
        settings.forEach((k, v) -> {
            a.add("--" + k);
            a.add(String.valueOf(v));
        });
        return a;
    }

    /**
     * Starts {@code mainClass} in a new JVM with this test's classpath and one OpenMP thread (as
     * the tests use in-process, see {@link #oneThread()}); stdout and stderr go to {@code log}.
     */
    static Process startJvm(String mainClass, List<String> args, Path log) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(mainClass);
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().put("OMP_NUM_THREADS", "1");
        return pb.start();
    }

    /**
     * Runs this JVM's training on one thread and returns the previous count, to restore after the
     * class. Tiny networks gain nothing from a second thread, and on a machine whose cores are busy
     * with other jobs OpenMP's barriers make two threads up to ten times slower.
     */
    static int oneThread() {
        return Threads.set(1);
    }

    static String read(Path file) {
        try {
            return Files.exists(file) ? Files.readString(file) : "";
        } catch (IOException e) {
            return "";
        }
    }
}
