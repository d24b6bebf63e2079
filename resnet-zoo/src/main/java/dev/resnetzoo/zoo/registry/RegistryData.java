package dev.resnetzoo.zoo.registry;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.json.JsonMapper;

import dev.resnetzoo.core.ResNetSpec;
import dev.resnetzoo.core.Variant;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Reads the registry resource written by {@code scripts/make_registry.py}: Jackson binds the JSON
 * to the records below, which mirror it field for field (snake_case in the file), and each entry is
 * then converted to a {@link WeightsEntry}. An unknown field is an error, so that a change of the
 * script's format cannot go unnoticed.
 */
final class RegistryData {

    static final String RESOURCE = "weights.json";

    private static final ObjectMapper JSON = JsonMapper.builder()
            .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .build();

    record Loaded(List<WeightsEntry> entries, List<String> defaults) {
    }

    /**
     * The whole file.
     *
     * @param generator   the script that wrote it
     * @param torch       PyTorch version the metadata was read with
     * @param torchvision torchvision version the metadata was read with
     * @param labels      label sets by name: resource file names next to this class, one label a line
     * @param entries     the weight files
     */
    record FileJson(String generator, String torch, String torchvision, Map<String, String> labels,
                    List<EntryJson> entries) {
    }

    /**
     * One weight file as the script writes it; {@code null} for an absent optional field.
     *
     * @param tag           unique name
     * @param aliases       other names
     * @param architecture  a {@link Variant} id
     * @param url           where the file is published
     * @param fileName      name in the weights cache
     * @param sha256        full SHA-256 or a prefix in hex, or null
     * @param size          bytes, or null / -1 if unknown
     * @param format        a {@link WeightsEntry.Format} name
     * @param numClasses    classifier outputs (1000 if absent)
     * @param labels        name of a label set in {@link FileJson#labels()}, or null
     * @param preprocessing evaluation transform
     * @param acc1          top-1 accuracy in percent, or null
     * @param acc5          top-5 accuracy in percent, or null
     * @param params        trainable parameters, or null
     * @param gmacs         GMACs per image, or null
     * @param license       license of the weights
     * @param licenseNote   what the license statement rests on, or null
     * @param defaultEntry  whether this is its architecture's default
     * @param source        where the metadata comes from
     * @param recipe        training recipe, or null
     * @param notes         caveats, or null
     */
    record EntryJson(String tag, List<String> aliases, String architecture, String url, String fileName,
                     String sha256, Long size, String format, Integer numClasses, String labels,
                     PreprocessingJson preprocessing, Double acc1, Double acc5, Long params, Double gmacs,
                     String license, String licenseNote, @JsonProperty("default") boolean defaultEntry,
                     String source, String recipe, String notes) {
    }

    /**
     * The {@code preprocessing} object of an entry.
     *
     * @param resizeSize    shorter side after resizing
     * @param cropSize      side of the central crop
     * @param interpolation {@code BILINEAR} or {@code BICUBIC}
     * @param mean          channel means
     * @param std           channel standard deviations
     */
    record PreprocessingJson(int resizeSize, int cropSize, String interpolation, List<Double> mean,
                             List<Double> std) {
    }

    interface LabelSource {
        List<String> read(String resource) throws IOException;
    }

    private RegistryData() {
    }

    static Loaded loadBuiltin() {
        try (InputStream in = open(RESOURCE)) {
            return parse(in, RegistryData::readLabels);
        } catch (IOException | RuntimeException e) {
            throw new IllegalStateException("cannot read the built-in weights registry (resource "
                    + RegistryData.class.getPackageName().replace('.', '/') + "/" + RESOURCE + "): " + oneLine(e), e);
        }
    }

