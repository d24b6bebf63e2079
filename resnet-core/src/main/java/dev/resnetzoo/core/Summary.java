package dev.resnetzoo.core;

import java.util.List;
import java.util.Locale;

/**
 * The shape of a network computed from its depth table: each stage's output and parameter
 * count, the total, and multiply-accumulates per image. Parameter counts exclude BatchNorm running
 * statistics, as PyTorch's {@code sum(p.numel() for p in model.parameters())} does.
 *
 * @param spec   the table
 * @param stages one row per stage: the stem, layer1..layerN, and the head (pool + classifier)
 * @param macs   multiply-accumulates of convolutions and the classifier for one image
 */
public record Summary(ResNetSpec spec, List<Stage> stages, long macs) {

    /**
     * One row of the summary.
     *
     * @param name     {@code stem}, {@code layer1} ... or {@code head}
     * @param vertex   the graph vertex that outputs this stage
     * @param shape    output shape per image: {@code [C, H, W]}, or {@code [classes]} for the head
     * @param params   trainable parameters in the stage
     * @param macs     multiply-accumulates in the stage
     */
    public record Stage(String name, String vertex, long[] shape, long params, long macs) {
    }

    /** Compact constructor: makes the list immutable. */
    public Summary {
        stages = List.copyOf(stages);
    }

    /** @return trainable parameters of the whole network */
    public long params() {
        return stages.stream().mapToLong(Stage::params).sum();
    }

    /** @return a printable table */
    public String table() {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "%s (%s, depths %s, widths %s, cardinality %d, base width %d%s, %s stem)%n",
                spec.name(), spec.block(), spec.depths(), spec.widths(), spec.cardinality(), spec.baseWidth(),
                spec.seReduction() > 0 ? ", SE 1/" + spec.seReduction() : "", spec.stem()));
        sb.append(String.format(Locale.ROOT, "%-8s %-18s %-20s %14s %10s%n", "stage", "output vertex", "output shape",
                "params", "GMACs"));
        for (Stage s : stages) {
            StringBuilder shape = new StringBuilder("[");
            for (int i = 0; i < s.shape().length; i++) {
                shape.append(i > 0 ? ", " : "").append(s.shape()[i]);
            }
            shape.append(']');
            sb.append(String.format(Locale.ROOT, "%-8s %-18s %-20s %,14d %10.3f%n", s.name(), s.vertex(), shape,
                    s.params(), s.macs() / 1e9));
        }
        sb.append(String.format(Locale.ROOT, "%-8s %-18s %-20s %,14d %10.3f%n", "total", "",
                String.format(Locale.ROOT, "input [%d, %d, %d]", spec.inputChannels(), spec.inputHeight(),
                        spec.inputWidth()), params(), macs / 1e9));
        return sb.toString();
    }
}
