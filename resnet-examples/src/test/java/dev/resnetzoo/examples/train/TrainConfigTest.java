package dev.resnetzoo.examples.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import dev.resnetzoo.core.BlockKind;
import dev.resnetzoo.core.ResNetSpec;
import dev.resnetzoo.core.StemKind;
import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.RecordComponent;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class TrainConfigTest {

    private static TrainConfig config(String... args) {
        return TrainOptions.parse(args).toConfig();
    }

    @Test
    void defaultsAreTheReferenceRecipeOnTheSmallStem() {
        TrainConfig c = config();
        assertEquals(TrainConfig.DEFAULTS, c);
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

    /** The rule that makes the option name, the record component and the run.json key one name. */
    @Test
    void everyComponentIsTheOptionOfItsName() {
        checkOptions(TrainConfig.class, TrainOptions.class, List.of("preset"));
    }

    private static void checkOptions(Class<? extends Record> record, Class<?> options, List<String> special) {
        for (RecordComponent c : record.getRecordComponents()) {
            Field f;
            try {
                f = options.getDeclaredField(c.getName());
            } catch (NoSuchFieldException e) {
                throw new AssertionError(options.getSimpleName() + " has no field for " + record.getSimpleName() + "."
                        + c.getName());
            }
            if (special.contains(c.getName())) {
                continue;
            }
            String key = new PropertyNamingStrategies.KebabCaseStrategy().translate(c.getName());
            assertEquals(List.of("--" + key), List.of(f.getAnnotation(CommandLine.Option.class).names()), c.getName());
            assertTrue(c.getType() == f.getType() || c.getType().isPrimitive(), c.getName() + ": " + f.getType());
        }
    }

    @Test
    void depthTableOverrides() {
        ResNetSpec s = config("--widths", "16,32,64,128", "--depths", "1,2,1,1", "--resize", "32").spec();
        assertEquals(List.of(1, 2, 1, 1), s.depths());
        assertEquals(16, s.stemWidth(), "the stem follows the first stage width");
        assertEquals(32, s.inputHeight());

        ResNetSpec three = config("--arch", "resnet50", "--depths", "1,1,1").spec();
        assertEquals(BlockKind.BOTTLENECK, three.block());
        assertEquals(List.of(64, 128, 256), three.widths());

        ResNetSpec basic = config("--arch", "resnext50_32x4d", "--block", "basic").spec();
        assertEquals(1, basic.cardinality());
        assertEquals(64, basic.baseWidth());

        ResNetSpec se = config("--arch", "resnext50-32x4d", "--se", "16", "--stem", "imagenet", "--resize", "64",
                "--stem-width", "32").spec();
        assertEquals(16, se.seReduction());
        assertEquals(32, se.cardinality());
        assertEquals(StemKind.IMAGENET, se.stem());
        assertEquals(32, se.stemWidth());
    }

    @Test
    void invalidValuesNameTheOption() {
        assertMessage("--epochs must be >= 1, got 0", "--epochs", "0");
        assertMessage("--lr must be a positive number", "--lr", "-1");
        assertMessage("Invalid value for option '--lr-schedule': expected constant or cosine, got 'step'",
                "--lr-schedule", "step");
        assertMessage("Invalid value for option '--stem': expected imagenet or small, got 'tiny'", "--stem", "tiny");
        assertMessage("Invalid value for option '--block': expected basic or bottleneck, got 'wide'", "--block", "wide");
        assertMessage("Invalid value for option '--augment': expected none, flip or flip-shift, got 'mirror'",
                "--augment", "mirror");
        assertMessage("'1.5' is not an int", "--batch", "1.5");
        assertMessage("Unknown options: '--epoch', '3'", "--epoch", "3");
        assertMessage("input 28x28 is smaller than the network's total stride", "--stem", "imagenet", "--depths", "1,1,1,1,1");
    }

    private static void assertMessage(String expected, String... args) {
        RuntimeException e = assertThrows(RuntimeException.class, () -> config(args));
        assertTrue(e instanceof IllegalArgumentException || e instanceof CommandLine.ParameterException, e.toString());
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }

    @Test
    void survivesItsJsonAndComparesOnlyWhatWasAsked() throws IOException {
        TrainConfig c = config("--preset", "fashion-fast");
        TrainConfig back = TrainConfig.of(Json.readTree(Json.write(c), "test"), "test");
        assertEquals(c, back);

        assertEquals(List.of(), c.differences(TrainOptions.parse().overrides()));
        assertEquals(List.of(), c.differences(TrainOptions.parse("--lr", "0.001", "--widths", "16,32,64,128",
                "--seed", "42", "--preset", "fashion-fast").overrides()));
        assertEquals(List.of("--seed: the run has 42, this command asks for 1"),
                c.differences(TrainOptions.parse("--seed", "1").overrides()));
        assertEquals(List.of("--depths: the run has 2,2,2,2, this command asks for 1,1,1,1"),
                c.differences(TrainOptions.parse("--depths", "1,1,1,1").overrides()));
        assertEquals(List.of("--stem-width: the run has the variant's default, this command asks for 8"),
                c.differences(TrainOptions.parse("--stem-width", "8").overrides()));
        assertEquals(List.of("--preset: the run has none, this command asks for seeds-reference"), TrainConfig.DEFAULTS
                .differences(TrainOptions.parse("--preset", "seeds-reference", "--resize", "0", "--stem", "small",
                        "--batch", "256").overrides()));
        assertTrue(c.differences(TrainOptions.parse("--depths", "1,1,1").overrides()).get(0)
                .startsWith("the requested settings do not fit"));
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
