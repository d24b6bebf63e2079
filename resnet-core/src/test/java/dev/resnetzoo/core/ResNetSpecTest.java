package dev.resnetzoo.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class ResNetSpecTest {

    private static String refusal(Runnable r) {
        return assertThrows(IllegalArgumentException.class, r::run).getMessage();
    }

    @Test
    void refusesZeroDepthNamingTheStage() {
        String m = refusal(() -> ResNetSpec.builder(BlockKind.BASIC, 2, 0, 2, 2).build());
        assertTrue(m.contains("stage 2 depth must be >= 1, got 0"), m);
    }

    @Test
    void refusesMismatchedWidths() {
        String m = refusal(() -> ResNetSpec.builder(BlockKind.BOTTLENECK, 3, 4).widths(64).build());
        assertTrue(m.contains("[3, 4]") && m.contains("[64]"), m);
    }

    @Test
    void refusesWidthsThatDoNotSplitIntoWholeGroups() {
        String m = refusal(() -> ResNetSpec.builder(BlockKind.BOTTLENECK, 1, 1).widths(64, 100).cardinality(32).baseWidth(4).build());
        assertTrue(m.contains("stage 2 width 100") && m.contains("divisible by 64"), m);
    }

    @Test
    void refusesGroupsOnBasicBlocks() {
        String m = refusal(() -> ResNetSpec.builder(BlockKind.BASIC, 2, 2).cardinality(32).baseWidth(4).build());
        assertTrue(m.contains("BASIC blocks support only cardinality 1"), m);
    }

    @Test
    void refusesInputSmallerThanTheTotalStride() {
        String m = refusal(() -> Variant.RESNET50.spec().toBuilder().input(3, 16, 16).build());
        assertTrue(m.contains("16x16") && m.contains("at least 32x32"), m);
        ResNetSpec small = Variant.RESNET18.spec().toBuilder().stem(StemKind.SMALL).input(1, 8, 8).build();
        assertEquals(8, small.inputHeight());
    }

    @Test
    void refusesNonPositiveSizes() {
        assertTrue(refusal(() -> Variant.RESNET18.spec().toBuilder().numClasses(0).build()).contains("classes must be >= 1, got 0"));
        assertTrue(refusal(() -> Variant.RESNET18.spec().toBuilder().input(0, 224, 224).build()).contains("input channels"));
        assertTrue(refusal(() -> ResNetSpec.builder(BlockKind.BASIC).build()).contains("at least one stage"));
    }

    @Test
    void unknownVariantListsTheKnownNames() {
        String m = refusal(() -> Variant.of("resnet51"));
        assertTrue(m.contains("resnet51") && m.contains("resnext50_32x4d") && m.contains("seresnext101_32x4d"), m);
        assertEquals(Variant.WIDE_RESNET50_2, Variant.of("Wide-ResNet50_2"));
    }

    @ParameterizedTest
    @EnumSource(Variant.class)
    void variantRoundTripsThroughItsBuilder(Variant v) {
        assertEquals(v.spec(), v.spec().toBuilder().build());
        assertEquals(List.of(64, 128, 256, 512), v.spec().widths());
    }

    @Test
    void seWidthFollowsTimmRounding() {
        ResNetSpec se = Variant.SERESNEXT50_32X4D.spec();
        assertEquals(16, se.seChannels(256));
        assertEquals(128, se.seChannels(2048));
        assertEquals(8, se.toBuilder().se(16).build().seChannels(40));
    }

    @Test
    void macsMatchTorchvisionMetadata() {
        // GMACs at 224x224 from torchvision's weight metadata (convolutions and the classifier).
        assertEquals(1.81, ResNets.summary(Variant.RESNET18.spec()).macs() / 1e9, 0.005);
        assertEquals(3.66, ResNets.summary(Variant.RESNET34.spec()).macs() / 1e9, 0.005);
        assertEquals(4.09, ResNets.summary(Variant.RESNET50.spec()).macs() / 1e9, 0.005);
        assertEquals(7.80, ResNets.summary(Variant.RESNET101.spec()).macs() / 1e9, 0.005);
        assertEquals(11.51, ResNets.summary(Variant.RESNET152.spec()).macs() / 1e9, 0.005);
        assertEquals(4.23, ResNets.summary(Variant.RESNEXT50_32X4D.spec()).macs() / 1e9, 0.005);
        assertEquals(16.41, ResNets.summary(Variant.RESNEXT101_32X8D.spec()).macs() / 1e9, 0.005);
        assertEquals(15.46, ResNets.summary(Variant.RESNEXT101_64X4D.spec()).macs() / 1e9, 0.005);
        assertEquals(11.40, ResNets.summary(Variant.WIDE_RESNET50_2.spec()).macs() / 1e9, 0.005);
        assertEquals(22.75, ResNets.summary(Variant.WIDE_RESNET101_2.spec()).macs() / 1e9, 0.005);
    }
}
