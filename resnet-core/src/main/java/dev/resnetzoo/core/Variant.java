package dev.resnetzoo.core;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * The named reference architectures, each one row of the depth table. Names are those of
 * torchvision ({@code resnet50}, {@code resnext50_32x4d}, {@code wide_resnet50_2}) and timm
 * ({@code seresnext50_32x4d}).
 *
 * <p>Papers: He et al., "Deep Residual Learning for Image Recognition" (2015); Xie et al.,
 * "Aggregated Residual Transformations for Deep Neural Networks" (ResNeXt, 2016); Zagoruyko and
 * Komodakis, "Wide Residual Networks" (2016); Hu et al., "Squeeze-and-Excitation Networks" (2017).
 * All bottleneck variants put the stride on the 3x3 convolution ("ResNet v1.5"), as torchvision
 * and timm do.
 */
public enum Variant {
    RESNET18(BlockKind.BASIC, new int[] {2, 2, 2, 2}, 1, 64, 0),
    RESNET34(BlockKind.BASIC, new int[] {3, 4, 6, 3}, 1, 64, 0),
    RESNET50(BlockKind.BOTTLENECK, new int[] {3, 4, 6, 3}, 1, 64, 0),
    RESNET101(BlockKind.BOTTLENECK, new int[] {3, 4, 23, 3}, 1, 64, 0),
    RESNET152(BlockKind.BOTTLENECK, new int[] {3, 8, 36, 3}, 1, 64, 0),
    RESNEXT50_32X4D(BlockKind.BOTTLENECK, new int[] {3, 4, 6, 3}, 32, 4, 0),
    RESNEXT101_32X8D(BlockKind.BOTTLENECK, new int[] {3, 4, 23, 3}, 32, 8, 0),
    RESNEXT101_64X4D(BlockKind.BOTTLENECK, new int[] {3, 4, 23, 3}, 64, 4, 0),
    WIDE_RESNET50_2(BlockKind.BOTTLENECK, new int[] {3, 4, 6, 3}, 1, 128, 0),
    WIDE_RESNET101_2(BlockKind.BOTTLENECK, new int[] {3, 4, 23, 3}, 1, 128, 0),
    SERESNEXT50_32X4D(BlockKind.BOTTLENECK, new int[] {3, 4, 6, 3}, 32, 4, 16),
    SERESNEXT101_32X4D(BlockKind.BOTTLENECK, new int[] {3, 4, 23, 3}, 32, 4, 16);

    private final ResNetSpec spec;

    Variant(BlockKind block, int[] depths, int cardinality, int baseWidth, int seReduction) {
        this.spec = ResNetSpec.builder(block, depths)
                .name(name().toLowerCase(Locale.ROOT))
                .cardinality(cardinality)
                .baseWidth(baseWidth)
                .se(seReduction)
                .build();
    }

    /** @return the reference name, e.g. {@code resnext50_32x4d} */
    public String id() {
        return spec.name();
    }

    /** @return the ImageNet configuration: 3x224x224 input, 1000 classes */
    public ResNetSpec spec() {
        return spec;
    }

    /**
     * @param id a reference name such as {@code resnet50} (case-insensitive; {@code -} accepted for {@code _})
     * @return the variant
     * @throws IllegalArgumentException listing the known names
     */
    public static Variant of(String id) {
        String key = id.trim().toLowerCase(Locale.ROOT).replace('-', '_');
        for (Variant v : values()) {
            if (v.id().equals(key)) {
                return v;
            }
        }
        throw new IllegalArgumentException("unknown architecture '" + id + "'; expected one of "
                + Arrays.stream(values()).map(Variant::id).collect(Collectors.joining(", ")));
    }
}
