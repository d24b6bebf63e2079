package dev.resnetzoo.core.onednn;

import static org.bytedeco.dnnl.global.dnnl.*;

import org.bytedeco.dnnl.dnnl_batch_normalization_desc_t;
import org.bytedeco.dnnl.dnnl_memory;
import org.bytedeco.dnnl.dnnl_memory_desc_t;
import org.bytedeco.dnnl.dnnl_primitive;
import org.bytedeco.dnnl.dnnl_primitive_desc;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * oneDNN's batch-normalization primitives for one NCHW shape: forward with given statistics, and
 * backward (data, scale and shift) of the training pass. In training the caller computes the batch
 * mean and biased variance (oneDNN's float32 statistics are not accurate enough, see
 * {@code NativeBatchNormLayer}) and runs the same forward primitive with them; the backward
 * primitive takes the same statistics and differentiates through them. The running estimates are
 * the layer's business.
 *
 * <p>oneDNN's batch norm on plain NCHW ({@code ncsp_bnorm}) is a slow reference-like loop, so the
 * primitives run on the first channel-blocked layout ({@code nChw16c}, {@code nChw8c}, {@code nhwc})
 * for which oneDNN has a JIT kernel, with a reorder on each side; NCHW is the fallback.
 *
 * <p>With {@code relu}, the ReLU that follows the batch norm is fused into both primitives
 * ({@code dnnl_fuse_norm_relu}): the forward pass writes {@code max(0, y)} and a one-bit-per-value
 * mask (oneDNN's workspace, kept by this object until the backward pass), and the backward pass
 * applies the ReLU's gradient as it reads {@code dy}: no separate pass over memory either way.
 *
 * <p>Not thread-safe: one instance belongs to one layer instance.
 */
public final class BatchNormPrimitives {
    private static final int FLAGS = dnnl_use_scale | dnnl_use_shift;

    private final Handles handles = new Handles();
    private final dnnl_primitive_desc trainingPd;
    private final dnnl_primitive inference;
    private final boolean relu;
    /** With relu: the forward training pass with given statistics, which writes the ReLU mask. */
    private final dnnl_primitive trainingForward;
    private final dnnl_memory workspace;
    /** Layout of the input array and its gradient. */
    private final dnnl_memory_desc_t userIn;
    /** Layout of the output array and its gradient. */
    private final dnnl_memory_desc_t userOut;
    private final dnnl_memory_desc_t work;
    private final Operand src;
    private final Operand dst;
    private final dnnl_memory scale;
    private final dnnl_memory shift;
    private final dnnl_memory mean;
    private final dnnl_memory variance;
    private final float eps;
    private final long[] shape;
    private Backward backward;
    private final int inTag;
    private ImageMoments imageMoments;

    /**
     * Batch norm's training forward over the batch seen as one image of {@code N*C} channels (the
     * same bytes, since N is the outermost dimension of every layout used here): oneDNN's mean and
     * variance of each image's map of each channel, in one call.
     */
    private final class ImageMoments {
        final dnnl_primitive primitive;
        final dnnl_memory src;
        final dnnl_memory dst;
        final dnnl_memory mapMean;
        final dnnl_memory mapVar;
        final long bytes;

        ImageMoments() {
            long[] flat = {1, shape[0] * shape[1], shape[2], shape[3]};
            dnnl_memory_desc_t md = OneDnn.desc(flat, dnnl_f32, inTag);
            dnnl_batch_normalization_desc_t d = new dnnl_batch_normalization_desc_t();
            OneDnn.check(dnnl_batch_normalization_forward_desc_init(d, dnnl_forward_training, md, eps, 0),
                    "describing per-image batch statistics");
            dnnl_primitive_desc pd = handles.add(OneDnn.primitiveDesc(d, null, "per-image batch statistics"));
            primitive = handles.add(OneDnn.primitive(pd, "per-image batch statistics"));
            src = handles.add(OneDnn.unbound(md));
            dst = handles.add(OneDnn.unbound(md));
            dnnl_memory_desc_t stats = OneDnn.desc(new long[] {shape[0] * shape[1]}, dnnl_f32, dnnl_x);
            mapMean = handles.add(OneDnn.unbound(stats));
            mapVar = handles.add(OneDnn.unbound(stats));
            bytes = dnnl_memory_desc_get_size(md);
        }
    }

    private final class Backward {
        final dnnl_primitive primitive;
        final Operand src = Operand.in(userIn, work, Scratch.SRC, "batch norm src (bwd)", handles);
        final Operand diffDst = Operand.in(userOut, work, Scratch.DST, "batch norm diff_dst", handles);
        final Operand diffSrc = Operand.out(userIn, work, Scratch.SRC2, "batch norm diff_src", handles);
        final dnnl_memory diffScale = handles.add(OneDnn.unbound(channel()));
        final dnnl_memory diffShift = handles.add(OneDnn.unbound(channel()));

        Backward() {
            dnnl_batch_normalization_desc_t bd = new dnnl_batch_normalization_desc_t();
            OneDnn.check(dnnl_batch_normalization_backward_desc_init(bd, dnnl_backward, work, work, eps, flags()),
                    "describing batch norm backward");
            dnnl_primitive_desc bpd = handles.add(OneDnn.primitiveDesc(bd, trainingPd, "batch norm backward"));
            primitive = handles.add(OneDnn.primitive(bpd, "batch norm backward"));
        }
    }

    /**
     * @param shape NCHW shape of the input
     * @param eps   added to the variance
     * @param relu  whether a ReLU follows, fused into the primitives
     * @param inBlock  channel block of the input array and its gradient (0 = NCHW, see {@link OneDnn#activationBlock})
     * @param outBlock channel block of the output array and its gradient
     */
    public BatchNormPrimitives(long[] shape, double eps, boolean relu, int inBlock, int outBlock) {
        this.eps = (float) eps;
        this.shape = shape.clone();
        this.relu = relu;
        inTag = OneDnn.activationTag(inBlock);
        userIn = OneDnn.desc(shape, dnnl_f32, inTag);
        userOut = OneDnn.desc(shape, dnnl_f32, OneDnn.activationTag(outBlock));
        dnnl_memory_desc_t chosen = userIn;
        dnnl_primitive_desc pd = null;
        // The arrays' own blocked layout first (no reorder), then the others oneDNN has kernels for.
        int given = OneDnn.activationTag(Math.max(inBlock, outBlock));
        int[] candidates = given == dnnl_nchw ? new int[] {dnnl_nChw16c, dnnl_nChw8c, dnnl_nhwc, dnnl_nchw}
                : new int[] {given, dnnl_nChw16c, dnnl_nChw8c, dnnl_nhwc, dnnl_nchw};
        for (int tag : candidates) {
            dnnl_memory_desc_t candidate = OneDnn.desc(shape, dnnl_f32, tag);
            dnnl_primitive_desc candidatePd = trainingDesc(candidate);
            if (tag == dnnl_nchw || OneDnn.implementation(candidatePd).contains("jit")) {
                chosen = candidate;
                pd = candidatePd;
                break;
            }
            dnnl_primitive_desc_destroy(candidatePd);
        }
        work = chosen;
        trainingPd = handles.add(pd);

        dnnl_batch_normalization_desc_t id = new dnnl_batch_normalization_desc_t();
        OneDnn.check(dnnl_batch_normalization_forward_desc_init(id, dnnl_forward_inference, work, this.eps,
                flags() | dnnl_use_global_stats), "describing batch norm (inference)");
        dnnl_primitive_desc ipd = handles.add(OneDnn.primitiveDesc(id, null, "batch norm forward (inference)"));
        inference = handles.add(OneDnn.primitive(ipd, "batch norm forward (inference)"));

        if (relu) {
            // Training forward with the caller's statistics: the same kernel as the training pass
            // (so its ReLU mask is the one the backward pass reads), with mean and variance as inputs.
            dnnl_batch_normalization_desc_t gd = new dnnl_batch_normalization_desc_t();
            OneDnn.check(dnnl_batch_normalization_forward_desc_init(gd, dnnl_forward_training, work, this.eps,
                    flags() | dnnl_use_global_stats), "describing batch norm (training, given statistics)");
            dnnl_primitive_desc gpd = handles.add(OneDnn.primitiveDesc(gd, null, "batch norm forward (training)"));
            dnnl_memory_desc_t ws = dnnl_primitive_desc_query_md(gpd, dnnl_query_workspace_md, 0);
            dnnl_memory_desc_t expected = dnnl_primitive_desc_query_md(trainingPd, dnnl_query_workspace_md, 0);
            if (ws == null || expected == null || !OneDnn.same(ws, expected)) {
                throw new IllegalStateException("oneDNN's batch norm with fused ReLU has no common workspace for "
                        + "given and computed statistics (" + OneDnn.implementation(gpd) + ")");
            }
            trainingForward = handles.add(OneDnn.primitive(gpd, "batch norm forward (training)"));
            workspace = handles.add(OneDnn.unbound(ws));
            OneDnn.check(dnnl_memory_set_data_handle(workspace, handles.malloc(dnnl_memory_desc_get_size(ws))),
                    "binding the batch norm workspace");
        } else {
            trainingForward = null;
            workspace = null;
        }

        src = Operand.in(userIn, work, Scratch.SRC, "batch norm src", handles);
        dst = Operand.out(userOut, work, Scratch.DST, "batch norm dst", handles);
        scale = handles.add(OneDnn.unbound(channel()));
        shift = handles.add(OneDnn.unbound(channel()));
        mean = handles.add(OneDnn.unbound(channel()));
        variance = handles.add(OneDnn.unbound(channel()));
        handles.releaseWith(this);
    }

    private dnnl_memory_desc_t channel() {
        return OneDnn.desc(new long[] {shape[1]}, dnnl_f32, dnnl_x);
    }

    private int flags() {
        return relu ? FLAGS | dnnl_fuse_norm_relu : FLAGS;
    }

    private dnnl_primitive_desc trainingDesc(dnnl_memory_desc_t data) {
        dnnl_batch_normalization_desc_t td = new dnnl_batch_normalization_desc_t();
        OneDnn.check(dnnl_batch_normalization_forward_desc_init(td, dnnl_forward_training, data, eps, flags()),
                "describing batch norm (training)");
        return OneDnn.primitiveDesc(td, null, "batch norm forward (training)");
    }

    /**
     * y = (x - mean) / sqrt(var + eps) * gamma + beta with the given statistics (then max(0, y) with
     * relu).
     *
     * @param training whether {@link #backward} follows (with relu, the ReLU mask is kept for it)
     */
    public void forward(boolean training, INDArray x, INDArray gamma, INDArray beta, INDArray y, INDArray m,
                        INDArray v) {
        dnnl_memory s = src.bind(x);
        dnnl_memory d = dst.bind(y);
        bindChannels(gamma, beta, m, v);
        if (training && relu) {
            OneDnn.execute(trainingForward, DNNL_ARG_SRC, s, DNNL_ARG_MEAN, mean, DNNL_ARG_VARIANCE, variance,
                    DNNL_ARG_SCALE, scale, DNNL_ARG_SHIFT, shift, DNNL_ARG_DST, d, DNNL_ARG_WORKSPACE, workspace);
        } else {
            OneDnn.execute(inference, DNNL_ARG_SRC, s, DNNL_ARG_MEAN, mean, DNNL_ARG_VARIANCE, variance,
                    DNNL_ARG_SCALE, scale, DNNL_ARG_SHIFT, shift, DNNL_ARG_DST, d);
        }
        dst.flush();
    }

    /**
     * dx, dgamma, dbeta of the training forward pass with the batch statistics it used (through the
     * ReLU of the last {@code forward(true, ...)} with relu). oneDNN 2.5
     * refuses to run this primitive (invalid arguments) unless the shift is passed too, though it does
     * not enter the gradients.
     */
    public void backward(INDArray x, INDArray gamma, INDArray beta, INDArray batchMean, INDArray batchVar, INDArray dy,
                         INDArray dx, INDArray dGamma, INDArray dBeta) {
        if (backward == null) {
            backward = new Backward();
        }
        Backward b = backward;
        dnnl_memory s = b.src.bind(x);
        dnnl_memory dd = b.diffDst.bind(dy);
        dnnl_memory ds = b.diffSrc.bind(dx);
        bindChannels(gamma, beta, batchMean, batchVar);
        OneDnn.bind(b.diffScale, dGamma);
        OneDnn.bind(b.diffShift, dBeta);
        if (relu) {
            OneDnn.execute(b.primitive, DNNL_ARG_SRC, s, DNNL_ARG_MEAN, mean, DNNL_ARG_VARIANCE, variance,
                    DNNL_ARG_DIFF_DST, dd, DNNL_ARG_SCALE, scale, DNNL_ARG_SHIFT, shift, DNNL_ARG_DIFF_SRC, ds,
                    DNNL_ARG_DIFF_SCALE, b.diffScale, DNNL_ARG_DIFF_SHIFT, b.diffShift, DNNL_ARG_WORKSPACE, workspace);
        } else {
            OneDnn.execute(b.primitive, DNNL_ARG_SRC, s, DNNL_ARG_MEAN, mean, DNNL_ARG_VARIANCE, variance,
                    DNNL_ARG_DIFF_DST, dd, DNNL_ARG_SCALE, scale, DNNL_ARG_SHIFT, shift, DNNL_ARG_DIFF_SRC, ds,
                    DNNL_ARG_DIFF_SCALE, b.diffScale, DNNL_ARG_DIFF_SHIFT, b.diffShift);
        }
        b.diffSrc.flush();
    }

    /**
     * Mean and biased variance of every image's map of every channel, computed by oneDNN's batch
     * norm (in float, over {@code H*W} values each, mean first and then the squared deviations), on
     * the input array in place.
     *
     * @param x       the input, in this object's input layout (channel-blocked or NCHW)
     * @param mapMean receives {@code [N, C]} means (float, dense)
     * @param mapVar  receives {@code [N, C]} variances (float, dense)
     */
    public void imageMoments(INDArray x, INDArray mapMean, INDArray mapVar) {
        if (imageMoments == null) {
            imageMoments = new ImageMoments();
        }
        ImageMoments m = imageMoments;
        Scratch.bind(m.dst, Scratch.DST, m.bytes);
        OneDnn.bind(m.src, x);
        OneDnn.bind(m.mapMean, mapMean);
        OneDnn.bind(m.mapVar, mapVar);
        OneDnn.execute(m.primitive, DNNL_ARG_SRC, m.src, DNNL_ARG_DST, m.dst, DNNL_ARG_MEAN, m.mapMean,
                DNNL_ARG_VARIANCE, m.mapVar);
    }

    private void bindChannels(INDArray gamma, INDArray beta, INDArray m, INDArray v) {
        OneDnn.bind(scale, gamma);
        OneDnn.bind(shift, beta);
        OneDnn.bind(mean, m);
        OneDnn.bind(variance, v);
    }
}
