package dev.resnetzoo.core;

/** The layers in front of the first stage. */
public enum StemKind {
    /** 7x7 stride-2 convolution, BN, ReLU, 3x3 stride-2 max pool: the ImageNet stem (4x downsampling). */
    IMAGENET,
    /**
     * 3x3 stride-1 convolution, BN, ReLU and no max pool: for small images (28x28, 32x32) where the
     * ImageNet stem would discard most of the resolution before the first stage.
     */
    SMALL
}
