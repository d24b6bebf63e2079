package dev.resnetzoo.zoo.files;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Objects;

/**
 * A SHA-256 digest as lower-case hex: either the full digest ({@value #DIGITS} hex digits) or, for
 * publishers that give only its start, a prefix of at least {@value #MIN_PREFIX_DIGITS} hex digits.
 *
 * <p>PyTorch's model files are the usual case of a prefix: {@code resnet50-0676ba61.pth} carries the
 * first 8 hex digits of its SHA-256, which is all that {@code torch.hub}'s {@code check_hash}
 * verifies. A prefix is a weaker check than the full digest (8 digits are 32 bits), so
 * {@link #describe()} says when only a prefix is compared.
 *
 * <pre>{@code
 * Sha256 expected = Sha256.parse("0676ba61");
 * if (!expected.matches(Sha256.of(file))) { ... }
 * }</pre>
 *
 * @param hex the digest or prefix, {@value #MIN_PREFIX_DIGITS} to {@value #DIGITS} hex digits in
 *            lower case (the constructor accepts either case and surrounding blanks)
 */
public record Sha256(String hex) {

    /** Hex digits of a full SHA-256 digest. */
    public static final int DIGITS = 64;

    /** The shortest accepted prefix, in hex digits (what PyTorch's file names carry). */
    public static final int MIN_PREFIX_DIGITS = 8;

    /**
     * Validates the hex and normalises it to lower case without blanks.
     *
     * @param hex {@value #MIN_PREFIX_DIGITS} to {@value #DIGITS} hex digits, in either case
     * @throws IllegalArgumentException if it is not hex of an accepted length
     * @throws NullPointerException     if it is {@code null}
     */
    public Sha256 {
        Objects.requireNonNull(hex, "sha256");
        String h = hex.trim().toLowerCase(Locale.ROOT);
        if (h.length() < MIN_PREFIX_DIGITS || h.length() > DIGITS || !isHex(h)) {
            throw new IllegalArgumentException("sha256 must be " + DIGITS + " hex digits (or a prefix of at least "
                    + MIN_PREFIX_DIGITS + "), got '" + hex + "'");
        }
        hex = h;
    }

    /**
     * Parses a full digest or an accepted prefix.
     *
     * @param text {@value #MIN_PREFIX_DIGITS} to {@value #DIGITS} hex digits, in either case
     * @return the value
     * @throws IllegalArgumentException with a one-line message if it is not hex of an accepted length
     * @throws NullPointerException     if it is {@code null}
     */
    public static Sha256 parse(String text) {
        return new Sha256(text);
    }

    /**
     * Parses an optional value: {@code null} or blank text means none.
     *
     * @param text hex as for {@link #parse(String)}, or {@code null} / blank
     * @return the value, or {@code null} if none was given
     * @throws IllegalArgumentException if non-blank text is not hex of an accepted length
     */
    public static Sha256 parseOptional(String text) {
        return text == null || text.isBlank() ? null : new Sha256(text);
    }

    /**
     * Hashes a file's content.
     *
     * @param file a readable file
     * @return its full digest
     * @throws IOException if it cannot be read
     */
    public static Sha256 of(Path file) throws IOException {
        MessageDigest digest = newDigest();
        byte[] buffer = new byte[1 << 20];
        try (InputStream in = Files.newInputStream(file)) {
            for (int n; (n = in.read(buffer)) > 0; ) {
                digest.update(buffer, 0, n);
            }
        }
        return new Sha256(HexFormat.of().formatHex(digest.digest()));
    }

    /**
     * Hashes bytes.
     *
     * @param data the content
     * @return its full digest
     */
    public static Sha256 of(byte[] data) {
        return new Sha256(HexFormat.of().formatHex(newDigest().digest(data)));
    }

    /**
     * Tells whether only a prefix of the digest is known.
     *
     * @return {@code true} if {@link #hex()} has fewer than {@value #DIGITS} digits
     */
    public boolean isPrefix() {
        return hex.length() < DIGITS;
    }

    /**
     * Tells whether a computed digest satisfies this one: equal to it, or starting with this prefix.
     *
     * @param actual the full digest of some content, e.g. {@link #of(Path)}
     * @return {@code true} if it matches; {@code false} if {@code actual} is {@code null} or itself only a prefix
     */
    public boolean matches(Sha256 actual) {
        return actual != null && !actual.isPrefix() && actual.hex.startsWith(hex);
    }

    /**
     * Tells whether two values may describe the same content: one is a prefix of the other.
     *
     * @param other another digest or prefix
     * @return {@code true} if they agree on their common digits
     */
    public boolean agreesWith(Sha256 other) {
        return hex.startsWith(other.hex) || other.hex.startsWith(hex);
    }

    /**
     * Of two agreeing values, the one that says more.
     *
     * @param other another digest or prefix that {@linkplain #agreesWith agrees} with this one
     * @return the longer of the two
     * @throws IllegalArgumentException if they do not agree
     */
    public Sha256 longer(Sha256 other) {
        if (!agreesWith(other)) {
            throw new IllegalArgumentException("sha256 " + hex + " contradicts " + other.hex);
        }
        return hex.length() >= other.hex.length() ? this : other;
    }

    /**
     * Describes the value for messages: {@code sha256 <hex>}, or for a prefix
     * {@code sha256 starting with <hex> (prefix check: only N hex digits are published)}.
     *
     * @return the description
     */
    public String describe() {
        return isPrefix()
                ? "sha256 starting with " + hex + " (prefix check: only " + hex.length() + " hex digits are published)"
                : "sha256 " + hex;
    }

    /**
     * Returns the hex digits.
     *
     * @return {@link #hex()}
     */
    @Override
    public String toString() {
        return hex;
    }

    private static boolean isHex(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (!(c >= '0' && c <= '9' || c >= 'a' && c <= 'f')) {
                return false;
            }
        }
        return true;
    }

    private static MessageDigest newDigest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is not available in this JVM", e);
        }
    }
}
