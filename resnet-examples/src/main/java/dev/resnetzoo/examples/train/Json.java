package dev.resnetzoo.examples.train;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.JsonSerializer;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.resnetzoo.core.BlockKind;
import dev.resnetzoo.core.StemKind;
import java.io.IOException;
import java.util.Locale;

/**
 * The one JSON mapper of the training files ({@code run.json}, the checkpoint's state entry):
 * Jackson, records bound by their component names, enums written as their lower-case option
 * values. Errors are one line naming the source.
 */
final class Json {
    private static final ObjectMapper MAPPER = JsonMapper.builder()
            .enable(MapperFeature.ACCEPT_CASE_INSENSITIVE_ENUMS)
            .enable(SerializationFeature.INDENT_OUTPUT)
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .addModule(new SimpleModule("resnet-enums")
                    .addSerializer(StemKind.class, new LowerCase<>())
                    .addSerializer(BlockKind.class, new LowerCase<>()))
            .build();

    private Json() {
    }

    /** Core enums (which carry no Jackson annotations) as their option values, e.g. {@code small}. */
    private static final class LowerCase<E extends Enum<E>> extends JsonSerializer<E> {
        @Override
        public void serialize(E value, JsonGenerator gen, SerializerProvider serializers) throws IOException {
            gen.writeString(value.name().toLowerCase(Locale.ROOT));
        }
    }

    /** Pretty-printed JSON with a final newline. */
    static String write(Object value) {
        try {
            return MAPPER.writeValueAsString(value) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("not serialisable as JSON: " + value, e);
        }
    }

    /** The value as a tree (records become objects). */
    static ObjectNode tree(Object value) {
        return MAPPER.valueToTree(value);
    }

    /**
     * @param text JSON text whose top level is an object
     * @param what the source, for error messages
     * @throws IOException if the text is not a JSON object
     */
    static ObjectNode readTree(String text, String what) throws IOException {
        JsonNode node;
        try {
            node = MAPPER.readTree(text);
        } catch (JsonProcessingException e) {
            throw new IOException(what + ": not valid JSON: " + e.getOriginalMessage(), e);
        }
        if (!(node instanceof ObjectNode o)) {
            throw new IOException(what + ": expected a JSON object");
        }
        return o;
    }

    /**
     * Binds a tree to a type.
     *
     * @throws IllegalArgumentException with the type's own validation message, or Jackson's
     *                                  one-line message prefixed by {@code what}
     */
    static <T> T bind(JsonNode tree, Class<T> type, String what) {
        try {
            return MAPPER.treeToValue(tree, type);
        } catch (JsonProcessingException e) {
            for (Throwable t = e; t != null; t = t.getCause()) {
                if (t instanceof IllegalArgumentException iae) {
                    throw iae; // the compact constructor's message names the option
                }
            }
            String where = e instanceof JsonMappingException m && !m.getPath().isEmpty()
                    ? " at " + m.getPathReference().replaceAll("^[^\\[]*", "") : "";
            throw new IllegalArgumentException(what + where + ": " + e.getOriginalMessage(), e);
        }
    }
}
