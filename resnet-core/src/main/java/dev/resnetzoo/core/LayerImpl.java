package dev.resnetzoo.core;

/** Which layer implementations (convolution, batch normalisation) a graph is built from. */
public enum LayerImpl {
    /**
     * This project's layers: {@link dev.resnetzoo.core.layers.NativeConvolution} (plain and grouped)
     * and {@link dev.resnetzoo.core.layers.NativeBatchNorm}, computed by oneDNN primitives or libnd4j
     * ops as {@link dev.resnetzoo.core.layers.LayerRuntime} selects when the graph runs. The default.
     */
    NATIVE,
    /**
     * DL4J's stock {@code ConvolutionLayer} (im2col + gemm on CPU in 1.0.0-M2.1) and
     * {@code BatchNormalization}. No groups, so
     * not for ResNeXt or SE-ResNeXt; kept as the baseline for benchmarks.
     */
    DL4J
}
