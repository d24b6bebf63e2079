package dev.resnetzoo.core.layers;

import java.util.Arrays;
import java.util.Map;
import java.util.Objects;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.graph.vertex.GraphVertex;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Copies parameters between graphs by layer name and parameter key, element by element.
 *
 * <p>This is needed for {@link NativeConvolution}: its kernel is held in {@code 'c'} order
 * ({@code [out, in/groups, kh, kw]}, PyTorch's layout, which oneDNN reads directly), while DL4J's
 * {@code Layer.setParams(flat)}, which {@code TransferLearning} and {@code ComputationGraph
 * .setParams} use, reshapes a flat view in {@code 'f'} order and so scrambles such kernels. Every
 * graph rebuilt from another (a new classifier, a frozen copy, its unfrozen part) must take its
 * parameters through this class.
 */
public final class ParameterCopy {

    private ParameterCopy() {
    }

    /**
     * Copies each parameter of {@code from} into the layer of the same name and the same key in
     * {@code to}, where both exist with the same shape; other parameters of {@code to} are left as
     * they are. Batch-norm running statistics are parameters in DL4J and are copied too.
     *
     * @param from      source graph
     * @param to        target graph
     * @param skipLayer a layer name to leave alone (e.g. a replaced classifier), or {@code null}
     * @return the number of parameter arrays copied
     */
    public static int copy(ComputationGraph from, ComputationGraph to, String skipLayer) {
        Objects.requireNonNull(from, "from");
        Objects.requireNonNull(to, "to");
        int copied = 0;
        for (GraphVertex v : from.getVertices()) {
            if (!v.hasLayer() || v.getLayer().numParams() == 0 || v.getVertexName().equals(skipLayer)) {
                continue;
            }
            GraphVertex target = to.getVertex(v.getVertexName());
            if (target == null || !target.hasLayer()) {
                continue;
            }
            Layer dstLayer = target.getLayer();
            for (Map.Entry<String, INDArray> e : v.getLayer().paramTable().entrySet()) {
                INDArray dst = dstLayer.getParam(e.getKey());
                if (dst != null && Arrays.equals(dst.shape(), e.getValue().shape())) {
                    dst.assign(e.getValue());
                    copied++;
                }
            }
        }
        return copied;
    }
}
