package dev.resnetzoo.zoo.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The registry's JSON bound to records: what the script writes, what is refused, and how. */
class RegistryDataTest {

    private static final String ENTRY = """
            {"tag": "resnet18.mine", "aliases": ["Mine.V1"], "architecture": "resnet18",
             "url": "https://example.org/w/resnet18-0123abcd.pth", "file_name": "resnet18-0123abcd.pth",
             "sha256": "0123ABCD", "size": 1234, "format": "PYTORCH", "num_classes": 3, "labels": "three",
             "preprocessing": {"resize_size": 160, "crop_size": 128, "interpolation": "bicubic",
                               "mean": [0.5, 0.5, 0.5], "std": [0.25, 0.25, 0.25]},
             "acc1": 70.5, "acc5": null, "params": 11, "gmacs": 1.5, "license": "MIT",
             "license_note": "said so", "default": true, "source": "a test", "recipe": "none", "notes": "n"%s}
            """;

    private static RegistryData.Loaded parse(String entry) throws IOException {
        String doc = "{\"generator\": \"test\", \"torch\": \"1\", \"torchvision\": \"2\", "
                + "\"labels\": {\"three\": \"three.txt\"}, \"entries\": [" + entry + "]}";
        return RegistryData.parse(new ByteArrayInputStream(doc.getBytes(StandardCharsets.UTF_8)),
                resource -> {
                    assertEquals("three.txt", resource);
                    return List.of("a", "b", "c");
                });
    }

    @Test
    void everyFieldReachesTheEntry() throws IOException {
        RegistryData.Loaded loaded = parse(ENTRY.formatted(""));
        assertEquals(List.of("resnet18.mine"), loaded.defaults());
        WeightsEntry e = loaded.entries().get(0);
        assertEquals("resnet18.mine", e.tag());
        assertEquals(List.of("Mine.V1"), e.aliases());
        assertEquals("resnet18", e.architecture());
        assertEquals(3, e.numClasses());
        assertEquals("https://example.org/w/resnet18-0123abcd.pth", e.url().toString());
        assertEquals("resnet18-0123abcd.pth", e.fileName());
        assertEquals("0123abcd", e.sha256().hex());
        assertEquals(1234, e.size());
        assertEquals(1234, e.fileSpec().size(), "the registry's size bounds the download");
        assertEquals(WeightsEntry.Format.PYTORCH, e.format());
        assertEquals(List.of("a", "b", "c"), e.labels());
        assertEquals(new Preprocessing(160, 128, Preprocessing.Interpolation.BICUBIC, List.of(0.5, 0.5, 0.5),
                List.of(0.25, 0.25, 0.25)), e.preprocessing());
        assertEquals(70.5, e.acc1());
        assertTrue(Double.isNaN(e.acc5()));
        assertEquals(11, e.params());
        assertEquals(1.5, e.gmacs());
        assertEquals("MIT", e.license());
        assertEquals("a test; recipe: none", e.source());
        assertEquals("n; license: said so", e.notes());
    }

    @Test
    void absentOptionalFieldsMeanUnknown() throws IOException {
        String minimal = """
                {"tag": "resnet18.bare", "architecture": "resnet18", "url": "https://example.org/bare.pth",
                 "file_name": "bare.pth", "format": "SAFETENSORS", "license": "unknown", "source": "s",
                 "preprocessing": {"resize_size": 256, "crop_size": 224, "interpolation": "BILINEAR",
                                   "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]}}
                """;
        RegistryData.Loaded loaded = parse(minimal);
        WeightsEntry e = loaded.entries().get(0);
        assertFalse(e.hasSha256());
        assertEquals(-1, e.size());
        assertEquals(1000, e.numClasses());
        assertTrue(e.aliases().isEmpty() && e.labels().isEmpty());
        assertTrue(Double.isNaN(e.acc1()) && Double.isNaN(e.gmacs()));
        assertEquals(-1, e.params());
        assertTrue(loaded.defaults().isEmpty());
    }

    @Test
    void anUnknownFieldIsRefusedSoAFormatChangeCannotGoUnnoticed() {
        IOException e = assertThrows(IOException.class, () -> parse(ENTRY.formatted(", \"sha512\": \"00\"")));
        assertTrue(e.getMessage().contains("sha512"), e.getMessage());
    }

    @Test
    void aBadEntryIsNamedInOneLine() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> parse(ENTRY.formatted("").replace("0123ABCD", "xyz")));
        assertEquals("entry 'resnet18.mine': sha256 must be 64 hex digits (or a prefix of at least 8), got 'xyz'",
                e.getMessage());
        IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
                () -> parse(ENTRY.formatted("").replace("\"format\": \"PYTORCH\",", "")));
        assertEquals("entry 'resnet18.mine': missing field 'format'", missing.getMessage());
        IllegalArgumentException labels = assertThrows(IllegalArgumentException.class,
                () -> parse(ENTRY.formatted("").replace("\"labels\": \"three\"", "\"labels\": \"four\"")));
        assertEquals("entry 'resnet18.mine': unknown label set 'four'; known: [three]", labels.getMessage());
    }
}
