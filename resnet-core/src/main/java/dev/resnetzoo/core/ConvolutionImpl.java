package dev.resnetzoo.core;

/** Which layer implementations (convolution, batch normalisation) a graph is built from. */
public enum ConvolutionImpl {
    /**
     * This project's layers: {@link dev.resnetzoo.core.layers.NativeConvolution} (libnd4j's conv2d ops
     * with oneDNN on CPU and cuDNN on CUDA, grouped convolutions supported) and
     * {@link dev.resnetzoo.core.layers.NativeBatchNorm} (libnd4j's moments/batchnorm ops). The default.
     */
    NATIVE,
    /**
     * DL4J's stock {@code ConvolutionLayer} (im2col + gemm on CPU in 1.0.0-M2.1) and
     * {@code BatchNormalization}. No groups, so
     * not for ResNeXt or SE-ResNeXt; kept as the baseline for benchmarks.
     */
    DL4J
}
