package dev.resnetzoo.core.layers;

import dev.resnetzoo.core.onednn.OneDnn;
import java.util.Locale;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

/**
 * How this project's convolution and batch-norm layers compute. The choice is made when a graph
 * runs, never stored in its configuration: the same JSON or model zip runs on either runtime.
 *
 * <p>Selection, first match wins: {@link #select(LayerRuntime)}; the system property
 * {@value #PROPERTY} ({@code onednn}, {@code libnd4j} or {@code auto}); otherwise {@link #ONEDNN}
 * on the CPU backend when oneDNN's library loads, {@link #LIBND4J} elsewhere (CUDA, where libnd4j
 * uses cuDNN). oneDNN computes float32; layers in other data types (double precision for gradient
 * checks) always run on libnd4j.
 */
public enum LayerRuntime {
    /** oneDNN primitives called directly ({@code org.bytedeco:dnnl}), created once per shape and reused. */
    ONEDNN,
    /** libnd4j's ops ({@code conv2d}, {@code conv2d_bp}, {@code batchnorm}; oneDNN inside on CPU, cuDNN on CUDA). */
    LIBND4J;

    /** System property that overrides the automatic choice: {@code onednn}, {@code libnd4j} or {@code auto}. */
    public static final String PROPERTY = "resnet.runtime";

    private static volatile LayerRuntime override;

    /**
     * Forces a runtime for every layer from now on, in every thread.
     *
     * @param runtime the runtime, or null to go back to the property / automatic choice
     * @throws IllegalStateException if {@code runtime} is {@link #ONEDNN} and oneDNN cannot run here
     */
    public static void select(LayerRuntime runtime) {
        if (runtime == ONEDNN) {
            requireOneDnn("LayerRuntime.select(ONEDNN)");
        }
        override = runtime;
    }

    /**
     * @return the runtime layers use now
     * @throws IllegalArgumentException if the system property has an unknown value
     * @throws IllegalStateException if the property asks for oneDNN where it cannot run
     */
    public static LayerRuntime selected() {
        LayerRuntime o = override;
        if (o != null) {
            return o;
        }
        String p = System.getProperty(PROPERTY, "auto");
        LayerRuntime r;
        try {
            r = p.isBlank() ? null : parse(p);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("-D" + PROPERTY + ": " + e.getMessage());
        }
        if (r == null) {
            return cpuBackend() && OneDnn.available() ? ONEDNN : LIBND4J;
        }
        if (r == ONEDNN) {
            requireOneDnn("-D" + PROPERTY + "=onednn");
        }
        return r;
    }

    /**
     * @param name {@code onednn}, {@code libnd4j} or {@code auto} (any case)
     * @return the runtime, or null for {@code auto}
     * @throws IllegalArgumentException for any other name
     */
    public static LayerRuntime parse(String name) {
        String n = name.trim().toLowerCase(Locale.ROOT);
        return switch (n) {
            case "auto" -> null;
            case "onednn" -> ONEDNN;
            case "libnd4j" -> LIBND4J;
            default -> throw new IllegalArgumentException("unknown runtime '" + name + "': expected onednn, libnd4j or auto");
        };
    }

    /** @return a line for logs and benchmarks, e.g. {@code oneDNN 2.5.2 (direct primitives)} */
    public static String describe() {
        LayerRuntime r = selected();
        if (r == ONEDNN) {
            return "oneDNN " + OneDnn.version() + " (direct primitives; float32 layers)";
        }
        String why = !cpuBackend() ? "not the CPU backend" : OneDnn.available() ? "selected" : OneDnn.unavailableReason();
        return "libnd4j ops (" + why + ")";
    }

    /** Whether a layer computing in {@code type} runs on oneDNN now. */
    static boolean oneDnnFor(DataType type) {
        return type == DataType.FLOAT && selected() == ONEDNN;
    }

    private static boolean cpuBackend() {
        return Nd4j.getBackend().getClass().getName().contains(".cpu.");
    }

    private static void requireOneDnn(String who) {
        if (!cpuBackend()) {
            throw new IllegalStateException(who + ": oneDNN runs on the CPU backend only; this is "
                    + Nd4j.getBackend().getClass().getSimpleName());
        }
        if (!OneDnn.available()) {
            throw new IllegalStateException(who + ": oneDNN is not available: " + OneDnn.unavailableReason());
        }
    }
}
