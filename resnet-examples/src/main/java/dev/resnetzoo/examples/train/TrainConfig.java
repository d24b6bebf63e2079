package dev.resnetzoo.examples.train;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.resnetzoo.core.BlockKind;
import dev.resnetzoo.core.ResNetSpec;
import dev.resnetzoo.core.StemKind;
import dev.resnetzoo.core.Variant;
import dev.resnetzoo.examples.data.FashionMnist;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.stream.Collectors;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.learning.config.Adam;

/**
 * Everything that determines a training run, and nothing about where it is written or where the
 * data is read from: the one training recipe. {@link TrainOptions} fills it from the command line
 * and {@code run.json} stores it (Jackson; keys are the command line's option names without the
 * dashes), so that {@code --resume} continues with the same settings and refuses different ones.
 *
 * @param arch        variant whose depth table is the base, e.g. {@code resnet18} (see {@link Variant})
 * @param dataset     data set; only {@value #FASHION_MNIST} is supported
 * @param epochs      epochs to train in total
 * @param batch       examples per optimiser step
 * @param lr          Adam's (peak) learning rate
 * @param lrSchedule  learning-rate schedule over the whole run
 * @param seed        seed of the weight initialisation, the data order and the augmentation
 * @param limit       training examples used per epoch, 0 for all
 * @param testLimit   test examples evaluated, 0 for all
 * @param resize      side length the images are resized to, 0 for the original 28
 * @param augment     random training-time transformation of the images
 * @param block       block kind, or null for the variant's
 * @param depths      blocks per stage, or null for the variant's
 * @param widths      stage widths, or null for the variant's
 * @param stem        stem kind ({@link StemKind#SMALL} by default here, whatever the variant uses on ImageNet)
 * @param stemWidth   stem channels, or null (see {@link TableOverrides})
 * @param cardinality bottleneck groups, or null (see {@link TableOverrides})
 * @param baseWidth   bottleneck width per group, or null (see {@link TableOverrides})
 * @param se          squeeze-and-excitation reduction, or null for the variant's
 * @param preset      name of the preset the settings started from, or null
 */
