package dev.resnetzoo.examples.data;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;

/**
 * The Fashion-MNIST data set (Zalando Research, MIT license): 28x28 grey-scale images of
 * clothing in ten classes, 60,000 for training and 10,000 for testing.
 *
 * <p>Where the data comes from is decided by {@link #locate(Path)}, first match wins:
 * <ol>
 *   <li>an explicit directory (the command line's {@code --data DIR});</li>
 *   <li>the directory named by the environment variable {@value #ENV_VAR};</li>
 *   <li>{@code /usr/share/datasets/fashion-mnist}, where Debian's {@code dataset-fashion-mnist}
 *       package installs the four files, if all of them are there;</li>
 *   <li>a small sample embedded on the classpath (1,000 training and 500 test images, balanced
 *       over the classes): enough for smoke tests and demos, not for meaningful accuracy.</li>
 * </ol>
 * A directory must hold {@code train-images-idx3-ubyte}, {@code train-labels-idx1-ubyte},
 * {@code t10k-images-idx3-ubyte} and {@code t10k-labels-idx1-ubyte}, each either gzip'd with a
 * {@code .gz} suffix or plain. An explicit or environment directory lacking them is an error,
 * never silently replaced by another source. {@link #describe()} tells which source was used.
 *
 * <p>Typical use:
 * <pre>{@code
 * FashionMnist fm = FashionMnist.locate(dataDirOrNull);
 * log.info("data: {}", fm.describe());
 * FashionMnistIterator train = FashionMnistIterator.builder(fm.load(FashionMnist.Split.TRAIN))
 *         .batchSize(128).shuffle(42).normalize(true).build();
 * }</pre>
 */
public final class FashionMnist {

    /** Class names, indexed by label. */
    public static final List<String> CLASS_NAMES = List.of(
            "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
            "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot");
    /** Number of classes. */
    public static final int NUM_CLASSES = 10;
    /** Height and width of the images. */
    public static final int IMAGE_SIZE = 28;
    /**
     * Mean pixel value of the training images after scaling to [0,1] (0.2860), used by the
     * iterator's optional normalisation {@code (x - MEAN) / STD}.
     */
    public static final float MEAN = 0.2860f;
    /** Standard deviation of the training pixels after scaling to [0,1] (0.3530). */
    public static final float STD = 0.3530f;
    /** Environment variable naming a data directory. */
    public static final String ENV_VAR = "FASHION_MNIST_DIR";
    /** Directory of Debian's {@code dataset-fashion-mnist} package. */
    public static final Path SYSTEM_DIR = Path.of("/usr/share/datasets/fashion-mnist");

    static final String SAMPLE_RESOURCE_DIR = "/fashion-mnist-sample/";

    /** The two splits of the data set. */
    public enum Split {
        /** The 60,000 training images ({@code train-*} files). */
        TRAIN("train"),
        /** The 10,000 test images ({@code t10k-*} files). */
        TEST("t10k");

        private final String prefix;

        Split(String prefix) {
            this.prefix = prefix;
        }

        String imagesFile() {
            return prefix + "-images-idx3-ubyte";
        }

        String labelsFile() {
            return prefix + "-labels-idx1-ubyte";
        }
    }

    /** Where the data was found. */
    public enum Source {
        /** A directory given explicitly ({@code --data DIR}). */
        EXPLICIT,
        /** The directory named by {@value FashionMnist#ENV_VAR}. */
        ENVIRONMENT,
        /** Debian's system-wide directory. */
        SYSTEM,
        /** The small sample embedded on the classpath. */
        SAMPLE
    }

    private final Source source;
    private final Path directory; // null for SAMPLE

    private FashionMnist(Source source, Path directory) {
        this.source = source;
        this.directory = directory;
    }

    /**
     * Finds the data: {@code explicitDir} if not null, else {@value #ENV_VAR}, else
     * {@link #SYSTEM_DIR}, else the embedded sample.
     *
     * @param explicitDir directory given by the user, or null
     * @throws IOException if the explicit or environment directory does not hold the four files
     */
    public static FashionMnist locate(Path explicitDir) throws IOException {
        return locate(explicitDir, System::getenv, SYSTEM_DIR);
    }

    /** As {@link #locate(Path)}, with the environment lookup and the system directory injected. */
    static FashionMnist locate(Path explicitDir, Function<String, String> env, Path systemDir) throws IOException {
        if (explicitDir != null) {
            requireComplete(explicitDir, "--data " + explicitDir);
            return new FashionMnist(Source.EXPLICIT, explicitDir);
        }
        String fromEnv = env.apply(ENV_VAR);
        if (fromEnv != null && !fromEnv.isBlank()) {
            Path dir = Path.of(fromEnv.strip());
            requireComplete(dir, ENV_VAR + "=" + fromEnv);
            return new FashionMnist(Source.ENVIRONMENT, dir);
        }
        if (systemDir != null && missingFiles(systemDir).isEmpty()) {
            return new FashionMnist(Source.SYSTEM, systemDir);
        }
        return sample();
    }

