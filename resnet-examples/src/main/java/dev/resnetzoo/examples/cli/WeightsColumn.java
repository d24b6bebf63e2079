package dev.resnetzoo.examples.cli;

import dev.resnetzoo.core.Variant;

/** What {@code ./resnet models} shows in its weights column. */
final class WeightsColumn {
    private WeightsColumn() {
    }

    static String describe(Variant v) {
        return "-";
    }
}
