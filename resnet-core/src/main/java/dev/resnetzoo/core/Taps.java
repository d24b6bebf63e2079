package dev.resnetzoo.core;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.graph.vertex.GraphVertex;

/**
 * Named feature taps of a graph built by {@link ResNets} (any variant, pretrained or not, also
 * after transfer learning: vertex names survive freezing). The taps are read from the graph's
 * vertex names, so no {@link dev.resnetzoo.core.ResNetSpec} is needed:
 * <ul>
 *   <li>{@code stem}: output of the stem ({@code maxpool} with the ImageNet stem, else {@code relu}),
 *       {@code [N, C, H, W]};</li>
 *   <li>{@code layer1} ... {@code layerN}: output of the last block of each stage
 *       ({@code layerS.B.out}), {@code [N, C, H, W]};</li>
 *   <li>{@code pool}: the global average pool ({@code avgpool}), {@code [N, C]};</li>
 *   <li>{@code logits}: the classifier ({@code fc}), {@code [N, classes]}.</li>
 * </ul>
 */
public final class Taps {

    private static final Pattern BLOCK_OUT = Pattern.compile("layer(\\d+)\\.(\\d+)\\.out");

    private Taps() {
    }

    /**
     * @param graph a ResNets graph
     * @return the tap names in network order: stem, layer1..layerN, pool, logits (those present)
     */
    public static List<String> names(ComputationGraph graph) {
        List<String> names = new ArrayList<>();
        if (stemVertex(graph) != null) {
            names.add("stem");
        }
        for (int s : stages(graph).keySet()) {
            names.add("layer" + s);
        }
        if (graph.getVertex(ResNets.POOL) != null) {
            names.add("pool");
        }
        if (graph.getVertex(ResNets.CLASSIFIER) != null) {
            names.add("logits");
        }
        return names;
    }

    /**
     * Resolves a tap to the vertex that outputs it.
     *
     * @param graph a ResNets graph
     * @param tap   {@code stem}, {@code layer1}..{@code layerN}, {@code pool}, {@code logits}
     *              (case-insensitive), or the name of any vertex of the graph
     * @return the vertex name
     * @throws IllegalArgumentException naming the bad tap and listing the valid ones
     */
    public static String vertex(ComputationGraph graph, String tap) {
        Objects.requireNonNull(graph, "graph");
        Objects.requireNonNull(tap, "tap");
        String t = tap.trim().toLowerCase(Locale.ROOT);
        String v = null;
        if (t.equals("stem")) {
            v = stemVertex(graph);
        } else if (t.equals("pool")) {
            v = graph.getVertex(ResNets.POOL) != null ? ResNets.POOL : null;
        } else if (t.equals("logits")) {
            v = graph.getVertex(ResNets.CLASSIFIER) != null ? ResNets.CLASSIFIER : null;
        } else if (t.matches("layer\\d+")) {
            v = stages(graph).get(Integer.parseInt(t.substring(5)));
        } else if (graph.getVertex(tap.trim()) != null && !graph.getVertex(tap.trim()).isInputVertex()) {
            v = tap.trim();
        }
        if (v == null) {
            throw new IllegalArgumentException("unknown tap '" + tap + "'; valid taps: "
                    + String.join(", ", names(graph)) + " (or a vertex name of the graph, e.g. layer1.0.conv1)");
        }
        return v;
    }

    /**
     * @param graph a ResNets graph
     * @param tap   a tap or vertex name
     * @return the canonical tap name for a named tap (e.g. {@code layer3}), else the vertex name
     */
    public static String canonical(ComputationGraph graph, String tap) {
        String v = vertex(graph, tap);
        for (String n : names(graph)) {
            if (vertex(graph, n).equals(v)) {
                return n;
            }
        }
        return v;
    }

    private static String stemVertex(ComputationGraph graph) {
        if (graph.getVertex("maxpool") != null) {
            return "maxpool";
        }
        // The small stem ends at bn1 (batch norm with its ReLU); graphs saved before that fusion have "relu".
        if (graph.getVertex("relu") != null) {
            return "relu";
        }
        return graph.getVertex("bn1") != null && graph.getVertex("maxpool") == null ? "bn1" : null;
    }

    /** Stage number -> output vertex of its last block. */
    private static TreeMap<Integer, String> stages(ComputationGraph graph) {
        TreeMap<Integer, Integer> lastBlock = new TreeMap<>();
        for (GraphVertex v : graph.getVertices()) {
            Matcher m = BLOCK_OUT.matcher(v.getVertexName());
            if (m.matches()) {
                lastBlock.merge(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)), Math::max);
            }
        }
        TreeMap<Integer, String> out = new TreeMap<>();
        lastBlock.forEach((s, b) -> out.put(s, "layer" + s + "." + b + ".out"));
        return out;
    }
}
