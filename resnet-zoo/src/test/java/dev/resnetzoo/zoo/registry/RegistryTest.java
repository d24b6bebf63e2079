package dev.resnetzoo.zoo.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.resnetzoo.core.ResNets;
import dev.resnetzoo.core.Summary;
import dev.resnetzoo.core.Variant;
import dev.resnetzoo.zoo.download.FileSpec;
import dev.resnetzoo.zoo.registry.Preprocessing.Interpolation;

import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

class RegistryTest {

    private final Registry registry = Registry.builtin();

    @Test
    void holdsEveryPublicWeightFileOfTheTwelveVariants() {
        List<String> tags = registry.entries().stream().map(WeightsEntry::tag).toList();
        assertEquals(List.of(
                "resnet18.tv_in1k", "resnet34.tv_in1k",
                "resnet50.tv_in1k", "resnet50.tv2_in1k", "resnet101.tv_in1k", "resnet101.tv2_in1k",
                "resnet152.tv_in1k", "resnet152.tv2_in1k", "resnext50_32x4d.tv_in1k", "resnext50_32x4d.tv2_in1k",
                "resnext101_32x8d.tv_in1k", "resnext101_32x8d.tv2_in1k", "resnext101_64x4d.tv_in1k",
                "wide_resnet50_2.tv_in1k", "wide_resnet50_2.tv2_in1k", "wide_resnet101_2.tv_in1k",
                "wide_resnet101_2.tv2_in1k", "seresnext50_32x4d.racm_in1k", "seresnext101_32x4d.gluon_in1k"), tags);
        for (Variant v : Variant.values()) {
            assertFalse(registry.forVariant(v).isEmpty(), v.id());
            WeightsEntry d = registry.defaultFor(v).orElseThrow();
            assertEquals(v, d.variant().orElseThrow());
            assertTrue(registry.isDefault(d));
            assertSame(d, registry.get(v.id()));
        }
        Map<String, String> defaults = Map.of("resnet18", "resnet18.tv_in1k", "resnet50", "resnet50.tv2_in1k",
                "resnext101_64x4d", "resnext101_64x4d.tv_in1k", "wide_resnet101_2", "wide_resnet101_2.tv2_in1k",
                "seresnext50_32x4d", "seresnext50_32x4d.racm_in1k",
                "seresnext101_32x4d", "seresnext101_32x4d.gluon_in1k");
        defaults.forEach((arch, tag) -> assertEquals(tag, registry.get(arch).tag(), arch));
    }

    @Test
    void looksUpTagsAliasesAndArchitectures() {
        WeightsEntry v2 = registry.get("resnet50.tv2_in1k");
        assertSame(v2, registry.get("ResNet50_Weights.IMAGENET1K_V2"));
        assertSame(v2, registry.get("resnet50_weights.default"));
        assertSame(v2, registry.get("  RESNET50  "));
        assertSame(registry.get("resnet50.tv_in1k"), registry.get("ResNet50_Weights.IMAGENET1K_V1"));
        assertSame(registry.get("wide_resnet50_2"), registry.get("wide-resnet50-2"));
        assertSame(registry.get("seresnext50_32x4d.racm_in1k"), registry.get("timm/seresnext50_32x4d.racm_in1k"));
        assertSame(registry.get("resnext101_64x4d.tv_in1k"), registry.get("ResNeXt101_64X4D_Weights.DEFAULT"));
        assertTrue(registry.find("resnet50.nothing").isEmpty());
        assertTrue(registry.find(null).isEmpty());
    }

