package dev.resnetzoo.examples.cli;

import dev.resnetzoo.zoo.registry.Registry;
import dev.resnetzoo.zoo.registry.WeightsEntry;
import java.util.List;

/** ImageNet-1k's class names, from the built-in registry. */
final class ImageNet {

    private ImageNet() {
    }

    /**
     * @param classes the model's number of classes
     * @return ImageNet-1k's 1000 labels when {@code classes} is 1000, else an empty list
     */
    static List<String> labels(int classes) {
        if (classes != 1000) {
            return List.of();
        }
        return Registry.builtin().entries().stream().map(WeightsEntry::labels).filter(l -> l.size() == 1000)
                .findFirst().orElse(List.of());
    }
}
