package dev.resnetzoo.zoo.files;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class Sha256Test {

    /** SHA-256 of the three bytes {@code abc} (FIPS 180-2, appendix B.1). */
    private static final String ABC = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

    @TempDir
    Path tmp;

    @Test
    void hashesFilesAndBytesAsTheStandardSays() throws IOException {
        Path file = Files.writeString(tmp.resolve("abc.txt"), "abc", StandardCharsets.US_ASCII);
        assertEquals(ABC, Sha256.of(file).hex());
        assertEquals(Sha256.of(file), Sha256.of("abc".getBytes(StandardCharsets.US_ASCII)));
        assertFalse(Sha256.of(file).isPrefix());
    }

    @Test
    void parsesEitherCaseAndBlanksToLowerCase() {
        assertEquals(ABC, Sha256.parse("  " + ABC.toUpperCase() + "\n").hex());
        assertEquals("ba7816bf", Sha256.parse("BA7816BF").toString());
        assertTrue(Sha256.parse("ba7816bf").isPrefix());
        assertNull(Sha256.parseOptional(null));
        assertNull(Sha256.parseOptional("  "));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "ba7816b", "xyz", "ba7816bg", "ba78 16bf",
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad0"})
    void refusesAnythingElseInOneLine(String text) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Sha256.parse(text));
        assertEquals("sha256 must be 64 hex digits (or a prefix of at least 8), got '" + text + "'", e.getMessage());
    }

    @Test
    void aFullDigestMatchesItselfAndItsPrefixesButNothingElse() {
        Sha256 actual = Sha256.parse(ABC);
        assertTrue(actual.matches(actual));
        assertTrue(Sha256.parse("ba7816bf").matches(actual));
        assertTrue(Sha256.parse(ABC.substring(0, 63)).matches(actual));
        assertFalse(Sha256.parse("ba7816be").matches(actual));
        assertFalse(Sha256.parse("ba7816bf").matches(Sha256.parse("ba7816bf")), "a prefix is not a computed digest");
        assertFalse(actual.matches(null));
    }

    @Test
    void agreementAndTheLongerOfTwo() {
        Sha256 prefix = Sha256.parse("ba7816bf");
        Sha256 full = Sha256.parse(ABC);
        assertTrue(prefix.agreesWith(full));
        assertTrue(full.agreesWith(prefix));
        assertEquals(full, prefix.longer(full));
        assertEquals(full, full.longer(prefix));
        Sha256 other = Sha256.parse("00000000");
        assertFalse(other.agreesWith(full));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> other.longer(full));
        assertEquals("sha256 00000000 contradicts " + ABC, e.getMessage());
    }

    @Test
    void describeSaysWhenOnlyAPrefixIsCompared() {
        assertEquals("sha256 " + ABC, Sha256.parse(ABC).describe());
        assertEquals("sha256 starting with ba7816bf (prefix check: only 8 hex digits are published)",
                Sha256.parse("ba7816bf").describe());
    }
}
