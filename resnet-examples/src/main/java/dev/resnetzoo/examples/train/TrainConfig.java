package dev.resnetzoo.examples.train;

import dev.resnetzoo.core.BlockKind;
import dev.resnetzoo.core.ResNetSpec;
import dev.resnetzoo.core.StemKind;
import dev.resnetzoo.core.Variant;
import dev.resnetzoo.examples.data.FashionMnist;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * Everything that determines a training run, and nothing about where it is written or where the
 * data is read from. It is stored in {@code run.json} so that {@code --resume} can continue with
 * the same settings and refuse different ones.
 *
 * <p>Keys of {@link #toMap()} are the command line's option names without the dashes.
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
 * @param stem        stem kind ({@link StemKind#SMALL} by default here, whatever the variant uses on ImageNet)
 * @param table       changes to the variant's depth table
 * @param preset      name of the preset the settings started from, or null
 */
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
        StemKind stem,
        TableOverrides table,
        String preset) {

    /** The one supported data set. */
    public static final String FASHION_MNIST = "fashion-mnist";

    /** Option names, in the order they are written. */
    public static final List<String> KEYS = List.of("arch", "dataset", "epochs", "batch", "lr", "lr-schedule",
            "seed", "limit", "test-limit", "resize", "augment", "block", "depths", "widths", "stem", "stem-width",
            "cardinality", "base-width", "se", "preset");

    /** How the learning rate changes over the run. */
    public enum LrSchedule {
        /** The same rate throughout (the PyTorch reference recipe). */
        CONSTANT,
        /** Cosine decay from {@code lr} at the first step to 0 after the last, per optimiser step. */
        COSINE;

        /** The option value, e.g. {@code cosine}. */
        public String id() {
            return name().toLowerCase(Locale.ROOT);
        }

        /** @throws IllegalArgumentException naming the valid values */
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
     * Changes to a variant's depth table; a null component keeps the variant's value.
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
    }

    /** Validates the settings; messages name the option, the value and what is valid. */
    public TrainConfig {
        Objects.requireNonNull(dataset, "dataset");
        Objects.requireNonNull(lrSchedule, "lrSchedule");
        Objects.requireNonNull(augment, "augment");
        Objects.requireNonNull(stem, "stem");
        Objects.requireNonNull(table, "table");
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
        buildSpec(arch, stem, table, resize);
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
        return buildSpec(arch, stem, table, resize);
    }

    private static ResNetSpec buildSpec(String arch, StemKind stem, TableOverrides table, int resize) {
        int size = resize > 0 ? resize : FashionMnist.IMAGE_SIZE;
        return table.applyTo(Variant.of(arch).spec()).name(arch).stem(stem).input(1, size, size)
                .numClasses(FashionMnist.NUM_CLASSES).build();
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

    /** The settings as option name to value (JSON types; null for "variant default"), in {@link #KEYS} order. */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("arch", arch);
        m.put("dataset", dataset);
        m.put("epochs", epochs);
        m.put("batch", batch);
        m.put("lr", lr);
        m.put("lr-schedule", lrSchedule.id());
        m.put("seed", seed);
        m.put("limit", limit);
        m.put("test-limit", testLimit);
        m.put("resize", resize);
        m.put("augment", augment.id());
        m.put("block", table.block() == null ? null : id(table.block()));
        m.put("depths", table.depths());
        m.put("widths", table.widths());
        m.put("stem", id(stem));
        m.put("stem-width", table.stemWidth());
        m.put("cardinality", table.cardinality());
        m.put("base-width", table.baseWidth());
        m.put("se", table.se());
        m.put("preset", preset);
        return m;
    }

    /**
     * Builds a configuration from option values; absent keys take the defaults (resnet18,
     * fashion-mnist, 5 epochs, batch 256, Adam 1e-3 constant, seed 42, all data, 28x28, no augmentation,
     * small stem).
     *
     * @param values option name to value: strings, numbers, lists of numbers (or comma-separated strings)
     * @throws IllegalArgumentException on an unknown key or a bad value
     */
    public static TrainConfig fromMap(Map<String, ?> values) {
        for (String k : values.keySet()) {
            check(KEYS.contains(k), "unknown training setting '%s'; known: %s", k, String.join(", ", KEYS));
        }
        return new TrainConfig(
                str(values, "arch", "resnet18"),
                str(values, "dataset", FASHION_MNIST),
                integer(values, "epochs", 5),
                integer(values, "batch", 256),
                number(values, "lr", 1e-3).doubleValue(),
                LrSchedule.of(str(values, "lr-schedule", "constant")),
                number(values, "seed", 42L).longValue(),
                integer(values, "limit", 0),
                integer(values, "test-limit", 0),
                integer(values, "resize", 0),
                Augmentation.of(str(values, "augment", "none")),
                kind(StemKind.class, "stem", str(values, "stem", "small")),
                new TableOverrides(
                        values.get("block") == null ? null : kind(BlockKind.class, "block", str(values, "block", null)),
                        intList(values, "depths"),
                        intList(values, "widths"),
                        optInteger(values, "stem-width"),
                        optInteger(values, "cardinality"),
                        optInteger(values, "base-width"),
                        optInteger(values, "se")),
                str(values, "preset", null));
    }

    /**
     * Compares requested settings with this (stored) configuration.
     *
     * @param requested option name to value, only the options the user asked for
     * @return one line per setting that differs, e.g. {@code --batch: run has 128, requested 64}; empty if none
     */
    public List<String> differences(Map<String, ?> requested) {
        Map<String, Object> mine = toMap();
        Map<String, Object> merged = new LinkedHashMap<>(mine);
        merged.putAll(requested);
        Map<String, Object> theirs;
        try {
            theirs = fromMap(merged).toMap();
        } catch (IllegalArgumentException e) {
            return List.of("the requested settings do not fit the run's: " + e.getMessage());
        }
        List<String> out = new ArrayList<>();
        for (String k : requested.keySet()) {
            if (!Objects.equals(mine.get(k), theirs.get(k))) {
                out.add("--" + k + ": the run has " + show(mine.get(k)) + ", this command asks for " + show(theirs.get(k)));
            }
        }
        return out;
    }

    private static String show(Object v) {
        if (v == null) {
            return "the variant's default";
        }
        if (v instanceof List<?> l) {
            return l.stream().map(String::valueOf).collect(Collectors.joining(","));
        }
        return String.valueOf(v);
    }

    // ---------------------------------------------------------------------------------------

    private static String id(Enum<?> e) {
        return e.name().toLowerCase(Locale.ROOT);
    }

    private static <E extends Enum<E>> E kind(Class<E> type, String key, String value) {
        for (E e : type.getEnumConstants()) {
            if (id(e).equalsIgnoreCase(value.trim())) {
                return e;
            }
        }
        throw new IllegalArgumentException("--" + key + " expects " + Arrays.stream(type.getEnumConstants())
                .map(TrainConfig::id).collect(Collectors.joining(" or ")) + ", got '" + value + "'");
    }

    private static String str(Map<String, ?> m, String key, String dflt) {
        Object v = m.get(key);
        return v == null ? dflt : v.toString();
    }

    private static Number number(Map<String, ?> m, String key, Number dflt) {
        Object v = m.get(key);
        if (v == null) {
            return dflt;
        }
        if (v instanceof Number n) {
            return n;
        }
        try {
            String s = v.toString().trim();
            return dflt instanceof Double ? (Number) Double.parseDouble(s) : (Number) Long.parseLong(s);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--" + key + " expects a number, got '" + v + "'");
        }
    }

    private static int integer(Map<String, ?> m, String key, int dflt) {
        return toInt(key, number(m, key, (long) dflt));
    }

    private static Integer optInteger(Map<String, ?> m, String key) {
        return m.get(key) == null ? null : toInt(key, number(m, key, 0L));
    }

    private static int toInt(String key, Number n) {
        double d = n.doubleValue();
        if (d != Math.rint(d) || d > Integer.MAX_VALUE || d < Integer.MIN_VALUE) {
            throw new IllegalArgumentException("--" + key + " expects an integer, got " + n);
        }
        return n.intValue();
    }

    private static List<Integer> intList(Map<String, ?> m, String key) {
        Object v = m.get(key);
        if (v == null) {
            return null;
        }
        List<?> items = v instanceof List<?> l ? l : Arrays.asList(v.toString().split(",", -1));
        List<Integer> out = new ArrayList<>();
        for (Object o : items) {
            try {
                out.add(o instanceof Number n ? toInt(key, n) : Integer.parseInt(o.toString().trim()));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--" + key + " expects comma-separated integers such as 2,2,2,2, got '"
                        + v + "'");
            }
        }
        return out;
    }

    private static int[] ints(List<Integer> l) {
        return l.stream().mapToInt(Integer::intValue).toArray();
    }

    private static String join(List<Integer> l) {
        return l.stream().map(String::valueOf).collect(Collectors.joining(","));
    }
}
