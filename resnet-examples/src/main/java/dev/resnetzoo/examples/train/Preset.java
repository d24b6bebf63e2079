package dev.resnetzoo.examples.train;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.resnetzoo.core.StemKind;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;
import java.util.stream.Collectors;

/**
 * Named training recipes: options that explicit ones still override. A recipe that sets the
 * stage depths or widths fixes the network, so {@code --arch} is refused with it unless
 * {@code --depths} comes too (it would only relabel the network; see {@link TrainOptions#overrides()}).
 */
public enum Preset {
    /**
     * A narrow ResNet-18 depth table (basic blocks 2,2,2,2, widths 16,32,64,128, stem width 16,
     * small stem) on 28x28 images; batch 128, Adam 1e-3 with cosine decay to 0, random mirroring,
     * 8 epochs. Without augmentation the network overfits; mirror-and-shift
     * ({@code --augment flip-shift}) learns more slowly (the README has the measured curves).
     */
    FASHION_FAST("fashion-fast",
            "narrow ResNet-18 (2,2,2,2 x 16,32,64,128, small stem) at 28x28, batch 128, Adam 1e-3 cosine, "
                    + "mirror augmentation, 8 epochs",
            o -> {
                o.arch = "resnet18";
                o.depths = List.of(2, 2, 2, 2);
                o.widths = List.of(16, 32, 64, 128);
                o.stem = StemKind.SMALL;
                o.resize = 0;
                o.batch = 128;
                o.lr = 1e-3;
                o.lrSchedule = TrainConfig.LrSchedule.COSINE;
                o.augment = Augmentation.FLIP;
                o.epochs = 8;
            }),
    /**
     * The seeds' PyTorch recipe: ResNet-18 with the ImageNet stem on images resized to 96x96,
     * batch 256, Adam 1e-3, 5 epochs: slow on a CPU, in PyTorch too. It keeps the variant's table, so {@code --arch} picks another one.
     */
    SEEDS_REFERENCE("seeds-reference",
            "the seeds' PyTorch recipe: ResNet-18, ImageNet stem, 96x96, batch 256, Adam 1e-3, 5 epochs (slow on CPU)",
            o -> {
                o.arch = "resnet18";
                o.stem = StemKind.IMAGENET;
                o.resize = 96;
                o.batch = 256;
                o.lr = 1e-3;
                o.lrSchedule = TrainConfig.LrSchedule.CONSTANT;
                o.augment = Augmentation.NONE;
                o.epochs = 5;
            });

    private final String id;
    private final String description;
    private final Consumer<TrainOptions> recipe;

    Preset(String id, String description, Consumer<TrainOptions> recipe) {
        this.id = id;
        this.description = description;
        this.recipe = recipe;
    }

    /** The option value, e.g. {@code fashion-fast}. */
    public String id() {
        return id;
    }

    /** One line for help texts. */
    public String description() {
        return description;
    }

    /** The recipe as a partial {@link TrainConfig} ({@code run.json}'s keys), including {@code preset} itself. */
    public ObjectNode overrides() {
        TrainOptions o = new TrainOptions();
        recipe.accept(o);
        return Json.tree(o).put("preset", id);
    }

    /** @throws IllegalArgumentException listing the known presets */
    public static Preset of(String id) {
        String key = id.trim().toLowerCase(Locale.ROOT).replace('_', '-');
        for (Preset p : values()) {
            if (p.id.equals(key)) {
                return p;
            }
        }
        throw new IllegalArgumentException("unknown preset '" + id + "'; expected one of "
                + Arrays.stream(values()).map(Preset::id).collect(Collectors.joining(", ")));
    }
}
