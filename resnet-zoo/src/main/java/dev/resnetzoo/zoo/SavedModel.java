package dev.resnetzoo.zoo;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.resnetzoo.core.ResNetSpec;
import dev.resnetzoo.core.ResNets;
import dev.resnetzoo.zoo.files.AtomicFiles;
import dev.resnetzoo.zoo.registry.Preprocessing;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;

/**
 * A network together with what it takes to use it: its architecture ({@link ResNetSpec}, which
 * includes the input shape), the image preprocessing it expects, its class labels, and where it
 * came from. Every model of this project is held, written and read as one: pretrained weights
 * ({@link Pretrained}), an imported checkpoint ({@code ./resnet import}), a trained network
 * ({@code ./resnet train}), a fine-tuned one ({@code ./resnet finetune}).
 *
 * <pre>{@code
 * SavedModel model = SavedModel.read(Path.of("model.zip"));
 * INDArray x = ImagePreprocessor.of(model.preprocessing()).preprocess(Path.of("cat.jpg"));
 * INDArray logits = model.graph().outputSingle(x);
 * String best = model.labels().get(logits.argMax(1).getInt(0));
 * }</pre>
 *
 * <h2>File format</h2>
 * A DL4J model zip as {@link ModelSerializer} writes it (configuration, parameters, and the updater
 * state when asked for), plus the entry {@value #ENTRY}: JSON with {@code format}, {@code spec},
 * {@code preprocessing}, {@code labels} and {@code source}. DL4J's own readers ignore the extra
 * entry, so the file still restores with {@code ModelSerializer.restoreComputationGraph}. Files
 * are replaced atomically: a reader sees the old file or the new one, never a partial one.
 *
 * <p>A file is hostile until checked: {@link #read(Path)} reads the small metadata entry first
 * (bounded in size), validates it, then restores the network and checks that it is the network
 * the metadata describes (classifier outputs, input channels, number of labels).
 *
 * <p>Instances are not thread-safe (a {@link ComputationGraph} is not); {@link #close()} frees
 * the graph's native memory. {@link #withLabels}, {@link #withPreprocessing} and
 * {@link #withInputSize} return a model that shares this one's graph: close one of them, not
 * both. {@link #withNewClassifier} makes a new graph.
 */
public final class SavedModel implements AutoCloseable {

    /** Name of the metadata entry in the model zip. */
    public static final String ENTRY = "resnet-model.json";

    /** Version of the metadata layout; files of another version are refused. */
    public static final int FORMAT = 1;

    /** Largest metadata entry read (labels of many thousand classes fit easily). */
    static final long MAX_METADATA_BYTES = 16L << 20;

