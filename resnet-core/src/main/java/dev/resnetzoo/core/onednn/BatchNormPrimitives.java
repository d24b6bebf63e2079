package dev.resnetzoo.core.onednn;

import static org.bytedeco.dnnl.global.dnnl.*;

import org.bytedeco.dnnl.dnnl_batch_normalization_desc_t;
import org.bytedeco.dnnl.dnnl_memory;
import org.bytedeco.dnnl.dnnl_memory_desc_t;
import org.bytedeco.dnnl.dnnl_primitive;
import org.bytedeco.dnnl.dnnl_primitive_desc;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * oneDNN's batch-normalization primitives for one NCHW shape: forward with batch statistics
 * (training), forward with given statistics (inference), and backward (data, scale and shift), on
 * the arrays' own memory. Statistics are the biased batch variance, as the normalisation uses it;
 * the running estimates are the layer's business.
 *
 * <p>Not thread-safe: one instance belongs to one layer instance.
 */
public final class BatchNormPrimitives {
    private final Handles handles = new Handles();
    private final dnnl_primitive_desc trainingPd;
    private final dnnl_primitive training;
    private final dnnl_primitive inference;
    private dnnl_primitive backward;
    private final dnnl_memory src;
    private final dnnl_memory dst;
    private final dnnl_memory diffDst;
    private final dnnl_memory diffSrc;
    private final dnnl_memory scale;
    private final dnnl_memory shift;
    private final dnnl_memory diffScale;
    private final dnnl_memory diffShift;
    private final dnnl_memory mean;
    private final dnnl_memory variance;
    private final dnnl_memory_desc_t data;
    private final float eps;
    private final String impl;

    /**
     * @param shape NCHW shape of the input
     * @param eps   added to the variance
     */
    public BatchNormPrimitives(long[] shape, double eps) {
        this.eps = (float) eps;
        data = OneDnn.desc(shape, dnnl_f32, dnnl_nchw);
        dnnl_memory_desc_t channel = OneDnn.desc(new long[] {shape[1]}, dnnl_f32, dnnl_x);
        int flags = dnnl_use_scale | dnnl_use_shift;
        dnnl_batch_normalization_desc_t td = new dnnl_batch_normalization_desc_t();
        OneDnn.check(dnnl_batch_normalization_forward_desc_init(td, dnnl_forward_training, data, this.eps, flags),
                "describing batch norm (training)");
        trainingPd = handles.add(OneDnn.primitiveDesc(td, null, "batch norm forward (training)"));
        training = handles.add(OneDnn.primitive(trainingPd, "batch norm forward (training)"));
        impl = OneDnn.implementation(trainingPd);

        dnnl_batch_normalization_desc_t id = new dnnl_batch_normalization_desc_t();
        OneDnn.check(dnnl_batch_normalization_forward_desc_init(id, dnnl_forward_inference, data, this.eps,
                flags | dnnl_use_global_stats), "describing batch norm (inference)");
        dnnl_primitive_desc ipd = handles.add(OneDnn.primitiveDesc(id, null, "batch norm forward (inference)"));
        inference = handles.add(OneDnn.primitive(ipd, "batch norm forward (inference)"));

        src = handles.add(OneDnn.unbound(data));
        dst = handles.add(OneDnn.unbound(data));
        diffDst = handles.add(OneDnn.unbound(data));
        diffSrc = handles.add(OneDnn.unbound(data));
        scale = handles.add(OneDnn.unbound(channel));
        shift = handles.add(OneDnn.unbound(channel));
        diffScale = handles.add(OneDnn.unbound(channel));
        diffShift = handles.add(OneDnn.unbound(channel));
        mean = handles.add(OneDnn.unbound(channel));
        variance = handles.add(OneDnn.unbound(channel));
        handles.releaseWith(this);
    }

    /** @return the implementation oneDNN chose for the training forward pass */
    public String implementation() {
        return impl;
    }

    /** y = (x - batch mean) / sqrt(batch var + eps) * gamma + beta; writes the batch mean and (biased) variance. */
    public void forwardTraining(INDArray x, INDArray gamma, INDArray beta, INDArray y, INDArray batchMean,
                                INDArray batchVar) {
        bind(x, gamma, beta, y, batchMean, batchVar);
        OneDnn.execute(training, DNNL_ARG_SRC, src, DNNL_ARG_SCALE, scale, DNNL_ARG_SHIFT, shift, DNNL_ARG_DST, dst,
                DNNL_ARG_MEAN, mean, DNNL_ARG_VARIANCE, variance);
    }

    /** y = (x - mean) / sqrt(var + eps) * gamma + beta with the given statistics. */
    public void forwardInference(INDArray x, INDArray gamma, INDArray beta, INDArray y, INDArray m, INDArray v) {
        bind(x, gamma, beta, y, m, v);
        OneDnn.execute(inference, DNNL_ARG_SRC, src, DNNL_ARG_MEAN, mean, DNNL_ARG_VARIANCE, variance,
                DNNL_ARG_SCALE, scale, DNNL_ARG_SHIFT, shift, DNNL_ARG_DST, dst);
    }

    /**
     * dx, dgamma, dbeta of the training forward pass with the batch statistics it wrote. oneDNN 2.5
     * refuses to run this primitive (invalid arguments) unless the shift is passed too, though it does
     * not enter the gradients.
     */
    public void backward(INDArray x, INDArray gamma, INDArray beta, INDArray batchMean, INDArray batchVar, INDArray dy,
                         INDArray dx, INDArray dGamma, INDArray dBeta) {
        if (backward == null) {
            dnnl_batch_normalization_desc_t bd = new dnnl_batch_normalization_desc_t();
            OneDnn.check(dnnl_batch_normalization_backward_desc_init(bd, dnnl_backward, data, data, eps,
                    dnnl_use_scale | dnnl_use_shift), "describing batch norm backward");
            dnnl_primitive_desc bpd = handles.add(OneDnn.primitiveDesc(bd, trainingPd, "batch norm backward"));
            backward = handles.add(OneDnn.primitive(bpd, "batch norm backward"));
        }
        OneDnn.bind(src, x);
        OneDnn.bind(scale, gamma);
        OneDnn.bind(shift, beta);
        OneDnn.bind(mean, batchMean);
        OneDnn.bind(variance, batchVar);
        OneDnn.bind(diffDst, dy);
        OneDnn.bind(diffSrc, dx);
        OneDnn.bind(diffScale, dGamma);
        OneDnn.bind(diffShift, dBeta);
        OneDnn.execute(backward, DNNL_ARG_SRC, src, DNNL_ARG_MEAN, mean, DNNL_ARG_VARIANCE, variance,
                DNNL_ARG_DIFF_DST, diffDst, DNNL_ARG_SCALE, scale, DNNL_ARG_SHIFT, shift, DNNL_ARG_DIFF_SRC, diffSrc,
                DNNL_ARG_DIFF_SCALE, diffScale, DNNL_ARG_DIFF_SHIFT, diffShift);
    }

    private void bind(INDArray x, INDArray gamma, INDArray beta, INDArray y, INDArray m, INDArray v) {
        OneDnn.bind(src, x);
        OneDnn.bind(scale, gamma);
        OneDnn.bind(shift, beta);
        OneDnn.bind(dst, y);
        OneDnn.bind(mean, m);
        OneDnn.bind(variance, v);
    }
}
