package dev.resnetzoo.examples.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class AugmentationTest {

    /** 64 images 28x28 whose pixel (y, x) of image i is {@code i * 1000 + y * 28 + x}: every value unique. */
    private static INDArray batch() {
        float[] v = new float[64 * 28 * 28];
        for (int i = 0; i < v.length; i++) {
            v[i] = i / 784 * 1000 + i % 784;
        }
        return Nd4j.create(v, new long[] {64, 1, 28, 28}, DataType.FLOAT);
    }

    @Test
    void noneIsTheIdentity() {
        INDArray x = batch();
        assertSame(x, Augmentation.NONE.apply(x, 1, 2, 3));
    }

    @Test
    void flipMirrorsSomeImagesAndKeepsTheOthers() {
        INDArray x = batch();
        INDArray y = Augmentation.FLIP.apply(x, 42, 0, 0);
        int flipped = 0;
        for (int i = 0; i < 64; i++) {
            float[] a = x.slice(i).dup().data().asFloat();
            float[] b = y.slice(i).dup().data().asFloat();
            if (!Arrays.equals(a, b)) {
                flipped++;
                for (int r = 0; r < 28; r++) {
                    for (int c = 0; c < 28; c++) {
                        assertEquals(a[r * 28 + 27 - c], b[r * 28 + c]);
                    }
                }
            }
        }
        assertTrue(flipped > 16 && flipped < 48, "about half flipped: " + flipped);
    }

    @Test
    void shiftMovesByAtMostTwoPixelsAndFillsWithBackground() {
        INDArray x = batch();
        INDArray y = Augmentation.FLIP_SHIFT.apply(x, 42, 0, 0);
        for (int i = 0; i < 64; i++) {
            float[] b = y.slice(i).dup().data().asFloat();
            for (int r = 0; r < 28; r++) {
                for (int c = 0; c < 28; c++) {
                    float v = b[r * 28 + c];
                    if (v == Augmentation.BACKGROUND) {
                        assertTrue(r < 2 || r > 25 || c < 2 || c > 25, "background only at the borders");
                        continue;
                    }
                    int p = (int) v - i * 1000; // source pixel of the same image
                    assertTrue(p >= 0 && p < 784, "pixel from another image");
                    int sr = p / 28;
                    int sc = p % 28;
                    assertTrue(Math.abs(sr - r) <= 2 && (Math.abs(sc - c) <= 2 || Math.abs(27 - sc - c) <= 2),
                            "moved too far: (" + sr + "," + sc + ") -> (" + r + "," + c + ")");
                }
            }
        }
    }

    @Test
    void sameSeedEpochAndBatchGiveTheSameImages() {
        INDArray x = batch();
        float[] a = Augmentation.FLIP_SHIFT.apply(x, 42, 3, 7).data().asFloat();
        assertArrayEquals(a, Augmentation.FLIP_SHIFT.apply(x, 42, 3, 7).data().asFloat());
        assertFalse(Arrays.equals(a, Augmentation.FLIP_SHIFT.apply(x, 42, 3, 8).data().asFloat()));
        assertFalse(Arrays.equals(a, Augmentation.FLIP_SHIFT.apply(x, 42, 4, 7).data().asFloat()));
        assertFalse(Arrays.equals(a, Augmentation.FLIP_SHIFT.apply(x, 43, 3, 7).data().asFloat()));
    }

    @Test
    void optionValues() {
        assertEquals(Augmentation.FLIP_SHIFT, Augmentation.of("flip-shift"));
        assertEquals("flip-shift", Augmentation.FLIP_SHIFT.id());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Augmentation.of("crop"));
        assertEquals("--augment expects none, flip or flip-shift, got 'crop'", e.getMessage());
    }
}
