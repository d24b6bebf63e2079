package dev.resnetzoo.zoo.download;

import java.net.http.HttpHeaders;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;

/** Reads the response headers a resumable download depends on; malformed values count as absent. */
final class ResponseHeaders {

    /**
     * A {@code Content-Range} value; {@code -1} for a part that is {@code *}.
     *
     * @param first first byte of the range
     * @param last  last byte of the range (inclusive)
     * @param total length of the whole file
     */
    record ContentRange(long first, long last, long total) {
    }

    private ResponseHeaders() {
    }

    /** {@code Content-Length}, or {@code -1} if absent. */
    static long contentLength(HttpHeaders headers) {
        return headers.firstValueAsLong("Content-Length").orElse(-1);
    }

    /** Parses {@code bytes first-last/length} or {@code bytes *}{@code /length}; null if malformed. */
    static ContentRange parseContentRange(String value) {
        String v = value.trim();
        if (!v.regionMatches(true, 0, "bytes ", 0, 6)) {
            return null;
        }
        v = v.substring(6).trim();
        int slash = v.indexOf('/');
        if (slash < 0) {
            return null;
        }
        try {
            String range = v.substring(0, slash).trim();
            String length = v.substring(slash + 1).trim();
            long total = length.equals("*") ? -1 : Long.parseLong(length);
            if (range.equals("*")) {
                return new ContentRange(-1, -1, total);
            }
            int dash = range.indexOf('-');
            if (dash < 0) {
                return null;
            }
            return new ContentRange(Long.parseLong(range.substring(0, dash).trim()),
                    Long.parseLong(range.substring(dash + 1).trim()), total);
        } catch (NumberFormatException e) {
            return null;
        }
    }

    /** {@code Retry-After} in seconds or as an HTTP date, in milliseconds from now; {@code -1} if absent. */
    static long retryAfterMillis(HttpHeaders headers) {
        String value = headers.firstValue("Retry-After").orElse(null);
        if (value == null) {
            return -1;
        }
        try {
            return Math.max(0, Long.parseLong(value.trim())) * 1000;
        } catch (NumberFormatException e) {
            try {
                ZonedDateTime when = ZonedDateTime.parse(value.trim(), DateTimeFormatter.RFC_1123_DATE_TIME);
                return Math.max(0, Duration.between(ZonedDateTime.now(when.getZone()), when).toMillis());
            } catch (RuntimeException ignored) {
                return -1;
            }
        }
    }

    /**
     * What identifies this version of the file for {@code If-Range}: a strong {@code ETag}, else a
     * {@code Last-Modified} date; null if neither (a weak ETag may not be used for ranges).
     */
    static String validator(HttpHeaders headers) {
        return headers.firstValue("ETag").filter(t -> !t.startsWith("W/"))
                .or(() -> headers.firstValue("Last-Modified").filter(ResponseHeaders::isHttpDate))
                .orElse(null);
    }

    private static boolean isHttpDate(String value) {
        try {
            DateTimeFormatter.RFC_1123_DATE_TIME.parse(value);
            return true;
        } catch (RuntimeException e) {
            return false;
        }
    }
}
