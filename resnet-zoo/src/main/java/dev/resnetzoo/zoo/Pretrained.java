package dev.resnetzoo.zoo;

import static java.lang.System.Logger.Level.INFO;
import static java.lang.System.Logger.Level.WARNING;

import dev.resnetzoo.core.ResNetSpec;
import dev.resnetzoo.core.ResNets;
import dev.resnetzoo.zoo.download.DownloadException;
import dev.resnetzoo.zoo.download.Downloader;
import dev.resnetzoo.zoo.download.ProgressListener;
import dev.resnetzoo.zoo.download.ZooCache;
import dev.resnetzoo.zoo.files.Sha256;
import dev.resnetzoo.zoo.registry.Registry;
import dev.resnetzoo.zoo.registry.WeightsEntry;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

import org.deeplearning4j.nn.graph.ComputationGraph;

/**
 * Loads pretrained networks by name: resolves the weights in a {@link Registry}, downloads and
 * verifies the file, converts it to a DL4J {@link ComputationGraph}, and keeps the converted model
 * so that the next load is a plain restore. The result is a {@link SavedModel}: the graph with the
 * entry's architecture, preprocessing and labels.
 *
 * <pre>{@code
 * SavedModel resnet50 = Pretrained.builder().build().load("resnet50");      // default weights (V2)
 * SavedModel v1 = Pretrained.builder().build().load("ResNet50_Weights.IMAGENET1K_V1");
 * SavedModel tl = Pretrained.builder().optNumClasses(10).build().load("resnext50_32x4d.tv2_in1k");
 * SavedModel se = Pretrained.builder().optSha256("<64 hex digits>").build().load("seresnext50_32x4d");
 * ComputationGraph graph = resnet50.graph();
 * }</pre>
 *
 * <h2>What {@link #load(WeightsEntry)} does</h2>
 * <ol>
 *   <li>Decides the hash to verify with: the entry's (full or prefix) and/or the one given with
 *       {@link Builder#optSha256(String)}. An entry without any hash is not downloaded: the user
 *       must supply one, or place the file by hand as {@code <cache>/weights/<fileName>}, in which
 *       case it is used unverified (with a warning giving its SHA-256).</li>
 *   <li>If {@code <cache>/models/<tag>-<hash>-c<N>.zip} exists, restores it with
 *       {@link SavedModel#read(Path)} and checks its classifier and parameter count; nothing is
 *       downloaded or imported. A file that does not restore or does not fit is deleted with a
 *       warning and rebuilt.</li>
 *   <li>Otherwise fetches the weights with the {@link Downloader} (cache, mirror, offline mode,
 *       resumption, SHA-256 check), imports them with
 *       {@link WeightImporter#importCheckpoint(ResNetSpec, Path)}, and writes the converted model
 *       (without updater state) to a temporary file in the models directory that is then moved into
 *       place atomically, so a reader never sees a partial file. A cache that cannot be written is
 *       only a warning.</li>
 *   <li>With {@link Builder#optNumClasses(int)} different from the file's, returns a graph with a
 *       freshly initialised classifier of that size and every other parameter (including batch-norm
 *       statistics) copied from the pretrained one: the usual start of transfer learning. The cached
 *       model always keeps the file's own classifier.</li>
 * </ol>
 * The key of the converted model is the weights' hash and the converter's version
 * {@code N} ({@link #CONVERTER_VERSION}), so other weights, a corrected hash or a release whose
 * conversion differs never reuse a stale conversion. Deleting {@code <cache>/models} forces a new
 * conversion and frees the space of older versions.
 *
 * <p>Instances are immutable and thread-safe. Concurrent loads of the same entry may both convert;
 * each writes its own temporary file and the last move wins, with identical content.
 */
public final class Pretrained {

    private static final System.Logger log = System.getLogger(Pretrained.class.getName());

    /** Seed of a classifier replaced by {@link Builder#optNumClasses(int)}: loads are reproducible. */
    static final long NEW_CLASSIFIER_SEED = 42;

    /**
     * Version of the conversion (graph layout, importer, serialised format), part of the cached
     * model's name. Raised whenever a release converts the same weights into a different model.
     */
    public static final int CONVERTER_VERSION = 2;

    private final ZooCache cache;
    private final Downloader downloader;
    private final Registry registry;
    private final int numClasses;
    private final String sha256;

    private Pretrained(Builder b) {
        this.cache = b.cache != null ? b.cache : ZooCache.fromEnvironment();
        this.downloader = b.downloader != null ? b.downloader
                : Downloader.builder().optCache(cache).optProgress(b.progress != null ? b.progress : ProgressListener.console())
                        .build();
        this.registry = b.registry != null ? b.registry : Registry.builtin();
        this.numClasses = b.numClasses;
        this.sha256 = b.sha256;
    }

