package dev.resnetzoo.core.layers;

import java.util.Collection;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Batch normalisation over the channels of an NCHW feature map, computed with libnd4j's
 * {@code moments} and {@code batchnorm} operations (one pass each) instead of DL4J 1.0.0-M2.1's
 * {@code BatchNormalization} layer, which orchestrates a dozen separate passes from Java (the
 * README's benchmarks compare the two).
 *
 * <p>It is a DL4J {@link BatchNormalization} configuration in every other respect: parameters
 * {@code gamma}, {@code beta}, {@code mean}, {@code var} (variance stored directly, as PyTorch's
 * {@code running_var}), the same JSON, the same running-statistics update through DL4J's updater
 * ({@code decay} = 1 - PyTorch momentum). One deliberate difference: the running variance is updated
 * with the unbiased batch variance, as PyTorch does (DL4J's layer uses the biased one).
 *
 * <p>{@link #withRelu()} makes it batch norm followed by ReLU in one layer (torchvision's
 * {@code bn1} then {@code relu}): both runtimes compute the pair in one pass forward and one backward
 * (oneDNN fuses it into its batch-norm primitives), where a separate activation layer would read and
 * write the map once more each way and keep one more copy of it for the backward pass.
 */
public class NativeBatchNorm extends BatchNormalization {
    private static final long serialVersionUID = 1L;

    /** Whether a ReLU follows the normalisation; serialised with the configuration. */
    private boolean relu;
    /** Whether the input comes only from this project's convolution (see {@link NativeConvolution#withBlockedInput()}). */
    private boolean blockedInput;
    /** Whether the output goes only to this project's convolutions. */
    private boolean blockedOutput;

    /** For JSON deserialisation. */
    public NativeBatchNorm() {
        super();
    }

    /**
     * @param channels  number of channels
     * @param eps       added to the variance (PyTorch default 1e-5)
     * @param decay     running-statistics decay (0.9 = PyTorch momentum 0.1)
     * @param gammaInit initial scale (1, or 0 for a "zero-init" last BN of a residual branch)
     * @return the layer configuration
     */
    public static NativeBatchNorm of(long channels, double eps, double decay, double gammaInit) {
        if (channels < 1) {
            throw new IllegalArgumentException("batch norm needs >= 1 channel, got " + channels);
        }
        NativeBatchNorm bn = new NativeBatchNorm();
        bn.setNIn(channels);
        bn.setNOut(channels);
        bn.setEps(eps);
        bn.setDecay(decay);
        bn.setGamma(gammaInit);
        bn.setBeta(0.0);
        bn.setLockGammaBeta(false);
        bn.setMinibatch(true);
        bn.setUseLogStd(false);
        bn.setCnn2DFormat(CNN2DFormat.NCHW);
        return bn;
    }

    /** @return this configuration, with the ReLU that follows fused into the layer */
    public NativeBatchNorm withRelu() {
        relu = true;
        return this;
    }

    /**
     * Declares that the input array is produced only by a convolution declared with
     * {@link NativeConvolution#withBlockedOutput()}: on the oneDNN runtime it then holds oneDNN's
     * channel-blocked layout.
     *
     * @return this configuration
     */
    public NativeBatchNorm withBlockedInput() {
        blockedInput = true;
        return this;
    }

    /**
     * Declares that the output array is read only by convolutions declared with
     * {@link NativeConvolution#withBlockedInput()}: on the oneDNN runtime it then holds oneDNN's
     * channel-blocked layout.
     *
     * @return this configuration
     */
    public NativeBatchNorm withBlockedOutput() {
        blockedOutput = true;
        return this;
    }

    /** @return whether the input may hold oneDNN's blocked layout */
    public boolean isBlockedInput() {
        return blockedInput;
    }

    /** @param blockedInput whether the input may hold oneDNN's blocked layout (JSON) */
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

    /** @return whether the layer applies ReLU after the normalisation */
    public boolean isRelu() {
        return relu;
    }

    /** @param relu whether the layer applies ReLU after the normalisation (JSON) */
    public void setRelu(boolean relu) {
        this.relu = relu;
    }

    @Override
    public org.deeplearning4j.nn.api.Layer instantiate(NeuralNetConfiguration conf,
            Collection<TrainingListener> trainingListeners, int layerIndex, INDArray layerParamsView,
            boolean initializeParams, DataType networkDataType) {
        if (isUseLogStd() || isLockGammaBeta() || getCnn2DFormat() != CNN2DFormat.NCHW) {
            throw new IllegalStateException("NativeBatchNorm '" + getLayerName()
                    + "' supports only NCHW, variance parameterisation and learned gamma/beta");
        }
        return LayerWiring.wire(new NativeBatchNormLayer(conf, networkDataType), conf, trainingListeners, layerIndex,
                layerParamsView, initializeParams, initializer());
    }

    @Override
    public NativeBatchNorm clone() {
        return (NativeBatchNorm) super.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof NativeBatchNorm other && relu == other.relu && blockedInput == other.blockedInput
                && blockedOutput == other.blockedOutput && super.equals(o);
    }

    @Override
    public int hashCode() {
        return 31 * super.hashCode() + (relu ? 4 : 0) + (blockedInput ? 2 : 0) + (blockedOutput ? 1 : 0);
    }
}
