package dev.resnetzoo.examples.finetune;

import dev.resnetzoo.core.ResNetSpec;
import dev.resnetzoo.zoo.SavedModel;
import dev.resnetzoo.zoo.data.ImageFolder;
import dev.resnetzoo.zoo.data.ImageFolderIterator;
import dev.resnetzoo.zoo.files.AtomicFiles;
import dev.resnetzoo.zoo.preprocess.ImagePreprocessor;
import dev.resnetzoo.zoo.transfer.FeatureCache;
import dev.resnetzoo.zoo.transfer.FineTuner;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.evaluation.classification.Evaluation;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.learning.config.Adam;

/**
 * The engine of {@code ./resnet finetune}: fine-tunes a ResNet backbone on a folder of images, one
 * sub-folder per class:
 * <ol>
 *   <li>scans the folder ({@link ImageFolder}) and splits it, per class and seeded, into train and
 *       held-out images;</li>
 *   <li>replaces the classifier with one for the folder's classes and freezes the backbone through
 *       {@code freezeThrough} ({@code pool}: train the classifier only; {@code layer3}: also train
 *       layer4, ...);</li>
 *   <li>computes the frozen part's output for every training image once, preprocessed as the
 *       weights require ({@link ImagePreprocessor}), caching it in {@code out/feature-cache};</li>
 *   <li>trains the unfrozen part on those features, puts it back onto the full graph, evaluates
 *       the full graph on the held-out images, and saves {@code out/model.zip} (a
 *       {@link SavedModel} with the backbone's preprocessing and the folder's class names as labels)
 *       and {@code out/labels.txt}.</li>
 * </ol>
 */
public final class FolderFineTuning {

    /**
     * @param data          image folder
     * @param freezeThrough tap frozen through (stem, layer1..layerN, pool)
     * @param epochs        passes over the training features
     * @param batch         batch size
     * @param heldOut       held-out fraction per class
     * @param learningRate  Adam learning rate
     * @param seed          split, initialisation and shuffling seed
     * @param out           output folder
     */
    public record Options(Path data, String freezeThrough, int epochs, int batch, double heldOut, double learningRate,
                          long seed, Path out) {
        /** Validates. */
        public Options {
            Objects.requireNonNull(data, "data");
            Objects.requireNonNull(out, "out");
            if (epochs < 1 || batch < 1) {
                throw new IllegalArgumentException("epochs and batch must be >= 1, got " + epochs + ", " + batch);
            }
            if (!(learningRate > 0)) {
                throw new IllegalArgumentException("learning rate must be > 0, got " + learningRate);
            }
        }
    }

    /**
     * @param classes  class names
     * @param train    training images
     * @param correct  held-out images classified correctly
     * @param heldOut  held-out images
     * @param accuracy held-out accuracy (NaN without held-out images)
     * @param model    the saved model
     */
    public record Result(List<String> classes, int train, int correct, int heldOut, double accuracy, Path model) {
    }

    private FolderFineTuning() {
    }

    /**
     * @param source the backbone and its preprocessing
     * @param o      options
     * @param log    progress messages
     * @return the outcome
     * @throws IOException if images cannot be read or the model not written
     */
    public static Result run(SavedModel source, Options o, PrintStream log) throws IOException {
        ImageFolder folder = ImageFolder.scan(o.data());
        ImageFolder.Split split = folder.split(o.heldOut(), o.seed());
        if (split.train().isEmpty()) {
            throw new IllegalArgumentException("no training images left after holding out " + o.heldOut());
        }
        log.printf("%s: %d classes %s, %d train / %d held-out images; backbone %s; preprocessing %s%n",
                o.data(), folder.classes().size(), folder.classes(), split.train().size(), split.heldOut().size(),
                source.source(), source.preprocessing());
        ImagePreprocessor pre = ImagePreprocessor.of(source.preprocessing());
        FineTuner ft = FineTuner.builder(source.graph()).optNumClasses(folder.classes().size())
                .optFreezeThrough(o.freezeThrough()).optUpdater(new Adam(o.learningRate())).optSeed(o.seed())
                .optBatchSize(o.batch()).build();
        log.printf("frozen through %s (%d layers); training the rest%n", ft.frozenThrough().orElse("nothing"),
                ft.frozenLayers().size());
        ComputationGraph graph = ft.graph();
        long t0 = System.nanoTime();
        ImageFolderIterator trainIt = new ImageFolderIterator(split.train(), folder.classes(), pre, o.batch());
        if (ft.frozenThrough().isPresent()) {
            DataSet feats = ft.featurize(trainIt, FeatureCache.at(o.out().resolve("feature-cache")),
                    dataKey(split.train(), source));
            log.printf("features %s of %d images in %.1f s%n", java.util.Arrays.toString(feats.getFeatures().shape()),
                    split.train().size(), (System.nanoTime() - t0) / 1e9);
            t0 = System.nanoTime();
            ft.fitFeaturized(feats, o.epochs());
            log.printf("trained %d epochs in %.1f s; train accuracy %.4f%n", o.epochs(), (System.nanoTime() - t0) / 1e9,
                    ft.evaluateFeaturized(feats).accuracy());
        } else {
            ft.fit(trainIt, o.epochs());
            log.printf("trained %d epochs end to end in %.1f s%n", o.epochs(), (System.nanoTime() - t0) / 1e9);
        }
        int correct = 0;
        double acc = Double.NaN;
        if (!split.heldOut().isEmpty()) {
            Evaluation ev = graph.evaluate(new ImageFolderIterator(split.heldOut(), folder.classes(), pre, o.batch()));
            acc = ev.accuracy();
            correct = (int) Math.round(acc * split.heldOut().size());
        }
        Files.createDirectories(o.out());
        Path model = o.out().resolve("model.zip");
        ResNetSpec tuned = source.spec().toBuilder().numClasses(folder.classes().size()).build();
        SavedModel.of(graph, tuned, source.preprocessing(), folder.classes(),
                source.source() + " fine-tuned on " + o.data().getFileName()).write(model);
        AtomicFiles.writeString(o.out().resolve("labels.txt"), String.join("\n", folder.classes()) + "\n");
        return new Result(folder.classes(), split.train().size(), correct, split.heldOut().size(), acc, model);
    }

    /** File names, sizes and dates of the images, with the preprocessing: the data part of the feature cache key. */
    static String dataKey(List<ImageFolder.Sample> samples, SavedModel source) throws IOException {
        StringBuilder sb = new StringBuilder(source.preprocessing().toString()).append('\n');
        for (ImageFolder.Sample s : samples) {
            sb.append(s.file()).append('\t').append(Files.size(s.file())).append('\t')
                    .append(Files.getLastModifiedTime(s.file()).toMillis()).append('\t').append(s.label()).append('\n');
        }
        return sb.toString();
    }
}
