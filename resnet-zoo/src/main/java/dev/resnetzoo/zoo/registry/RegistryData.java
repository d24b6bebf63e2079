package dev.resnetzoo.zoo.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.resnetzoo.core.ResNetSpec;
import dev.resnetzoo.core.Variant;
import dev.resnetzoo.zoo.files.Sha256;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Reads the registry resource written by {@code scripts/make_registry.py}. */
final class RegistryData {

    static final String RESOURCE = "weights.json";

    record Loaded(List<WeightsEntry> entries, List<String> defaults) {
    }

    private RegistryData() {
    }

    static Loaded loadBuiltin() {
        try (InputStream in = open(RESOURCE)) {
            return parse(new ObjectMapper().readTree(in), RegistryData::readLabels);
        } catch (IOException | RuntimeException e) {
            throw new IllegalStateException("cannot read the built-in weights registry (resource "
                    + RegistryData.class.getPackageName().replace('.', '/') + "/" + RESOURCE + "): " + e.getMessage(), e);
        }
    }

    interface LabelSource {
        List<String> read(String resource) throws IOException;
    }

    static Loaded parse(JsonNode doc, LabelSource labelSource) throws IOException {
        Map<String, List<String>> labelSets = new HashMap<>();
        JsonNode labelsNode = doc.path("labels");
        for (var it = labelsNode.fields(); it.hasNext(); ) {
            var field = it.next();
            labelSets.put(field.getKey(), List.copyOf(labelSource.read(field.getValue().asText())));
        }
        List<WeightsEntry> entries = new ArrayList<>();
        List<String> defaults = new ArrayList<>();
        for (JsonNode e : doc.path("entries")) {
            String tag = text(e, "tag");
            Variant variant = Variant.of(text(e, "architecture"));
            int numClasses = e.path("num_classes").asInt(1000);
            ResNetSpec spec = variant.spec().numClasses() == numClasses ? variant.spec()
                    : variant.spec().toBuilder().numClasses(numClasses).build();
            List<String> aliases = new ArrayList<>();
            e.path("aliases").forEach(a -> aliases.add(a.asText()));
            List<String> labels = List.of();
            if (e.hasNonNull("labels")) {
                labels = labelSets.get(e.get("labels").asText());
                if (labels == null) {
                    throw new IllegalArgumentException(tag + ": unknown label set " + e.get("labels"));
                }
            }
            JsonNode p = e.path("preprocessing");
            Preprocessing preprocessing = new Preprocessing(p.path("resize_size").asInt(), p.path("crop_size").asInt(),
                    Preprocessing.Interpolation.of(text(p, "interpolation")), doubles(p.path("mean")),
                    doubles(p.path("std")));
            String license = text(e, "license");
            String source = text(e, "source");
            if (e.hasNonNull("recipe")) {
                source += "; recipe: " + e.get("recipe").asText();
            }
            String notes = e.path("notes").asText("");
            if (e.hasNonNull("license_note")) {
                notes = (notes.isEmpty() ? "" : notes + "; ") + "license: " + e.get("license_note").asText();
            }
            entries.add(new WeightsEntry(tag, aliases, spec, URI.create(text(e, "url")), text(e, "file_name"),
                    e.hasNonNull("sha256") ? Sha256.parse(e.get("sha256").asText()) : null, e.path("size").asLong(-1),
                    WeightsEntry.Format.valueOf(text(e, "format")), labels, preprocessing,
                    number(e, "acc1"), number(e, "acc5"), e.path("params").asLong(-1), number(e, "gmacs"),
                    license, source, notes));
            if (e.path("default").asBoolean(false)) {
                defaults.add(tag);
            }
        }
        return new Loaded(entries, defaults);
    }

    private static String text(JsonNode node, String field) {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) {
            throw new IllegalArgumentException("missing field '" + field + "' in " + node);
        }
        return v.asText();
    }

    private static double number(JsonNode node, String field) {
        JsonNode v = node.get(field);
        return v == null || v.isNull() ? Double.NaN : v.asDouble();
    }

    private static List<Double> doubles(JsonNode array) {
        List<Double> out = new ArrayList<>();
        array.forEach(v -> out.add(v.asDouble()));
        return out;
    }

    private static InputStream open(String name) throws IOException {
        InputStream in = RegistryData.class.getResourceAsStream(name);
        if (in == null) {
            throw new IOException("resource " + name + " not found next to " + RegistryData.class.getName());
        }
        return in;
    }

    static List<String> readLabels(String resource) throws IOException {
        List<String> out = new ArrayList<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(open(resource), StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) {
                if (!line.isEmpty()) {
                    out.add(line);
                }
            }
        }
        return out;
    }
}
