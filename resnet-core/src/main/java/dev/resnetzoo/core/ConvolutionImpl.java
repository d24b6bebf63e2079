package dev.resnetzoo.core;

/** Which convolution layer a graph is built from. */
public enum ConvolutionImpl {
    /**
     * This project's {@link dev.resnetzoo.core.layers.NativeConvolution}: libnd4j's conv2d ops
     * (oneDNN on CPU, cuDNN on CUDA), grouped convolutions supported. The default.
     */
    NATIVE,
    /**
     * DL4J's stock {@code ConvolutionLayer} (im2col + gemm on CPU in 1.0.0-M2.1). No groups, so
     * not for ResNeXt or SE-ResNeXt; kept as the baseline for benchmarks.
     */
    DL4J
}
