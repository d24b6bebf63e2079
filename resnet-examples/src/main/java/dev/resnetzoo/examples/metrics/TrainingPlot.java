package dev.resnetzoo.examples.metrics;

import dev.resnetzoo.zoo.files.AtomicFiles;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.ToDoubleFunction;

import javax.imageio.ImageIO;

import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * Draws training curves as a PNG: loss per epoch in the upper panel, accuracy (%) per epoch in
 * the lower one, training in blue and test in orange, each panel titled, with labelled axes and a
 * legend. Unmeasured (NaN) values are left out; a series with no values is not drawn.
 *
 * <p>Rendering uses XChart on an off-screen image and works headless
 * ({@code java.awt.headless=true}); it needs a font the JDK can find (fontconfig with any TrueType
 * font, e.g. Debian's {@code fonts-dejavu-core}). The PNG is written to a temporary file in the
 * target directory and then moved over the target, so readers never see a half-written image.
 */
public final class TrainingPlot {

    /** Width of the PNG in pixels. */
    public static final int WIDTH = 1000;
    /** Height of the PNG in pixels (two panels of half this height). */
    public static final int HEIGHT = 900;

    private static final Color TRAIN = new Color(0x1f, 0x77, 0xb4);
    private static final Color TEST = new Color(0xff, 0x7f, 0x0e);

    private TrainingPlot() {
    }

    /**
     * Re-reads a {@link MetricsCsv} file and plots all its epochs (when an epoch appears more than
     * once, as after a resume without truncation, its last row wins).
     *
     * @throws IOException if the CSV cannot be read, has no rows, or the PNG cannot be written
     */
    public static void writeFromCsv(Path csv, String title, Path png) throws IOException {
        List<EpochMetrics> rows = MetricsCsv.read(csv);
        if (rows.isEmpty()) {
            throw new IOException(csv + ": no epochs to plot");
        }
        write(rows, title, png);
    }

    /**
     * Plots the given epochs (sorted by epoch; for a repeated epoch the last row wins).
     *
     * @throws IllegalArgumentException if {@code rows} is empty
     * @throws IOException if the PNG cannot be written
     */
    public static void write(List<EpochMetrics> rows, String title, Path png) throws IOException {
        if (rows.isEmpty()) {
            throw new IllegalArgumentException("no epochs to plot");
        }
        Map<Integer, EpochMetrics> byEpoch = new TreeMap<>();
        for (EpochMetrics m : rows) {
            byEpoch.put(m.epoch(), m);
        }
        List<EpochMetrics> sorted = new ArrayList<>(byEpoch.values());
        String prefix = title == null || title.isBlank() ? "" : title.strip() + ": ";

        XYChart loss = panel(prefix + "loss", "loss", sorted);
        addSeries(loss, "train loss", sorted, EpochMetrics::trainLoss, 1, TRAIN);
        addSeries(loss, "test loss", sorted, EpochMetrics::testLoss, 1, TEST);
        loss.getStyler().setLegendPosition(Styler.LegendPosition.InsideNE);

        XYChart acc = panel(prefix + "accuracy", "accuracy (%)", sorted);
        addSeries(acc, "train accuracy", sorted, EpochMetrics::trainAcc, 100, TRAIN);
        addSeries(acc, "test accuracy", sorted, EpochMetrics::testAcc, 100, TEST);
        acc.getStyler().setLegendPosition(Styler.LegendPosition.InsideSE);

        BufferedImage image = new BufferedImage(WIDTH, HEIGHT, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        try {
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, WIDTH, HEIGHT);
            g.drawImage(BitmapEncoder.getBufferedImage(loss), 0, 0, null);
            g.drawImage(BitmapEncoder.getBufferedImage(acc), 0, HEIGHT / 2, null);
        } finally {
            g.dispose();
        }
        writeAtomically(image, png);
    }

    // ---------------------------------------------------------------------------------------

    private static XYChart panel(String title, String yTitle, List<EpochMetrics> rows) {
        XYChart chart = new XYChartBuilder().width(WIDTH).height(HEIGHT / 2)
                .title(title).xAxisTitle("epoch").yAxisTitle(yTitle).build();
        Styler s = chart.getStyler();
        s.setChartBackgroundColor(Color.WHITE);
        s.setLegendVisible(true);
        s.setAntiAlias(true);
        chart.getStyler().setPlotGridLinesVisible(true);
        chart.getStyler().setYAxisDecimalPattern("#,##0.###");
        int first = rows.get(0).epoch();
        int last = rows.get(rows.size() - 1).epoch();
        // Same epoch range in both panels, even when one has no values; a single epoch gets room.
        chart.getStyler().setXAxisMin(first == last ? first - 1.0 : first);
        chart.getStyler().setXAxisMax(first == last ? last + 1.0 : last);
        // Epochs are integers: label only integral ticks.
        chart.setCustomXAxisTickLabelsFormatter(x -> Math.abs(x - Math.rint(x)) < 1e-9
                ? Long.toString(Math.round(x)) : "");
        return chart;
    }

    private static void addSeries(XYChart chart, String name, List<EpochMetrics> rows,
                                  ToDoubleFunction<EpochMetrics> value, double scale, Color color) {
        List<Double> xs = new ArrayList<>();
        List<Double> ys = new ArrayList<>();
        for (EpochMetrics m : rows) {
            double v = value.applyAsDouble(m);
            if (Double.isFinite(v)) {
                xs.add((double) m.epoch());
                ys.add(v * scale);
            }
        }
        if (xs.isEmpty()) {
            return;
        }
        XYSeries series = chart.addSeries(name, xs, ys);
        series.setLineColor(color);
        series.setMarkerColor(color);
        series.setMarker(SeriesMarkers.CIRCLE);
        series.setLineStyle(new BasicStroke(2f));
    }

    private static void writeAtomically(BufferedImage image, Path png) throws IOException {
        AtomicFiles.writeVia(png, tmp -> {
            if (!ImageIO.write(image, "png", tmp.toFile())) {
                throw new IOException("no PNG writer available");
            }
        });
    }
}
