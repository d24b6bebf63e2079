package dev.resnetzoo.examples.train;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;
import org.nd4j.shade.jackson.core.JsonProcessingException;
import org.nd4j.shade.jackson.core.type.TypeReference;
import org.nd4j.shade.jackson.databind.ObjectMapper;

/** Small JSON helpers on the Jackson copy that ND4J ships (always on DL4J's classpath). */
final class Json {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private Json() {
    }

    /** Pretty-printed JSON of maps, lists, strings, numbers and booleans, with a final newline. */
    static String write(Object value) {
        try {
            return MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(value) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("not serialisable as JSON: " + value, e);
        }
    }

    /**
     * @param text JSON text whose top level is an object
     * @param what the source, for error messages
     * @return the object's members in file order
     * @throws IOException if the text is not a JSON object
     */
    static Map<String, Object> readObject(String text, String what) throws IOException {
        try {
            Map<String, Object> m = MAPPER.readValue(text, new TypeReference<LinkedHashMap<String, Object>>() { });
            if (m == null) {
                throw new IOException(what + ": expected a JSON object, found null");
            }
            return m;
        } catch (JsonProcessingException e) {
            throw new IOException(what + ": not valid JSON: " + e.getOriginalMessage(), e);
        }
    }
}
