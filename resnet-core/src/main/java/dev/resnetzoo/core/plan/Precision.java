package dev.resnetzoo.core.plan;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/** The number format an {@link InferencePlan} computes in. Inputs and outputs are float32 either way. */
public enum Precision {
    /** float32 throughout: the graph's numbers, within the conformance tolerance. */
    FP32,
    /**
     * bfloat16 activations and weights with float32 accumulation, biases and logits: about half
     * the memory traffic, and the CPU's bf16 dot-product instructions. Needs AVX512-BF16
     * ({@code avx512_bf16} in {@code /proc/cpuinfo}); elsewhere oneDNN would emulate it slowly,
     * so it is refused.
     */
    BF16;

    /**
     * @param name {@code fp32} or {@code bf16} (any case)
     * @return the precision
     * @throws IllegalArgumentException for any other name
     */
    public static Precision parse(String name) {
        return switch (name.trim().toLowerCase(Locale.ROOT)) {
            case "fp32", "float32", "float" -> FP32;
            case "bf16", "bfloat16" -> BF16;
            default -> throw new IllegalArgumentException("unknown precision '" + name + "': expected fp32 or bf16");
        };
    }

    /** @return whether this CPU runs this precision natively */
    public boolean supported() {
        return this == FP32 || cpuFlag("avx512_bf16");
    }

    /**
     * @throws UnsupportedOperationException with a one-line reason if this CPU lacks the precision
     */
    public void requireSupported() {
        if (!supported()) {
            throw new UnsupportedOperationException("bf16 inference needs a CPU with AVX512-BF16 (flag avx512_bf16 in "
                    + "/proc/cpuinfo), which this one lacks: use fp32");
        }
    }

    private static boolean cpuFlag(String flag) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("flags") && (" " + line + " ").contains(" " + flag + " ")) {
                    return true;
                }
            }
        } catch (IOException | RuntimeException e) {
            return false;
        }
        return false;
    }
}
