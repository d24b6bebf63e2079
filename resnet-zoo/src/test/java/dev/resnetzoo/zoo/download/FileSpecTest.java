package dev.resnetzoo.zoo.download;

import dev.resnetzoo.zoo.files.Sha256;
import org.junit.jupiter.api.Test;

import java.net.URI;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class FileSpecTest {

    private static final String SHA = "0676ba61" + "0".repeat(56);

    @Test
    void ofDerivesTheFileNameAndNormalisesTheHash() {
        FileSpec spec = FileSpec.of("https://download.pytorch.org/models/resnet50-0676ba61.pth", SHA.toUpperCase(), 123);
        assertEquals("resnet50-0676ba61.pth", spec.fileName());
        assertEquals(SHA, spec.sha256().hex());
        assertEquals(123, spec.size());
    }

    @Test
    void rejectsBadInput() {
        URI url = URI.create("https://h/f.pth");
        assertThrows(IllegalArgumentException.class, () -> new FileSpec(url, "f.pth", "abc", -1));
        assertThrows(IllegalArgumentException.class, () -> new FileSpec(url, "../f.pth", SHA, -1));
        assertThrows(IllegalArgumentException.class, () -> new FileSpec(url, "..", SHA, -1));
        assertThrows(IllegalArgumentException.class, () -> new FileSpec(url, "f.pth", SHA, -2));
        assertThrows(IllegalArgumentException.class, () -> new FileSpec(URI.create("file:///f.pth"), "f.pth", SHA, -1));
        assertThrows(IllegalArgumentException.class, () -> FileSpec.of("https://h/dir/", SHA, -1));
        assertThrows(NullPointerException.class, () -> new FileSpec(url, "f.pth", (String) null, -1));
        assertThrows(NullPointerException.class, () -> new FileSpec(url, "f.pth", (Sha256) null, -1));
    }
}
