package dev.resnetzoo.core.layers;

import java.util.Collection;
import org.deeplearning4j.nn.api.ParamInitializer;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.weights.IWeightInit;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A 2D convolution (plain or grouped) computed by oneDNN primitives on CPU or by libnd4j's own
 * {@code conv2d}/{@code conv2d_bp} operations (cuDNN on CUDA), as {@link LayerRuntime} selects,
 * instead of DL4J's im2col + gemm path (DL4J 1.0.0-M2.1's oneDNN layer helper is never loaded).
 *
 * <p>Weights have PyTorch's layout {@code [out, in / groups, kh, kw]} under the key {@code W},
 * the optional bias {@code [out]} under {@code b}, so a {@code state_dict} entry maps onto it
 * without reshaping. Grouped convolutions (ResNeXt) are one oneDNN primitive, or on libnd4j one
 * batched matrix product over the groups per image. Padding is explicit and symmetric, as in PyTorch
 * ({@link ConvolutionMode#Truncate}); NCHW only. The layer has no activation of its own: the
 * networks here put batch normalisation and ReLU in their own layers.
 */
public class NativeConvolution extends ConvolutionLayer {
    private static final long serialVersionUID = 1L;

    private int groups = 1;
    /** Whether the input array comes only from this project's batch norm (see {@link #withBlockedInput()}). */
    private boolean blockedInput;
    /** Whether the output array goes only to this project's batch norm. */
    private boolean blockedOutput;

    /** For JSON deserialisation. */
    public NativeConvolution() {
        super();
    }

    private NativeConvolution(ConvolutionLayer.Builder builder, int groups) {
        super(builder);
        this.groups = groups;
    }

    /**
     * @param nIn        input channels
     * @param nOut       output channels
     * @param kernel     square kernel size
     * @param stride     stride in both directions
     * @param padding    zero padding on every side
     * @param groups     number of groups ({@code nIn} and {@code nOut} must be divisible by it)
     * @param hasBias    whether the layer adds a bias
     * @param weightInit weight initialisation (fan-in is {@code nIn / groups * k * k}, fan-out {@code nOut * k * k})
     * @return the layer configuration
     * @throws IllegalArgumentException if channels are not divisible by the groups, or a size is not positive
     */
    public static NativeConvolution of(long nIn, long nOut, int kernel, int stride, int padding, int groups,
                                       boolean hasBias, IWeightInit weightInit) {
        if (nIn < 1 || nOut < 1 || kernel < 1 || stride < 1 || padding < 0 || groups < 1) {
            throw new IllegalArgumentException(String.format(
                    "convolution needs nIn, nOut, kernel, stride, groups >= 1 and padding >= 0; got nIn=%d nOut=%d "
                            + "kernel=%d stride=%d padding=%d groups=%d", nIn, nOut, kernel, stride, padding, groups));
        }
        if (nIn % groups != 0 || nOut % groups != 0) {
            throw new IllegalArgumentException(String.format(
                    "convolution channels must be divisible by groups=%d: got nIn=%d, nOut=%d", groups, nIn, nOut));
        }
        ConvolutionLayer.Builder b = new ConvolutionLayer.Builder(kernel, kernel)
                .stride(stride, stride)
                .padding(padding, padding)
                .convolutionMode(ConvolutionMode.Truncate)
                .nIn(nIn)
                .nOut(nOut)
                .hasBias(hasBias)
                .activation(Activation.IDENTITY)
                .weightInit(weightInit);
        return new NativeConvolution(b, groups);
    }

    /** @return the number of groups (1 = ordinary convolution) */
    public int getGroups() {
        return groups;
    }

    /**
     * Declares that the input array is produced by one of this project's layers that may write it
     * in oneDNN's channel-blocked layout ({@link NativeBatchNorm#withBlockedOutput()}), and read by
     * no other vertex. On the oneDNN runtime the array between the two then keeps the layout the
     * convolution computes in, with no reorder on either side; on libnd4j it is NCHW as always.
     *
     * @return this configuration
     */
    public NativeConvolution withBlockedInput() {
        blockedInput = true;
        return this;
    }

    /**
     * Declares that the output array is read only by one of this project's batch norms declared
     * with {@link NativeBatchNorm#withBlockedInput()} (see {@link #withBlockedInput()}).
     *
     * @return this configuration
     */
    public NativeConvolution withBlockedOutput() {
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

    /** @param groups the number of groups (used by JSON deserialisation) */
    public void setGroups(int groups) {
        this.groups = groups;
    }

    @Override
    public org.deeplearning4j.nn.api.Layer instantiate(NeuralNetConfiguration conf,
            Collection<TrainingListener> trainingListeners, int layerIndex, INDArray layerParamsView,
            boolean initializeParams, DataType networkDataType) {
        return LayerWiring.wire(new NativeConvolutionLayer(conf, networkDataType), conf, trainingListeners, layerIndex,
                layerParamsView, initializeParams, initializer());
    }

    @Override
    public ParamInitializer initializer() {
        return NativeConvolutionParams.INSTANCE;
    }
    @Override
    public NativeConvolution clone() {
        return (NativeConvolution) super.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof NativeConvolution other && super.equals(o) && groups == other.groups
                && blockedInput == other.blockedInput && blockedOutput == other.blockedOutput;
    }

    @Override
    public int hashCode() {
        return 31 * (31 * super.hashCode() + groups) + (blockedInput ? 2 : 0) + (blockedOutput ? 1 : 0);
    }

    @Override
    public String toString() {
        return "NativeConvolution(groups=" + groups + ", " + super.toString() + ")";
    }
}