    /**
     * Starts configuring a loader. Defaults: {@link ZooCache#fromEnvironment()}, a {@link Downloader}
     * on that cache with console progress, {@link Registry#builtin()}, the file's own classifier, no
     * user-supplied hash.
     *
     * @return a new builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Loads the network for a tag, alias or architecture name (which means its default weights).
     *
     * @param tagOrVariant e.g. {@code resnet50}, {@code resnet50.tv_in1k}, {@code ResNet50_Weights.IMAGENET1K_V2}
     * @return the network with its metadata, in inference-ready state (no updater)
     * @throws IllegalArgumentException if the name is unknown (the message lists the known tags), or
     *                                  the user's SHA-256 is malformed or contradicts the registry's
     * @throws DownloadException        if the weights cannot be obtained or verified, or have no hash
     * @throws WeightImportException    if the file does not fit the architecture
     * @throws IOException              on other I/O errors
     */
    public SavedModel load(String tagOrVariant) throws IOException {
        return load(registry.get(Objects.requireNonNull(tagOrVariant, "tagOrVariant")));
    }

    /**
     * Loads the network for a registry entry (see the class documentation for the steps).
     *
     * @param entry the weights, from a {@link Registry} or built by hand
     * @return the network with its metadata, in inference-ready state (no updater)
     * @throws IllegalArgumentException if the user's SHA-256 is malformed or contradicts the entry's
     * @throws DownloadException        if the weights cannot be obtained or verified, or have no hash
     * @throws WeightImportException    if the file does not fit the architecture
     * @throws IOException              on other I/O errors
     */
    public SavedModel load(WeightsEntry entry) throws IOException {
        Objects.requireNonNull(entry, "entry");
        ResNetSpec spec = entry.spec();
        Path weights = null;
        String hash;
        if (entry.hasSha256() || sha256 != null) {
            hash = entry.fileSpec(sha256).sha256().hex();
        } else {
            PlacedByHand placed = placedByHand(entry);
            weights = placed.file();
            hash = placed.sha256().hex();
        }
        Path model = modelFile(entry, hash);
        SavedModel loaded = restore(entry, model);
        if (loaded == null) {
            Path file = weights != null ? weights : downloader.fetch(entry.fileSpec(sha256));
            log.log(INFO, () -> "Converting " + entry.tag() + " (" + file.getFileName() + ") to a DL4J model");
            ComputationGraph graph = WeightImporter.importCheckpoint(spec, file);
            loaded = SavedModel.of(graph, spec, entry.preprocessing(), labels(entry), entry.tag());
            save(loaded, model);
        }
        if (numClasses > 0 && numClasses != spec.numClasses()) {
            SavedModel replaced = loaded.withNewClassifier(numClasses, List.of(), NEW_CLASSIFIER_SEED);
            loaded.close();
            loaded = replaced;
        }
        return loaded;
    }

    /**
     * Returns the verified weight file of an entry, downloading it if needed (no conversion).
     *
     * @param entry the weights
     * @return the file in the cache's weights directory
     * @throws DownloadException if it cannot be obtained or verified, or has no hash and is not in the cache
     * @throws IOException       on other I/O errors
     */
    public Path fetch(WeightsEntry entry) throws IOException {
        Objects.requireNonNull(entry, "entry");
        if (entry.hasSha256() || sha256 != null) {
            return downloader.fetch(entry.fileSpec(sha256));
        }
        return placedByHand(entry).file();
    }

    /**
     * Where the converted model of an entry is (or will be) cached:
     * {@code <cache>/models/<tag>-<hash>-c<N>.zip}, with the hash the entry is verified with and
     * {@code N} = {@link #CONVERTER_VERSION}.
     *
     * @param entry the weights; must have a hash, or one must have been given with {@link Builder#optSha256}
     * @return the path (the file may not exist)
     * @throws IllegalStateException if no hash is known
     */
    public Path modelFile(WeightsEntry entry) {
        return modelFile(entry, entry.fileSpec(sha256).sha256().hex());
    }

    /**
     * Returns the registry names are resolved in.
     *
     * @return the registry
     */
    public Registry registry() {
        return registry;
    }

    private Path modelFile(WeightsEntry entry, String hash) {
        return cache.models().resolve(entry.tag() + "-" + hash + "-c" + CONVERTER_VERSION + ".zip");
    }

    /** A weight file the user put into the cache, with its SHA-256 (computed once). */
    private record PlacedByHand(Path file, Sha256 sha256) {
    }

    /** An entry without any hash: usable only if the user put the file into the cache. */
    private PlacedByHand placedByHand(WeightsEntry entry) throws IOException {
        Path file = cache.weights().resolve(entry.fileName());
        if (!Files.isRegularFile(file)) {
            String message;
            try {
                entry.fileSpec(null);
                message = "no SHA-256 for " + entry.tag();
            } catch (IllegalStateException e) {
                message = e.getMessage();
            }
            throw new DownloadException(message + " (expected at " + file + ")");
        }
        Sha256 actual = Sha256.of(file);
        log.log(WARNING, () -> "Using " + file + " for " + entry.tag() + " without verification: no SHA-256 is published "
                + "for it. Its SHA-256 is " + actual + "; pass it with --sha256 (optSha256) to verify this file from now on");
        return new PlacedByHand(file, actual);
    }

