package dev.resnetzoo.examples.cli;

import dev.resnetzoo.core.Variant;
import dev.resnetzoo.zoo.Pretrained;
import dev.resnetzoo.zoo.SavedModel;
import dev.resnetzoo.zoo.registry.Registry;
import dev.resnetzoo.zoo.registry.WeightsEntry;
import java.io.IOException;
import java.nio.file.Path;

/**
 * The model a command works on, from the options {@code --model MODEL.zip}, {@code --weights TAG}
 * or {@code --arch ARCH}: a {@link SavedModel} in every case, so the preprocessing, labels and
 * input shape always come with it.
 */
final class ModelChoice {

    private ModelChoice() {
    }

    /**
     * For commands without {@code --arch}: exactly one of the two must be given.
     *
     * @see #load(Path, String, String, int)
     */
    static SavedModel load(Path model, String weights, int imageSize) throws IOException {
        if ((model == null) == (weights == null)) {
            throw new IllegalArgumentException("give exactly one model: --model MODEL.zip or --weights TAG");
        }
        return load(model, weights, null, imageSize);
    }

    /**
     * Exactly one source must be given.
     *
     * @param model     a model zip written by import, train or finetune
     * @param weights   a registry tag (its file must be in the cache when offline)
     * @param arch      an architecture name: randomly initialised
     * @param imageSize crop size override, 0 for the model's own
     * @return the model
     * @throws IOException if the model cannot be read or the weights obtained
     */
    static SavedModel load(Path model, String weights, String arch, int imageSize) throws IOException {
        int given = (model != null ? 1 : 0) + (weights != null ? 1 : 0) + (arch != null ? 1 : 0);
        if (given != 1) {
            throw new IllegalArgumentException("give exactly one model: --model MODEL.zip, --weights TAG or --arch ARCH");
        }
        if (imageSize < 0) {
            throw new IllegalArgumentException("--image-size must be >= 1, got " + imageSize);
        }
        SavedModel m;
        if (model != null) {
            m = SavedModel.read(model);
        } else if (weights != null) {
            WeightsEntry entry = Registry.builtin().get(weights);
            m = Pretrained.builder().build().load(entry);
        } else {
            Variant v = Variant.of(arch);
            int size = imageSize > 0 ? imageSize : v.spec().inputHeight();
            return SavedModel.randomInit(v.spec().toBuilder().input(3, size, size).build());
        }
        return imageSize > 0 ? m.withInputSize(imageSize) : m;
    }
}
