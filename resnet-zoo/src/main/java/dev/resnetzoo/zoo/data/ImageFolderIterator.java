package dev.resnetzoo.zoo.data;

import dev.resnetzoo.zoo.preprocess.ImagePreprocessor;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Objects;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.api.DataSetPreProcessor;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A DL4J {@link DataSetIterator} over images of an {@link ImageFolder}: each batch is decoded and
 * prepared by an {@link ImagePreprocessor} (features {@code [batch, channels, crop, crop]}, the
 * channels of its {@link dev.resnetzoo.zoo.registry.Preprocessing}: 3 for RGB, 1 for grey) with
 * one-hot labels {@code [batch, classes]}. Images are read batch by batch, in the order given,
 * never all at once; {@link #reset()} starts over in the same order.
 *
 * <pre>{@code
 * ImageFolder folder = ImageFolder.scan(Path.of("clothes"));
 * ImagePreprocessor pre = ImagePreprocessor.of(Preprocessing.grey(28, 28, Interpolation.BILINEAR, 0.2860, 0.3530));
 * DataSetIterator it = new ImageFolderIterator(folder.samples(), folder.classes(), pre, 64);
 * graph.fit(it, 3);
 * }</pre>
 *
 * <p>A file that cannot be decoded (not an image, truncated, too many pixels) stops the
 * iteration with an {@link UncheckedIOException} whose one-line message names the file. Not
 * thread-safe, as DL4J iterators are not.
 */
public final class ImageFolderIterator implements DataSetIterator {

    private final List<ImageFolder.Sample> samples;
    private final ImagePreprocessor preprocessor;
    private final int batch;
    private final List<String> labels;
    private int cursor;
    private DataSetPreProcessor preProcessor;

    /**
     * An iterator over the given images.
     *
     * @param samples      images and their classes, in iteration order
     * @param classes      class names; their count is the width of the one-hot labels
     * @param preprocessor decoding, resizing, cropping and normalisation
     * @param batch        images per batch, at least 1 (the last batch may be smaller)
     * @throws IllegalArgumentException if the batch size is not positive, there are no classes,
     *                                  or a sample's label is not a class index
     */
    public ImageFolderIterator(List<ImageFolder.Sample> samples, List<String> classes, ImagePreprocessor preprocessor,
                               int batch) {
        if (batch < 1) {
            throw new IllegalArgumentException("batch size must be >= 1, got " + batch);
        }
        this.samples = List.copyOf(samples);
        this.labels = List.copyOf(classes);
        this.preprocessor = Objects.requireNonNull(preprocessor, "preprocessor");
        this.batch = batch;
        if (labels.isEmpty()) {
            throw new IllegalArgumentException("no classes given: expected the class names, e.g. ImageFolder.classes()");
        }
        for (ImageFolder.Sample s : this.samples) {
            if (s.label() >= labels.size()) {
                throw new IllegalArgumentException("label " + s.label() + " of " + s.file() + " is not a class index: "
                        + "expected 0.." + (labels.size() - 1) + " for classes " + labels);
            }
        }
    }

    /**
     * Reads the next {@code num} images (fewer at the end).
     *
     * @throws NoSuchElementException if there are no more images
     * @throws UncheckedIOException   if an image cannot be read or decoded; the message names it
     */
    @Override
    public DataSet next(int num) {
        if (num < 1) {
            throw new IllegalArgumentException("batch size must be >= 1, got " + num);
        }
        if (!hasNext()) {
            throw new NoSuchElementException("no more images: " + samples.size() + " read; call reset() to start over");
        }
        int to = Math.min(samples.size(), cursor + num);
        List<Path> files = new ArrayList<>();
        INDArray y = Nd4j.zeros(to - cursor, labels.size());
        for (int i = cursor; i < to; i++) {
            files.add(samples.get(i).file());
            y.putScalar(i - cursor, samples.get(i).label(), 1.0);
        }
        INDArray x;
        try {
            x = preprocessor.preprocess(files);
        } catch (IOException e) {
            throw new UncheckedIOException(e.getMessage(), e);
        }
        cursor = to;
        DataSet ds = new DataSet(x, y);
        if (preProcessor != null) {
            preProcessor.preProcess(ds);
        }
        return ds;
    }

    @Override
    public DataSet next() {
        return next(batch);
    }

    @Override
    public boolean hasNext() {
        return cursor < samples.size();
    }

    /** Returns {@code channels * crop * crop}, the size of one image's features. */
    @Override
    public int inputColumns() {
        int crop = preprocessor.preprocessing().cropSize();
        return preprocessor.preprocessing().channels() * crop * crop;
    }

    @Override
    public int totalOutcomes() {
        return labels.size();
    }

    @Override
    public boolean resetSupported() {
        return true;
    }

    @Override
    public boolean asyncSupported() {
        return false;
    }

    @Override
    public void reset() {
        cursor = 0;
    }

    @Override
    public int batch() {
        return batch;
    }

    @Override
    public void setPreProcessor(DataSetPreProcessor preProcessor) {
        this.preProcessor = preProcessor;
    }

    @Override
    public DataSetPreProcessor getPreProcessor() {
        return preProcessor;
    }

    @Override
    public List<String> getLabels() {
        return labels;
    }
}
