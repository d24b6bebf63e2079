package dev.resnetzoo.core;

/**
 * The residual block a stage is built from, as in torchvision's {@code BasicBlock} and
 * {@code Bottleneck}.
 */
public enum BlockKind {
    /** Two 3x3 convolutions (ResNet-18/34). Output channels = stage width. */
    BASIC(1),
    /**
     * 1x1 reduce, 3x3 (grouped for ResNeXt), 1x1 expand (ResNet-50 and deeper, ResNeXt, Wide
     * ResNet, SE-ResNeXt). Output channels = 4 x stage width. The stride sits on the 3x3
     * convolution ("ResNet v1.5"), as in torchvision, not on the first 1x1 as in the paper.
     */
    BOTTLENECK(4);

    private final int expansion;

    BlockKind(int expansion) {
        this.expansion = expansion;
    }

    /** @return the ratio of a block's output channels to its stage width */
    public int expansion() {
        return expansion;
    }
}
