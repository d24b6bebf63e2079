package dev.resnetzoo.examples.data;

import java.util.List;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Random;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.api.DataSetPreProcessor;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A DL4J {@link DataSetIterator} over Fashion-MNIST images held in memory.
 *
 * <p>Each {@link DataSet} has float32 features {@code [B, 1, S, S]} (NCHW; {@code S} is 28, or the
 * {@linkplain Builder#resize resize} size) with pixels scaled to [0,1], or, with
 * {@linkplain Builder#normalize normalisation}, to {@code (x - 0.2860) / 0.3530}
 * ({@link FashionMnist#MEAN}, {@link FashionMnist#STD}: the training set's statistics), and
 * float32 one-hot labels {@code [B, 10]}. The last batch of an epoch may be smaller.
 *
 * <p><b>Epochs and order.</b> The iterator counts epochs from 0 (or from {@link #setEpoch}).
 * Without shuffling, examples come in file order. With {@linkplain Builder#shuffle(long) shuffling},
 * epoch {@code e} visits the examples in a permutation that depends only on {@code (seed, e)}
 * (and the number of examples), so a run resumed at epoch {@code e} with {@code setEpoch(e)} sees
 * exactly the order the interrupted run would have seen. {@link #reset()} starts the next epoch
 * if at least one batch of the current one was handed out, and otherwise just stays at the start
 * of the current one; this matches how DL4J's {@code fit} and {@code evaluate} call it.
 *
 * <p>Not thread-safe; DL4J's asynchronous prefetching wrapper is supported.
 */
public final class FashionMnistIterator implements DataSetIterator {

    private static final long serialVersionUID = 1L;

    private final transient LabeledImages data;
    private final int numExamples;
    private final int batchSize;
    private final boolean shuffle;
    private final long seed;
    private final int size;
    private final float[] lut;          // pixel byte -> scaled (and normalised) value
    private final int[] resizeIndex;    // per output coordinate: lower source index (null: no resize)
    private final float[] resizeWeight; // per output coordinate: weight of the upper source index

    private DataSetPreProcessor preProcessor;
    private int epoch;
    private int cursor;
    private int[] order; // null: identity

    private FashionMnistIterator(Builder b) {
        this.data = b.data;
        this.numExamples = b.limit > 0 ? Math.min(b.limit, data.size()) : data.size();
        this.batchSize = b.batchSize;
        this.shuffle = b.shuffle;
        this.seed = b.seed;
        this.size = b.size > 0 ? b.size : data.rows();
        this.lut = new float[256];
        for (int v = 0; v < 256; v++) {
            float x = v / 255f;
            lut[v] = b.normalize ? (x - FashionMnist.MEAN) / FashionMnist.STD : x;
        }
        if (size != data.rows() || size != data.cols()) {
            if (data.rows() != data.cols()) {
                throw new IllegalArgumentException("resize needs square images, got " + data.rows() + "x" + data.cols());
            }
            resizeIndex = new int[size];
            resizeWeight = new float[size];
            bilinearTable(data.rows(), size, resizeIndex, resizeWeight);
        } else {
            resizeIndex = null;
            resizeWeight = null;
        }
        setEpoch(b.epoch);
    }

    /** Starts a builder over {@code data} (e.g. {@link FashionMnist#load}). */
    public static Builder builder(LabeledImages data) {
        return new Builder(data);
    }

    /** Options of a {@link FashionMnistIterator}. */
    public static final class Builder {
        private final LabeledImages data;
        private int batchSize = 64;
        private boolean shuffle;
        private long seed;
        private boolean normalize;
        private int limit;
        private int size;
        private int epoch;

        private Builder(LabeledImages data) {
            this.data = Objects.requireNonNull(data, "data");
        }

        /** Examples per batch (default 64). */
        public Builder batchSize(int batchSize) {
            if (batchSize < 1) {
                throw new IllegalArgumentException("batch size must be >= 1, got " + batchSize);
            }
            this.batchSize = batchSize;
            return this;
        }

        /** Shuffle every epoch, reproducibly for a given (seed, epoch). Default: no shuffling. */
        public Builder shuffle(long seed) {
            this.shuffle = true;
            this.seed = seed;
            return this;
        }

        /** Normalise with mean 0.2860 / std 0.3530 instead of plain [0,1] (default false). */
        public Builder normalize(boolean normalize) {
            this.normalize = normalize;
            return this;
        }

        /** Use only the first {@code limit} examples of the data; 0 (default) means all. */
        public Builder limit(int limit) {
            if (limit < 0) {
                throw new IllegalArgumentException("limit must be >= 0, got " + limit);
            }
            this.limit = limit;
            return this;
        }

        /**
         * Resize images to {@code size x size} by bilinear interpolation with half-pixel centres
         * (PyTorch's {@code align_corners=False}, no anti-aliasing: meant for enlarging, e.g. to 96).
         * 0 (default) keeps 28x28.
         */
        public Builder resize(int size) {
            if (size < 0) {
                throw new IllegalArgumentException("resize size must be >= 0, got " + size);
            }
            this.size = size;
            return this;
        }

        /** Epoch to start at (default 0), e.g. when resuming; see {@link FashionMnistIterator#setEpoch}. */
        public Builder startEpoch(int epoch) {
            if (epoch < 0) {
                throw new IllegalArgumentException("epoch must be >= 0, got " + epoch);
            }
            this.epoch = epoch;
            return this;
        }

        /** Builds the iterator; labels must be within 0..9. */
        public FashionMnistIterator build() {
            int[] counts = data.labelCounts(256);
            for (int l = FashionMnist.NUM_CLASSES; l < 256; l++) {
                if (counts[l] > 0) {
                    throw new IllegalArgumentException(data.name() + ": label " + l + " outside 0.."
                            + (FashionMnist.NUM_CLASSES - 1));
                }
            }
            return new FashionMnistIterator(this);
        }
    }

    // ---------------------------------------------------------------------------------------
    // Epoch control

    /** The epoch whose order is being (or will next be) served. */
    public int epoch() {
        return epoch;
    }

    /** Rewinds to the start of epoch {@code epoch}, with that epoch's order. */
    public void setEpoch(int epoch) {
        if (epoch < 0) {
            throw new IllegalArgumentException("epoch must be >= 0, got " + epoch);
        }
        this.epoch = epoch;
        this.cursor = 0;
        this.order = shuffle ? permutation(numExamples, seed, epoch) : null;
    }

    /** Examples per epoch (after the limit). */
    public int numExamples() {
        return numExamples;
    }

    /** Batches per epoch, counting a partial last batch. */
    public int batchesPerEpoch() {
        return (numExamples + batchSize - 1) / batchSize;
    }

    /** Side length S of the produced images. */
    public int imageSize() {
        return size;
    }

    // ---------------------------------------------------------------------------------------
    // DataSetIterator

    @Override
    public boolean hasNext() {
        return cursor < numExamples;
    }

    @Override
    public DataSet next() {
        return next(batchSize);
    }

    @Override
    public DataSet next(int num) {
        if (num < 1) {
            throw new IllegalArgumentException("batch size must be >= 1, got " + num);
        }
        if (!hasNext()) {
            throw new NoSuchElementException("epoch " + epoch + " is exhausted; call reset()");
        }
        int n = Math.min(num, numExamples - cursor);
        int inRows = data.rows();
        int inCols = data.cols();
        int inPixels = inRows * inCols;
        int outPixels = size * size;
        byte[] pixels = data.pixelArray();
        float[] features = new float[n * outPixels];
        float[] labels = new float[n * FashionMnist.NUM_CLASSES];
        float[] scratch = resizeIndex == null ? null : new float[inPixels];
        for (int b = 0; b < n; b++) {
            int idx = order == null ? cursor + b : order[cursor + b];
            int src = idx * inPixels;
            int dst = b * outPixels;
            if (scratch == null) {
                for (int p = 0; p < inPixels; p++) {
                    features[dst + p] = lut[pixels[src + p] & 0xFF];
                }
            } else {
                for (int p = 0; p < inPixels; p++) {
                    scratch[p] = lut[pixels[src + p] & 0xFF];
                }
                resize(scratch, inCols, features, dst);
            }
            labels[b * FashionMnist.NUM_CLASSES + data.label(idx)] = 1f;
        }
        cursor += n;
        INDArray f = Nd4j.create(features, new long[] {n, 1, size, size}, DataType.FLOAT);
        INDArray l = Nd4j.create(labels, new long[] {n, FashionMnist.NUM_CLASSES}, DataType.FLOAT);
        DataSet ds = new DataSet(f, l);
        if (preProcessor != null) {
            preProcessor.preProcess(ds);
        }
        return ds;
    }

    @Override
    public int inputColumns() {
        return size * size;
    }

    @Override
    public int totalOutcomes() {
        return FashionMnist.NUM_CLASSES;
    }

    @Override
    public boolean resetSupported() {
        return true;
    }

    @Override
    public boolean asyncSupported() {
        return true;
    }

    /** Starts the next epoch, or stays at the start of the current one if nothing was read from it. */
    @Override
    public void reset() {
        if (cursor > 0) {
            setEpoch(epoch + 1);
        }
    }

    @Override
    public int batch() {
        return batchSize;
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
        return FashionMnist.CLASS_NAMES;
    }

    // ---------------------------------------------------------------------------------------
    // Helpers (package-private for tests)

    /**
     * A permutation of 0..n-1 that depends only on (n, seed, epoch): Fisher-Yates driven by
     * {@link java.util.Random}, whose algorithm the Java specification fixes, seeded with a
     * SplitMix64 mix of seed and epoch.
     */
    static int[] permutation(int n, long seed, int epoch) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) {
            p[i] = i;
        }
        Random rnd = new Random(mix64(seed + 0x9E3779B97F4A7C15L * (epoch + 1L)));
        for (int i = n - 1; i > 0; i--) {
            int j = rnd.nextInt(i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }

    private static long mix64(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /**
     * Fills, for each output coordinate {@code o} of {@code out}, the lower source index and the
     * weight of the next one, sampling at {@code (o + 0.5) * in / out - 0.5} clamped to the image.
     */
    static void bilinearTable(int in, int out, int[] index, float[] weight) {
        double scale = (double) in / out;
        for (int o = 0; o < out; o++) {
            double s = Math.max(0.0, (o + 0.5) * scale - 0.5);
            int i0 = Math.min((int) Math.floor(s), in - 1);
            index[o] = i0;
            weight[o] = i0 + 1 < in ? (float) (s - i0) : 0f;
        }
    }

    /** Bilinear resize of one square {@code in x in} image into {@code dst} at {@code offset}. */
    private void resize(float[] src, int in, float[] dst, int offset) {
        for (int y = 0; y < size; y++) {
            int y0 = resizeIndex[y];
            int y1 = Math.min(y0 + 1, in - 1);
            float wy = resizeWeight[y];
            int row0 = y0 * in;
            int row1 = y1 * in;
            int o = offset + y * size;
            for (int x = 0; x < size; x++) {
                int x0 = resizeIndex[x];
                int x1 = Math.min(x0 + 1, in - 1);
                float wx = resizeWeight[x];
                float top = src[row0 + x0] + wx * (src[row0 + x1] - src[row0 + x0]);
                float bottom = src[row1 + x0] + wx * (src[row1 + x1] - src[row1 + x0]);
                dst[o + x] = top + wy * (bottom - top);
            }
        }
    }
}
