package dev.resnetzoo.examples.bench;

import dev.resnetzoo.core.onednn.ConvPrimitives;
import dev.resnetzoo.core.onednn.OneDnn;
import java.util.List;
import java.util.Locale;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.factory.Nd4j;

/**
 * GFLOP/s of single convolutions, forward and backward (data + weights), on libnd4j's
 * {@code conv2d}/{@code conv2d_bp} ops and on this project's oneDNN primitives, best of the timed
 * runs after warm-up. The oneDNN primitives run twice: on NCHW arrays (each call includes its
 * reorders from and to NCHW, as at a stage boundary of a graph) and on arrays in the channel-blocked
 * layout the graph keeps inside a block (no reorders but the weights').
 */
public final class ConvShapeBenchmark {
    /** One convolution: batch, in and out channels, square map size, square kernel (stride 1, same padding). */
    public record Shape(int batch, int in, int out, int size, int kernel) {
        double flops() {
            return 2.0 * batch * out * size * size * in * kernel * kernel;
        }
    }

    /** The shapes ResNets spend their time on (the table of issue 11). */
    public static final List<Shape> SHAPES = List.of(new Shape(32, 256, 256, 14, 3), new Shape(8, 64, 64, 56, 3),
            new Shape(128, 32, 32, 14, 3), new Shape(8, 256, 64, 56, 1));

    private final int warmup;
    private final int iterations;

    /**
     * @param warmup     untimed runs first
     * @param iterations timed runs (the best is reported)
     */
    public ConvShapeBenchmark(int warmup, int iterations) {
        this.warmup = warmup;
        this.iterations = iterations;
    }

    private double best(Runnable r) {
        for (int i = 0; i < warmup; i++) {
            r.run();
        }
        double best = Double.MAX_VALUE;
        for (int i = 0; i < iterations; i++) {
            long t0 = System.nanoTime();
            r.run();
            best = Math.min(best, (System.nanoTime() - t0) / 1e9);
        }
        return best;
    }

    /** @return the printable table, one row per shape */
    public String run() {
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT,
                "one convolution, float32, GFLOP/s forward / backward (data + weights), best of %d%n", iterations));
        sb.append(String.format(Locale.ROOT, "%-28s %16s %16s %16s  %s%n", "N, C->K, HxW, kernel", "libnd4j op",
                "oneDNN, NCHW", "oneDNN, blocked", "oneDNN kernels"));
        for (Shape s : SHAPES) {
            int p = s.kernel() / 2;
            INDArray x = Nd4j.randn(DataType.FLOAT, s.batch(), s.in(), s.size(), s.size());
            INDArray w = Nd4j.randn(DataType.FLOAT, s.out(), s.in(), s.kernel(), s.kernel()).muli(0.05);
            INDArray y = Nd4j.create(DataType.FLOAT, s.batch(), s.out(), s.size(), s.size());
            INDArray dy = Nd4j.randn(DataType.FLOAT, s.batch(), s.out(), s.size(), s.size());
            INDArray dx = Nd4j.create(DataType.FLOAT, x.shape());
            INDArray dw = Nd4j.create(DataType.FLOAT, w.shape());
            int[] args = {s.kernel(), s.kernel(), 1, 1, p, p, 1, 1, 0, 0, 1};
            double lf = best(() -> Nd4j.exec(DynamicCustomOp.builder("conv2d").addInputs(x, w).addOutputs(y)
                    .addIntegerArguments(args).build()));
            double lb = best(() -> Nd4j.exec(DynamicCustomOp.builder("conv2d_bp").addInputs(x, w, dy)
                    .addOutputs(dx, dw).addIntegerArguments(args).build()));
            String oneDnn = "-";
            String blocked = "-";
            String kernels = OneDnn.available() ? "" : "oneDNN unavailable: " + OneDnn.unavailableReason();
            if (OneDnn.available()) {
                ConvPrimitives cp = new ConvPrimitives(new ConvPrimitives.Geometry(s.batch(), s.in(), s.size(),
                        s.size(), s.out(), 1, s.kernel(), s.kernel(), 1, 1, p, p, 1, 1, false));
                double of = best(() -> cp.forward(x, w, null, y));
                double ob = best(() -> cp.backward(x, w, dy, dx, dw, null));
                oneDnn = String.format(Locale.ROOT, "%.0f / %.0f", s.flops() / of / 1e9, 2 * s.flops() / ob / 1e9);
                kernels = cp.implementations();
                int inBlock = OneDnn.activationBlock(s.in(), true);
                int outBlock = OneDnn.activationBlock(s.out(), true);
                ConvPrimitives bp = new ConvPrimitives(new ConvPrimitives.Geometry(s.batch(), s.in(), s.size(),
                        s.size(), s.out(), 1, s.kernel(), s.kernel(), 1, 1, p, p, 1, 1, false), inBlock, outBlock);
                // The same bytes read as blocked arrays: the numbers differ, the work does not.
                double bf = best(() -> bp.forward(x, w, null, y));
                double bb = best(() -> bp.backward(x, w, dy, dx, dw, null));
                blocked = String.format(Locale.ROOT, "%.0f / %.0f", s.flops() / bf / 1e9, 2 * s.flops() / bb / 1e9);
            }
            sb.append(String.format(Locale.ROOT, "%-28s %16s %16s %16s  %s%n",
                    String.format(Locale.ROOT, "%d, %d->%d, %dx%d, %dx%d", s.batch(), s.in(), s.out(), s.size(),
                            s.size(), s.kernel(), s.kernel()),
                    String.format(Locale.ROOT, "%.0f / %.0f", s.flops() / lf / 1e9, 2 * s.flops() / lb / 1e9),
                    oneDnn, blocked, kernels));
        }
        return sb.toString();
    }
}
