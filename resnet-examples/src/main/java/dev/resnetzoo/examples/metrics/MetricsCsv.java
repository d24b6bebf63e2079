package dev.resnetzoo.examples.metrics;

import dev.resnetzoo.zoo.files.AtomicFiles;
import java.io.BufferedWriter;
import java.io.Closeable;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Appends one CSV row per epoch to a metrics file, flushing after each row so that the file is
 * current even if training is killed.
 *
 * <p>Columns: {@value #HEADER}. Accuracies are fractions in [0,1]; an unmeasured value is an empty
 * cell. The header is written only when the file is new or empty. Opening an existing file
 * (a resumed run) keeps its rows; {@link #open(Path, int)} additionally drops rows of epochs after
 * the checkpoint being resumed from, so they are not duplicated when those epochs run again.
 * A last line cut short by a crash is dropped.
 */
public final class MetricsCsv implements Closeable {

    /** The header line. */
    public static final String HEADER = "epoch,train_loss,train_acc,test_loss,test_acc,images_per_sec,seconds";

    private final Path file;
    private final BufferedWriter out;

    private MetricsCsv(Path file, BufferedWriter out) {
        this.file = file;
        this.out = out;
    }

    /** Opens {@code file} for appending, keeping all existing rows; creates it (and its directory) if needed. */
    public static MetricsCsv open(Path file) throws IOException {
        return open(file, Integer.MAX_VALUE);
    }

    /**
     * Opens {@code file} for appending, keeping only existing rows whose epoch is at most
     * {@code lastCompletedEpoch} (the epoch of the checkpoint a run resumes from).
     *
     * @throws IOException if the file exists with a different header or unreadable rows
     */
    public static MetricsCsv open(Path file, int lastCompletedEpoch) throws IOException {
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        boolean needHeader = true;
        if (Files.exists(file) && Files.size(file) > 0) {
            String text = Files.readString(file, StandardCharsets.UTF_8);
            if (text.isBlank()) {
                text = "";
            }
            List<String> lines = new ArrayList<>(text.lines().toList());
            boolean cutShort = !text.isEmpty() && !text.endsWith("\n");
            if (cutShort) {
                lines.remove(lines.size() - 1); // partial line from a crash mid-write
            }
            if (!lines.isEmpty()) {
                if (!HEADER.equals(lines.get(0).strip())) {
                    throw new IOException(file + ": not a metrics file of this format, header is '"
                            + lines.get(0) + "', expected '" + HEADER + "'");
                }
                needHeader = false;
                List<String> kept = new ArrayList<>();
                kept.add(HEADER);
                for (int i = 1; i < lines.size(); i++) {
                    String line = lines.get(i);
                    if (line.isBlank()) {
                        continue;
                    }
                    if (parse(line, file, i + 1).epoch() <= lastCompletedEpoch) {
                        kept.add(line);
                    }
                }
                if (cutShort || kept.size() != lines.size()) {
                    rewrite(file, kept);
                }
            } else {
                rewrite(file, List.of());
            }
        }
        BufferedWriter out = Files.newBufferedWriter(file, StandardCharsets.UTF_8,
                StandardOpenOption.CREATE, StandardOpenOption.APPEND, StandardOpenOption.WRITE);
        MetricsCsv csv = new MetricsCsv(file, out);
        if (needHeader) {
            csv.writeLine(HEADER);
        }
        return csv;
    }

    /** The file written to. */
    public Path file() {
        return file;
    }

    /** Appends one row and flushes it to the file. */
    public void append(EpochMetrics m) throws IOException {
        writeLine(m.epoch() + "," + num(m.trainLoss(), "%.6f") + "," + num(m.trainAcc(), "%.6f") + ","
                + num(m.testLoss(), "%.6f") + "," + num(m.testAcc(), "%.6f") + ","
                + num(m.imagesPerSec(), "%.2f") + "," + num(m.seconds(), "%.3f"));
    }

    @Override
    public void close() throws IOException {
        out.close();
    }

    /**
     * Reads all rows of a metrics file in file order; an empty list if it does not exist.
     * A last line cut short by a crash is ignored.
     *
     * @throws IOException if the header or a row is malformed
     */
    public static List<EpochMetrics> read(Path file) throws IOException {
        if (!Files.exists(file)) {
            return List.of();
        }
        String text = Files.readString(file, StandardCharsets.UTF_8);
        List<String> lines = new ArrayList<>(text.lines().toList());
        if (!text.isEmpty() && !text.endsWith("\n")) {
            lines.remove(lines.size() - 1);
        }
        if (lines.isEmpty() || text.isBlank()) {
            return List.of();
        }
        if (!HEADER.equals(lines.get(0).strip())) {
            throw new IOException(file + ": header is '" + lines.get(0) + "', expected '" + HEADER + "'");
        }
        List<EpochMetrics> rows = new ArrayList<>();
        for (int i = 1; i < lines.size(); i++) {
            if (!lines.get(i).isBlank()) {
                rows.add(parse(lines.get(i), file, i + 1));
            }
        }
        return rows;
    }

    // ---------------------------------------------------------------------------------------

    private void writeLine(String line) throws IOException {
        out.write(line);
        out.write('\n');
        out.flush();
    }

    private static String num(double v, String format) {
        return Double.isNaN(v) ? "" : String.format(Locale.ROOT, format, v);
    }

    private static EpochMetrics parse(String line, Path file, int lineNo) throws IOException {
        String[] c = line.strip().split(",", -1);
        if (c.length != 7) {
            throw new IOException(file + ":" + lineNo + ": expected 7 columns (" + HEADER + "), found "
                    + c.length + ": '" + line + "'");
        }
        try {
            return new EpochMetrics(Integer.parseInt(c[0].strip()), dbl(c[1]), dbl(c[2]), dbl(c[3]), dbl(c[4]),
                    dbl(c[5]), dbl(c[6]));
        } catch (NumberFormatException e) {
            throw new IOException(file + ":" + lineNo + ": not a number in '" + line + "'", e);
        }
    }

    private static double dbl(String s) {
        String t = s.strip();
        return t.isEmpty() ? Double.NaN : Double.parseDouble(t);
    }

    private static void rewrite(Path file, List<String> lines) throws IOException {
        StringBuilder sb = new StringBuilder();
        for (String l : lines) {
            sb.append(l).append('\n');
        }
        AtomicFiles.writeString(file, sb.toString());
    }
}
