package dev.resnetzoo.zoo.preprocess;

import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.ComponentColorModel;
import java.awt.image.DataBuffer;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;

/**
 * An 8-bit image of one (grey, PIL's mode {@code L}) or three (PIL's {@code RGB}) channels, pixels
 * interleaved row by row: channel {@code c} of pixel {@code (x, y)} at
 * {@code channels * (y * width + x) + c}.
 *
 * @param width    width in pixels
 * @param height   height in pixels
 * @param channels 1 or 3
 * @param pixels   {@code channels * width * height} bytes
 */
record ByteImage(int width, int height, int channels, byte[] pixels) {

    ByteImage {
        if (channels != 1 && channels != 3) {
            throw new IllegalArgumentException("an image has 1 (grey) or 3 (RGB) channels, got " + channels);
        }
        if (width < 1 || height < 1 || pixels.length != (long) channels * width * height) {
            throw new IllegalArgumentException("bad image buffer: " + width + "x" + height + "x" + channels + " with "
                    + pixels.length + " bytes");
        }
    }

    /** Unsigned value of channel {@code c} at {@code (x, y)}. */
    int get(int x, int y, int c) {
        return pixels[channels * (y * width + x) + c] & 0xff;
    }

    /**
     * Converts a decoded image as PIL's {@code convert("RGB")} ({@code channels == 3}) or
     * {@code convert("L")} ({@code channels == 1}) does.
     */
    static ByteImage of(BufferedImage image, int channels) {
        ByteImage rgb = rgb(image);
        return channels == 1 ? rgb.grey() : rgb;
    }

    /**
     * Converts a decoded image to 8-bit RGB as PIL's {@code convert("RGB")} does: grey is copied to
     * the three channels, alpha is dropped (not composited), palettes are looked up. The samples of
     * grey and RGB images are taken as stored, without colour-space conversion (as PIL, which
     * ignores ICC profiles and gamma). 16-bit samples keep their high byte, except 16-bit grey
     * without alpha: PIL opens it as mode {@code I}, whose conversion clips each value to 255.
     */
    static ByteImage rgb(BufferedImage image) {
        int w = image.getWidth();
        int h = image.getHeight();
        if ((long) w * h > ImagePreprocessor.MAX_PIXELS) {
            throw new IllegalArgumentException("the image is " + ImagePreprocessor.tooLarge(w, h));
        }
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
        return new ByteImage(w, h, 3, out);
    }

    /**
     * This RGB image in grey as PIL's {@code convert("L")}: ITU-R 601-2 luma
     * {@code L = R * 299/1000 + G * 587/1000 + B * 114/1000} in Pillow's 16-bit fixed point, rounded
     * to nearest. PIL converts grey, grey with alpha, 16-bit grey and palette images to {@code L}
     * directly; each gives the same levels as this formula applied to its {@code convert("RGB")}
     * (a grey level {@code v} copied to three channels comes back as {@code v}).
     */
    ByteImage grey() {
        if (channels != 3) {
            throw new IllegalStateException("not an RGB image: " + channels + " channel(s)");
        }
        int n = width * height;
        byte[] out = new byte[n];
        for (int i = 0; i < n; i++) {
            int r = pixels[3 * i] & 0xff;
            int g = pixels[3 * i + 1] & 0xff;
            int b = pixels[3 * i + 2] & 0xff;
            out[i] = (byte) ((r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16);
        }
        return new ByteImage(width, height, 1, out);
    }
}
