package dev.resnetzoo.zoo.download;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.function.UnaryOperator;

/**
 * Where downloaded files live, where they are fetched from, and whether the network may be used.
 *
 * <h2>Cache directory</h2>
 * The first of these that is set wins:
 * <ol>
 *   <li>system property {@value #HOME_PROPERTY} (a leading {@code ~/} is expanded),</li>
 *   <li>environment variable {@value #HOME_ENV},</li>
 *   <li>{@code $XDG_CACHE_HOME/resnet-zoo} (only if {@code XDG_CACHE_HOME} is an absolute path),</li>
 *   <li>{@code ~/.cache/resnet-zoo}.</li>
 * </ol>
 * Files are kept in one sub-directory per kind, e.g. {@code weights/} and {@code models/}. Next to
 * each file {@code F} the downloader may leave {@code F.sha256} (verification stamp), {@code F.lock}
 * (an empty lock file) and, while a download is incomplete, {@code F.part}. To install a file by
 * hand, copy it to {@code <cache>/<kind>/<fileName>}; it is verified against its SHA-256 on first use.
 *
 * <h2>Mirror</h2>
 * System property {@value #MIRROR_PROPERTY}, else environment variable {@value #MIRROR_ENV}: an
 * {@code http(s)} base URL. When set, every file is fetched from {@code <mirror>/<fileName>} instead
 * of its original URL: scheme, host and the whole path of the original URL are replaced and only
 * the cache file name is kept (query strings are dropped). With the usual specs, whose file name is
 * the last segment of the URL, {@code https://download.pytorch.org/models/resnet50-0676ba61.pth}
 * becomes {@code <mirror>/resnet50-0676ba61.pth}. A mirror is therefore populated simply by copying
 * the files of a cache's {@code weights/} directory to one directory of a web server. The original
 * URL is not tried when a mirror is set.
 *
 * <h2>Offline mode</h2>
 * System property {@value #OFFLINE_PROPERTY}, else environment variable {@value #OFFLINE_ENV}, with
 * value {@code true}, {@code 1}, {@code yes} or {@code on}: the network is never used; a file that
 * is not already cached fails with a message naming the URL to download it from and the path to
 * put it at. A system property, even {@code false}, overrides the environment variable.
 *
 * <p>Instances are immutable; {@link #fromEnvironment()} reads the settings once, when called.
 */
public final class ZooCache {

    /** System property naming the cache directory. */
    public static final String HOME_PROPERTY = "resnetzoo.home";
    /** Environment variable naming the cache directory. */
    public static final String HOME_ENV = "RESNET_ZOO_HOME";
    /** System property naming the mirror base URL. */
    public static final String MIRROR_PROPERTY = "resnetzoo.mirror";
    /** Environment variable naming the mirror base URL. */
    public static final String MIRROR_ENV = "RESNET_ZOO_MIRROR";
    /** System property switching offline mode on ({@code true}) or off ({@code false}). */
    public static final String OFFLINE_PROPERTY = "resnetzoo.offline";
    /** Environment variable switching offline mode on ({@code 1}). */
    public static final String OFFLINE_ENV = "RESNET_ZOO_OFFLINE";

    /** Sub-directory for pretrained weight files. */
    public static final String WEIGHTS = "weights";
    /** Sub-directory for converted, ready-to-load models. */
    public static final String MODELS = "models";

    private final Path home;
    private final URI mirror;      // null: no mirror; otherwise without trailing slash
    private final boolean offline;

    private ZooCache(Path home, URI mirror, boolean offline) {
        this.home = home.toAbsolutePath().normalize();
        this.mirror = mirror;
        this.offline = offline;
    }

    /**
     * Resolves the cache directory, mirror and offline mode from system properties and environment
     * variables as described in the class documentation.
     *
     * @return the settings in effect now
     * @throws IllegalArgumentException if the configured mirror is not an http(s) URL
     */
    public static ZooCache fromEnvironment() {
        return resolve(System::getProperty, System::getenv);
    }

    /** {@link #fromEnvironment()} with injectable lookups, for tests. */
    static ZooCache resolve(UnaryOperator<String> properties, UnaryOperator<String> environment) {
        String userHome = Objects.requireNonNullElse(properties.apply("user.home"), ".");
        Path home;
        String prop = blankToNull(properties.apply(HOME_PROPERTY));
        String env = blankToNull(environment.apply(HOME_ENV));
        String xdg = blankToNull(environment.apply("XDG_CACHE_HOME"));
        if (prop != null) {
            home = expandTilde(prop, userHome);
        } else if (env != null) {
            home = expandTilde(env, userHome);
        } else if (xdg != null && Path.of(xdg).isAbsolute()) {
            home = Path.of(xdg, "resnet-zoo");
        } else {
            home = Path.of(userHome, ".cache", "resnet-zoo");
        }

        String mirrorValue = blankToNull(properties.apply(MIRROR_PROPERTY));
        if (mirrorValue == null) {
            mirrorValue = blankToNull(environment.apply(MIRROR_ENV));
        }

        String offlineProp = blankToNull(properties.apply(OFFLINE_PROPERTY));
        boolean offline = offlineProp != null ? isTrue(offlineProp) : isTrue(environment.apply(OFFLINE_ENV));
        return new ZooCache(home, parseMirror(mirrorValue), offline);
    }

