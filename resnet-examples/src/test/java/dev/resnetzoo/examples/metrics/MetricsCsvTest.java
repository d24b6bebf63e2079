package dev.resnetzoo.examples.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MetricsCsvTest {

    @TempDir
    Path tmp;

    static EpochMetrics row(int epoch) {
        return new EpochMetrics(epoch, 1.0 / epoch, 0.5 + epoch * 0.04, 0.3 + 0.8 / epoch, 0.48 + epoch * 0.035,
                1234.5, 60.25);
    }

    private static long headerCount(List<String> lines) {
        return lines.stream().filter(MetricsCsv.HEADER::equals).count();
    }

    @Test
    void writesHeaderOnceAndRowsImmediately() throws IOException {
        Path f = tmp.resolve("sub/dir/metrics.csv");
        try (MetricsCsv csv = MetricsCsv.open(f)) {
            csv.append(row(1));
            // flushed: visible before close
            List<String> lines = Files.readAllLines(f);
            assertEquals(2, lines.size());
            assertEquals(MetricsCsv.HEADER, lines.get(0));
            assertEquals("1,1.000000,0.540000,1.100000,0.515000,1234.50,60.250", lines.get(1));
            csv.append(row(2));
        }
        assertEquals(List.of(row(1).epoch(), 2), MetricsCsv.read(f).stream().map(EpochMetrics::epoch).toList());
    }

    @Test
    void resumeKeepsRowsAndSingleHeader() throws IOException {
        Path f = tmp.resolve("metrics.csv");
        try (MetricsCsv csv = MetricsCsv.open(f)) {
            csv.append(row(1));
            csv.append(row(2));
        }
        try (MetricsCsv csv = MetricsCsv.open(f)) {
            csv.append(row(3));
        }
        List<String> lines = Files.readAllLines(f);
        assertEquals(4, lines.size());
        assertEquals(1, headerCount(lines));
        List<EpochMetrics> rows = MetricsCsv.read(f);
        assertEquals(List.of(1, 2, 3), rows.stream().map(EpochMetrics::epoch).toList());
        assertEquals(0.54, rows.get(0).trainAcc(), 1e-9);
    }

    @Test
    void resumeFromEarlierCheckpointDropsLaterEpochs() throws IOException {
        Path f = tmp.resolve("metrics.csv");
        try (MetricsCsv csv = MetricsCsv.open(f)) {
            for (int e = 1; e <= 4; e++) {
                csv.append(row(e));
            }
        }
        try (MetricsCsv csv = MetricsCsv.open(f, 2)) {
            csv.append(row(3));
        }
        List<String> lines = Files.readAllLines(f);
        assertEquals(1, headerCount(lines));
        assertEquals(List.of(1, 2, 3), MetricsCsv.read(f).stream().map(EpochMetrics::epoch).toList());
    }

    @Test
    void partialLastLineFromACrashIsDropped() throws IOException {
        Path f = tmp.resolve("metrics.csv");
        try (MetricsCsv csv = MetricsCsv.open(f)) {
            csv.append(row(1));
        }
        Files.writeString(f, "2,0.5,0.6", StandardCharsets.UTF_8, java.nio.file.StandardOpenOption.APPEND);
        assertEquals(1, MetricsCsv.read(f).size());
        try (MetricsCsv csv = MetricsCsv.open(f)) {
            csv.append(row(2));
        }
        assertEquals(List.of(1, 2), MetricsCsv.read(f).stream().map(EpochMetrics::epoch).toList());
        assertEquals(3, Files.readAllLines(f).size());
    }

    @Test
    void missingValuesAreEmptyCells() throws IOException {
        Path f = tmp.resolve("metrics.csv");
        try (MetricsCsv csv = MetricsCsv.open(f)) {
            csv.append(new EpochMetrics(1, 0.9, 0.7, Double.NaN, 0.68, 500, 10));
        }
        assertEquals("1,0.900000,0.700000,,0.680000,500.00,10.000", Files.readAllLines(f).get(1));
        EpochMetrics back = MetricsCsv.read(f).get(0);
        assertTrue(Double.isNaN(back.testLoss()));
        assertEquals(0.68, back.testAcc(), 1e-9);
    }

    @Test
    void emptyExistingFileGetsHeader() throws IOException {
        Path f = tmp.resolve("metrics.csv");
        Files.createFile(f);
        try (MetricsCsv csv = MetricsCsv.open(f)) {
            csv.append(row(1));
        }
        assertEquals(MetricsCsv.HEADER, Files.readAllLines(f).get(0));
        assertEquals(1, MetricsCsv.read(f).size());
    }

    @Test
    void foreignFileIsRejected() throws IOException {
        Path f = tmp.resolve("other.csv");
        Files.writeString(f, "a,b,c\n1,2,3\n");
        IOException e = assertThrows(IOException.class, () -> MetricsCsv.open(f));
        assertTrue(e.getMessage().contains(f.toString()) && e.getMessage().contains("header"), e.getMessage());
        assertEquals("a,b,c\n1,2,3\n", Files.readString(f), "left untouched");
    }
}
