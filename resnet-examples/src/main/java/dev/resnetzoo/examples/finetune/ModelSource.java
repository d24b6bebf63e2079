package dev.resnetzoo.examples.finetune;

import dev.resnetzoo.core.ResNets;
import dev.resnetzoo.core.Variant;
import dev.resnetzoo.zoo.Pretrained;
import dev.resnetzoo.zoo.registry.Preprocessing;
import dev.resnetzoo.zoo.registry.Registry;
import dev.resnetzoo.zoo.registry.WeightsEntry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;

/**
 * Where a backbone comes from, and how images must be prepared for it.
 *
 * @param graph         the network
 * @param preprocessing the weights' evaluation transform, or the ImageNet transform at the model's
 *                      input size ({@code resize = crop * 256 / 224}, bilinear)
 * @param description   for messages and cache keys, e.g. {@code model.zip} or {@code resnet50.tv_in1k}
 */
public record ModelSource(ComputationGraph graph, Preprocessing preprocessing, String description) {

    /**
     * Exactly one of the three must be given.
     *
     * @param model     a DL4J model zip
     * @param weights   a registry tag (its file must be in the cache when offline)
     * @param arch      an architecture name: randomly initialised
     * @param imageSize crop size override (0 = from the weights or the model, else 224)
     * @return the source
     * @throws IOException if the model cannot be read
     */
    public static ModelSource load(Path model, String weights, String arch, int imageSize) throws IOException {
        int given = (model != null ? 1 : 0) + (weights != null ? 1 : 0) + (arch != null ? 1 : 0);
        if (given != 1) {
            throw new IllegalArgumentException("give exactly one backbone: --model MODEL.zip, --weights TAG or --arch ARCH");
        }
        if (model != null) {
            if (!Files.isRegularFile(model)) {
                throw new NoSuchFileException(model.toString(), null, "no such model file");
            }
            ComputationGraph g;
            try {
                g = ModelSerializer.restoreComputationGraph(model.toFile(), true);
            } catch (IOException | RuntimeException e) {
                throw new IOException(model + " is not a DL4J ComputationGraph model zip (" + e.getMessage() + ")", e);
            }
            return new ModelSource(g, imagenet(imageSize > 0 ? imageSize : inputSize(model, 224)),
                    model.getFileName().toString());
        }
        if (weights != null) {
            WeightsEntry entry = Registry.builtin().get(weights);
            ComputationGraph g = Pretrained.builder().build().load(entry);
            Preprocessing p = imageSize > 0 ? imagenet(imageSize) : entry.preprocessing();
            return new ModelSource(g, p, entry.tag());
        }
        Variant v = Variant.of(arch);
        int size = imageSize > 0 ? imageSize : 224;
        ComputationGraph g = ResNets.create(v.spec().toBuilder().input(3, size, size).build());
        return new ModelSource(g, imagenet(size), v.id() + " (random init)");
    }

    /** ImageNet mean/std, bilinear, shorter side {@code crop * 256 / 224}, center crop {@code crop}. */
    static Preprocessing imagenet(int crop) {
        return Preprocessing.imagenet(Math.max(crop, (int) Math.round(crop * 256.0 / 224.0)), crop,
                Preprocessing.Interpolation.BILINEAR);
    }

    /**
     * Name of the {@code int[] {C, H, W}} object a model zip may carry (as {@code ./resnet import}
     * writes it, and {@link FineTuneExample} too).
     */
    public static final String INPUT_SHAPE_KEY = "resnet-input-shape";

    /** The height recorded in the zip under {@link #INPUT_SHAPE_KEY}, else {@code fallback}. */
    static int inputSize(Path zip, int fallback) {
        try {
            Object o = ModelSerializer.getObjectFromFile(zip.toFile(), INPUT_SHAPE_KEY);
            if (o instanceof int[] s && s.length == 3 && s[1] > 0) {
                return s[1];
            }
        } catch (RuntimeException e) {
            // not recorded
        }
        return fallback;
    }
}