    /** The small sample embedded on the classpath, regardless of what else is available. */
    public static FashionMnist sample() {
        return new FashionMnist(Source.SAMPLE, null);
    }

    /** Which source {@link #locate} chose. */
    public Source source() {
        return source;
    }

    /** The data directory, empty for the embedded sample. */
    public Optional<Path> directory() {
        return Optional.ofNullable(directory);
    }

    /** One line for logs saying which data is used and why, e.g. {@code Fashion-MNIST from /dir (--data)}. */
    public String describe() {
        return switch (source) {
            case EXPLICIT -> "Fashion-MNIST from " + directory + " (--data)";
            case ENVIRONMENT -> "Fashion-MNIST from " + directory + " (" + ENV_VAR + ")";
            case SYSTEM -> "Fashion-MNIST from " + directory + " (system data set)";
            case SAMPLE -> "embedded Fashion-MNIST sample (classpath:" + SAMPLE_RESOURCE_DIR
                    + ", 1,000 train / 500 test images; smoke tests only, install dataset-fashion-mnist,"
                    + " set " + ENV_VAR + " or pass --data for the full set)";
        };
    }

    @Override
    public String toString() {
        return describe();
    }

    /**
     * Reads one split into memory, checking that the images are 28x28 and the labels 0..9.
     *
     * @throws IOException if the files cannot be read or are not valid Fashion-MNIST files
     */
    public LabeledImages load(Split split) throws IOException {
        Objects.requireNonNull(split, "split");
        LabeledImages data;
        if (directory == null) {
            String images = SAMPLE_RESOURCE_DIR + split.imagesFile() + ".gz";
            String labels = SAMPLE_RESOURCE_DIR + split.labelsFile() + ".gz";
            data = LabeledImages.of(readResourceImages(images), readResourceLabels(labels),
                    "classpath:" + images, "classpath:" + labels);
        } else {
            data = IdxReader.read(find(directory, split.imagesFile()), find(directory, split.labelsFile()));
        }
        if (data.rows() != IMAGE_SIZE || data.cols() != IMAGE_SIZE) {
            throw new IOException(data.name() + ": images are " + data.rows() + "x" + data.cols()
                    + ", expected " + IMAGE_SIZE + "x" + IMAGE_SIZE + " for Fashion-MNIST");
        }
        for (int i = 0; i < data.size(); i++) {
            if (data.label(i) >= NUM_CLASSES) {
                throw new IOException(data.name() + ": label " + data.label(i) + " of example " + i
                        + " is outside 0.." + (NUM_CLASSES - 1));
            }
        }
        return data;
    }

    // ---------------------------------------------------------------------------------------

    private static IdxReader.Images readResourceImages(String resource) throws IOException {
        try (InputStream in = openResource(resource)) {
            return IdxReader.readImages(in, "classpath:" + resource);
        }
    }

    private static byte[] readResourceLabels(String resource) throws IOException {
        try (InputStream in = openResource(resource)) {
            return IdxReader.readLabels(in, "classpath:" + resource);
        }
    }

    private static InputStream openResource(String resource) throws IOException {
        InputStream in = FashionMnist.class.getResourceAsStream(resource);
        if (in == null) {
            throw new IOException("classpath:" + resource + " not found (the embedded Fashion-MNIST sample"
                    + " is missing from this build)");
        }
        return in;
    }

    /** The {@code .gz} file if present, else the plain one, else null. */
    private static Path existing(Path dir, String baseName) {
        Path gz = dir.resolve(baseName + ".gz");
        if (Files.isRegularFile(gz)) {
            return gz;
        }
        Path plain = dir.resolve(baseName);
        return Files.isRegularFile(plain) ? plain : null;
    }

    private static Path find(Path dir, String baseName) throws IOException {
        Path p = existing(dir, baseName);
        if (p == null) {
            throw new IOException(dir + ": missing " + baseName + ".gz (or uncompressed " + baseName + ")");
        }
        return p;
    }

    private static List<String> missingFiles(Path dir) {
        List<String> missing = new ArrayList<>();
        for (Split s : Split.values()) {
            for (String f : List.of(s.imagesFile(), s.labelsFile())) {
                if (existing(dir, f) == null) {
                    missing.add(f + "[.gz]");
                }
            }
        }
        return missing;
    }

    private static void requireComplete(Path dir, String origin) throws IOException {
        if (!Files.isDirectory(dir)) {
            throw new IOException(origin + ": no such directory; expected a directory holding the Fashion-MNIST"
                    + " IDX files");
        }
        List<String> missing = missingFiles(dir);
        if (!missing.isEmpty()) {
            throw new IOException(origin + ": not a Fashion-MNIST directory, missing " + String.join(", ", missing));
        }
    }
}
