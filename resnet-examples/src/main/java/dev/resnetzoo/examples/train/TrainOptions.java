package dev.resnetzoo.examples.train;

import com.fasterxml.jackson.annotation.JsonAutoDetect;
import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.resnetzoo.core.BlockKind;
import dev.resnetzoo.core.StemKind;
import dev.resnetzoo.core.Variant;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;

/**
 * The command line's options of a {@link TrainConfig} (a picocli mixin): one field per record
 * component, named as the component, with the option {@code --} + its {@code run.json} key; null
 * when the option is not given. {@link #overrides()} hands what was given to the record, through
 * the same Jackson binding that reads {@code run.json}.
 */
@JsonNaming(PropertyNamingStrategies.KebabCaseStrategy.class)
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonAutoDetect(fieldVisibility = JsonAutoDetect.Visibility.ANY, getterVisibility = JsonAutoDetect.Visibility.NONE,
        isGetterVisibility = JsonAutoDetect.Visibility.NONE)
public final class TrainOptions {

    @Option(names = "--arch", paramLabel = "ARCH", description = "variant whose depth table is the base (default resnet18)")
    String arch;

    @Option(names = "--dataset", paramLabel = "NAME", description = "data set (only fashion-mnist)")
    String dataset;

    @JsonIgnore
    @Option(names = "--preset", paramLabel = "NAME", converter = PresetConverter.class,
            description = "recipe: fashion-fast (fixes the network, a narrow ResNet-18: --arch only with --depths) "
                    + "or seeds-reference; other options override it")
    Preset preset;

    @Option(names = "--epochs", paramLabel = "E", description = "epochs in total (default 5)")
    Integer epochs;

    @Option(names = "--batch", paramLabel = "B", description = "batch size (default 256)")
    Integer batch;

    @Option(names = "--lr", paramLabel = "LR", description = "Adam learning rate (default 1e-3)")
    Double lr;

    @Option(names = "--lr-schedule", paramLabel = "KIND", converter = ScheduleConverter.class,
            description = "constant (default) or cosine decay to 0")
    TrainConfig.LrSchedule lrSchedule;

    @Option(names = "--augment", paramLabel = "KIND", converter = AugmentConverter.class,
            description = "none (default), flip, or flip-shift (mirror + up to 2 px shift)")
    Augmentation augment;

    @Option(names = "--seed", paramLabel = "N", description = "seed of the initialisation and the data order (default 42)")
    Long seed;

    @Option(names = "--limit", paramLabel = "N", description = "train on the first N images only (default all)")
    Integer limit;

    @Option(names = "--test-limit", paramLabel = "N", description = "evaluate the first N test images only (default all)")
    Integer testLimit;

    @Option(names = "--resize", paramLabel = "S", description = "resize images to SxS, bilinear (default 28: no resize)")
    Integer resize;

    @Option(names = "--stem", paramLabel = "KIND", converter = StemConverter.class,
            description = "small (3x3 stride 1, default) or imagenet (7x7/2 + max pool)")
    StemKind stem;

    @Option(names = "--depths", paramLabel = "D", split = ",", description = "blocks per stage, e.g. 2,2,2,2")
    List<Integer> depths;

    @Option(names = "--widths", paramLabel = "W", split = ",",
            description = "stage widths, e.g. 16,32,64,128 (the stem follows the first)")
    List<Integer> widths;

    @Option(names = "--block", paramLabel = "KIND", converter = BlockConverter.class,
            description = "basic or bottleneck (default: the variant's)")
    BlockKind block;

    @Option(names = "--stem-width", paramLabel = "N", description = "stem channels")
    Integer stemWidth;

    @Option(names = "--cardinality", paramLabel = "N", description = "bottleneck groups (ResNeXt)")
    Integer cardinality;

    @Option(names = "--base-width", paramLabel = "N", description = "bottleneck width per group")
    Integer baseWidth;

    @Option(names = "--se", paramLabel = "R", description = "squeeze-and-excitation reduction, 0 for none")
    Integer se;

    /**
     * Parses training options alone (for code that starts runs without the CLI).
     *
     * @param args e.g. {@code "--preset", "fashion-fast", "--epochs", "3"}
     * @return the options
     * @throws CommandLine.ParameterException on an unknown option or a value of the wrong type
     */
    public static TrainOptions parse(String... args) {
        TrainOptions options = new TrainOptions();
        new CommandLine(options).parseArgs(args);
        return options;
    }

    /**
     * What was asked for: the preset's settings (with {@code preset} itself), then the explicit
     * options over them, as a partial {@link TrainConfig} ({@code run.json}'s keys).
     *
     * @throws IllegalArgumentException if {@code --arch} would only relabel a preset's fixed network
     *                                  (no {@code --depths} of its own)
     */
    public ObjectNode overrides() {
        ObjectNode explicit = Json.tree(this);
        if (preset == null) {
            return explicit;
        }
        TrainConfig recipe = TrainConfig.of(preset.overrides(), "--preset " + preset.id());
        if (arch != null && depths == null && recipe.table().setsStages() && !Variant.of(arch).id().equals(recipe.arch())) {
            throw new IllegalArgumentException("--preset " + preset.id() + " fixes the network (" + recipe.describeNetwork()
                    + "), so --arch " + arch + " would only relabel it: drop --arch, or drop --preset and give "
                    + "--arch with the other options of the recipe (or give --depths too)");
        }
        return preset.overrides().setAll(explicit);
    }

    /** @return the configuration of a new run: {@link #overrides()} over {@link TrainConfig#DEFAULTS} */
    public TrainConfig toConfig() {
        return TrainConfig.of(overrides(), "the options");
    }

    // ---------------------------------------------------------------------------------------
    // Option values are the lower-case names (flip-shift for FLIP_SHIFT); errors list the valid ones.

    private static <E extends Enum<E>> E lowerCase(Class<E> type, String value) {
        for (E e : type.getEnumConstants()) {
            if (id(e).equalsIgnoreCase(value.trim())) {
                return e;
            }
        }
        List<String> ids = Arrays.stream(type.getEnumConstants()).map(TrainOptions::id).toList();
        throw new CommandLine.TypeConversionException("expected " + String.join(", ", ids.subList(0, ids.size() - 1))
                + " or " + ids.get(ids.size() - 1) + ", got '" + value + "'");
    }

    private static String id(Enum<?> e) {
        return e.name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    static final class StemConverter implements ITypeConverter<StemKind> {
        @Override
        public StemKind convert(String value) {
            return lowerCase(StemKind.class, value);
        }
    }

    static final class BlockConverter implements ITypeConverter<BlockKind> {
        @Override
        public BlockKind convert(String value) {
            return lowerCase(BlockKind.class, value);
        }
    }

    static final class ScheduleConverter implements ITypeConverter<TrainConfig.LrSchedule> {
        @Override
        public TrainConfig.LrSchedule convert(String value) {
            return lowerCase(TrainConfig.LrSchedule.class, value);
        }
    }

    static final class AugmentConverter implements ITypeConverter<Augmentation> {
        @Override
        public Augmentation convert(String value) {
            return lowerCase(Augmentation.class, value);
        }
    }

    static final class PresetConverter implements ITypeConverter<Preset> {
        @Override
        public Preset convert(String value) {
            try {
                return Preset.of(value);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }
}
