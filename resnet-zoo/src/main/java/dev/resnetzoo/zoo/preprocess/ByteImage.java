package dev.resnetzoo.zoo.preprocess;

import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.ComponentColorModel;
import java.awt.image.DataBuffer;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;

/**
 * An 8-bit RGB image, pixels interleaved row by row ({@code R, G, B} of pixel {@code (x, y)} at
 * {@code 3 * (y * width + x)}).
 *
 * @param width  width in pixels
 * @param height height in pixels
 * @param pixels {@code 3 * width * height} bytes
 */
record RgbImage(int width, int height, byte[] pixels) {

    RgbImage {
        if (width < 1 || height < 1 || pixels.length != 3L * width * height) {
            throw new IllegalArgumentException("bad image buffer: " + width + "x" + height + " with " + pixels.length + " bytes");
        }
    }

    /** Unsigned value of channel {@code c} at {@code (x, y)}. */
    int get(int x, int y, int c) {
        return pixels[3 * (y * width + x) + c] & 0xff;
    }

    /**
     * Converts a decoded image to 8-bit RGB as PIL's {@code convert("RGB")} does: grey is copied to
     * the three channels, alpha is dropped (not composited), palettes are looked up. The samples of
     * grey and RGB images are taken as stored, without colour-space conversion (as PIL, which
     * ignores ICC profiles and gamma). 16-bit samples keep their high byte, except 16-bit grey
     * without alpha: PIL opens it as mode {@code I;16}, whose conversion clips each value to 255.
     */
    static RgbImage of(BufferedImage image) {
        int w = image.getWidth();
        int h = image.getHeight();
        byte[] out = new byte[3 * w * h];
        ColorModel cm = image.getColorModel();
        Raster raster = image.getRaster();
        int transfer = raster.getTransferType();
        boolean rawComponents = cm instanceof ComponentColorModel
                && (transfer == DataBuffer.TYPE_BYTE || transfer == DataBuffer.TYPE_USHORT)
                && (cm.getNumColorComponents() == 1 || cm.getNumColorComponents() == 3);
        if (rawComponents) {
            int shift = transfer == DataBuffer.TYPE_USHORT ? 8 : 0;
            int bands = cm.getNumColorComponents();
            int[] row = new int[w * raster.getNumBands()];
            int n = raster.getNumBands();
            boolean clipGrey = transfer == DataBuffer.TYPE_USHORT && n == 1;
            for (int y = 0; y < h; y++) {
                raster.getPixels(raster.getMinX(), raster.getMinY() + y, w, 1, row);
                for (int x = 0; x < w; x++) {
                    int o = 3 * (y * w + x);
                    if (bands == 1) {
                        byte g = (byte) (clipGrey ? Math.min(row[x], 255) : row[x * n] >> shift);
                        out[o] = g;
                        out[o + 1] = g;
                        out[o + 2] = g;
                    } else {
                        out[o] = (byte) (row[x * n] >> shift);
                        out[o + 1] = (byte) (row[x * n + 1] >> shift);
                        out[o + 2] = (byte) (row[x * n + 2] >> shift);
                    }
                }
            }
        } else if (cm instanceof IndexColorModel || cm.getColorSpace().isCS_sRGB()) {
            // Palettes and packed sRGB (TYPE_INT_RGB, ...): getRGB is a plain lookup / unpacking.
            int[] row = new int[w];
            for (int y = 0; y < h; y++) {
                image.getRGB(0, y, w, 1, row, 0, w);
                for (int x = 0; x < w; x++) {
                    int o = 3 * (y * w + x);
                    out[o] = (byte) (row[x] >> 16);
                    out[o + 1] = (byte) (row[x] >> 8);
                    out[o + 2] = (byte) row[x];
                }
            }
        } else {
            throw new IllegalArgumentException("unsupported image type: " + cm.getColorSpace().getNumComponents()
                    + " colour components in colour space type " + cm.getColorSpace().getType() + " (" + cm.getClass().getSimpleName()
                    + "); expected grey, RGB or palette images, with or without alpha");
        }
        return new RgbImage(w, h, out);
    }
}
