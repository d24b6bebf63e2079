package dev.resnetzoo.zoo.download;

import dev.resnetzoo.zoo.files.AtomicFiles;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * The verification stamp {@code <file>.sha256}: the hash a file had when it was last verified,
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

    /** True if {@code file} exists and its stamp records {@code sha256} with the file's current size and mtime. */
    static boolean matches(Path file, String sha256) {
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
            return sha256.equalsIgnoreCase(values.get("sha256"))
                    && Long.toString(attrs.size()).equals(values.get("size"))
                    && attrs.lastModifiedTime().toInstant().toString().equals(values.get("mtime"));
        } catch (IOException | RuntimeException e) {
            return false;      // no file, no stamp, unreadable or garbled stamp: not verified
        }
    }

    /** Records that {@code file}, as it is now, has the given hash (written atomically). */
    static void write(Path file, String sha256) throws IOException {
        BasicFileAttributes attrs = Files.readAttributes(file, BasicFileAttributes.class);
        Instant mtime = attrs.lastModifiedTime().toInstant();
        String text = "sha256=" + sha256 + "\nsize=" + attrs.size() + "\nmtime=" + mtime + "\n";
        Path stamp = of(file);
        AtomicFiles.writeString(stamp, text);
    }

    static void delete(Path file) throws IOException {
        Files.deleteIfExists(of(file));
    }

    /** Hex SHA-256 of a file's content. */
    static String sha256(Path file) throws IOException {
        MessageDigest digest;
        try {
            digest = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is not available", e);
        }
        byte[] buffer = new byte[1 << 20];
        try (InputStream in = Files.newInputStream(file)) {
            for (int n; (n = in.read(buffer)) > 0; ) {
                digest.update(buffer, 0, n);
            }
        }
        return HexFormat.of().formatHex(digest.digest());
    }
}
