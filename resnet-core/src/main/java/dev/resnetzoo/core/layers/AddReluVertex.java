package dev.resnetzoo.core.layers;

import java.util.Arrays;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.inputs.InvalidInputTypeException;
import org.deeplearning4j.nn.conf.memory.LayerMemoryReport;
import org.deeplearning4j.nn.conf.memory.MemoryReport;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The end of a residual block: {@code relu(residual + shortcut)} of two feature maps of one shape,
 * in one pass forward and one backward. DL4J's {@code ElementWiseVertex} followed by an activation
 * layer makes two passes each way and keeps the sum for the activation's backward pass; this vertex
 * keeps only its output. On the oneDNN runtime the forward pass is oneDNN's binary add with the
 * ReLU as a post-op. It has no parameters.
 */
public class AddReluVertex extends GraphVertex {
    private static final long serialVersionUID = 1L;

    /** Creates the vertex (also used by JSON deserialisation). */
    public AddReluVertex() {
    }

    @Override
    public AddReluVertex clone() {
        return new AddReluVertex();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof AddReluVertex;
    }

    @Override
    public int hashCode() {
        return AddReluVertex.class.hashCode();
    }

    @Override
    public long numParams(boolean backprop) {
        return 0;
    }

    @Override
    public int minVertexInputs() {
        return 2;
    }

    @Override
    public int maxVertexInputs() {
        return 2;
    }

    @Override
    public org.deeplearning4j.nn.graph.vertex.GraphVertex instantiate(ComputationGraph graph, String name, int idx,
            INDArray paramsView, boolean initializeParams, DataType networkDatatype) {
        return new AddReluVertexImpl(graph, name, idx, networkDatatype);
    }

    @Override
    public InputType getOutputType(int layerIndex, InputType... vertexInputs) throws InvalidInputTypeException {
        if (vertexInputs.length != 2) {
            throw new InvalidInputTypeException("AddReluVertex takes 2 inputs (residual, shortcut), got "
                    + vertexInputs.length);
        }
        if (!Arrays.equals(vertexInputs[0].getShape(false), vertexInputs[1].getShape(false))) {
            throw new InvalidInputTypeException("AddReluVertex: inputs must have one shape, got " + vertexInputs[0]
                    + " and " + vertexInputs[1]);
        }
        return vertexInputs[0];
    }

    @Override
    public MemoryReport getMemoryReport(InputType... inputTypes) {
        InputType out = getOutputType(-1, inputTypes);
        return new LayerMemoryReport.Builder(null, AddReluVertex.class, inputTypes[0], out)
                .standardMemory(0, 0)
                .workingMemory(0, 0, 0, 0)
                .cacheMemory(0, 0)
                .build();
    }

    @Override
    public String toString() {
        return "AddReluVertex()";
    }
}
