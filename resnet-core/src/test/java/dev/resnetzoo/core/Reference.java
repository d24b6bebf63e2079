package dev.resnetzoo.core;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.Map;

/** The reference architectures written by scripts/make_architecture_reference.py (torchvision 0.14). */
final class Reference {
    private static final JsonNode ROOT = load();

    private Reference() {
    }

    private static JsonNode load() {
        try (InputStream in = Reference.class.getResourceAsStream("/reference/architectures.json")) {
            if (in == null) {
                throw new IllegalStateException("missing test resource /reference/architectures.json; "
                        + "regenerate with /usr/bin/python3 scripts/make_architecture_reference.py");
            }
            return new ObjectMapper().readTree(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static JsonNode model(String id) {
        JsonNode m = ROOT.path("models").path(id);
        if (m.isMissingNode()) {
            throw new IllegalStateException("no reference for " + id);
        }
        return m;
    }

    static long params(String id) {
        return model(id).path("params").asLong();
    }

    /** @return state_dict key -> shape, in reference order */
    static Map<String, long[]> stateDict(String id) {
        Map<String, long[]> out = new LinkedHashMap<>();
        for (JsonNode e : model(id).path("state_dict")) {
            JsonNode shape = e.get(1);
            long[] s = new long[shape.size()];
            for (int i = 0; i < s.length; i++) {
                s[i] = shape.get(i).asLong();
            }
            out.put(e.get(0).asText(), s);
        }
        return out;
    }

    static long[] stage(String id, String stage) {
        JsonNode shape = model(id).path("stages").path(stage);
        long[] s = new long[shape.size()];
        for (int i = 0; i < s.length; i++) {
            s[i] = shape.get(i).asLong();
        }
        return s;
    }
}
