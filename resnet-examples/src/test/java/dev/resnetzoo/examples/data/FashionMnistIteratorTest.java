package dev.resnetzoo.examples.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.NoSuchElementException;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.AsyncDataSetIterator;
import org.nd4j.linalg.dataset.DataSet;

class FashionMnistIteratorTest {

    private static LabeledImages train;

    @BeforeAll
    static void load() throws IOException {
        train = FashionMnist.sample().load(FashionMnist.Split.TRAIN);
    }

    /** Label of every example of one epoch, in order. */
    private static List<Integer> epochLabels(FashionMnistIterator it) {
        List<Integer> out = new ArrayList<>();
        while (it.hasNext()) {
            INDArray l = it.next().getLabels();
            for (int i = 0; i < l.rows(); i++) {
                out.add(l.getRow(i).argMax().getInt(0));
            }
        }
        return out;
    }

    /** Features of one epoch, flattened. */
    private static float[] epochFeatures(FashionMnistIterator it) {
        List<float[]> parts = new ArrayList<>();
        int total = 0;
        while (it.hasNext()) {
            float[] f = it.next().getFeatures().data().asFloat();
            parts.add(f);
            total += f.length;
        }
        float[] all = new float[total];
        int pos = 0;
        for (float[] p : parts) {
            System.arraycopy(p, 0, all, pos, p.length);
            pos += p.length;
        }
        return all;
    }

    @Test
    void shapesOneHotAndPartialLastBatch() {
        FashionMnistIterator it = FashionMnistIterator.builder(train).batchSize(64).build();
        assertEquals(1000, it.numExamples());
        assertEquals(16, it.batchesPerEpoch());
        assertEquals(784, it.inputColumns());
        assertEquals(10, it.totalOutcomes());
        assertEquals(FashionMnist.CLASS_NAMES, it.getLabels());
        assertTrue(it.asyncSupported() && it.resetSupported());
        int batches = 0;
        int examples = 0;
        while (it.hasNext()) {
            DataSet ds = it.next();
            INDArray f = ds.getFeatures();
            INDArray l = ds.getLabels();
            int b = (int) f.size(0);
            assertEquals(batches < 15 ? 64 : 1000 - 15 * 64, b);
            assertArrayEquals(new long[] {b, 1, 28, 28}, f.shape());
            assertArrayEquals(new long[] {b, 10}, l.shape());
            assertEquals(DataType.FLOAT, f.dataType());
            assertEquals(DataType.FLOAT, l.dataType());
            assertTrue(f.minNumber().doubleValue() >= 0 && f.maxNumber().doubleValue() <= 1);
            assertEquals(b, l.sumNumber().intValue());
            assertEquals(1.0, l.maxNumber().doubleValue());
            assertEquals(0.0, l.minNumber().doubleValue());
            batches++;
            examples += b;
        }
        assertEquals(16, batches);
        assertEquals(1000, examples);
        assertThrows(NoSuchElementException.class, it::next);
    }

    @Test
    void unshuffledFollowsFileOrderAndScales() {
        FashionMnistIterator it = FashionMnistIterator.builder(train).batchSize(7).limit(20).build();
        List<Integer> labels = epochLabels(it);
        assertEquals(20, labels.size());
        for (int i = 0; i < 20; i++) {
            assertEquals(train.label(i), labels.get(i));
        }
        it.reset();
        DataSet first = it.next();
        assertEquals(train.pixel(0, 14, 9) / 255f, first.getFeatures().getFloat(0, 0, 14, 9), 1e-6);
        assertEquals(train.pixel(3, 20, 27) / 255f, first.getFeatures().getFloat(3, 0, 20, 27), 1e-6);
    }

    @Test
    void normalisation() {
        DataSet ds = FashionMnistIterator.builder(train).batchSize(2).normalize(true).build().next();
        float raw = train.pixel(1, 10, 12) / 255f;
        assertEquals((raw - 0.2860f) / 0.3530f, ds.getFeatures().getFloat(1, 0, 10, 12), 1e-5);
        assertEquals((0 - 0.2860f) / 0.3530f, ds.getFeatures().getFloat(0, 0, 0, 0), 1e-5,
                "corner pixels of Fashion-MNIST are 0");
    }

    @Test
    void resetStartsNextEpochOnlyAfterReading() {
        FashionMnistIterator it = FashionMnistIterator.builder(train).batchSize(100).shuffle(7).build();
        assertEquals(0, it.epoch());
        it.reset(); // nothing read yet: stays at epoch 0
        assertEquals(0, it.epoch());
        List<Integer> e0 = epochLabels(it);
        assertFalse(it.hasNext());
        it.reset();
        assertEquals(1, it.epoch());
        assertTrue(it.hasNext());
        List<Integer> e1 = epochLabels(it);
        assertEquals(1000, e0.size());
        assertEquals(1000, e1.size());
        assertNotEquals(e0, e1);
        List<Integer> sorted0 = new ArrayList<>(e0);
        List<Integer> sorted1 = new ArrayList<>(e1);
        sorted0.sort(null);
        sorted1.sort(null);
        assertEquals(sorted0, sorted1, "every epoch visits every example once");
    }