    private static final ObjectMapper JSON = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, true);

    /** The metadata entry, as JSON. */
    record Metadata(int format, ResNetSpec spec, Preprocessing preprocessing, List<String> labels, String source) {
    }

    private final ComputationGraph graph;
    private final ResNetSpec spec;
    private final Preprocessing preprocessing;
    private final List<String> labels;
    private final String source;

    private SavedModel(ComputationGraph graph, ResNetSpec spec, Preprocessing preprocessing, List<String> labels,
                       String source) {
        this.graph = graph;
        this.spec = spec;
        this.preprocessing = preprocessing;
        this.labels = labels;
        this.source = source;
    }

    /**
     * Puts a network and its metadata together.
     *
     * @param graph         a network built by {@link ResNets} from {@code spec} (possibly trained,
     *                      fine-tuned or with frozen layers)
     * @param spec          its architecture; its input shape is the model's
     * @param preprocessing how images are prepared for it
     * @param labels        class names in output order, or an empty list when unknown
     * @param source        where it came from, for messages (e.g. {@code resnet50.tv2_in1k},
     *                      {@code imported from resnet50.pth})
     * @return the model
     * @throws IllegalArgumentException if the graph is not the spec's network (classifier outputs,
     *                                  input channels) or the labels do not match the classes
     */
    public static SavedModel of(ComputationGraph graph, ResNetSpec spec, Preprocessing preprocessing,
                                List<String> labels, String source) {
        Objects.requireNonNull(graph, "graph");
        Objects.requireNonNull(spec, "spec");
        Objects.requireNonNull(preprocessing, "preprocessing");
        List<String> l = List.copyOf(Objects.requireNonNull(labels, "labels"));
        String s = source == null || source.isBlank() ? spec.name() : source;
        String problem = mismatch(graph, spec, preprocessing, l);
        if (problem != null) {
            throw new IllegalArgumentException("the network does not fit its description (" + spec.name() + "): "
                    + problem);
        }
        return new SavedModel(graph, spec, preprocessing, l, s);
    }

    /**
     * A randomly initialised network of an architecture, with {@link #defaultPreprocessing} and no
     * labels.
     *
     * @param spec the architecture
     * @return the model
     */
    public static SavedModel randomInit(ResNetSpec spec) {
        return of(ResNets.create(spec), spec, defaultPreprocessing(spec), List.of(), spec.name() + " (random init)");
    }

    /**
     * The preprocessing of a model that names none, at the model's input size (crop = input
     * height, shorter side resized to {@code round(crop * 256 / 224)} first, bilinear): for RGB
     * input ImageNet's evaluation transform (ImageNet mean and standard deviation); for grey input
     * PIL's grey conversion and plain scaling to {@code [0, 1]} (mean 0, std 1), which is right only
     * for a network trained on such input: give the real one with {@link #withPreprocessing} where
     * it differs. This is the one place this rule lives.
     *
     * @param spec the architecture (its input must be square, with 1 or 3 channels)
     * @return the preprocessing
     * @throws IllegalArgumentException if the input is not square or has another number of channels
     */
    public static Preprocessing defaultPreprocessing(ResNetSpec spec) {
        if (spec.inputHeight() != spec.inputWidth()) {
            throw new IllegalArgumentException(spec.name() + " takes " + spec.inputHeight() + "x" + spec.inputWidth()
                    + " input; images are center-cropped to a square, so give its preprocessing explicitly");
        }
        int crop = spec.inputHeight();
        return switch (spec.inputChannels()) {
            case 3 -> Preprocessing.imagenet(resizeFor(crop), crop, Preprocessing.Interpolation.BILINEAR);
            case 1 -> Preprocessing.grey(resizeFor(crop), crop, Preprocessing.Interpolation.BILINEAR, 0.0, 1.0);
            default -> throw new IllegalArgumentException(spec.name() + " takes " + spec.inputChannels()
                    + "-channel input; images give 1 (grey) or 3 (RGB), so give its preprocessing explicitly");
        };
    }

    /** torchvision's ratio of resize to crop (256 for 224). */
    static int resizeFor(int crop) {
        return (int) Math.round(crop * 256.0 / 224.0);
    }

    /**
     * Reads a model written by {@link #write(Path)}, without updater state.
     *
     * @param file the model zip
     * @return the model
     * @throws IOException with a one-line message naming the file, if it is missing, a directory,
     *                     not a zip, lacks or has invalid metadata, or holds another network
     */
    public static SavedModel read(Path file) throws IOException {
        return read(file, false);
    }

    /**
     * Reads a model, with its updater state when asked for (to continue training).
     *
     * @param file        the model zip
     * @param withUpdater restore the updater state too (the file must hold one)
     * @return the model
     * @throws IOException with a one-line message naming the file (see {@link #read(Path)})
     */
    public static SavedModel read(Path file, boolean withUpdater) throws IOException {
        Objects.requireNonNull(file, "file");
        if (Files.isDirectory(file)) {
            throw new IOException(file + " is a directory; expected a model zip (from ./resnet import, train or finetune)");
        }
        if (!Files.isRegularFile(file)) {
            throw new NoSuchFileException(file.toString(), null, "no such model file");
        }
        Metadata meta = readMetadata(file);
        ComputationGraph graph;
        try {
            graph = ModelSerializer.restoreComputationGraph(file.toFile(), withUpdater);
        } catch (IOException | RuntimeException e) {
            throw new IOException(file + ": cannot restore the network (" + oneLine(e) + ")", e);
        }
        String problem = mismatch(graph, meta.spec(), meta.preprocessing(), meta.labels());
        if (problem != null) {
            graph.close();
            throw new IOException(file + ": the network does not fit its metadata (" + meta.spec().name() + "): "
                    + problem);
        }
        return new SavedModel(graph, meta.spec(), meta.preprocessing(), List.copyOf(meta.labels()),
                meta.source() == null ? meta.spec().name() : meta.source());
    }

    /**
     * Reads only the metadata of a model file (the network is not restored): cheap.
     *
     * @param file the model zip
     * @return its architecture
     * @throws IOException as {@link #read(Path)}
     */
    public static ResNetSpec readSpec(Path file) throws IOException {
        return readMetadata(file).spec();
    }

    private static Metadata readMetadata(Path file) throws IOException {
        try (ZipFile zip = new ZipFile(file.toFile())) {
            ZipEntry e = zip.getEntry(ENTRY);
            if (e == null) {
                if (zip.getEntry(ModelSerializer.CONFIGURATION_JSON) != null) {
                    throw new IOException(file + " is a DL4J model zip without " + ENTRY + " (written by DL4J's "
                            + "ModelSerializer or an older version of this project); expected a model from ./resnet "
                            + "import, train or finetune, or SavedModel.of(graph, spec, ...).write(file)");
                }
                throw new IOException(file + " is a zip but not a model: no " + ENTRY);
            }
            byte[] bytes;
            try (InputStream in = zip.getInputStream(e)) {
                bytes = in.readNBytes((int) MAX_METADATA_BYTES + 1);
            }
            if (bytes.length > MAX_METADATA_BYTES) {
                throw new IOException(file + ": " + ENTRY + " is larger than " + (MAX_METADATA_BYTES >> 20)
                        + " MB; not a model of this project");
            }
            Metadata meta;
            try {
                meta = JSON.readValue(bytes, Metadata.class);
            } catch (JsonProcessingException | IllegalArgumentException ex) {
                throw new IOException(file + ": invalid " + ENTRY + " (" + jsonProblem(ex) + ")", ex);
            }
            if (meta == null || meta.format() != FORMAT) {
                throw new IOException(file + ": " + ENTRY + " has format " + (meta == null ? "none" : meta.format())
                        + "; this version reads format " + FORMAT);
            }
            if (meta.spec() == null || meta.preprocessing() == null || meta.labels() == null) {
                throw new IOException(file + ": " + ENTRY + " lacks spec, preprocessing or labels");
            }
            return meta;
        } catch (ZipException e) {
            throw new IOException(file + " is not a zip file (" + e.getMessage() + "); expected a model zip from "
                    + "./resnet import, train or finetune", e);
        }
    }

    /** The first line of a Jackson error, without its source location. */
    private static String jsonProblem(Exception e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t && t.getCause() instanceof IllegalArgumentException) {
            t = t.getCause();
        }
        String m = t instanceof JsonProcessingException j ? j.getOriginalMessage() : t.getMessage();
        return m == null ? t.getClass().getSimpleName() : m.lines().findFirst().orElse(m);
    }

    private static String oneLine(Exception e) {
        String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        return m.lines().findFirst().orElse(m);
    }

    /** Null if the graph is the spec's network with these labels, else what differs. */
    private static String mismatch(ComputationGraph graph, ResNetSpec spec, Preprocessing preprocessing,
                                   List<String> labels) {
        Layer fc = graph.getLayer(ResNets.CLASSIFIER);
        if (fc == null || fc.getParam("b") == null) {
            return "no classifier layer '" + ResNets.CLASSIFIER + "'";
        }
        long outputs = fc.getParam("b").length();
        if (outputs != spec.numClasses()) {
            return "the classifier has " + outputs + " outputs, the spec " + spec.numClasses() + " classes";
        }
        Layer conv1 = graph.getLayer("conv1");
        if (conv1 == null || conv1.getParam("W") == null) {
            return "no stem convolution 'conv1'";
        }
        long channels = conv1.getParam("W").size(1);
        if (channels != spec.inputChannels()) {
            return "the stem takes " + channels + " channels, the spec " + spec.inputChannels();
        }
        if (!labels.isEmpty() && labels.size() != spec.numClasses()) {
            return labels.size() + " labels for " + spec.numClasses() + " classes";
        }
        int preChannels = preprocessing.channels();
        if (preChannels != spec.inputChannels()) {
            return "the preprocessing makes " + preChannels + "-channel input, the network takes "
                    + spec.inputChannels();
        }
        return null;
    }

    /**
     * Writes the model without updater state, atomically: {@code target} then holds either its
     * previous content or this model, never a partial file.
     *
     * @param target the zip to write (its directory is created)
     * @throws IOException if writing fails (nothing is left behind)
     */
    public void write(Path target) throws IOException {
        write(target, false, Map.of(), tmp -> { });
    }

    /**
     * Writes the model atomically, with the updater state if asked for, and extra zip entries
     * (e.g. a training loop's state) before the model's own.
     *
     * @param target      the zip to write (its directory is created)
     * @param withUpdater include the updater state (to continue training)
     * @param extra       extra entries by name; none may be named like DL4J's entries or {@value #ENTRY}
     * @param beforeMove  runs on the complete temporary file just before it replaces {@code target}
     * @throws IOException if writing fails (the previous {@code target} is kept)
     */
    public void write(Path target, boolean withUpdater, Map<String, byte[]> extra, AtomicFiles.BeforeMove beforeMove)
            throws IOException {
        Objects.requireNonNull(target, "target");
        byte[] meta = JSON.writerWithDefaultPrettyPrinter()
                .writeValueAsBytes(new Metadata(FORMAT, spec, preprocessing, labels, source));
        Map<String, byte[]> entries = new LinkedHashMap<>(extra);
        if (entries.put(ENTRY, meta) != null) {
            throw new IllegalArgumentException("extra entry named " + ENTRY);
        }
        Path abs = target.toAbsolutePath();
        Files.createDirectories(abs.getParent());
        Path dl4j = AtomicFiles.createTemp(abs);
        try {
            ModelSerializer.writeModel(graph, dl4j.toFile(), withUpdater);
            AtomicFiles.write(abs, out -> {
                ZipOutputStream zip = new ZipOutputStream(out);
                for (Map.Entry<String, byte[]> e : entries.entrySet()) {
                    zip.putNextEntry(new ZipEntry(e.getKey()));
                    zip.write(e.getValue());
                    zip.closeEntry();
                }
                try (ZipFile src = new ZipFile(dl4j.toFile())) {
                    Enumeration<? extends ZipEntry> all = src.entries();
                    while (all.hasMoreElements()) {
                        ZipEntry e = all.nextElement();
                        if (entries.containsKey(e.getName())) {
                            throw new IllegalArgumentException("extra entry " + e.getName() + " collides with DL4J's");
                        }
                        zip.putNextEntry(new ZipEntry(e.getName()));
                        try (InputStream in = src.getInputStream(e)) {
                            in.transferTo(zip);
                        }
                        zip.closeEntry();
                    }
                }
                zip.finish();
            }, beforeMove);
        } finally {
            Files.deleteIfExists(dl4j);
        }
    }

    /**
     * The same model with a new, randomly initialised classifier (transfer learning), via
     * {@link ResNets#replaceClassifier}. This model is left as it is.
     *
     * @param numClasses outputs of the new classifier
     * @param labels     its class names, or an empty list
     * @param seed       seed of its initialisation
     * @return a new model
     */
    public SavedModel withNewClassifier(int numClasses, List<String> labels, long seed) {
        ResNetSpec s = spec.toBuilder().numClasses(numClasses).build();
        return of(ResNets.replaceClassifier(graph, numClasses, seed), s, preprocessing, labels, source);
    }

    /**
     * The same network at another square input size: the spec's input height and width and the
     * preprocessing's crop become {@code size}, and the resize keeps its ratio to the crop
     * (convolutional networks run at any size; the classifier follows a global pool).
     *
     * @param size input height and width in pixels, at least 1
     * @return the same network with this input size
     */
    public SavedModel withInputSize(int size) {
        if (size < 1) {
            throw new IllegalArgumentException("input size must be >= 1, got " + size);
        }
        ResNetSpec s = spec.toBuilder().input(spec.inputChannels(), size, size).build();
        int resize = Math.max(size, (int) Math.round(size * (double) preprocessing.resizeSize() / preprocessing.cropSize()));
        Preprocessing p = new Preprocessing(resize, size, preprocessing.interpolation(), preprocessing.mean(),
                preprocessing.std());
        return of(graph, s, p, labels, source);
    }

    /**
     * @param newLabels class names in output order, or an empty list
     * @return the same network with these labels
     */
    public SavedModel withLabels(List<String> newLabels) {
        return of(graph, spec, preprocessing, newLabels, source);
    }

    /**
     * @param newPreprocessing how images are prepared
     * @return the same network with this preprocessing
     */
    public SavedModel withPreprocessing(Preprocessing newPreprocessing) {
        return of(graph, spec, newPreprocessing, labels, source);
    }

    /** @return the network */
    public ComputationGraph graph() {
        return graph;
    }

    /** @return the architecture, input shape included */
    public ResNetSpec spec() {
        return spec;
    }

    /** @return the input shape {@code {C, H, W}} */
    public int[] inputShape() {
        return new int[] {spec.inputChannels(), spec.inputHeight(), spec.inputWidth()};
    }

    /** @return how images are prepared for this network */
    public Preprocessing preprocessing() {
        return preprocessing;
    }

    /** @return class names in output order; empty when unknown */
    public List<String> labels() {
        return labels;
    }

    /** @return where the model came from, for messages */
    public String source() {
        return source;
    }

    /** @return the number of classes */
    public int numClasses() {
        return spec.numClasses();
    }

    /** Frees the network's native memory. */
    @Override
    public void close() {
        graph.close();
    }

    @Override
    public String toString() {
        return source + " (" + spec.name() + ", input " + spec.inputChannels() + "x" + spec.inputHeight() + "x"
                + spec.inputWidth() + ", " + spec.numClasses() + " classes" + (labels.isEmpty() ? "" : ", labelled")
                + ")";
    }
}
