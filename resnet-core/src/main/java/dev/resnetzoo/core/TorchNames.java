package dev.resnetzoo.core;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.layers.FrozenLayer;
import org.deeplearning4j.nn.layers.FrozenLayerWithBackprop;

/**
 * The one-to-one mapping between PyTorch {@code state_dict} keys and this project's graph
 * parameters. A key is {@code <module path>.<tensor>}; the module path is the vertex name, the
 * tensor name maps to the DL4J parameter key:
 *
 * <table>
 *   <caption>tensor names</caption>
 *   <tr><th>layer</th><th>PyTorch</th><th>DL4J</th></tr>
 *   <tr><td>convolution</td><td>weight, bias</td><td>W {@code [out, in/groups, kh, kw]}, b</td></tr>
 *   <tr><td>batch norm</td><td>weight, bias, running_mean, running_var</td><td>gamma, beta, mean, var</td></tr>
 *   <tr><td>linear ({@code fc})</td><td>weight {@code [out, in]}, bias</td><td>W {@code [in, out]} (transposed), b</td></tr>
 * </table>
 *
 * {@code num_batches_tracked} has no DL4J counterpart (DL4J uses a fixed momentum) and is skipped
 * on purpose by {@link #isIgnored(String)}.
 */
public final class TorchNames {
    private TorchNames() {
    }

    /**
     * Where a {@code state_dict} tensor lives in a graph.
     *
     * @param key       the PyTorch key
     * @param vertex    the graph vertex (layer) name
     * @param param     the DL4J parameter key in that layer
     * @param transpose whether the PyTorch tensor must be transposed (linear weights)
     */
    public record ParamRef(String key, String vertex, String param, boolean transpose) {
    }

    /**
     * @param key a {@code state_dict} key
     * @return true for keys that carry no information DL4J uses ({@code num_batches_tracked})
     */
    public static boolean isIgnored(String key) {
        return key.endsWith(".num_batches_tracked");
    }

    /**
     * @param graph a graph built by {@link ResNets}
     * @param key   a {@code state_dict} key
     * @return where that tensor goes, or empty if the graph has no such parameter
     */
    public static Optional<ParamRef> resolve(ComputationGraph graph, String key) {
        int dot = key.lastIndexOf('.');
        if (dot <= 0) {
            return Optional.empty();
        }
        String vertex = key.substring(0, dot);
        String tensor = key.substring(dot + 1);
        if (graph.getConfiguration().getVertices().get(vertex) == null || graph.getLayer(vertex) == null) {
            return Optional.empty();
        }
        Layer layer = graph.getLayer(vertex);
        org.deeplearning4j.nn.conf.layers.Layer conf = unwrap(layer).conf().getLayer();
        String param;
        boolean transpose = false;
        if (conf instanceof BatchNormalization) {
            param = switch (tensor) {
                case "weight" -> "gamma";
                case "bias" -> "beta";
                case "running_mean" -> "mean";
                case "running_var" -> "var";
                default -> null;
            };
        } else {
            param = switch (tensor) {
                case "weight" -> "W";
                case "bias" -> "b";
                default -> null;
            };
            transpose = conf instanceof DenseLayer && "W".equals(param);
        }
        if (param == null || !layer.paramTable().containsKey(param)) {
            return Optional.empty();
        }
        return Optional.of(new ParamRef(key, vertex, param, transpose));
    }

    /**
     * @param graph a graph built by {@link ResNets}
     * @return every {@code state_dict} key the graph has a parameter for (BatchNorm running
     *         statistics included, {@code num_batches_tracked} not), in graph order
     */
    public static List<ParamRef> expectedKeys(ComputationGraph graph) {
        List<ParamRef> refs = new ArrayList<>();
        for (Layer layer : graph.getLayers()) {
            String vertex = layer.conf().getLayer().getLayerName();
            org.deeplearning4j.nn.conf.layers.Layer conf = unwrap(layer).conf().getLayer();
            for (String param : layer.paramTable().keySet()) {
                String tensor;
                if (conf instanceof BatchNormalization) {
                    tensor = switch (param) {
                        case "gamma" -> "weight";
                        case "beta" -> "bias";
                        case "mean" -> "running_mean";
                        case "var" -> "running_var";
                        default -> throw new IllegalStateException("batch norm '" + vertex + "' has parameter '"
                                + param + "' with no PyTorch counterpart; build it with useLogStd(false)");
                    };
                } else {
                    tensor = switch (param) {
                        case "W" -> "weight";
                        case "b" -> "bias";
                        default -> throw new IllegalStateException("layer '" + vertex + "' has parameter '" + param
                                + "' with no PyTorch counterpart");
                    };
                }
                refs.add(new ParamRef(vertex + "." + tensor, vertex, param,
                        conf instanceof DenseLayer && "W".equals(param)));
            }
        }
        return refs;
    }

    private static Layer unwrap(Layer layer) {
        if (layer instanceof FrozenLayer f) {
            return f.getInsideLayer();
        }
        if (layer instanceof FrozenLayerWithBackprop f) {
            return f.getInsideLayer();
        }
        return layer;
    }
}
