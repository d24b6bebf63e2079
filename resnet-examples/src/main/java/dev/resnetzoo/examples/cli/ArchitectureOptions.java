package dev.resnetzoo.examples.cli;

import dev.resnetzoo.core.ResNetSpec;
import dev.resnetzoo.core.StemKind;
import dev.resnetzoo.core.Variant;
import java.util.Locale;
import picocli.CommandLine.Option;

/** Options that select an architecture and adapt it: input shape, classes, stem. */
final class ArchitectureOptions {
    @Option(names = "--input", paramLabel = "C,H,W", description = "input shape (default 3,224,224)")
    String input;

    @Option(names = "--num-classes", paramLabel = "N", description = "classifier outputs (default 1000)")
    Integer numClasses;

    @Option(names = "--stem", paramLabel = "KIND", description = "imagenet or small (3x3 stride 1, no max pool)")
    String stem;

    /**
     * @param arch a variant name
     * @return the variant's table with the options applied
     */
    ResNetSpec apply(String arch) {
        ResNetSpec.Builder b = Variant.of(arch).spec().toBuilder();
        if (input != null) {
            String[] parts = input.split(",");
            if (parts.length != 3) {
                throw new IllegalArgumentException("--input expects C,H,W (e.g. 1,28,28), got '" + input + "'");
            }
            try {
                b.input(Integer.parseInt(parts[0].trim()), Integer.parseInt(parts[1].trim()),
                        Integer.parseInt(parts[2].trim()));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--input expects three integers C,H,W, got '" + input + "'");
            }
        }
        if (numClasses != null) {
            b.numClasses(numClasses);
        }
        if (stem != null) {
            try {
                b.stem(StemKind.valueOf(stem.trim().toUpperCase(Locale.ROOT)));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--stem expects imagenet or small, got '" + stem + "'");
            }
        }
        return b.build();
    }
}
