package dev.resnetzoo.core.layers;

import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.inputs.InvalidInputTypeException;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Multiplies a feature map {@code [N, C, H, W]} (first input) by per-channel factors
 * {@code [N, C, 1, 1]} or {@code [N, C]} (second input): the "excitation" step of
 * squeeze-and-excitation (Hu et al., 2017). DL4J 1.0.0-M2.1's {@code ElementWiseVertex} cannot
 * broadcast, and its SameDiff vertices return doubled gradients; this vertex computes forward and
 * backward directly with broadcast operations. It has no parameters.
 */
public class ChannelScaleVertex extends TwoInputVertex {
    private static final long serialVersionUID = 1L;

    /** Creates the vertex (also used by JSON deserialisation). */
    public ChannelScaleVertex() {
    }

    @Override
    public ChannelScaleVertex clone() {
        return new ChannelScaleVertex();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ChannelScaleVertex;
    }

    @Override
    public int hashCode() {
        return ChannelScaleVertex.class.hashCode();
    }

    @Override
    public org.deeplearning4j.nn.graph.vertex.GraphVertex instantiate(ComputationGraph graph, String name, int idx,
            INDArray paramsView, boolean initializeParams, DataType networkDatatype) {
        return new ChannelScaleVertexImpl(graph, name, idx, networkDatatype);
    }

    @Override
    public InputType getOutputType(int layerIndex, InputType... vertexInputs) throws InvalidInputTypeException {
        if (vertexInputs.length != 2) {
            throw new InvalidInputTypeException("ChannelScaleVertex takes 2 inputs (features, channel factors), got "
                    + vertexInputs.length);
        }
        if (!(vertexInputs[0] instanceof InputType.InputTypeConvolutional features)) {
            throw new InvalidInputTypeException("ChannelScaleVertex: first input must be convolutional [N,C,H,W], got "
                    + vertexInputs[0]);
        }
        long scaleChannels = vertexInputs[1] instanceof InputType.InputTypeConvolutional c ? c.getChannels()
                : vertexInputs[1].arrayElementsPerExample();
        if (scaleChannels != features.getChannels()) {
            throw new InvalidInputTypeException("ChannelScaleVertex: factors have " + scaleChannels
                    + " channels, features have " + features.getChannels());
        }
        return vertexInputs[0];
    }

    @Override
    public String toString() {
        return "ChannelScaleVertex()";
    }
}
