package dev.resnetzoo.core.onednn;

import static org.bytedeco.dnnl.global.dnnl.*;

import org.bytedeco.dnnl.dnnl_convolution_desc_t;
import org.bytedeco.dnnl.dnnl_memory;
import org.bytedeco.dnnl.dnnl_memory_desc_t;
import org.bytedeco.dnnl.dnnl_primitive;
import org.bytedeco.dnnl.dnnl_primitive_desc;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * oneDNN's convolution forward, backward-data and backward-weights primitives for one geometry and
 * input shape, created once and reused for every call with that shape. Plain and grouped
 * convolutions are one primitive each. oneDNN chooses the layouts ({@code any}); the weights stay
 * {@code [out, in/groups, kh, kw]}, the input and output arrays are NCHW or, where the layer's
 * neighbour is also this project's layer, hold the channel-blocked layout given here
 * ({@link OneDnn#activationBlock}), and a reorder runs only where oneDNN's choice differs.
 *
 * <p>Not thread-safe: one instance belongs to one layer instance, which DL4J runs on one thread at a time.
 */
public final class ConvPrimitives {
    /** Geometry of a convolution; padding symmetric, dilation 1 = none (libnd4j's convention). */
    public record Geometry(long batch, long inChannels, long height, long width, long outChannels, int groups,
                           int kernelH, int kernelW, int strideH, int strideW, int padH, int padW,
                           int dilationH, int dilationW, boolean bias) {
        long outHeight() {
            return (height + 2L * padH - (long) dilationH * (kernelH - 1) - 1) / strideH + 1;
        }

        long outWidth() {
            return (width + 2L * padW - (long) dilationW * (kernelW - 1) - 1) / strideW + 1;
        }

        long[] weightDims() {
            long ci = inChannels / groups;
            return groups == 1 ? new long[] {outChannels, ci, kernelH, kernelW}
                    : new long[] {groups, outChannels / groups, ci, kernelH, kernelW};
        }
    }

    private final Geometry g;
    private final int srcTag;
    private final int dstTag;
    private final long[] srcDims;
    private final long[] dstDims;
    private final long[] weightDims;
    private final int weightTag;
    private final long[] strides;
    private final long[] dilation;
    private final long[] padding;
    private final Handles handles = new Handles();
    private final dnnl_primitive_desc forwardPd;
    private final dnnl_primitive forward;
    private final Operand fwdSrc;
    private final Operand fwdWeights;
    private final Operand fwdDst;
    private final dnnl_memory bias;
    private final String forwardImpl;
    // Backward primitives are created on the first backward call: inference never pays for them.
    private Backward backward;

    private final class Backward {
        final dnnl_primitive data;
        final dnnl_primitive weights;
        final Operand bdDiffDst;
        final Operand bdWeights;
        final Operand bdDiffSrc;
        final Operand bwSrc;
        /** Null when backward-data's reordered diff_dst serves backward-weights too. */
        final Operand bwDiffDst;
        final Operand bwDiffWeights;
        final dnnl_memory diffBias;
        final String dataImpl;
        final String weightsImpl;

        Backward(dnnl_primitive_desc fwdPd) {
            dnnl_convolution_desc_t dd = new dnnl_convolution_desc_t();
            OneDnn.check(dnnl_dilated_convolution_backward_data_desc_init(dd, dnnl_convolution_direct,
                    any(srcDims), any(weightDims), any(dstDims), strides, dilation, padding, padding), "describing convolution backward-data");
            dnnl_primitive_desc dpd = handles.add(OneDnn.primitiveDesc(dd, fwdPd, "convolution backward-data"));
            data = handles.add(OneDnn.primitive(dpd, "convolution backward-data"));
            dataImpl = OneDnn.implementation(dpd);
            bdDiffDst = Operand.in(plain(dstDims, dstTag), query(dpd, dnnl_query_diff_dst_md, 0), Scratch.DST,
                    "conv diff_dst", handles);
            bdWeights = Operand.in(plain(weightDims, weightTag), query(dpd, dnnl_query_weights_md, 0), Scratch.WEIGHTS,
                    "conv weights (bwd)", handles);
            bdDiffSrc = Operand.out(plain(srcDims, srcTag), query(dpd, dnnl_query_diff_src_md, 0), Scratch.SRC,
                    "conv diff_src", handles);

            dnnl_convolution_desc_t wd = new dnnl_convolution_desc_t();
            OneDnn.check(dnnl_dilated_convolution_backward_weights_desc_init(wd, dnnl_convolution_direct,
                    any(srcDims), any(weightDims), g.bias() ? plain(new long[] {g.outChannels()}, dnnl_x) : null, any(dstDims),
                    strides, dilation, padding, padding), "describing convolution backward-weights");
            dnnl_primitive_desc wpd = handles.add(OneDnn.primitiveDesc(wd, fwdPd, "convolution backward-weights"));
            weights = handles.add(OneDnn.primitive(wpd, "convolution backward-weights"));
            weightsImpl = OneDnn.implementation(wpd);
            bwSrc = Operand.in(plain(srcDims, srcTag), query(wpd, dnnl_query_src_md, 0), Scratch.SRC2,
                    "conv src (bwd)", handles);
            // Both passes usually want diff_dst in the same layout: then one reorder serves both.
            dnnl_memory_desc_t bwDst = query(wpd, dnnl_query_diff_dst_md, 0);
            bwDiffDst = OneDnn.same(bwDst, query(dpd, dnnl_query_diff_dst_md, 0)) ? null
                    : Operand.in(plain(dstDims, dstTag), bwDst, Scratch.DST2, "conv diff_dst (weights)", handles);
            bwDiffWeights = Operand.out(plain(weightDims, weightTag), query(wpd, dnnl_query_diff_weights_md, 0), Scratch.WEIGHTS,
                    "conv diff_weights", handles);
            diffBias = g.bias() ? handles.add(OneDnn.unbound(plain(new long[] {g.outChannels()}, dnnl_x))) : null;
        }
    }

    /**
     * @param g the convolution and its input shape
     * @throws IllegalStateException if oneDNN is unavailable or refuses the geometry
     */
    public ConvPrimitives(Geometry g) {
        this(g, 0, 0);
    }

    /**
     * @param g        the convolution and its input shape
     * @param srcBlock channel block of the input array and its gradient (0 = NCHW)
     * @param dstBlock channel block of the output array and its gradient (0 = NCHW)
     * @throws IllegalStateException if oneDNN is unavailable or refuses the geometry
     */
    public ConvPrimitives(Geometry g, int srcBlock, int dstBlock) {
        this.g = g;
        srcTag = OneDnn.activationTag(srcBlock);
        dstTag = OneDnn.activationTag(dstBlock);
        srcDims = new long[] {g.batch(), g.inChannels(), g.height(), g.width()};
        dstDims = new long[] {g.batch(), g.outChannels(), g.outHeight(), g.outWidth()};
        weightDims = g.weightDims();
        weightTag = g.groups() == 1 ? dnnl_oihw : dnnl_goihw;
        strides = new long[] {g.strideH(), g.strideW()};
        dilation = new long[] {g.dilationH() - 1, g.dilationW() - 1};
        padding = new long[] {g.padH(), g.padW()};
        dnnl_convolution_desc_t cd = new dnnl_convolution_desc_t();
        OneDnn.check(dnnl_dilated_convolution_forward_desc_init(cd, dnnl_forward_training, dnnl_convolution_direct,
                any(srcDims), any(weightDims), g.bias() ? plain(new long[] {g.outChannels()}, dnnl_x) : null, any(dstDims),
                strides, dilation, padding, padding), "describing a convolution " + g);
        dnnl_primitive_desc pd = handles.add(OneDnn.primitiveDesc(cd, null, "convolution forward"));
        forward = handles.add(OneDnn.primitive(pd, "convolution forward"));
        forwardImpl = OneDnn.implementation(pd);
        fwdSrc = Operand.in(plain(srcDims, srcTag), query(pd, dnnl_query_src_md, 0), Scratch.SRC, "conv src", handles);
        fwdWeights = Operand.in(plain(weightDims, weightTag), query(pd, dnnl_query_weights_md, 0), Scratch.WEIGHTS, "conv weights",
                handles);
        fwdDst = Operand.out(plain(dstDims, dstTag), query(pd, dnnl_query_dst_md, 0), Scratch.DST, "conv dst", handles);
        bias = g.bias() ? handles.add(OneDnn.unbound(plain(new long[] {g.outChannels()}, dnnl_x))) : null;
        forwardPd = pd;
        handles.releaseWith(this);
    }

    /** @return the implementations oneDNN chose, e.g. {@code fwd=brg:avx512_core bwd_d=... bwd_w=...} */
    public String implementations() {
        String s = "fwd=" + forwardImpl;
        if (backward != null) {
            s += " bwd_d=" + backward.dataImpl + " bwd_w=" + backward.weightsImpl;
        }
        return s;
    }

    /**
     * out = conv(x, w) + b.
     *
     * @param x   input, dense NCHW
     * @param w   weights, dense {@code [out, in/groups, kh, kw]}
     * @param b   bias {@code [out]} (any shape with that many dense elements), or null without bias
     * @param out output, dense NCHW
     */
    public void forward(INDArray x, INDArray w, INDArray b, INDArray out) {
        dnnl_memory src = fwdSrc.bind(x);
        dnnl_memory wm = fwdWeights.bind(w);
        dnnl_memory dst = fwdDst.bind(out);
        if (bias != null) {
            OneDnn.bind(bias, b);
            OneDnn.execute(forward, DNNL_ARG_SRC, src, DNNL_ARG_WEIGHTS, wm, DNNL_ARG_BIAS, bias, DNNL_ARG_DST, dst);
        } else {
            OneDnn.execute(forward, DNNL_ARG_SRC, src, DNNL_ARG_WEIGHTS, wm, DNNL_ARG_DST, dst);
        }
        fwdDst.flush();
    }

    /**
     * Gradients of {@link #forward}: dx, dW (overwritten) and db (overwritten, if the layer has a bias).
     *
     * @param x     the forward input
     * @param w     the weights
     * @param dy    gradient of the output, dense NCHW
     * @param dx    receives the gradient of the input, dense NCHW
     * @param dw    receives the weight gradient, dense {@code [out, in/groups, kh, kw]}
     * @param db    receives the bias gradient, or null without bias
     */
    public void backward(INDArray x, INDArray w, INDArray dy, INDArray dx, INDArray dw, INDArray db) {
        if (backward == null) {
            backward = new Backward(forwardPd);
        }
        Backward bk = backward;
        dnnl_memory diffDst = bk.bdDiffDst.bind(dy);
        dnnl_memory wm = bk.bdWeights.bind(w);
        dnnl_memory diffSrc = bk.bdDiffSrc.bind(dx);
        OneDnn.execute(bk.data, DNNL_ARG_DIFF_DST, diffDst, DNNL_ARG_WEIGHTS, wm, DNNL_ARG_DIFF_SRC, diffSrc);
        bk.bdDiffSrc.flush();

        dnnl_memory src = bk.bwSrc.bind(x);
        dnnl_memory diffDst2 = bk.bwDiffDst == null ? diffDst : bk.bwDiffDst.bind(dy);
        dnnl_memory diffW = bk.bwDiffWeights.bind(dw);
        if (bk.diffBias != null) {
            OneDnn.bind(bk.diffBias, db);
            OneDnn.execute(bk.weights, DNNL_ARG_SRC, src, DNNL_ARG_DIFF_DST, diffDst2, DNNL_ARG_DIFF_WEIGHTS, diffW,
                    DNNL_ARG_DIFF_BIAS, bk.diffBias);
        } else {
            OneDnn.execute(bk.weights, DNNL_ARG_SRC, src, DNNL_ARG_DIFF_DST, diffDst2, DNNL_ARG_DIFF_WEIGHTS, diffW);
        }
        bk.bwDiffWeights.flush();
    }

    private static dnnl_memory_desc_t any(long[] dims) {
        return OneDnn.desc(dims, dnnl_f32, dnnl_format_tag_any);
    }

    private static dnnl_memory_desc_t plain(long[] dims, int tag) {
        return OneDnn.desc(dims, dnnl_f32, tag);
    }

    private static dnnl_memory_desc_t query(dnnl_primitive_desc pd, int what, int index) {
        return dnnl_primitive_desc_query_md(pd, what, index);
    }
}
