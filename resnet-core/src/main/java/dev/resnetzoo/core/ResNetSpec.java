package dev.resnetzoo.core;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * One row of the ResNet depth table: everything that determines the architecture, and nothing
 * about training. The named variants in {@link Variant} are instances of this record; custom
 * networks use the same record, built with {@link #builder(BlockKind, int...)}.
 *
 * <p>Widths follow torchvision: stage {@code i} has "planes" {@code widths[i]}; a bottleneck's
 * inner (3x3) width is {@code planes * baseWidth / 64 * cardinality} and its output is
 * {@code planes * 4}. ResNeXt-50 32x4d is cardinality 32, base width 4; Wide ResNet-50-2 is base
 * width 128 ({@link Builder#widthFactor(int) width factor} 2). Squeeze-and-excitation follows timm:
 * after the last BN of the block, {@code channels / seReduction} rounded to a multiple of 8.
 *
 * @param name             a label for the network (used in summaries and error messages)
 * @param block            block kind of every stage
 * @param depths           blocks per stage; the first stage has stride 1, each later one stride 2
 * @param widths           "planes" per stage, same length as {@code depths}
 * @param stemWidth        output channels of the stem convolution (64 in all reference models)
 * @param cardinality      groups of the bottleneck's 3x3 convolution (1 = plain ResNet)
 * @param baseWidth        width per group, torchvision's {@code width_per_group} (64 = plain ResNet)
 * @param seReduction      squeeze-and-excitation reduction ratio, 0 for no SE
 * @param stem             the stem kind
 * @param inputChannels    channels of the input image (3 for RGB, 1 for grey scale)
 * @param inputHeight      input height in pixels
 * @param inputWidth       input width in pixels
 * @param numClasses       outputs of the classifier
 * @param zeroInitLastBn   initialise the last BN scale of each block to zero, so each residual
 *                         block starts as the identity (torchvision's {@code zero_init_residual})
 */
public record ResNetSpec(
        String name,
        BlockKind block,
        List<Integer> depths,
        List<Integer> widths,
        int stemWidth,
        int cardinality,
        int baseWidth,
        int seReduction,
        StemKind stem,
        int inputChannels,
        int inputHeight,
        int inputWidth,
        int numClasses,
        boolean zeroInitLastBn) {

    /** The SE bottleneck channels are rounded to a multiple of this, as timm does. */
    static final int SE_DIVISOR = 8;

    /** Validates the table; every message names the bad value and what is valid. */
    public ResNetSpec {
        Objects.requireNonNull(block, "block kind must not be null");
        Objects.requireNonNull(stem, "stem kind must not be null");
        name = name == null || name.isBlank() ? "custom" : name;
        depths = List.copyOf(Objects.requireNonNull(depths, "depths must not be null"));
        widths = List.copyOf(Objects.requireNonNull(widths, "widths must not be null"));
        check(!depths.isEmpty(), "%s: depths must name at least one stage, got []", name);
        check(depths.size() == widths.size(),
                "%s: depths %s and widths %s must have the same number of stages", name, depths, widths);
        for (int i = 0; i < depths.size(); i++) {
            check(depths.get(i) >= 1, "%s: stage %d depth must be >= 1, got %d (depths %s)",
                    name, i + 1, depths.get(i), depths);
            check(widths.get(i) >= 1, "%s: stage %d width must be >= 1, got %d (widths %s)",
                    name, i + 1, widths.get(i), widths);
        }
        check(stemWidth >= 1, "%s: stem width must be >= 1, got %d", name, stemWidth);
        check(cardinality >= 1, "%s: cardinality must be >= 1, got %d", name, cardinality);
        check(baseWidth >= 1, "%s: base width must be >= 1, got %d", name, baseWidth);
        check(seReduction >= 0, "%s: SE reduction must be 0 (no SE) or >= 1, got %d", name, seReduction);
        if (block == BlockKind.BASIC) {
            check(cardinality == 1 && baseWidth == 64,
                    "%s: BASIC blocks support only cardinality 1 and base width 64 (as torchvision), got "
                            + "cardinality %d, base width %d; use BOTTLENECK for ResNeXt or Wide ResNet",
                    name, cardinality, baseWidth);
        } else {
            for (int i = 0; i < widths.size(); i++) {
                long scaled = (long) widths.get(i) * baseWidth;
                check(scaled % 64 == 0,
                        "%s: stage %d width %d x base width %d must be divisible by 64 so the group width is "
                                + "whole (got %d/64)", name, i + 1, widths.get(i), baseWidth, scaled);
            }
        }
        check(inputChannels >= 1, "%s: input channels must be >= 1, got %d", name, inputChannels);
        check(inputHeight >= 1 && inputWidth >= 1,
                "%s: input size must be at least 1x1, got %dx%d", name, inputHeight, inputWidth);
        check(numClasses >= 1, "%s: number of classes must be >= 1, got %d", name, numClasses);
        long minSize = (stem == StemKind.IMAGENET ? 4L : 1L) << Math.min(depths.size() - 1, 30);
        check(inputHeight >= minSize && inputWidth >= minSize,
                "%s: input %dx%d is smaller than the network's total stride: with the %s stem and %d stages "
                        + "expected at least %dx%d", name, inputHeight, inputWidth, stem, depths.size(), minSize, minSize);
    }

    private static void check(boolean ok, String format, Object... args) {
        if (!ok) {
            throw new IllegalArgumentException(String.format(format, args));
        }
    }

    /** @return the number of stages */
    public int numStages() {
        return depths.size();
    }

    /** @return the output channels of the given stage (0-based): its width times the block's expansion */
    public int stageOutChannels(int stage) {
        return widths.get(stage) * block.expansion();
    }

    /** @return the channels of the 3x3 convolution inside a block of the given stage (0-based) */
    public int innerWidth(int stage) {
        if (block == BlockKind.BASIC) {
            return widths.get(stage);
        }
        return widths.get(stage) * baseWidth / 64 * cardinality;
    }

    /** @return the channels at the input of the classifier */
    public int featureChannels() {
        return stageOutChannels(numStages() - 1);
    }

    /**
     * @param channels channels entering the SE module
     * @return the SE bottleneck width, timm's {@code make_divisible(channels / reduction, 8)}
     */
    public int seChannels(int channels) {
        if (seReduction == 0) {
            throw new IllegalStateException(name + " has no squeeze-and-excitation");
        }
        double v = (double) channels / seReduction;
        return Math.max(SE_DIVISOR, (int) (v + SE_DIVISOR / 2.0) / SE_DIVISOR * SE_DIVISOR);
    }

    /** @return a builder starting from this table, to derive a variant (other classes, input, stem) */
    public Builder toBuilder() {
        Builder b = new Builder(block, depths.stream().mapToInt(Integer::intValue).toArray());
        b.name = name;
        b.widths = new ArrayList<>(widths);
        b.stemWidth = stemWidth;
        b.cardinality = cardinality;
        b.baseWidth = baseWidth;
        b.seReduction = seReduction;
        b.stem = stem;
        b.inputChannels = inputChannels;
        b.inputHeight = inputHeight;
        b.inputWidth = inputWidth;
        b.numClasses = numClasses;
        b.zeroInitLastBn = zeroInitLastBn;
        return b;
    }

    /**
     * Starts a custom depth table. Defaults are those of torchvision's ResNet: widths 64, 128,
     * 256, 512 (one per stage, doubling), stem width 64, cardinality 1, base width 64, no SE, ImageNet
     * stem, 3x224x224 input, 1000 classes.
     *
     * @param block  block kind
     * @param depths blocks per stage
     * @return a builder
     */
    public static Builder builder(BlockKind block, int... depths) {
        return new Builder(block, depths);
    }

    /** Builder for {@link ResNetSpec}; {@link #build()} validates. */
    public static final class Builder {
        private final BlockKind block;
        private final List<Integer> depths = new ArrayList<>();
        private String name = "custom";
        private List<Integer> widths;
        private int stemWidth = 64;
        private int cardinality = 1;
        private int baseWidth = 64;
        private int seReduction = 0;
        private StemKind stem = StemKind.IMAGENET;
        private int inputChannels = 3;
        private int inputHeight = 224;
        private int inputWidth = 224;
        private int numClasses = 1000;
        private boolean zeroInitLastBn = false;

        private Builder(BlockKind block, int[] depths) {
            this.block = block;
            for (int d : depths) {
                this.depths.add(d);
            }
        }

        /**

         * @param name a label for the network

         * @return this

         */
        public Builder name(String name) {
            this.name = name;
            return this;
        }

        /**

         * @param widths stage widths ("planes"), one per stage

         * @return this

         */
        public Builder widths(int... widths) {
            this.widths = new ArrayList<>();
            for (int w : widths) {
                this.widths.add(w);
            }
            return this;
        }

        /**

         * @param stemWidth channels out of the stem convolution

         * @return this

         */
        public Builder stemWidth(int stemWidth) {
            this.stemWidth = stemWidth;
            return this;
        }

        /**

         * @param cardinality groups in the 3x3 bottleneck convolution (ResNeXt)

         * @return this

         */
        public Builder cardinality(int cardinality) {
            this.cardinality = cardinality;
            return this;
        }

        /**

         * @param baseWidth width per group (torchvision's width_per_group)

         * @return this

         */
        public Builder baseWidth(int baseWidth) {
            this.baseWidth = baseWidth;
            return this;
        }

        /**
         * Wide ResNet: multiplies the bottleneck's inner width by {@code factor} (sets the base width
         * to {@code 64 * factor}, as torchvision's {@code wide_resnet50_2}).
         *
         * @param factor width multiplier, >= 1
         * @return this
         */
        public Builder widthFactor(int factor) {
            if (factor < 1) {
                throw new IllegalArgumentException("width factor must be >= 1, got " + factor);
            }
            this.baseWidth = 64 * factor;
            return this;
        }

        /**

         * @param reduction squeeze-and-excitation reduction (16 in SE-ResNeXt), 0 for none

         * @return this

         */
        public Builder se(int reduction) {
            this.seReduction = reduction;
            return this;
        }

        /**

         * @param stem stem kind

         * @return this

         */
        public Builder stem(StemKind stem) {
            this.stem = stem;
            return this;
        }

        /**
         * @param channels input channels
         * @param height   input height
         * @param width    input width
         * @return this
         */
        public Builder input(int channels, int height, int width) {
            this.inputChannels = channels;
            this.inputHeight = height;
            this.inputWidth = width;
            return this;
        }

        /**

         * @param numClasses classifier outputs

         * @return this

         */
        public Builder numClasses(int numClasses) {
            this.numClasses = numClasses;
            return this;
        }

        /**

         * @param zero whether the last BN of each block starts at scale 0

         * @return this

         */
        public Builder zeroInitLastBn(boolean zero) {
            this.zeroInitLastBn = zero;
            return this;
        }

        /**
         * @return the validated table
         * @throws IllegalArgumentException naming the bad value and what is valid
         */
        public ResNetSpec build() {
            List<Integer> w = widths;
            if (w == null) {
                w = new ArrayList<>();
                for (int i = 0; i < depths.size(); i++) {
                    w.add(64 << Math.min(i, 20));
                }
            }
            return new ResNetSpec(name, block, depths, w, stemWidth, cardinality, baseWidth, seReduction,
                    stem, inputChannels, inputHeight, inputWidth, numClasses, zeroInitLastBn);
        }
    }
}
