package dev.resnetzoo.zoo.preprocess;

import dev.resnetzoo.zoo.registry.Preprocessing.Interpolation;

/**
 * Resizes 8-bit grey and RGB images the way PIL's {@code Image.resize} does (Pillow's {@code Resample.c},
 * as in Pillow 9.4), so that the pixels come out identical:
 * <ul>
 *   <li>separable: a horizontal pass, then a vertical pass, each rounded to 8 bits;</li>
 *   <li>output pixel {@code i} is centred at {@code (i + 0.5) * scale} in input coordinates, with
 *       {@code scale = in / out};</li>
 *   <li>when shrinking ({@code scale > 1}) the filter is stretched by {@code scale}: its support
 *       becomes {@code support * scale} and its argument is divided by {@code scale}, so every
 *       input pixel contributes (antialiasing); when enlarging, the plain filter is used;</li>
 *   <li>the taps of each output pixel are {@code [round(center - support), round(center + support))}
 *       clipped to the image, weighted by {@code filter((x + 0.5 - center) / filterscale)} and
 *       normalised to sum 1;</li>
 *   <li>weights are converted to fixed point with 22 fractional bits (rounded half away from
 *       zero), sums start at one half and are shifted back and clipped to {@code [0, 255]}.</li>
 * </ul>
 * A dimension whose size does not change is not filtered.
 */
final class PilResample {

    private static final int PRECISION_BITS = 32 - 8 - 2;

    private PilResample() {
    }

    /** Resizes an interleaved image, each channel alike (as Pillow's 8-bit modes L and RGB). */
    static ByteImage resize(ByteImage in, int outWidth, int outHeight, Interpolation interpolation) {
        if (outWidth < 1 || outHeight < 1) {
            throw new IllegalArgumentException("output size must be at least 1x1, got " + outWidth + "x" + outHeight);
        }
        ByteImage img = in;
        if (outWidth != img.width()) {
            img = horizontal(img, outWidth, coefficients(img.width(), outWidth, interpolation));
        }
        if (outHeight != img.height()) {
            img = vertical(img, outHeight, coefficients(img.height(), outHeight, interpolation));
        }
        return img;
    }

    /** Per output pixel: first input index, number of taps, and fixed-point weights. */
    record Coefficients(int ksize, int[] first, int[] count, int[] weights) {
    }

    static Coefficients coefficients(int inSize, int outSize, Interpolation interpolation) {
        double filterSupport = interpolation == Interpolation.BICUBIC ? 2.0 : 1.0;
        double scale = (double) inSize / outSize;
        double filterscale = Math.max(scale, 1.0);
        double support = filterSupport * filterscale;
        int ksize = (int) Math.ceil(support) * 2 + 1;
        int[] first = new int[outSize];
        int[] count = new int[outSize];
        int[] weights = new int[outSize * ksize];
        double[] k = new double[ksize];
        for (int xx = 0; xx < outSize; xx++) {
            double center = (xx + 0.5) * scale;
            double ww = 0.0;
            double ss = 1.0 / filterscale;
            int xmin = (int) (center - support + 0.5);
            if (xmin < 0) {
                xmin = 0;
            }
            int xmax = (int) (center + support + 0.5);
            if (xmax > inSize) {
                xmax = inSize;
            }
            xmax -= xmin;
            for (int x = 0; x < xmax; x++) {
                double w = filter(interpolation, (x + xmin - center + 0.5) * ss);
                k[x] = w;
                ww += w;
            }
            for (int x = 0; x < xmax; x++) {
                if (ww != 0.0) {
                    k[x] /= ww;
                }
                double v = k[x];
                weights[xx * ksize + x] = v < 0 ? (int) (-0.5 + v * (1 << PRECISION_BITS))
                        : (int) (0.5 + v * (1 << PRECISION_BITS));
            }
            first[xx] = xmin;
            count[xx] = xmax;
        }
        return new Coefficients(ksize, first, count, weights);
    }

    private static double filter(Interpolation interpolation, double x) {
        if (x < 0.0) {
            x = -x;
        }
        if (interpolation == Interpolation.BICUBIC) {
            // Keys' cubic convolution with a = -0.5, written as Pillow evaluates it.
            if (x < 1.0) {
                return ((-0.5 + 2.0) * x - (-0.5 + 3.0)) * x * x + 1;
            }
            if (x < 2.0) {
                return (((x - 5) * x + 8) * x - 4) * -0.5;
            }
            return 0.0;
        }
        return x < 1.0 ? 1.0 - x : 0.0;
    }

    private static int clip8(int sum) {
        int v = sum >> PRECISION_BITS;
        return v < 0 ? 0 : Math.min(v, 255);
    }

    private static ByteImage horizontal(ByteImage in, int outWidth, Coefficients c) {
        int h = in.height();
        int ch = in.channels();
        int inStride = in.width() * ch;
        byte[] src = in.pixels();
        byte[] dst = new byte[outWidth * h * ch];
        int half = 1 << (PRECISION_BITS - 1);
        for (int y = 0; y < h; y++) {
            int row = y * inStride;
            for (int xx = 0; xx < outWidth; xx++) {
                int k0 = xx * c.ksize();
                int n = c.count()[xx];
                int base = row + c.first()[xx] * ch;
                int o = (y * outWidth + xx) * ch;
                for (int b = 0; b < ch; b++) {
                    int s = half;
                    for (int x = 0; x < n; x++) {
                        s += (src[base + x * ch + b] & 0xff) * c.weights()[k0 + x];
                    }
                    dst[o + b] = (byte) clip8(s);
                }
            }
        }
        return new ByteImage(outWidth, h, ch, dst);
    }

    private static ByteImage vertical(ByteImage in, int outHeight, Coefficients c) {
        int stride = in.width() * in.channels();
        byte[] src = in.pixels();
        byte[] dst = new byte[stride * outHeight];
        int half = 1 << (PRECISION_BITS - 1);
        for (int yy = 0; yy < outHeight; yy++) {
            int k0 = yy * c.ksize();
            int n = c.count()[yy];
            int ymin = c.first()[yy];
            // Samples of one row are independent: channel interleaving does not matter here.
            for (int i = 0; i < stride; i++) {
                int s = half;
                int p = ymin * stride + i;
                for (int y = 0; y < n; y++, p += stride) {
                    s += (src[p] & 0xff) * c.weights()[k0 + y];
                }
                dst[yy * stride + i] = (byte) clip8(s);
            }
        }
        return new ByteImage(in.width(), outHeight, in.channels(), dst);
    }
}
