package dev.resnetzoo.examples.cli;

import dev.resnetzoo.core.Variant;
import dev.resnetzoo.zoo.registry.Registry;
import dev.resnetzoo.zoo.registry.WeightsEntry;
import java.util.List;
import java.util.stream.Collectors;

/**
 * What {@code ./resnet models} shows in its weights column: the built-in registry's tags of the
 * architecture without the architecture prefix, the default marked with {@code *}, e.g.
 * {@code tv_in1k, tv2_in1k*}; {@code -} when it has none.
 */
final class WeightsColumn {
    private WeightsColumn() {
    }

    /**
     * @param v an architecture
     * @return its weights in {@link Registry#builtin()}, e.g. {@code tv_in1k, tv2_in1k*}, or {@code -}
     */
    static String describe(Variant v) {
        return describe(Registry.builtin(), v);
    }

    /**
     * @param registry where to look
     * @param v        an architecture
     * @return its weights in {@code registry}, default marked with {@code *}, or {@code -}
     */
    static String describe(Registry registry, Variant v) {
        List<WeightsEntry> entries = registry.forVariant(v);
        if (entries.isEmpty()) {
            return "-";
        }
        String prefix = v.id() + ".";
        return entries.stream()
                .map(e -> (e.tag().startsWith(prefix) ? e.tag().substring(prefix.length()) : e.tag())
                        + (registry.isDefault(e) ? "*" : ""))
                .collect(Collectors.joining(", "));
    }
}
