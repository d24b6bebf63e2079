package dev.resnetzoo.spark;

import dev.resnetzoo.core.BlockKind;
import dev.resnetzoo.core.ResNetSpec;
import dev.resnetzoo.core.StemKind;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

/** A small learnable task: grey 12x12 images of one noisy bright row band per class. */
final class Stripes {
    static final int CLASSES = 3;
    static final int SIZE = 12;

    private Stripes() {
    }

    /** A tiny basic-block ResNet with this project's convolution, batch-norm and SE layers. */
    static ResNetSpec spec() {
        return ResNetSpec.builder(BlockKind.BASIC, 1, 1, 1, 1).name("stripes").widths(4, 8, 8, 8).stemWidth(4)
                .se(4).stem(StemKind.SMALL).input(1, SIZE, SIZE).numClasses(CLASSES).build();
    }

    /** {@code batches} minibatches of {@code batch} images, from {@code seed}. */
    static List<DataSet> batches(int batches, int batch, long seed) {
        Random r = new Random(seed);
        List<DataSet> out = new ArrayList<>();
        for (int b = 0; b < batches; b++) {
            float[] x = new float[batch * SIZE * SIZE];
            INDArray y = Nd4j.zeros(batch, CLASSES);
            for (int i = 0; i < batch; i++) {
                int c = r.nextInt(CLASSES);
                y.putScalar(i, c, 1);
                for (int p = 0; p < SIZE * SIZE; p++) {
                    int row = p / SIZE;
                    float signal = row / 4 == c ? 1f : 0f;
                    x[i * SIZE * SIZE + p] = signal + (float) (1.2 * r.nextGaussian());
                }
            }
            out.add(new DataSet(Nd4j.create(x, new long[] {batch, 1, SIZE, SIZE}), y));
        }
        return out;
    }
}
