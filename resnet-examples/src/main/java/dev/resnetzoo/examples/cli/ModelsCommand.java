package dev.resnetzoo.examples.cli;

import dev.resnetzoo.core.ResNets;
import dev.resnetzoo.core.Summary;
import dev.resnetzoo.core.Variant;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** {@code ./resnet models}: the architectures with their size and cost. */
@Command(mixinStandardHelpOptions = true, name = "models", description = "List the architectures: parameters, GMACs at 224x224, pretrained weights.")
final class ModelsCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        System.out.printf(Locale.ROOT, "%-20s %14s %8s  %s%n", "name", "params", "GMACs", "weights");
        for (Variant v : Variant.values()) {
            Summary s = ResNets.summary(v.spec());
            System.out.printf(Locale.ROOT, "%-20s %,14d %8.2f  %s%n", v.id(), s.params(), s.macs() / 1e9,
                    WeightsColumn.describe(v));
        }
        return 0;
    }
}
