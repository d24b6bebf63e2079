package dev.resnetzoo.examples.train;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import dev.resnetzoo.examples.data.FashionMnist;
import java.util.Locale;
import java.util.SplittableRandom;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Random training-time transformations of a batch of single-channel images {@code [n, 1, S, S]}
 * (already normalised). The random numbers of a batch depend only on (seed, iterator epoch,
 * batch index), so an interrupted run resumed from a checkpoint sees exactly the images the
 * uninterrupted run would have seen.
 */
public enum Augmentation {
    /** Images as they are (the PyTorch reference recipe). */
    NONE,
    /** Mirror left-right with probability 1/2 (clothes stay clothes). */
    FLIP,
    /**
     * Mirror with probability 1/2, then translate by up to {@code S/14} pixels (2 at 28x28) in each
     * direction, filling with the background value: pad-and-random-crop.
     */
    FLIP_SHIFT;

    /** Value of a black (0) pixel after the iterator's normalisation: the fill of shifted-in borders. */
    static final float BACKGROUND = -FashionMnist.MEAN / FashionMnist.STD;

    /** The option value, e.g. {@code flip-shift}. */
    @JsonValue
    public String id() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /** @throws IllegalArgumentException naming the valid values */
    @JsonCreator
    public static Augmentation of(String id) {
        for (Augmentation a : values()) {
            if (a.id().equalsIgnoreCase(id.trim())) {
                return a;
            }
        }
        throw new IllegalArgumentException("--augment expects none, flip or flip-shift, got '" + id + "'");
    }

    /**
     * @param features      a batch {@code [n, 1, S, S]}
     * @param seed          the run's seed
     * @param iteratorEpoch the data-iterator epoch
     * @param batch         index of the batch in the epoch
     * @return the transformed batch (a new array), or {@code features} itself for {@link #NONE}
     */
    public INDArray apply(INDArray features, long seed, int iteratorEpoch, int batch) {
        if (this == NONE) {
            return features;
        }
        long[] shape = features.shape();
        if (shape.length != 4 || shape[1] != 1 || shape[2] != shape[3]) {
            throw new IllegalArgumentException("augmentation expects [n, 1, S, S], got " + java.util.Arrays.toString(shape));
        }
        int n = (int) shape[0];
        int size = (int) shape[2];
        int maxShift = this == FLIP_SHIFT ? Math.max(1, Math.round(size / 14f)) : 0;
        float[] src = features.dup('c').data().asFloat();
        float[] dst = new float[src.length];
        SplittableRandom random = new SplittableRandom(mix(mix(seed) + 31L * iteratorEpoch + batch));
        for (int i = 0; i < n; i++) {
            boolean flip = random.nextBoolean();
            int dx = maxShift == 0 ? 0 : random.nextInt(-maxShift, maxShift + 1);
            int dy = maxShift == 0 ? 0 : random.nextInt(-maxShift, maxShift + 1);
            int base = i * size * size;
            for (int y = 0; y < size; y++) {
                int sy = y - dy;
                for (int x = 0; x < size; x++) {
                    int sx = x - dx;
                    float v = BACKGROUND;
                    if (sy >= 0 && sy < size && sx >= 0 && sx < size) {
                        v = src[base + sy * size + (flip ? size - 1 - sx : sx)];
                    }
                    dst[base + y * size + x] = v;
                }
            }
        }
        return Nd4j.create(dst, shape, DataType.FLOAT);
    }

    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
