package dev.resnetzoo.core.onednn;

import static org.bytedeco.dnnl.global.dnnl.*;

import org.bytedeco.dnnl.dnnl_binary_desc_t;
import org.bytedeco.dnnl.dnnl_eltwise_desc_t;
import org.bytedeco.dnnl.dnnl_memory;
import org.bytedeco.dnnl.dnnl_memory_desc_t;
import org.bytedeco.dnnl.dnnl_post_ops;
import org.bytedeco.dnnl.dnnl_primitive;
import org.bytedeco.dnnl.dnnl_primitive_attr;
import org.bytedeco.dnnl.dnnl_primitive_desc;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * {@code y = max(0, a + b)} for two float32 NCHW arrays of one shape: oneDNN's binary add with
 * the ReLU as a post-op, one pass over memory, on the arrays themselves (no reorders); backward,
 * {@code g = dy * (y > 0)} by oneDNN's ReLU backward from the output ({@code relu_use_dst_for_bwd}).
 *
 * <p>Both inputs and the gradient handed back to them are in one layout (NCHW or channel-blocked,
 * {@link OneDnn#activationBlock}), the output in that one or another; the primitives compute in
 * the inputs' layout and reorder the output (and, backward, the output and its gradient) when the
 * two differ.
 *
 * <p>Not thread-safe: one instance belongs to one vertex instance.
 */
public final class AddReluPrimitives {
    private final Handles handles = new Handles();
    private final long[] shape;
    private final dnnl_primitive primitive;
    private final dnnl_memory a;
    private final dnnl_memory b;
    private final Operand y;
    private final dnnl_primitive backward;
    private final Operand yBackward;
    private final Operand dy;
    private final dnnl_memory g;
    private final int inBlock;
    private final int outBlock;

    /**
     * @param shape    NCHW shape of both inputs and the output
     * @param inBlock  channel block of both inputs and their gradient (0 = NCHW)
     * @param outBlock channel block of the output and its gradient
     */
    public AddReluPrimitives(long[] shape, int inBlock, int outBlock) {
        this.shape = shape.clone();
        this.inBlock = inBlock;
        this.outBlock = outBlock;
        dnnl_memory_desc_t md = OneDnn.desc(shape, dnnl_f32, OneDnn.activationTag(inBlock));
        dnnl_memory_desc_t out = OneDnn.desc(shape, dnnl_f32, OneDnn.activationTag(outBlock));
        dnnl_binary_desc_t desc = new dnnl_binary_desc_t();
        OneDnn.check(dnnl_binary_desc_init(desc, dnnl_binary_add, md, md, md), "describing the residual add");
        dnnl_post_ops ops = new dnnl_post_ops();
        OneDnn.check(dnnl_post_ops_create(ops), "creating post-ops");
        dnnl_primitive_attr attr = new dnnl_primitive_attr();
        try {
            OneDnn.check(dnnl_post_ops_append_eltwise(ops, 1f, dnnl_eltwise_relu, 0f, 0f), "adding the ReLU post-op");
            OneDnn.check(dnnl_primitive_attr_create(attr), "creating primitive attributes");
            OneDnn.check(dnnl_primitive_attr_set_post_ops(attr, ops), "setting post-ops");
            dnnl_primitive_desc pd = handles.add(OneDnn.primitiveDesc(desc, attr, null, "residual add + ReLU"));
            primitive = handles.add(OneDnn.primitive(pd, "residual add + ReLU"));
        } finally {
            dnnl_primitive_attr_destroy(attr);
            dnnl_post_ops_destroy(ops);
        }
        // ReLU backward from its output; the forward descriptor is only the hint oneDNN requires.
        dnnl_eltwise_desc_t fwd = new dnnl_eltwise_desc_t();
        OneDnn.check(dnnl_eltwise_forward_desc_init(fwd, dnnl_forward_training, dnnl_eltwise_relu_use_dst_for_bwd, md,
                0f, 0f), "describing the ReLU");
        dnnl_primitive_desc hint = handles.add(OneDnn.primitiveDesc(fwd, null, "ReLU (hint)"));
        dnnl_eltwise_desc_t bwd = new dnnl_eltwise_desc_t();
        OneDnn.check(dnnl_eltwise_backward_desc_init(bwd, dnnl_eltwise_relu_use_dst_for_bwd, md, md, 0f, 0f),
                "describing the ReLU backward");
        dnnl_primitive_desc bpd = handles.add(OneDnn.primitiveDesc(bwd, hint, "ReLU backward"));
        backward = handles.add(OneDnn.primitive(bpd, "ReLU backward"));
        g = handles.add(OneDnn.unbound(md));
        a = handles.add(OneDnn.unbound(md));
        b = handles.add(OneDnn.unbound(md));
        y = Operand.out(out, md, Scratch.DST, "residual output", handles);
        yBackward = Operand.in(out, md, Scratch.SRC, "residual output (bwd)", handles);
        dy = Operand.in(out, md, Scratch.DST, "residual diff_dst", handles);
        handles.releaseWith(this);
    }

    /** @return whether these primitives serve this shape and these layouts */
    public boolean serves(long[] shape, int inBlock, int outBlock) {
        return java.util.Arrays.equals(this.shape, shape) && this.inBlock == inBlock && this.outBlock == outBlock;
    }

    /** y = max(0, a + b); dense float32 arrays of the shape and layouts given when created. */
    public void forward(INDArray a, INDArray b, INDArray y) {
        OneDnn.bind(this.a, a);
        OneDnn.bind(this.b, b);
        dnnl_memory d = this.y.bind(y);
        OneDnn.execute(primitive, DNNL_ARG_SRC_0, this.a, DNNL_ARG_SRC_1, this.b, DNNL_ARG_DST, d);
        this.y.flush();
    }

    /** g = dy where y > 0, else 0; g in the inputs' layout, y and dy in the output's. */
    public void backward(INDArray y, INDArray dy, INDArray g) {
        dnnl_memory ym = yBackward.bind(y);
        dnnl_memory dym = this.dy.bind(dy);
        OneDnn.bind(this.g, g);
        OneDnn.execute(backward, DNNL_ARG_DST, ym, DNNL_ARG_DIFF_DST, dym, DNNL_ARG_DIFF_SRC, this.g);
    }
}
