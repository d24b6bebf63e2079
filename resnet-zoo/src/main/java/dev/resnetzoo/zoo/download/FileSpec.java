package dev.resnetzoo.zoo.download;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Objects;

/**
 * Describes one remote file that {@link Downloader#fetch(FileSpec)} can put into the cache.
 *
 * <p>The SHA-256 is mandatory: a file is never handed out unless its content matches it. It is
 * either the full digest (64 hex digits) or, for publishers that only give the start of it, a
 * prefix of at least {@value #MIN_PREFIX_DIGITS} hex digits. PyTorch's model files are such a case:
 * {@code resnet50-0676ba61.pth} carries the first 8 hex digits of its SHA-256, which is all that
 * {@code torch.hub}'s {@code check_hash} verifies. A prefix is a weaker check than the full hash (8
 * digits are 32 bits): {@link #isPrefix()} tells which one a spec has, and every message about a
 * mismatch says that only a prefix was compared. The size is optional ({@code -1} when unknown);
 * when given, a server that reports or sends a different length is rejected early instead of after
 * a full download.
 *
 * @param url      where the file is published; must be an absolute {@code http} or {@code https} URL
 * @param fileName the name of the file in the cache directory (a plain name, no directories)
 * @param sha256   the expected SHA-256 of the content: 64 hex digits, or a prefix of
 *                 {@value #MIN_PREFIX_DIGITS} to 63 hex digits (stored in lower case)
 * @param size     the expected size in bytes, or {@code -1} if unknown
 */
public record FileSpec(URI url, String fileName, String sha256, long size) {

    /** The shortest accepted SHA-256 prefix, in hex digits (what PyTorch's file names carry). */
    public static final int MIN_PREFIX_DIGITS = 8;

    /**
     * Validates the components and normalises the hash to lower case.
     *
     * @param url      absolute http(s) URL of the file
     * @param fileName plain file name in the cache: no directories and none of {@code \ / : * ? " < > |}
     * @param sha256   expected SHA-256, 64 hex digits or a prefix of at least {@value #MIN_PREFIX_DIGITS}, in either case
     * @param size     expected size in bytes, or {@code -1} if unknown
     * @throws IllegalArgumentException if a component is invalid
     */
    public FileSpec {
        Objects.requireNonNull(url, "url");
        Objects.requireNonNull(fileName, "fileName");
        Objects.requireNonNull(sha256, "sha256");
        String scheme = url.getScheme() == null ? "" : url.getScheme().toLowerCase(Locale.ROOT);
        if (!url.isAbsolute() || !(scheme.equals("http") || scheme.equals("https")) || url.getHost() == null) {
            throw new IllegalArgumentException("url must be an absolute http(s) URL with a host: " + url);
        }
        checkFileName(fileName);
        sha256 = sha256.trim().toLowerCase(Locale.ROOT);
        if (!sha256.matches("[0-9a-f]{" + MIN_PREFIX_DIGITS + ",64}")) {
            throw new IllegalArgumentException("sha256 must be 64 hex digits (or a prefix of at least "
                    + MIN_PREFIX_DIGITS + " hex digits), got '" + sha256 + "' for " + fileName);
        }
        if (size < -1) {
            throw new IllegalArgumentException("size must be >= 0, or -1 for unknown, got " + size);
        }
    }

    /**
     * Tells whether only a prefix of the SHA-256 is known.
     *
     * @return {@code true} if {@link #sha256()} has fewer than 64 hex digits
     */
    public boolean isPrefix() {
        return sha256.length() < 64;
    }

    /**
     * Tells whether a computed digest satisfies this spec: equal to the full hash, or starting with
     * the prefix.
     *
     * @param actualSha256 the SHA-256 of a file, 64 hex digits in either case
     * @return {@code true} if it matches; {@code false} also for anything that is not a full digest
     */
    public boolean matches(String actualSha256) {
        if (actualSha256 == null || actualSha256.length() != 64) {
            return false;
        }
        String actual = actualSha256.toLowerCase(Locale.ROOT);
        return actual.matches("[0-9a-f]{64}") && actual.startsWith(sha256);
    }

    /**
     * Describes the expected hash for messages: {@code sha256 <hex>}, or for a prefix
     * {@code sha256 starting with <hex> (prefix check: only N hex digits are published)}.
     *
     * @return the description
     */
    public String describeSha256() {
        return isPrefix()
                ? "sha256 starting with " + sha256 + " (prefix check: only " + sha256.length()
                        + " hex digits are published)"
                : "sha256 " + sha256;
    }

    /**
     * Creates a spec whose cache file name is the last segment of the URL's path, e.g.
     * {@code resnet50-0676ba61.pth} for {@code https://download.pytorch.org/models/resnet50-0676ba61.pth}.
     *
     * @param url    absolute http(s) URL whose path ends in a file name
     * @param sha256 expected SHA-256, 64 hex digits or a prefix of at least {@value #MIN_PREFIX_DIGITS}
     * @param size   expected size in bytes, or {@code -1} if unknown
     * @return the spec
     * @throws IllegalArgumentException if the URL is not usable or has no file name
     */
    public static FileSpec of(String url, String sha256, long size) {
        URI uri = URI.create(url);
        String path = uri.getPath() == null ? "" : uri.getPath();
        String name = path.substring(path.lastIndexOf('/') + 1);
        if (name.isEmpty()) {
            throw new IllegalArgumentException("cannot derive a file name from " + url);
        }
        return new FileSpec(uri, name, sha256, size);
    }

    private static void checkFileName(String name) {
        if (name.isEmpty() || name.equals(".") || name.equals("..")) {
            throw new IllegalArgumentException("invalid file name '" + name + "'");
        }
        if (name.getBytes(StandardCharsets.UTF_8).length > 200) {
            throw new IllegalArgumentException("file name too long: " + name);
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c < 0x20 || c == 0x7f || "/\\:*?\"<>|".indexOf(c) >= 0) {
                throw new IllegalArgumentException("file name must be a plain, portable name: '" + name + "'");
            }
        }
    }
}
