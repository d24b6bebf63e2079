package dev.resnetzoo.examples.data;

import java.io.IOException;

/**
 * An in-memory set of equally sized grey-scale images with one class label each, as read from
 * a pair of IDX files. Immutable from the outside; pixel and label values are unsigned bytes.
 */
public final class LabeledImages {

    private final String name;
    private final int rows;
    private final int cols;
    private final byte[] pixels;
    private final byte[] labels;

    private LabeledImages(String name, int rows, int cols, byte[] pixels, byte[] labels) {
        this.name = name;
        this.rows = rows;
        this.cols = cols;
        this.pixels = pixels;
        this.labels = labels;
    }

    /** Pairs images with labels, checking that the counts agree. */
    static LabeledImages of(IdxReader.Images images, byte[] labels, String imagesName, String labelsName)
            throws IOException {
        if (images.count() != labels.length) {
            throw new IOException("count mismatch: " + imagesName + " holds " + images.count() + " images but "
                    + labelsName + " holds " + labels.length + " labels; expected the same number in both");
        }
        return new LabeledImages(imagesName, images.rows(), images.cols(), images.pixels(), labels);
    }

    /** Where the images came from (a file name or a classpath resource). */
    public String name() {
        return name;
    }

    /** Number of examples. */
    public int size() {
        return labels.length;
    }

    /** Image height in pixels. */
    public int rows() {
        return rows;
    }

    /** Image width in pixels. */
    public int cols() {
        return cols;
    }

    /** Label of example {@code i}, 0..255. */
    public int label(int i) {
        return labels[i] & 0xFF;
    }

    /** Pixel value 0..255 of example {@code i} at ({@code row}, {@code col}). */
    public int pixel(int i, int row, int col) {
        if (row < 0 || row >= rows || col < 0 || col >= cols) {
            throw new IndexOutOfBoundsException("pixel (" + row + ", " + col + ") outside " + rows + "x" + cols);
        }
        return pixels[(i * rows + row) * cols + col] & 0xFF;
    }

    /** Number of examples of each label value 0..{@code numClasses-1}; other values are not counted. */
    public int[] labelCounts(int numClasses) {
        int[] counts = new int[numClasses];
        for (byte b : labels) {
            int l = b & 0xFF;
            if (l < numClasses) {
                counts[l]++;
            }
        }
        return counts;
    }

    /** Raw pixel array, image after image, row-major. Not copied: callers must not modify it. */
    byte[] pixelArray() {
        return pixels;
    }
}