    /**
     * Binds and converts a registry document.
     *
     * @throws IOException              if it is not JSON of this format (unknown or mistyped field)
     * @throws IllegalArgumentException if an entry is invalid; the message names the entry
     */
    static Loaded parse(InputStream json, LabelSource labelSource) throws IOException {
        FileJson file = JSON.readValue(json, FileJson.class);
        Map<String, List<String>> labelSets = new HashMap<>();
        if (file.labels() != null) {
            for (Map.Entry<String, String> set : file.labels().entrySet()) {
                labelSets.put(set.getKey(), List.copyOf(labelSource.read(set.getValue())));
            }
        }
        List<WeightsEntry> entries = new ArrayList<>();
        List<String> defaults = new ArrayList<>();
        List<EntryJson> list = file.entries() == null ? List.of() : file.entries();
        for (int i = 0; i < list.size(); i++) {
            EntryJson e = list.get(i);
            String name = e.tag() != null ? "'" + e.tag() + "'" : "#" + (i + 1);
            try {
                entries.add(toEntry(e, labelSets));
            } catch (IllegalArgumentException | NullPointerException ex) {
                throw new IllegalArgumentException("entry " + name + ": " + ex.getMessage(), ex);
            }
            if (e.defaultEntry()) {
                defaults.add(e.tag());
            }
        }
        return new Loaded(entries, defaults);
    }

    private static WeightsEntry toEntry(EntryJson e, Map<String, List<String>> labelSets) {
        Variant variant = Variant.of(required(e.architecture(), "architecture"));
        int numClasses = e.numClasses() != null ? e.numClasses() : 1000;
        ResNetSpec spec = variant.spec().numClasses() == numClasses ? variant.spec()
                : variant.spec().toBuilder().numClasses(numClasses).build();
        WeightsEntry.Builder b = WeightsEntry.builder(required(e.tag(), "tag"), spec, required(e.url(), "url"));
        if (e.aliases() != null) {
            e.aliases().forEach(b::alias);
        }
        if (e.labels() != null) {
            List<String> labels = labelSets.get(e.labels());
            if (labels == null) {
                throw new IllegalArgumentException("unknown label set '" + e.labels() + "'; known: "
                        + labelSets.keySet());
            }
            b.labels(labels);
        }
        PreprocessingJson p = required(e.preprocessing(), "preprocessing");
        String source = required(e.source(), "source");
        if (e.recipe() != null) {
            source += "; recipe: " + e.recipe();
        }
        String notes = Objects.requireNonNullElse(e.notes(), "");
        if (e.licenseNote() != null) {
            notes = (notes.isEmpty() ? "" : notes + "; ") + "license: " + e.licenseNote();
        }
        return b.fileName(required(e.fileName(), "file_name"))
                .sha256(e.sha256())
                .size(e.size() != null ? e.size() : -1)
                .format(WeightsEntry.Format.valueOf(required(e.format(), "format")))
                .preprocessing(new Preprocessing(p.resizeSize(), p.cropSize(),
                        Preprocessing.Interpolation.of(required(p.interpolation(), "preprocessing.interpolation")),
                        required(p.mean(), "preprocessing.mean"), required(p.std(), "preprocessing.std")))
                .accuracy(orNaN(e.acc1()), orNaN(e.acc5()))
                .cost(e.params() != null ? e.params() : -1, orNaN(e.gmacs()))
                .license(required(e.license(), "license"))
                .provenance(source, notes)
                .build();
    }

    private static <T> T required(T value, String field) {
        if (value == null) {
            throw new IllegalArgumentException("missing field '" + field + "'");
        }
        return value;
    }

    private static double orNaN(Double value) {
        return value == null ? Double.NaN : value;
    }

    /** Jackson's messages add the source location on further lines; one line is enough here. */
    private static String oneLine(Exception e) {
        if (e instanceof JsonProcessingException j) {
            String where = j.getLocation() == null ? "" : " (line " + j.getLocation().getLineNr() + ")";
            return j.getOriginalMessage().lines().findFirst().orElse("") + where;
        }
        return String.valueOf(e.getMessage()).lines().findFirst().orElse("");
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