    /**
     * A cache rooted at the given directory, online, without a mirror (environment settings are ignored).
     *
     * @param home the cache directory; need not exist yet
     * @return the cache
     */
    public static ZooCache at(Path home) {
        return new ZooCache(Objects.requireNonNull(home, "home"), null, false);
    }

    /**
     * Returns a copy that fetches from the given mirror.
     *
     * @param mirrorBase an http(s) base URL, or {@code null} / blank for no mirror
     * @return the new settings
     * @throws IllegalArgumentException if the mirror is not an http(s) URL
     */
    public ZooCache withMirror(String mirrorBase) {
        return new ZooCache(home, parseMirror(blankToNull(mirrorBase)), offline);
    }

    /**
     * Returns a copy with offline mode switched on or off.
     *
     * @param offline {@code true} to never use the network
     * @return the new settings
     */
    public ZooCache withOffline(boolean offline) {
        return new ZooCache(home, mirror, offline);
    }

    /**
     * Returns the cache root directory.
     *
     * @return the cache root (absolute; may not exist yet)
     */
    public Path home() {
        return home;
    }

    /**
     * The sub-directory for one kind of file; it is not created here.
     *
     * @param kind a plain directory name such as {@link #WEIGHTS} or {@link #MODELS}
     * @return {@code home().resolve(kind)}
     * @throws IllegalArgumentException if {@code kind} is not a plain name
     */
    public Path directory(String kind) {
        if (kind == null || kind.isEmpty() || kind.equals(".") || kind.equals("..")
                || kind.indexOf('/') >= 0 || kind.indexOf('\\') >= 0) {
            throw new IllegalArgumentException("kind must be a plain directory name: " + kind);
        }
        return home.resolve(kind);
    }

    /**
     * Returns the directory for pretrained weight files.
     *
     * @return the {@value #WEIGHTS} sub-directory
     */
    public Path weights() {
        return directory(WEIGHTS);
    }

    /**
     * Returns the directory for converted models.
     *
     * @return the {@value #MODELS} sub-directory
     */
    public Path models() {
        return directory(MODELS);
    }

    /**
     * Returns the mirror in use, if any.
     *
     * @return the mirror base URL (without trailing slash), if one is configured
     */
    public Optional<URI> mirror() {
        return Optional.ofNullable(mirror);
    }

    /**
     * Tells whether offline mode is on.
     *
     * @return {@code true} if the network must not be used
     */
    public boolean offline() {
        return offline;
    }

    /**
     * The URL a file is actually fetched from: {@code <mirror>/<fileName>} (the file name
     * percent-encoded) when a mirror is set, otherwise the spec's own URL.
     *
     * @param spec the file
     * @return the URL to request
     */
    public URI sourceFor(FileSpec spec) {
        if (mirror == null) {
            return spec.url();
        }
        return URI.create(mirror + "/" + encodeSegment(spec.fileName()));
    }

    @Override
    public String toString() {
        return "ZooCache[home=" + home + (mirror != null ? ", mirror=" + mirror : "") + (offline ? ", offline" : "") + "]";
    }

    private static URI parseMirror(String value) {
        if (value == null) {
            return null;
        }
        String trimmed = value;
        while (trimmed.endsWith("/")) {
            trimmed = trimmed.substring(0, trimmed.length() - 1);
        }
        URI uri;
        try {
            uri = URI.create(trimmed);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("mirror is not a valid URL: " + value, e);
        }
        FileSpec.checkUrl(uri, "mirror");
        if (uri.getRawQuery() != null || uri.getRawFragment() != null) {
            throw new IllegalArgumentException("mirror must be a base URL without query or fragment, e.g. "
                    + "https://mirror.example.org/resnet-zoo, got: " + value);
        }
        return uri;
    }

    /** Percent-encodes everything except RFC 3986 unreserved characters. */
    private static String encodeSegment(String s) {
        StringBuilder sb = new StringBuilder();
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
            int c = b & 0xff;
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || c == '-' || c == '.' || c == '_' || c == '~') {
                sb.append((char) c);
            } else {
                sb.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
                        .append(Character.toUpperCase(Character.forDigit(c & 0xf, 16)));
            }
        }
        return sb.toString();
    }

    private static Path expandTilde(String path, String userHome) {
        if (path.equals("~")) {
            return Path.of(userHome);
        }
        if (path.startsWith("~/") || path.startsWith("~\\")) {
            return Path.of(userHome, path.substring(2));
        }
        return Path.of(path);
    }

    private static boolean isTrue(String value) {
        if (value == null) {
            return false;
        }
        String v = value.trim().toLowerCase(Locale.ROOT);
        return v.equals("true") || v.equals("1") || v.equals("yes") || v.equals("on");
    }

    private static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s.trim();
    }
}