@JsonNaming(PropertyNamingStrategies.KebabCaseStrategy.class)
public record TrainConfig(
        String arch,
        String dataset,
        int epochs,
        int batch,
        double lr,
        LrSchedule lrSchedule,
        long seed,
        int limit,
        int testLimit,
        int resize,
        Augmentation augment,
        BlockKind block,
        List<Integer> depths,
        List<Integer> widths,
        StemKind stem,
        Integer stemWidth,
        Integer cardinality,
        Integer baseWidth,
        Integer se,
        String preset) {

    /** The one supported data set. */
    public static final String FASHION_MNIST = "fashion-mnist";

    /**
     * The settings of an option not given: resnet18's table, fashion-mnist, 5 epochs, batch 256,
     * Adam 1e-3 constant, seed 42, all data, 28x28, no augmentation, small stem.
     */
    public static final TrainConfig DEFAULTS = new TrainConfig("resnet18", FASHION_MNIST, 5, 256, 1e-3,
            LrSchedule.CONSTANT, 42, 0, 0, 0, Augmentation.NONE, null, null, null, StemKind.SMALL, null, null, null, null,
            null);

    /** How the learning rate changes over the run. */
    public enum LrSchedule {
        /** The same rate throughout (the PyTorch reference recipe). */
        CONSTANT,
        /** Cosine decay from {@code lr} at the first step to 0 after the last, per optimiser step. */
        COSINE;

        /** The option value, e.g. {@code cosine}. */
        @JsonValue
        public String id() {
            return name().toLowerCase(Locale.ROOT);
        }

        /** @throws IllegalArgumentException naming the valid values */
        @JsonCreator
        public static LrSchedule of(String id) {
            for (LrSchedule s : values()) {
                if (s.id().equalsIgnoreCase(id.trim())) {
                    return s;
                }
            }
            throw new IllegalArgumentException("--lr-schedule expects constant or cosine, got '" + id + "'");
        }
    }

    /**
     * The configuration's changes to the variant's depth table; a null component keeps the variant's value.
     *
     * @param block       block kind
     * @param depths      blocks per stage
     * @param widths      stage widths; when the number of stages changes and no widths are given,
     *                    torchvision's 64, 128, 256, ... are used
     * @param stemWidth   stem channels; by default the first stage width when widths are given
     * @param cardinality groups of the bottleneck 3x3 convolution (1 when the block kind changes)
     * @param baseWidth   bottleneck width per group (64 when the block kind changes)
     * @param se          squeeze-and-excitation reduction, 0 for none
     */
    public record TableOverrides(BlockKind block, List<Integer> depths, List<Integer> widths, Integer stemWidth,
                                 Integer cardinality, Integer baseWidth, Integer se) {
        /** No changes. */
        public static final TableOverrides NONE = new TableOverrides(null, null, null, null, null, null, null);

        /** Copies the lists. */
        public TableOverrides {
            depths = depths == null ? null : List.copyOf(depths);
            widths = widths == null ? null : List.copyOf(widths);
        }

        /** @return a builder of {@code base}'s table with these changes */
        ResNetSpec.Builder applyTo(ResNetSpec base) {
            BlockKind kind = block == null ? base.block() : block;
            int[] d = ints(depths == null ? base.depths() : depths);
            ResNetSpec.Builder b = ResNetSpec.builder(kind, d);
            if (widths != null) {
                b.widths(ints(widths));
            } else if (d.length == base.numStages()) {
                b.widths(ints(base.widths()));
            }
            b.stemWidth(stemWidth != null ? stemWidth : widths != null && !widths.isEmpty() ? widths.get(0)
                    : base.stemWidth());
            boolean kindChanged = kind != base.block();
            b.cardinality(cardinality != null ? cardinality : kindChanged ? 1 : base.cardinality());
            b.baseWidth(baseWidth != null ? baseWidth : kindChanged ? 64 : base.baseWidth());
            b.se(se != null ? se : base.seReduction());
            return b.zeroInitLastBn(base.zeroInitLastBn());
        }

        /** @return whether the stage depths or widths are changed */
        boolean setsStages() {
            return depths != null || widths != null;
        }
    }

    /** Validates the settings; messages name the option, the value and what is valid. */
    public TrainConfig {
        depths = depths == null ? null : List.copyOf(depths);
        widths = widths == null ? null : List.copyOf(widths);
        Objects.requireNonNull(dataset, "dataset");
        Objects.requireNonNull(lrSchedule, "lrSchedule");
        Objects.requireNonNull(augment, "augment");
        Objects.requireNonNull(stem, "stem");
        arch = Variant.of(Objects.requireNonNull(arch, "arch")).id(); // throws listing the known names
        dataset = dataset.trim().toLowerCase(Locale.ROOT);
        check(dataset.equals(FASHION_MNIST), "--dataset: only %s is supported, got '%s'", FASHION_MNIST, dataset);
        check(epochs >= 1, "--epochs must be >= 1, got %d", epochs);
        check(batch >= 1, "--batch must be >= 1, got %d", batch);
        check(lr > 0 && Double.isFinite(lr), "--lr must be a positive number, got %s", lr);
        check(limit >= 0, "--limit must be >= 0 (0 = all), got %d", limit);
        check(testLimit >= 0, "--test-limit must be >= 0 (0 = all), got %d", testLimit);
        check(resize >= 0, "--resize must be >= 0 (0 = keep 28x28), got %d", resize);
        // Record fields are assigned only after this constructor: validate from the parameters.
        buildSpec(arch, stem, new TableOverrides(block, depths, widths, stemWidth, cardinality, baseWidth, se), resize);
    }

    /** @return the changes to the variant's depth table */
    public TableOverrides table() {
        return new TableOverrides(block, depths, widths, stemWidth, cardinality, baseWidth, se);
    }

    private static void check(boolean ok, String format, Object... args) {
        if (!ok) {
            throw new IllegalArgumentException(String.format(Locale.ROOT, format, args));
        }
    }

    /** Side length of the images the network sees. */
    public int imageSize() {
        return resize > 0 ? resize : FashionMnist.IMAGE_SIZE;
    }

    /**
     * The network: the variant's depth table with the overrides, the stem, one input channel at
     * {@link #imageSize()} and ten classes.
     *
     * @throws IllegalArgumentException if the table is invalid
     */
    public ResNetSpec spec() {
        return buildSpec(arch, stem, table(), resize);
    }

    private static ResNetSpec buildSpec(String arch, StemKind stem, TableOverrides table, int resize) {
        int size = resize > 0 ? resize : FashionMnist.IMAGE_SIZE;
        return table.applyTo(Variant.of(arch).spec()).name(arch).stem(stem).input(1, size, size)
                .numClasses(FashionMnist.NUM_CLASSES).build();
    }

    /**
     * The optimiser: Adam (beta1 0.9, beta2 0.999, epsilon 1e-8, PyTorch's defaults) at {@link #lr()},
     * constant or {@linkplain CosineSchedule cosine} over the run's steps, float32, seeded by {@link #seed()}.
     *
     * @param batchesPerEpoch optimiser steps per epoch
     * @return the training settings for {@code ResNets.create}
     */
    NeuralNetConfiguration.Builder training(int batchesPerEpoch) {
        Adam adam = switch (lrSchedule) {
            case CONSTANT -> new Adam(lr);
            case COSINE -> new Adam(new CosineSchedule(lr, Math.max(1, epochs * batchesPerEpoch)));
        };
        return new NeuralNetConfiguration.Builder().seed(seed).updater(adam).dataType(DataType.FLOAT);
    }

    /** One line describing the network, e.g. {@code resnet18 [basic 2,2,2,2 x 16,32,64,128, small stem 16] 1x28x28}. */
    public String describeNetwork() {
        ResNetSpec s = spec();
        String extra = s.block() == BlockKind.BOTTLENECK && (s.cardinality() > 1 || s.baseWidth() != 64)
                ? ", " + s.cardinality() + "x" + s.baseWidth() + "d" : "";
        return String.format(Locale.ROOT, "%s [%s %s x %s%s%s, %s stem %d] %dx%dx%d", arch,
                s.block().name().toLowerCase(Locale.ROOT), join(s.depths()), join(s.widths()), extra,
                s.seReduction() > 0 ? ", SE 1/" + s.seReduction() : "", id(stem), s.stemWidth(),
                s.inputChannels(), s.inputHeight(), s.inputWidth());
    }

    /**
     * The settings of a partial configuration (e.g. {@link TrainOptions#overrides()}, or a stored
     * {@code run.json} config), the rest taken from {@link #DEFAULTS}.
     *
     * @param partial option name (without dashes) to value
     * @param what    the source, for error messages
     * @throws IllegalArgumentException naming the option or the source on a bad value
     */
    public static TrainConfig of(ObjectNode partial, String what) {
        return Json.bind(Json.tree(DEFAULTS).setAll(partial), TrainConfig.class, what);
    }

    /**
     * Compares requested settings with this (stored) configuration.
     *
     * @param requested the options the user gave, as {@link TrainOptions#overrides()} writes them
     * @return one line per setting that differs, e.g. {@code --batch: the run has 128, this command
     *         asks for 64}; empty if none
     */
    public List<String> differences(ObjectNode requested) {
        ObjectNode mine = Json.tree(this);
        ObjectNode theirs;
        try {
            theirs = Json.tree(of(mine.deepCopy().setAll(requested), "the requested settings"));
        } catch (IllegalArgumentException e) {
            return List.of("the requested settings do not fit the run's: " + e.getMessage());
        }
        List<String> out = new ArrayList<>();
        for (Iterator<String> it = requested.fieldNames(); it.hasNext(); ) {
            String key = it.next();
            JsonNode a = mine.path(key);
            JsonNode b = theirs.path(key);
            if (!a.equals(b)) {
                String unset = TABLE_KEYS.contains(key) ? "the variant's default" : "none";
                out.add("--" + key + ": the run has " + show(a, unset) + ", this command asks for " + show(b, unset));
            }
        }
        return out;
    }

    /** Keys of the table's options, whose null means "the variant's value". */
    private static final List<String> TABLE_KEYS = Arrays.stream(TableOverrides.class.getRecordComponents())
            .map(c -> new PropertyNamingStrategies.KebabCaseStrategy().translate(c.getName())).toList();

    private static String show(JsonNode v, String unset) {
        if (v.isMissingNode() || v.isNull()) {
            return unset;
        }
        if (v.isArray()) {
            List<String> items = new ArrayList<>();
            v.forEach(x -> items.add(x.asText()));
            return String.join(",", items);
        }
        return v.asText();
    }

    // ---------------------------------------------------------------------------------------

    private static String id(Enum<?> e) {
        return e.name().toLowerCase(Locale.ROOT);
    }

    private static int[] ints(List<Integer> l) {
        return l.stream().mapToInt(Integer::intValue).toArray();
    }

    private static String join(List<Integer> l) {
        return l.stream().map(String::valueOf).collect(Collectors.joining(","));
    }
}
