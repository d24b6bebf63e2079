package dev.resnetzoo.core.layers;

import java.util.Arrays;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.inputs.InvalidInputTypeException;
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
public class AddReluVertex extends TwoInputVertex {
    private static final long serialVersionUID = 1L;

    /** Whether both inputs come only from this project's layers that may write oneDNN's blocked layout. */
    private boolean blockedInput;
    /** Whether the output goes only to this project's layers that read oneDNN's blocked layout. */
    private boolean blockedOutput;

    /** Creates the vertex (also used by JSON deserialisation). */
    public AddReluVertex() {
    }

    /**
     * @param blockedInput  whether both inputs may hold oneDNN's channel-blocked layout (both come
     *                      from batch norms declared {@link NativeBatchNorm#withBlockedOutput()} or from
     *                      vertices like this one declared with {@code blockedOutput})
     * @param blockedOutput whether the output may hold it (only this project's convolutions declared
     *                      {@link NativeConvolution#withBlockedInput()} and such vertices read it)
     */
    public AddReluVertex(boolean blockedInput, boolean blockedOutput) {
        this.blockedInput = blockedInput;
        this.blockedOutput = blockedOutput;
    }

    /** @return whether both inputs may hold oneDNN's blocked layout */
    public boolean isBlockedInput() {
        return blockedInput;
    }

    /** @param blockedInput whether both inputs may hold oneDNN's blocked layout (JSON) */
    public void setBlockedInput(boolean blockedInput) {
        this.blockedInput = blockedInput;
    }

    /** @return whether the output may hold oneDNN's blocked layout */
    public boolean isBlockedOutput() {
        return blockedOutput;
    }

    /** @param blockedOutput whether the output may hold oneDNN's blocked layout (JSON) */
    public void setBlockedOutput(boolean blockedOutput) {
        this.blockedOutput = blockedOutput;
    }

    @Override
    public AddReluVertex clone() {
        return new AddReluVertex(blockedInput, blockedOutput);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof AddReluVertex other && blockedInput == other.blockedInput
                && blockedOutput == other.blockedOutput;
    }

    @Override
    public int hashCode() {
        return AddReluVertex.class.hashCode() + (blockedInput ? 2 : 0) + (blockedOutput ? 1 : 0);
    }

    @Override
    public org.deeplearning4j.nn.graph.vertex.GraphVertex instantiate(ComputationGraph graph, String name, int idx,
            INDArray paramsView, boolean initializeParams, DataType networkDatatype) {
        return new AddReluVertexImpl(graph, name, idx, networkDatatype, blockedInput, blockedOutput);
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
    public String toString() {
        return "AddReluVertex(blockedInput=" + blockedInput + ", blockedOutput=" + blockedOutput + ")";
    }
}