    /** The entry's labels when there is one per class, else none. */
    private static List<String> labels(WeightsEntry entry) {
        return entry.labels().size() == entry.spec().numClasses() ? entry.labels() : List.of();
    }

    private SavedModel restore(WeightsEntry entry, Path model) throws IOException {
        if (!Files.isRegularFile(model)) {
            return null;
        }
        try {
            SavedModel m = SavedModel.read(model);
            String problem = mismatch(m, entry.spec());
            if (problem == null) {
                return m;
            }
            m.close();
            log.log(WARNING, () -> "Converted model " + model + " does not fit " + entry.tag() + " (" + problem
                    + "); deleting it and converting again");
        } catch (IOException | RuntimeException | LinkageError e) {
            log.log(WARNING, () -> "Converted model " + model + " cannot be restored (" + e.getMessage()
                    + "); deleting it and converting again");
        }
        Files.deleteIfExists(model);
        return null;
    }

    /** Null if the model is the spec's network (architecture and parameter count), else what differs. */
    private static String mismatch(SavedModel m, ResNetSpec spec) {
        if (!m.spec().equals(spec)) {
            return "architecture " + m.spec() + " instead of " + spec;
        }
        long params = ResNets.countParameters(m.graph());
        long expected = ResNets.summary(spec).params();
        if (params != expected) {
            return params + " parameters instead of " + expected;
        }
        return null;
    }

    private static void save(SavedModel m, Path model) {
        try {
            m.write(model);
        } catch (IOException | RuntimeException e) {
            log.log(WARNING, () -> "Cannot cache the converted model as " + model + " (" + e.getMessage()
                    + "); it will be converted again next time");
        }
    }

    /** Configures a {@link Pretrained} loader; every option has a default (see {@link Pretrained#builder()}). */
    public static final class Builder {
        private ZooCache cache;
        private Downloader downloader;
        private ProgressListener progress;
        private Registry registry;
        private int numClasses;
        private String sha256;

        private Builder() {
        }

        /**
         * Sets the cache: its {@code models/} directory holds converted models, and the default
         * downloader stores weights in its {@code weights/} directory.
         *
         * @param cache cache directory, mirror and offline settings
         * @return this builder
         */
        public Builder optCache(ZooCache cache) {
            this.cache = Objects.requireNonNull(cache, "cache");
            return this;
        }

        /**
         * Sets the downloader for weight files (retries, timeouts, progress). It should use the same
         * cache as {@link #optCache(ZooCache)}, where weights placed by hand are looked for.
         *
         * @param downloader the downloader
         * @return this builder
         */
        public Builder optDownloader(Downloader downloader) {
            this.downloader = Objects.requireNonNull(downloader, "downloader");
            return this;
        }

        /**
         * Sets the progress listener of the default downloader (ignored with {@link #optDownloader}).
         *
         * @param progress the listener, e.g. {@link ProgressListener#NONE}
         * @return this builder
         */
        public Builder optProgress(ProgressListener progress) {
            this.progress = Objects.requireNonNull(progress, "progress");
            return this;
        }

        /**
         * Sets the registry that names are looked up in.
         *
         * @param registry the registry
         * @return this builder
         */
        public Builder optRegistry(Registry registry) {
            this.registry = Objects.requireNonNull(registry, "registry");
            return this;
        }

        /**
         * Replaces the classifier by a freshly initialised one with this many outputs (transfer
         * learning); {@code 0}, the default, keeps the file's classifier.
         *
         * @param numClasses outputs of the new classifier, or 0
         * @return this builder
         */
        public Builder optNumClasses(int numClasses) {
            if (numClasses < 0) {
                throw new IllegalArgumentException("numClasses must be >= 1, or 0 to keep the file's classifier, got "
                        + numClasses);
            }
            this.numClasses = numClasses;
            return this;
        }

        /**
         * Supplies the SHA-256 of the weight file, for entries that publish none (or only a prefix).
         * It must agree with the entry's prefix if there is one.
         *
         * @param sha256 64 hex digits (or a prefix of at least {@value Sha256#MIN_PREFIX_DIGITS}), or
         *               {@code null} for none
         * @return this builder
         * @throws IllegalArgumentException if it is not hex of an accepted length
         */
        public Builder optSha256(String sha256) {
            Sha256 parsed = Sha256.parseOptional(sha256);
            this.sha256 = parsed == null ? null : parsed.hex();
            return this;
        }

        /**
         * Creates the loader.
         *
         * @return a new, immutable loader
         */
        public Pretrained build() {
            return new Pretrained(this);
        }
    }
}
