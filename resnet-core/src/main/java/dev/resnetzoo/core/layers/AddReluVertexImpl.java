package dev.resnetzoo.core.layers;

import dev.resnetzoo.core.onednn.AddReluPrimitives;
import dev.resnetzoo.core.onednn.OneDnn;
import java.util.Arrays;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.transforms.gradient.ThresholdReluBp;
import org.nd4j.linalg.api.ops.impl.transforms.pairwise.arithmetic.AddOp;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * Runtime of {@link AddReluVertex}. Backward, {@code g = dy * (y > 0)} is the gradient of both
 * inputs, and the same array is handed to both: DL4J modifies a received gradient in place only
 * when it adds a second one for a vertex with several outputs (the block input, which also feeds
 * the block's first convolution), and that happens after the residual branch's backward pass, which
 * needs this gradient first, has run.
 */
final class AddReluVertexImpl extends ParameterFreeVertexImpl {
    private AddReluPrimitives primitives;
    /** The training forward pass's output, whose sign masks the gradient. */
    private INDArray output;

    private final boolean blockedInput;
    private final boolean blockedOutput;

    AddReluVertexImpl(ComputationGraph graph, String name, int index, DataType dataType, boolean blockedInput,
                      boolean blockedOutput) {
        super(graph, name, index, dataType);
        this.blockedInput = blockedInput;
        this.blockedOutput = blockedOutput;
    }

    private static INDArray dense(INDArray a) {
        return a.ordering() == 'c' && a.elementWiseStride() == 1 ? a : a.dup('c');
    }

    @Override
    public INDArray doForward(boolean training, LayerWorkspaceMgr workspaceMgr) {
        if (!canDoForward()) {
            throw new IllegalStateException("AddReluVertex '" + vertexName + "': inputs not set");
        }
        INDArray out = forward(workspaceMgr.createUninitialized(ArrayType.ACTIVATIONS, inputs[0].dataType(),
                inputs[0].shape(), 'c'));
        output = training ? out : null;
        return out;
    }

    private INDArray forward(INDArray out) {
        INDArray a = dense(inputs[0]);
        INDArray b = dense(inputs[1]);
        if (!Arrays.equals(a.shape(), b.shape())) {
            throw new IllegalStateException("AddReluVertex '" + vertexName + "': inputs have shapes "
                    + Arrays.toString(a.shape()) + " and " + Arrays.toString(b.shape()));
        }
        if (LayerRuntime.oneDnnFor(a.dataType()) && b.dataType() == a.dataType()) {
            primitivesFor(a).forward(a, b, out);
        } else {
            Nd4j.exec(new AddOp(a, b, out));
            Transforms.relu(out, false);
        }
        return out;
    }

    private AddReluPrimitives primitivesFor(INDArray a) {
        int in = OneDnn.activationBlock(a.size(1), blockedInput);
        int out = OneDnn.activationBlock(a.size(1), blockedOutput);
        if (primitives == null || !primitives.serves(a.shape(), in, out)) {
            primitives = new AddReluPrimitives(a.shape(), in, out);
        }
        return primitives;
    }

    @Override
    public Pair<Gradient, INDArray[]> doBackward(boolean tbptt, LayerWorkspaceMgr workspaceMgr) {
        INDArray y = output;
        if (y == null) {
            y = forward(workspaceMgr.createUninitialized(ArrayType.BP_WORKING_MEM, inputs[0].dataType(),
                    inputs[0].shape(), 'c'));
        }
        INDArray g = workspaceMgr.createUninitialized(ArrayType.ACTIVATION_GRAD, y.dataType(), y.shape(), 'c');
        INDArray dy = dense(epsilon);
        if (LayerRuntime.oneDnnFor(y.dataType()) && dy.dataType() == y.dataType()) {
            primitivesFor(y).backward(y, dy, g);
        } else {
            Nd4j.exec(new ThresholdReluBp(y, dy, g, 0.0));
        }
        output = null;
        return new Pair<>(null, new INDArray[] {g, g});
    }

    @Override
    public String toString() {
        return "AddReluVertex(" + vertexName + ")";
    }
}
