package dev.resnetzoo.examples.finetune;

import dev.resnetzoo.zoo.preprocess.ImagePreprocessor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.NoSuchElementException;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.api.DataSetPreProcessor;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Batches of images decoded and preprocessed with an {@link ImagePreprocessor} (the weights'
 * evaluation transform), with one-hot labels. Images are read batch by batch, never all at once.
 */
public final class ImageFolderIterator implements DataSetIterator {

    private final List<ImageFolder.Sample> samples;
    private final ImagePreprocessor preprocessor;
    private final int numClasses;
    private final int batch;
    private final List<String> labels;
    private int cursor;
    private DataSetPreProcessor preProcessor;

    /**
     * @param samples      images and classes, in iteration order
     * @param classes      class names (their count is the label width)
     * @param preprocessor decoding, resizing, cropping and normalisation
     * @param batch        images per batch
     */
    public ImageFolderIterator(List<ImageFolder.Sample> samples, List<String> classes, ImagePreprocessor preprocessor,
                               int batch) {
        if (batch < 1) {
            throw new IllegalArgumentException("batch size must be >= 1, got " + batch);
        }
        this.samples = List.copyOf(samples);
        this.labels = List.copyOf(classes);
        this.numClasses = classes.size();
        this.preprocessor = preprocessor;
        this.batch = batch;
    }

    @Override
    public DataSet next(int num) {
        if (!hasNext()) {
            throw new NoSuchElementException();
        }
        int to = Math.min(samples.size(), cursor + num);
        List<Path> files = new ArrayList<>();
        INDArray y = Nd4j.zeros(to - cursor, numClasses);
        for (int i = cursor; i < to; i++) {
            files.add(samples.get(i).file());
            y.putScalar(i - cursor, samples.get(i).label(), 1.0);
        }
        cursor = to;
        INDArray x;
        try {
            x = preprocessor.preprocess(files);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
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

    @Override
    public int inputColumns() {
        return 3 * preprocessor.preprocessing().cropSize() * preprocessor.preprocessing().cropSize();
    }

    @Override
    public int totalOutcomes() {
        return numClasses;
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