    @Test
    void unknownNamesListWhatIsKnown() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> registry.get("resnet50.tv3_in1k"));
        assertTrue(e.getMessage().contains("resnet50.tv_in1k (ResNet50_Weights.IMAGENET1K_V1)"), e.getMessage());
        assertTrue(e.getMessage().contains("resnet50.tv2_in1k (default, ResNet50_Weights.IMAGENET1K_V2, "
                + "ResNet50_Weights.DEFAULT)"), e.getMessage());
        assertFalse(e.getMessage().contains("resnet101"), e.getMessage());

        e = assertThrows(IllegalArgumentException.class, () -> registry.get("ResNet18_Weights.IMAGENET1K_V2"));
        assertTrue(e.getMessage().contains("for resnet18; known: resnet18.tv_in1k"), e.getMessage());

        e = assertThrows(IllegalArgumentException.class, () -> registry.get("resnet19"));
        assertTrue(e.getMessage().contains("unknown weights or architecture 'resnet19'"), e.getMessage());
        assertTrue(e.getMessage().contains("seresnext101_32x4d"), e.getMessage());
    }

    @Test
    void figuresAgreeWithTheArchitecturesAndTorchvision() {
        for (WeightsEntry e : registry.entries()) {
            Summary s = ResNets.summary(e.spec());
            assertEquals(s.params(), e.params(), e.tag() + " params");
            assertEquals(s.macs() / 1e9, e.gmacs(), 0.0006, e.tag() + " GMACs");
            assertEquals(1000, e.numClasses());
            assertEquals(1000, e.labels().size());
            assertTrue(e.acc1() > 69 && e.acc1() < 84 && e.acc5() > e.acc1(), e.tag());
            assertEquals(224, e.preprocessing().cropSize());
            assertEquals(Preprocessing.IMAGENET_MEAN, e.preprocessing().mean());
            assertEquals(Preprocessing.IMAGENET_STD, e.preprocessing().std());
            assertEquals(e.tag().contains(".tv") ? "BSD-3-Clause" : "Apache-2.0", e.license());
            assertFalse(e.source().isEmpty());
        }
        // torchvision 0.14.1 metadata and timm's results table (see REFERENCE.md)
        assertEquals(76.130, registry.get("resnet50.tv_in1k").acc1());
        assertEquals(80.858, registry.get("resnet50.tv2_in1k").acc1());
        assertEquals(95.434, registry.get("resnet50.tv2_in1k").acc5());
        assertEquals(83.246, registry.get("resnext101_64x4d").acc1());
        assertEquals(81.268, registry.get("seresnext50_32x4d").acc1());
        assertEquals(80.886, registry.get("seresnext101_32x4d").acc1());
        assertEquals(25_557_032, registry.get("resnet50").params());
        assertEquals(27_559_896, registry.get("seresnext50_32x4d").params());
        assertEquals(List.of("tench", "goldfish"), registry.get("resnet18").labels().subList(0, 2));
        assertEquals("toilet tissue", registry.get("resnet18").labels().get(999));
        assertSame(registry.get("resnet18").labels(), registry.get("seresnext50_32x4d").labels());
    }

    @Test
    void preprocessingFollowsEachRecipe() {
        assertEquals(Preprocessing.imagenet(256, 224, Interpolation.BILINEAR), registry.get("resnet50.tv_in1k").preprocessing());
        assertEquals(Preprocessing.imagenet(232, 224, Interpolation.BILINEAR), registry.get("resnet50.tv2_in1k").preprocessing());
        assertEquals(Preprocessing.imagenet(232, 224, Interpolation.BILINEAR), registry.get("resnext101_64x4d").preprocessing());
        assertEquals(Preprocessing.imagenet(256, 224, Interpolation.BICUBIC), registry.get("seresnext50_32x4d").preprocessing());
        assertEquals(Preprocessing.imagenet(256, 224, Interpolation.BICUBIC), registry.get("seresnext101_32x4d").preprocessing());
    }

    @Test
    void torchvisionFilesCarryTheirHashPrefixTimmFilesHaveNone() {
        Pattern hashInName = Pattern.compile("-([0-9a-f]{8,})\\.pth$");
        Set<String> fileNames = new HashSet<>();
        for (WeightsEntry e : registry.entries()) {
            assertTrue(fileNames.add(e.fileName()), "unique cache file name " + e.fileName());
            assertTrue(e.url().toString().startsWith("https://"), e.tag());
            assertEquals(-1, e.size(), e.tag());
            if (e.format() == WeightsEntry.Format.PYTORCH) {
                assertTrue(e.url().toString().startsWith("https://download.pytorch.org/models/"), e.tag());
                Matcher m = hashInName.matcher(e.fileName());
                assertTrue(m.find(), e.fileName());
                assertEquals(m.group(1), e.sha256().hex());
                FileSpec spec = e.fileSpec();
                assertTrue(spec.isPrefix());
                assertEquals(e.fileName(), spec.fileName());
            } else {
                assertFalse(e.hasSha256(), e.tag());
                assertTrue(e.url().toString().startsWith("https://huggingface.co/timm/" + e.tag() + "/"), e.tag());
                assertEquals(e.tag() + ".safetensors", e.fileName());
                IllegalStateException refused = assertThrows(IllegalStateException.class, e::fileSpec);
                assertTrue(refused.getMessage().contains("no SHA-256 is published for " + e.tag()), refused.getMessage());
                assertTrue(refused.getMessage().contains("--sha256"), refused.getMessage());
            }
        }
        assertEquals("https://download.pytorch.org/models/resnet50-11ad3fa6.pth", registry.get("resnet50").url().toString());
        assertEquals("11ad3fa6", registry.get("resnet50").sha256().hex());
        assertEquals("https://huggingface.co/timm/seresnext50_32x4d.racm_in1k/resolve/main/model.safetensors",
                registry.get("seresnext50_32x4d").url().toString());
    }

    @Test
    void userHashMustAgreeWithTheRegistry() {
        WeightsEntry tv = registry.get("resnet50");
        String full = "11ad3fa6" + "a".repeat(56);
        assertEquals(full, tv.fileSpec(full.toUpperCase()).sha256().hex());
        assertEquals("11ad3fa6", tv.fileSpec("11AD3FA6").sha256().hex());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> tv.fileSpec("0".repeat(64)));
        assertTrue(e.getMessage().contains("contradicts the registry's prefix 11ad3fa6"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> tv.fileSpec("xyz"));

        WeightsEntry timm = registry.get("seresnext50_32x4d");
        FileSpec spec = timm.fileSpec(full);
        assertEquals(full, spec.sha256().hex());
        assertFalse(spec.isPrefix());
    }

    @Test
    void customRegistriesRejectAmbiguity() {
        WeightsEntry a = WeightsEntry.builder("mine.a", Variant.RESNET18.spec(), "https://example.org/a.pth")
                .sha256("0123abcd").alias("first").build();
        WeightsEntry b = WeightsEntry.builder("mine.b", Variant.RESNET18.spec(), "https://example.org/b.pth")
                .alias("FIRST").build();
        assertThrows(IllegalArgumentException.class, () -> Registry.of(List.of(a, b), List.of()));
        WeightsEntry sameFile = WeightsEntry.builder("mine.c", Variant.RESNET18.spec(), "https://example.org/x/a.pth").build();
        assertThrows(IllegalArgumentException.class, () -> Registry.of(List.of(a, sameFile), List.of()));
        assertThrows(IllegalArgumentException.class, () -> Registry.of(List.of(a), List.of("first")));

        Registry r = registry.plus(a, true);
        assertSame(a, r.get("resnet18"));
        assertSame(a, r.get("first"));
        assertEquals(registry.entries().size() + 1, r.entries().size());
        assertEquals("resnet18.tv_in1k", registry.get("resnet18").tag(), "the original is unchanged");
        assertThrows(IllegalArgumentException.class, () -> r.plus(a, false));
    }

    @Test
    void entriesValidateTheirComponents() {
        var spec = Variant.RESNET18.spec();
        assertThrows(IllegalArgumentException.class, () -> WeightsEntry.builder("bad tag", spec, "https://h/f.pth").build());
        assertThrows(IllegalArgumentException.class, () -> WeightsEntry.builder("t", spec, "file:///f.pth").build());
        assertThrows(IllegalArgumentException.class, () -> WeightsEntry.builder("t", spec, "https://h/f.pth").sha256("abc").build());
        assertThrows(IllegalArgumentException.class,
                () -> WeightsEntry.builder("t", spec, "https://h/f.pth").labels(List.of("one")).build());
        assertThrows(IllegalArgumentException.class,
                () -> new Preprocessing(256, 224, Interpolation.BILINEAR, List.of(0.5, 0.5), List.of(1.0, 1.0, 1.0)));
        assertThrows(IllegalArgumentException.class,
                () -> new Preprocessing(256, 224, Interpolation.BILINEAR, List.of(0.5, 0.5, 0.5), List.of(1.0, 0.0, 1.0)));
        assertEquals(Interpolation.BICUBIC, Interpolation.of("bicubic"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Interpolation.of("nearest"));
        assertTrue(e.getMessage().contains("BILINEAR or BICUBIC"), e.getMessage());
        WeightsEntry defaults = WeightsEntry.builder("t", spec, "https://h/dir/f.pth").build();
        assertEquals("f.pth", defaults.fileName());
        assertEquals(Variant.RESNET18, defaults.variant().orElseThrow());
        assertTrue(Double.isNaN(defaults.acc1()));
    }
}
