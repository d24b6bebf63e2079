package dev.resnetzoo.examples.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.resnetzoo.core.Variant;
import dev.resnetzoo.examples.cli.ImportCommandTest.Run;
import dev.resnetzoo.zoo.registry.Registry;
import dev.resnetzoo.zoo.registry.WeightsEntry;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code ./resnet models} and its weights column. */
class ModelsCommandTest {

    @Test
    void listsEveryVariantWithItsWeights() {
        Run r = ImportCommandTest.run("models");
        assertEquals(0, r.code(), r.err());
        List<String> lines = r.out().lines().toList();
        assertEquals(Variant.values().length + 1, lines.size(), r.out());
        assertTrue(lines.get(0).endsWith("weights"), lines.get(0));
        for (Variant v : Variant.values()) {
            String line = lines.stream().filter(l -> l.startsWith(v.id() + " ")).findFirst().orElseThrow(() ->
                    new AssertionError(v.id() + " missing from\n" + r.out()));
            assertTrue(line.endsWith("  " + WeightsColumn.describe(v)), line);
        }
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("resnet50 ") && l.endsWith("  tv_in1k, tv2_in1k*")), r.out());
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("resnet18 ") && l.endsWith("  tv_in1k*")), r.out());
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("seresnext50_32x4d ") && l.endsWith("  racm_in1k*")), r.out());
    }

    @Test
    void weightsColumnMarksTheDefaultAndShowsADashWithoutWeights() {
        Registry builtin = Registry.builtin();
        for (Variant v : Variant.values()) {
            String column = WeightsColumn.describe(builtin, v);
            assertEquals(builtin.forVariant(v).size(), column.split(", ").length, column);
            assertEquals(1, column.chars().filter(ch -> ch == '*').count(), column);
        }
        WeightsEntry custom = WeightsEntry.builder("resnet18.mine", Variant.RESNET18.spec(), "https://example.org/mine.pth")
                .build();
        Registry one = Registry.of(List.of(custom), List.of());
        assertEquals("mine", WeightsColumn.describe(one, Variant.RESNET18));
        assertEquals("-", WeightsColumn.describe(one, Variant.RESNET50));
        Registry more = one
                .plus(WeightsEntry.builder("other", Variant.RESNET18.spec(), "https://example.org/o.pth").build(), false)
                .plus(WeightsEntry.builder("resnet18.x", Variant.RESNET18.spec(), "https://example.org/x.pth").build(), true);
        assertEquals("mine, other, x*", WeightsColumn.describe(more, Variant.RESNET18));
    }
}
