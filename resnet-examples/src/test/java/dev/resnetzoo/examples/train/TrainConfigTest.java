package dev.resnetzoo.examples.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.resnetzoo.core.BlockKind;
import dev.resnetzoo.core.ResNetSpec;
import dev.resnetzoo.core.StemKind;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TrainConfigTest {

    @Test
    void defaultsAreTheReferenceRecipeOnTheSmallStem() {
        TrainConfig c = TrainConfig.fromMap(Map.of());
        assertEquals("resnet18", c.arch());
        assertEquals(256, c.batch());
        assertEquals(1e-3, c.lr());
        assertEquals(TrainConfig.LrSchedule.CONSTANT, c.lrSchedule());
        assertEquals(42, c.seed());
        ResNetSpec s = c.spec();
        assertEquals(StemKind.SMALL, s.stem());
        assertEquals(List.of(1, 28, 28), List.of(s.inputChannels(), s.inputHeight(), s.inputWidth()));
        assertEquals(10, s.numClasses());
        assertEquals(List.of(64, 128, 256, 512), s.widths());
        assertEquals(64, s.stemWidth());
    }

    @Test
    void depthTableOverrides() {
        ResNetSpec s = TrainConfig.fromMap(Map.of("widths", "16,32,64,128", "depths", List.of(1, 2, 1, 1), "resize", 32))
                .spec();
        assertEquals(List.of(1, 2, 1, 1), s.depths());
        assertEquals(16, s.stemWidth(), "the stem follows the first stage width");
        assertEquals(32, s.inputHeight());

        ResNetSpec three = TrainConfig.fromMap(Map.of("arch", "resnet50", "depths", "1,1,1")).spec();
        assertEquals(BlockKind.BOTTLENECK, three.block());
        assertEquals(List.of(64, 128, 256), three.widths());

        ResNetSpec basic = TrainConfig.fromMap(Map.of("arch", "resnext50_32x4d", "block", "basic")).spec();
        assertEquals(1, basic.cardinality());
        assertEquals(64, basic.baseWidth());

        ResNetSpec se = TrainConfig.fromMap(Map.of("arch", "resnext50-32x4d", "se", 16, "stem", "imagenet",
                "resize", 64, "stem-width", 32)).spec();
        assertEquals(16, se.seReduction());
        assertEquals(32, se.cardinality());
        assertEquals(StemKind.IMAGENET, se.stem());
        assertEquals(32, se.stemWidth());
    }

    @Test
    void invalidValuesNameTheOption() {
        assertMessage("--epochs must be >= 1, got 0", Map.of("epochs", 0));
        assertMessage("--lr must be a positive number", Map.of("lr", -1.0));
        assertMessage("--lr-schedule expects constant or cosine, got 'step'", Map.of("lr-schedule", "step"));
        assertMessage("--stem expects imagenet or small, got 'tiny'", Map.of("stem", "tiny"));
        assertMessage("--block expects basic or bottleneck, got 'wide'", Map.of("block", "wide"));
        assertMessage("--batch expects an integer, got 1.5", Map.of("batch", 1.5));
        assertMessage("unknown training setting 'epoch'", Map.of("epoch", 3));
        assertMessage("input 28x28 is smaller than the network's total stride",
                Map.of("stem", "imagenet", "depths", "1,1,1,1,1"));
    }

    private static void assertMessage(String expected, Map<String, ?> values) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TrainConfig.fromMap(values));
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }

    @Test
    void survivesItsJsonAndComparesOnlyWhatWasAsked() throws IOException {
        TrainConfig c = TrainConfig.fromMap(Preset.FASHION_FAST.settings());
        TrainConfig back = TrainConfig.fromMap(Json.readObject(Json.write(c.toMap()), "test"));
        assertEquals(c, back);

        assertEquals(List.of(), c.differences(Map.of()));
        assertEquals(List.of(), c.differences(Map.of("lr", "0.001", "widths", "16,32,64,128", "seed", 42)));
        assertEquals(List.of("--seed: the run has 42, this command asks for 1"), c.differences(Map.of("seed", 1)));
        assertEquals(List.of("--depths: the run has 2,2,2,2, this command asks for 1,1,1,1"),
                c.differences(Map.of("depths", "1,1,1,1")));
        assertTrue(c.differences(Map.of("depths", "1,1,1")).get(0).startsWith("the requested settings do not fit"));
    }

    @Test
    void cosineScheduleDecaysToZero() {
        CosineSchedule s = new CosineSchedule(1e-3, 100);
        assertEquals(1e-3, s.valueAt(0, 0), 1e-15);
        assertEquals(5e-4, s.valueAt(50, 3), 1e-15);
        assertEquals(0, s.valueAt(100, 9), 1e-15);
        assertEquals(0, s.valueAt(150, 9), 1e-15);
        assertEquals(s, s.clone());
    }
}
