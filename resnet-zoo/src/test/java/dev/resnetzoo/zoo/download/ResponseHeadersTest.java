package dev.resnetzoo.zoo.download;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.net.http.HttpHeaders;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ResponseHeadersTest {

    private static HttpHeaders headers(Map<String, String> values) {
        Map<String, List<String>> map = new java.util.HashMap<>();
        values.forEach((k, v) -> map.put(k, List.of(v)));
        return HttpHeaders.of(map, (k, v) -> true);
    }

    @Test
    void contentRanges() {
        assertEquals(new ResponseHeaders.ContentRange(100, 199, 1000), ResponseHeaders.parseContentRange("bytes 100-199/1000"));
        assertEquals(new ResponseHeaders.ContentRange(100, 199, -1), ResponseHeaders.parseContentRange("BYTES 100-199/*"));
        assertEquals(new ResponseHeaders.ContentRange(-1, -1, 1000), ResponseHeaders.parseContentRange("bytes */1000"));
        assertNull(ResponseHeaders.parseContentRange("items 1-2/3"));
        assertNull(ResponseHeaders.parseContentRange("bytes 1-2"));
        assertNull(ResponseHeaders.parseContentRange("bytes 12/30"));
        assertNull(ResponseHeaders.parseContentRange("bytes a-b/c"));
    }

    @Test
    void retryAfterInSecondsOrAsADateInThePast() {
        assertEquals(-1, ResponseHeaders.retryAfterMillis(headers(Map.of())));
        assertEquals(7000, ResponseHeaders.retryAfterMillis(headers(Map.of("Retry-After", " 7 "))));
        assertEquals(0, ResponseHeaders.retryAfterMillis(headers(Map.of("Retry-After", "Sun, 06 Nov 1994 08:49:37 GMT"))));
        assertEquals(-1, ResponseHeaders.retryAfterMillis(headers(Map.of("Retry-After", "soon"))));
    }

    @Test
    void aStrongEtagOrElseAnHttpDateIdentifiesTheVersion() {
        assertEquals("\"abc\"", ResponseHeaders.validator(headers(Map.of("ETag", "\"abc\"",
                "Last-Modified", "Sun, 06 Nov 1994 08:49:37 GMT"))));
        assertEquals("Sun, 06 Nov 1994 08:49:37 GMT", ResponseHeaders.validator(headers(Map.of("ETag", "W/\"abc\"",
                "Last-Modified", "Sun, 06 Nov 1994 08:49:37 GMT"))));
        assertNull(ResponseHeaders.validator(headers(Map.of("Last-Modified", "yesterday"))));
        assertEquals(-1, ResponseHeaders.contentLength(headers(Map.of())));
        assertEquals(42, ResponseHeaders.contentLength(headers(Map.of("Content-Length", "42"))));
    }

    @Test
    void durationsForMessages() {
        assertEquals("600 ms", Transfer.humanDuration(java.time.Duration.ofMillis(600)));
        assertEquals("45 s", Transfer.humanDuration(java.time.Duration.ofSeconds(45)));
        assertEquals("10 min", Transfer.humanDuration(java.time.Duration.ofMinutes(10)));
        assertEquals("1 h", Transfer.humanDuration(java.time.Duration.ofHours(1)));
    }
}