    @Test
    void sameSeedAndEpochGiveSameOrder() {
        FashionMnistIterator a = FashionMnistIterator.builder(train).batchSize(128).shuffle(42).build();
        FashionMnistIterator b = FashionMnistIterator.builder(train).batchSize(128).shuffle(42).build();
        a.setEpoch(3);
        b.setEpoch(3);
        float[] fa = epochFeatures(a);
        assertArrayEquals(fa, epochFeatures(b));

        // Resuming: a fresh iterator started at epoch 4 matches one that ran through epoch 3.
        a.reset();
        assertEquals(4, a.epoch());
        FashionMnistIterator resumed = FashionMnistIterator.builder(train).batchSize(128).shuffle(42)
                .startEpoch(4).build();
        float[] f4 = epochFeatures(a);
        assertArrayEquals(f4, epochFeatures(resumed));
        assertFalse(Arrays.equals(fa, f4), "another epoch, another order");

        FashionMnistIterator other = FashionMnistIterator.builder(train).batchSize(128).shuffle(43).build();
        other.setEpoch(3);
        assertFalse(Arrays.equals(fa, epochFeatures(other)), "another seed, another order");
    }

    @Test
    void permutationIsStable() {
        // Pinned so that a change of algorithm (which would break resumed runs) is noticed.
        assertArrayEquals(FashionMnistIterator.permutation(10, 42, 0), FashionMnistIterator.permutation(10, 42, 0));
        int[] p = FashionMnistIterator.permutation(10, 42, 0);
        int[] sorted = p.clone();
        Arrays.sort(sorted);
        assertArrayEquals(new int[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, sorted);
        assertArrayEquals(PINNED_42_0, p, Arrays.toString(p));
    }

    private static final int[] PINNED_42_0 = {0, 4, 1, 2, 7, 8, 9, 5, 3, 6};

    @Test
    void limit() {
        FashionMnistIterator it = FashionMnistIterator.builder(train).batchSize(32).limit(100).shuffle(1).build();
        assertEquals(100, it.numExamples());
        assertEquals(4, it.batchesPerEpoch());
        assertEquals(100, epochLabels(it).size());
    }

    @Test
    void resizeShapesAndValues() {
        FashionMnistIterator it = FashionMnistIterator.builder(train).batchSize(5).resize(96).build();
        assertEquals(96, it.imageSize());
        assertEquals(96 * 96, it.inputColumns());
        DataSet ds = it.next();
        INDArray f = ds.getFeatures();
        assertArrayEquals(new long[] {5, 1, 96, 96}, f.shape());
        assertTrue(f.minNumber().doubleValue() >= 0 && f.maxNumber().doubleValue() <= 1 + 1e-6);
        // Mean brightness is preserved closely by bilinear enlargement.
        INDArray small = FashionMnistIterator.builder(train).batchSize(5).build().next().getFeatures();
        assertEquals(small.meanNumber().doubleValue(), f.meanNumber().doubleValue(), 0.01);
        // Corners copy the corner pixels (clamped sampling).
        assertEquals(small.getFloat(2, 0, 27, 27), f.getFloat(2, 0, 95, 95), 1e-6);
    }

    @Test
    void bilinearTableMatchesHalfPixelConvention() {
        // 2 -> 4 (as torch.nn.functional.interpolate(align_corners=False)):
        // outputs sample source positions -0.25 (clamped to 0), 0.25, 0.75, 1.25 (clamped to 1).
        int[] idx = new int[4];
        float[] w = new float[4];
        FashionMnistIterator.bilinearTable(2, 4, idx, w);
        assertArrayEquals(new int[] {0, 0, 0, 1}, idx);
        assertArrayEquals(new float[] {0f, 0.25f, 0.75f, 0f}, w, 1e-6f);
        // Same size is the identity.
        int[] id = new int[5];
        float[] wid = new float[5];
        FashionMnistIterator.bilinearTable(5, 5, id, wid);
        assertArrayEquals(new int[] {0, 1, 2, 3, 4}, id);
        assertArrayEquals(new float[5], wid, 1e-6f);
    }

    @Test
    void worksUnderDl4jAsyncPrefetch() {
        FashionMnistIterator it = FashionMnistIterator.builder(train).batchSize(100).shuffle(5).build();
        AsyncDataSetIterator async = new AsyncDataSetIterator(it, 2);
        try {
            int n = 0;
            while (async.hasNext()) {
                n += (int) async.next().getFeatures().size(0);
            }
            assertEquals(1000, n);
            async.reset();
            assertEquals(1, it.epoch());
            n = 0;
            while (async.hasNext()) {
                n += (int) async.next().getFeatures().size(0);
            }
            assertEquals(1000, n);
        } finally {
            async.shutdown();
        }
    }
}
