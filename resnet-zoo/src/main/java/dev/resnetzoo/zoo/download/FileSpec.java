package dev.resnetzoo.zoo.download;

import dev.resnetzoo.zoo.files.Sha256;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Objects;

/**
 * Describes one remote file that {@link Downloader#fetch(FileSpec)} can put into the cache.
 *
 * <p>The SHA-256 is mandatory: a file is never handed out unless its content matches it. It is
 * either the full digest or, for publishers that only give the start of it, a prefix (see
 * {@link Sha256}); every message about a mismatch says when only a prefix was compared. The size is
 * optional ({@code -1} when unknown); when given, a server that reports or sends a different length
 * is rejected early instead of after a full download, and a body is never written past it.
 *
 * @param url      where the file is published; must be an absolute {@code http} or {@code https} URL
 * @param fileName the name of the file in the cache directory (a plain name, no directories)
 * @param sha256   the expected SHA-256 of the content, full or a prefix
 * @param size     the expected size in bytes, or {@code -1} if unknown
 */
public record FileSpec(URI url, String fileName, Sha256 sha256, long size) {

    /**
     * Validates the components.
     *
     * @param url      absolute http(s) URL of the file
     * @param fileName plain file name in the cache: no directories and none of {@code \ / : * ? " < > |}
     * @param sha256   expected SHA-256, full or a prefix
     * @param size     expected size in bytes, or {@code -1} if unknown
     * @throws IllegalArgumentException if a component is invalid
     */
    public FileSpec {
        checkUrl(url, "url");
        checkFileName(fileName);
        Objects.requireNonNull(sha256, "sha256");
        if (size < -1) {
            throw new IllegalArgumentException("size must be >= 0, or -1 for unknown, got " + size);
        }
    }

    /**
     * Creates a spec from a hash in hex.
     *
     * @param url      absolute http(s) URL of the file
     * @param fileName plain file name in the cache
     * @param sha256   expected SHA-256 in hex, 64 digits or a prefix of at least {@value Sha256#MIN_PREFIX_DIGITS}, in either case
     * @param size     expected size in bytes, or {@code -1} if unknown
     * @throws IllegalArgumentException if a component is invalid
     */
    public FileSpec(URI url, String fileName, String sha256, long size) {
        this(url, fileName, parseSha256(sha256, fileName), size);
    }

    /**
     * Tells whether only a prefix of the SHA-256 is known.
     *
     * @return {@code sha256().isPrefix()}
     */
    public boolean isPrefix() {
        return sha256.isPrefix();
    }

    /**
     * Tells whether a computed digest satisfies this spec: equal to the full hash, or starting with
     * the prefix.
     *
     * @param actual the full SHA-256 of a file
     * @return {@code sha256().matches(actual)}
     */
    public boolean matches(Sha256 actual) {
        return sha256.matches(actual);
    }

    /**
     * Describes the expected hash for messages; see {@link Sha256#describe()}.
     *
     * @return the description
     */
    public String describeSha256() {
        return sha256.describe();
    }

    /**
     * Creates a spec whose cache file name is the last segment of the URL's path, e.g.
     * {@code resnet50-0676ba61.pth} for {@code https://download.pytorch.org/models/resnet50-0676ba61.pth}.
     *
     * @param url    absolute http(s) URL whose path ends in a file name
     * @param sha256 expected SHA-256, 64 hex digits or a prefix of at least {@value Sha256#MIN_PREFIX_DIGITS}
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

    /**
     * Checks that files can be fetched from a URL: absolute, {@code http} or {@code https}, with a host.
     *
     * @param url  the URL
     * @param what what the URL is, for the message, e.g. {@code url} or {@code resnet50.tv_in1k: url}
     * @return {@code url}
     * @throws IllegalArgumentException if it is not such a URL
     * @throws NullPointerException     if it is {@code null}
     */
    public static URI checkUrl(URI url, String what) {
        Objects.requireNonNull(url, what);
        String scheme = url.getScheme() == null ? "" : url.getScheme().toLowerCase(Locale.ROOT);
        if (!url.isAbsolute() || !(scheme.equals("http") || scheme.equals("https")) || url.getHost() == null) {
            throw new IllegalArgumentException(what + " must be an absolute http(s) URL with a host, got " + url);
        }
        return url;
    }

    /**
     * Checks that a name can be a file in a cache directory on every platform.
     *
     * @param name the file name
     * @return {@code name}
     * @throws IllegalArgumentException if it is empty, too long, a directory reference, or holds a
     *                                  path separator, a control character or one of {@code : * ? " < > |}
     * @throws NullPointerException     if it is {@code null}
     */
    public static String checkFileName(String name) {
        Objects.requireNonNull(name, "fileName");
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
        return name;
    }

    private static Sha256 parseSha256(String sha256, String fileName) {
        try {
            return Sha256.parse(Objects.requireNonNull(sha256, "sha256"));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(e.getMessage() + " for " + fileName, e);
        }
    }
}
