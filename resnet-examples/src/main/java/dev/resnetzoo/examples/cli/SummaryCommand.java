package dev.resnetzoo.examples.cli;

import dev.resnetzoo.core.ResNetSpec;
import dev.resnetzoo.core.ResNets;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/** {@code ./resnet summary ARCH}: each stage's output shape and parameter count. */
@Command(mixinStandardHelpOptions = true, name = "summary", description = "Show every stage's output shape, parameters and GMACs.")
final class SummaryCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "ARCH", description = "architecture, e.g. resnet50 (see 'models')")
    String arch;

    @Mixin
    ArchitectureOptions options = new ArchitectureOptions();

    @Override
    public Integer call() {
        ResNetSpec spec = options.apply(arch);
        System.out.print(ResNets.summary(spec).table());
        return 0;
    }
}
