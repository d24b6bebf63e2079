package dev.resnetzoo.zoo.download;

import dev.resnetzoo.zoo.files.AtomicFiles;
import dev.resnetzoo.zoo.files.Sha256;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The verification stamp {@code <file>.sha256}: the full hash a file had when it was last verified,
 * together with its size and modification time, so that an unchanged file is not hashed again.
 *
 * <pre>
 * sha256=0676ba61...
 * size=102530333
 * mtime=2024-05-01T10:11:12.123456789Z
 * </pre>
 */
final class Stamp {

    static final String SUFFIX = ".sha256";

    private Stamp() {
    }

    static Path of(Path file) {
        return file.resolveSibling(file.getFileName() + SUFFIX);
    }

    /**
     * True if {@code file} exists and its stamp records, with the file's current size and mtime, a
     * digest that {@code expected} matches.
     */
    static boolean matches(Path file, Sha256 expected) {
        try {
            BasicFileAttributes attrs = Files.readAttributes(file, BasicFileAttributes.class);
            if (!attrs.isRegularFile()) {
                return false;
            }
            Map<String, String> values = new HashMap<>();
            List<String> lines = Files.readAllLines(of(file), StandardCharsets.UTF_8);
            for (String line : lines) {
                int eq = line.indexOf('=');
                if (eq > 0) {
                    values.put(line.substring(0, eq).trim(), line.substring(eq + 1).trim());
                }
            }
            return expected.matches(Sha256.parseOptional(values.get("sha256")))
                    && Long.toString(attrs.size()).equals(values.get("size"))
                    && attrs.lastModifiedTime().toInstant().toString().equals(values.get("mtime"));
        } catch (IOException | RuntimeException e) {
            return false;      // no file, no stamp, unreadable or garbled stamp: not verified
        }
    }

    /** Records that {@code file}, as it is now, has the given full hash (written atomically). */
    static void write(Path file, Sha256 sha256) throws IOException {
        BasicFileAttributes attrs = Files.readAttributes(file, BasicFileAttributes.class);
        Instant mtime = attrs.lastModifiedTime().toInstant();
        String text = "sha256=" + sha256 + "\nsize=" + attrs.size() + "\nmtime=" + mtime + "\n";
        Path stamp = of(file);
        AtomicFiles.writeString(stamp, text);
    }

    static void delete(Path file) throws IOException {
        Files.deleteIfExists(of(file));
    }
}
