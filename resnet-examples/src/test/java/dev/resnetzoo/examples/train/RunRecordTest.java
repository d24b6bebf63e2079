package dev.resnetzoo.examples.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Objects;
import org.junit.jupiter.api.Test;

class RunRecordTest {

    /** A run.json that the previous version wrote (with its own hand-written mapping). */
    private static String format1() throws IOException {
        try (InputStream in = Objects.requireNonNull(RunRecordTest.class.getResourceAsStream("/run-json/format1.json"))) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @Test
    void readsTheFilesOfThePreviousVersion() throws IOException {
        RunRecord r = RunRecord.parse(format1(), "run.json");
        TrainConfig expected = TrainOptions.parse("--preset", "fashion-fast", "--epochs", "2", "--limit", "2000",
                "--test-limit", "1000").toConfig();
        assertEquals(expected, r.config());
        assertEquals(List.of(2, 2, 2, 2), r.config().table().depths());
        assertEquals(2000, r.trainExamples());
        assertEquals(701_178, r.parameters());
        assertEquals(expected.describeNetwork(), r.network());
    }

    @Test
    void writesAndReadsItsOwnFormat() throws IOException {
        RunRecord r = RunRecord.parse(format1(), "run.json");
        String json = r.toJson();
        assertEquals(format1().replaceAll("\"created\" : \"[^\"]*\"", ""), json.replaceAll("\"created\" : \"[^\"]*\"", ""),
                "the same file as before, key for key");
        assertTrue(json.contains("\"lr-schedule\" : \"cosine\"") && json.contains("\"stem\" : \"small\""), json);
        assertEquals(r, RunRecord.parse(json, "run.json"));
    }

    @Test
    void refusesUnknownFormatsAndBadSettingsInOneLine() throws IOException {
        IOException a = assertThrows(IOException.class,
                () -> RunRecord.parse(format1().replace("\"format\" : 1", "\"format\" : 7"), "x/run.json"));
        assertEquals("x/run.json has format 7, this version reads 1: use --overwrite to start the run again",
                a.getMessage());
        IOException b = assertThrows(IOException.class,
                () -> RunRecord.parse(format1().replace("\"epochs\" : 2", "\"epochs\" : 0"), "x/run.json"));
        assertEquals("x/run.json: --epochs must be >= 1, got 0", b.getMessage());
        IOException c = assertThrows(IOException.class,
                () -> RunRecord.parse(format1().replace("\"stem\" : \"small\"", "\"stem\" : \"tiny\""), "x/run.json"));
        assertTrue(c.getMessage().startsWith("x/run.json") && c.getMessage().contains("tiny")
                && !c.getMessage().contains("\n"), c.getMessage());
        IOException d = assertThrows(IOException.class,
                () -> RunRecord.parse(format1().replace("\"seed\" : 42", "\"seeds\" : 42"), "x/run.json"));
        assertTrue(d.getMessage().startsWith("x/run.json") && d.getMessage().contains("seeds"), d.getMessage());
    }
}
