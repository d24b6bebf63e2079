package dev.resnetzoo.core.plan;

import dev.resnetzoo.core.onednn.OneDnn;
import java.util.Locale;
import org.nd4j.linalg.factory.Nd4j;

/**
 * What computes predictions and features: a compiled {@link InferencePlan} or the DL4J graph
 * itself (the reference). Chosen, first match wins, by the caller (a builder option or the CLI's
 * {@code --engine}), then by the system property {@value #PROPERTY} ({@code plan}, {@code graph}
 * or {@code auto}); {@code auto} is the plan on the CPU backend where oneDNN loads and the graph
 * elsewhere (CUDA).
 */
public enum InferenceEngine {
    /** An {@link InferencePlan}: oneDNN primitives with folded batch norms and fused post-ops (CPU). */
    PLAN,
    /** The DL4J {@code ComputationGraph}, layer by layer: the reference, and the path on CUDA. */
    GRAPH;

    /** System property that overrides the automatic choice: {@code plan}, {@code graph} or {@code auto}. */
    public static final String PROPERTY = "resnet.engine";

    /**
     * @param name {@code plan}, {@code graph} or {@code auto} (any case)
     * @return the engine, or null for {@code auto}
     * @throws IllegalArgumentException for any other name
     */
    public static InferenceEngine parse(String name) {
        return switch (name.trim().toLowerCase(Locale.ROOT)) {
            case "auto" -> null;
            case "plan" -> PLAN;
            case "graph" -> GRAPH;
            default -> throw new IllegalArgumentException("unknown engine '" + name + "': expected plan, graph or auto");
        };
    }

    /**
     * @param requested the caller's choice, or null for the property / automatic choice
     * @return the engine to use
     * @throws IllegalArgumentException if the property has an unknown value
     * @throws IllegalStateException if the plan is asked for where it cannot run
     */
    public static InferenceEngine resolve(InferenceEngine requested) {
        InferenceEngine e = requested;
        String who = "the requested engine";
        if (e == null) {
            String p = System.getProperty(PROPERTY, "auto");
            try {
                e = p.isBlank() ? null : parse(p);
            } catch (IllegalArgumentException ex) {
                throw new IllegalArgumentException("-D" + PROPERTY + ": " + ex.getMessage());
            }
            who = "-D" + PROPERTY + "=plan";
        }
        if (e == null) {
            return planAvailable() ? PLAN : GRAPH;
        }
        if (e == PLAN && !planAvailable()) {
            throw new IllegalStateException(who + ": the inference plan needs oneDNN on the CPU backend; "
                    + whyNot() + " (use graph)");
        }
        return e;
    }

    /** @return whether a plan can run here: the CPU backend with oneDNN's library loaded */
    public static boolean planAvailable() {
        return cpuBackend() && OneDnn.available();
    }

    private static String whyNot() {
        if (!cpuBackend()) {
            return "this is " + Nd4j.getBackend().getClass().getSimpleName();
        }
        return OneDnn.available() ? "it is available" : "oneDNN is not available: " + OneDnn.unavailableReason();
    }

    private static boolean cpuBackend() {
        return Nd4j.getBackend().getClass().getName().contains(".cpu.");
    }

    /**
     * @param precision the plan's precision (ignored for the graph)
     * @return a line for logs, e.g. {@code inference engine: plan (oneDNN 2.5.2, fp32)}
     */
    public String describe(Precision precision) {
        if (this == PLAN) {
            return "inference engine: plan (oneDNN " + OneDnn.version() + " primitives, "
                    + precision.name().toLowerCase(Locale.ROOT) + ", batch norm folded, fused post-ops)";
        }
        return "inference engine: graph (DL4J ComputationGraph"
                + (planAvailable() ? "" : "; the plan is unavailable: " + whyNot()) + ")";
    }
}
