package dev.resnetzoo.core.layers;

import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.broadcast.BroadcastMulOp;
import org.nd4j.linalg.factory.Nd4j;

/** Runtime of {@link ChannelScaleVertex}: {@code y = x * s} broadcast over height and width. */
final class ChannelScaleVertexImpl extends ParameterFreeVertexImpl {
    ChannelScaleVertexImpl(ComputationGraph graph, String name, int index, DataType dataType) {
        super(graph, name, index, dataType);
    }

    private INDArray factors2d() {
        INDArray s = inputs[1];
        return s.rank() == 2 ? s : s.reshape(s.size(0), s.size(1));
    }

    @Override
    public INDArray doForward(boolean training, LayerWorkspaceMgr workspaceMgr) {
        if (!canDoForward()) {
            throw new IllegalStateException("ChannelScaleVertex '" + vertexName + "': inputs not set");
        }
        INDArray x = inputs[0];
        INDArray out = workspaceMgr.createUninitialized(ArrayType.ACTIVATIONS, x.dataType(), x.shape(), 'c');
        Nd4j.exec(new BroadcastMulOp(x, factors2d(), out, 0, 1));
        return out;
    }

    @Override
    public Pair<Gradient, INDArray[]> doBackward(boolean tbptt, LayerWorkspaceMgr workspaceMgr) {
        INDArray x = inputs[0];
        INDArray s = inputs[1];
        INDArray dx = workspaceMgr.createUninitialized(ArrayType.ACTIVATION_GRAD, x.dataType(), x.shape(), 'c');
        Nd4j.exec(new BroadcastMulOp(epsilon, factors2d(), dx, 0, 1));
        INDArray prod = workspaceMgr.createUninitialized(ArrayType.BP_WORKING_MEM, x.dataType(), x.shape(), 'c');
        prod.assign(epsilon).muli(x);
        INDArray ds = workspaceMgr.createUninitialized(ArrayType.ACTIVATION_GRAD, s.dataType(), s.shape(), 'c');
        prod.sum(ds.reshape(s.size(0), s.size(1)), 2, 3);
        return new Pair<>(null, new INDArray[] {dx, ds});
    }

    @Override
    public String toString() {
        return "ChannelScaleVertex(" + vertexName + ")";
    }
}
