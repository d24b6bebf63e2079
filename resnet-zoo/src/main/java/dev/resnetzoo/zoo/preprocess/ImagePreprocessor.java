package dev.resnetzoo.zoo.preprocess;

import dev.resnetzoo.zoo.registry.Preprocessing;
import dev.resnetzoo.zoo.registry.WeightsEntry;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

import javax.imageio.IIOException;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Turns image files into network input exactly as the weights were evaluated: torchvision's
 * {@code ImageClassification} preset applied to a PIL image, which is also timm's evaluation
 * transform for these models.
 *
 * <pre>{@code
 * WeightsEntry entry = Registry.builtin().get("resnet50");
 * INDArray x = ImagePreprocessor.of(entry).preprocess(Path.of("cat.jpg"));     // [1, 3, 224, 224]
 * INDArray batch = ImagePreprocessor.of(entry).preprocess(List.of(a, b, c));    // [3, 3, 224, 224]
 * }</pre>
 *
 * <h2>Steps</h2>
 * <ol>
 *   <li>Decode with {@link ImageIO} (PNG, JPEG, BMP, GIF: the first frame) and convert to 8-bit
 *       RGB as PIL's {@code convert("RGB")}: grey is copied to all channels (16-bit grey clipped
 *       to 255 as PIL does), alpha is dropped without compositing, palettes are looked up; no
 *       colour management (PIL ignores ICC profiles too). As PIL, a truncated file and an image of
 *       more than {@value #MAX_PIXELS} pixels (checked from the header, before decoding) are
 *       refused.</li>
 *   <li>Resize so that the shorter side is {@code resizeSize} and the longer one
 *       {@code floor(resizeSize * long / short)}, with PIL's {@code BILINEAR} or {@code BICUBIC}
 *       filter, which antialiases when shrinking (the filter support grows with the scale factor).
 *       The implementation reproduces Pillow's fixed-point arithmetic, so the 8-bit result is the
 *       same as PIL's. An image whose shorter side already has that size is not resampled.</li>
 *   <li>Center-crop {@code cropSize} x {@code cropSize}: the offset is
 *       {@code round((size - crop) / 2)} with Python's rounding (half to even); an image smaller
 *       than the crop is first padded with black, as torchvision does.</li>
 *   <li>Scale to {@code [0, 1]} ({@code x / 255}) and normalise {@code (x - mean[c]) / std[c]},
 *       in float32 as torchvision.</li>
 * </ol>
 * Output is a float32 array in NCHW layout, channels in RGB order.
 *
 * <h2>Agreement with PIL and torchvision</h2>
 * Tested on committed fixtures ({@code scripts/make_preprocess_fixtures.py}, Pillow 9.4,
 * torchvision 0.14): for PNG input the result is identical to torchvision's to float rounding
 * (max abs difference below 1e-6 after normalisation), for both filters, downscaling and
 * upscaling, grey, RGBA and palette images: the 8-bit crop is PIL's, pixel for pixel. JPEG files
 * are decoded by ImageIO's libjpeg rather than PIL's libjpeg-turbo; on the tested file (baseline,
 * 4:2:0 chroma, quality 90) the decoded pixels, and so the results, are identical too, but other
 * JPEGs (progressive, unusual sampling) may differ by a few levels of 255 (the test allows 0.1
 * after normalisation, about 5 levels).
 *
 * <p>Instances are immutable and thread-safe.
 */
public final class ImagePreprocessor {

    private final Preprocessing preprocessing;
    private final float[] mean = new float[3];
    private final float[] std = new float[3];

    private ImagePreprocessor(Preprocessing preprocessing) {
        this.preprocessing = Objects.requireNonNull(preprocessing, "preprocessing");
        for (int c = 0; c < 3; c++) {
            mean[c] = preprocessing.mean().get(c).floatValue();
            std[c] = preprocessing.std().get(c).floatValue();
        }
    }

    /**
     * A preprocessor for the given transform.
     *
     * @param preprocessing resize, crop, interpolation, mean and std
     * @return the preprocessor
     */
    public static ImagePreprocessor of(Preprocessing preprocessing) {
        return new ImagePreprocessor(preprocessing);
    }

    /**
     * The preprocessor that a set of weights was evaluated with.
     *
     * @param entry the weights
     * @return {@code of(entry.preprocessing())}
     */
    public static ImagePreprocessor of(WeightsEntry entry) {
        return new ImagePreprocessor(Objects.requireNonNull(entry, "entry").preprocessing());
    }

    /**
     * Returns the transform applied.
     *
     * @return the preprocessing settings
     */
    public Preprocessing preprocessing() {
        return preprocessing;
    }

    /**
     * Reads and prepares one image file.
     *
     * @param file a PNG, JPEG, BMP or GIF file
     * @return float32 array {@code [1, 3, cropSize, cropSize]}
     * @throws IOException              if the file cannot be read or is not an image ImageIO can decode
     * @throws IllegalArgumentException if the image has an unsupported colour model (e.g. CMYK)
     */
    public INDArray preprocess(Path file) throws IOException {
        return preprocess(List.of(file));
    }

    /**
     * Reads and prepares several image files as one batch.
     *
     * @param files image files, in batch order (at least one)
     * @return float32 array {@code [files.size(), 3, cropSize, cropSize]}
     * @throws IOException              if a file cannot be read or decoded (the message names it)
     * @throws IllegalArgumentException if the list is empty or an image has an unsupported colour model
     */
    public INDArray preprocess(List<Path> files) throws IOException {
        Objects.requireNonNull(files, "files");
        if (files.isEmpty()) {
            throw new IllegalArgumentException("no image files given");
        }
        int crop = preprocessing.cropSize();
        int plane = crop * crop;
        float[] data = new float[files.size() * 3 * plane];
        for (int i = 0; i < files.size(); i++) {
            Path file = files.get(i);
            BufferedImage image = read(file);
            try {
                toChw(cropped(RgbImage.of(image)), data, i * 3 * plane);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
            }
        }
        return Nd4j.create(data, new long[] {files.size(), 3, crop, crop}, 'c');
    }

    /**
     * Prepares an image already in memory.
     *
     * @param image a decoded image (grey, RGB or palette, with or without alpha)
     * @return float32 array {@code [1, 3, cropSize, cropSize]}
     * @throws IllegalArgumentException if the image has an unsupported colour model
     */
    public INDArray preprocess(BufferedImage image) {
        Objects.requireNonNull(image, "image");
        int crop = preprocessing.cropSize();
        float[] data = new float[3 * crop * crop];
        toChw(cropped(RgbImage.of(image)), data, 0);
        return Nd4j.create(data, new long[] {1, 3, crop, crop}, 'c');
    }

    /** Steps 2 and 3: resize the shorter side, then center-crop (padding with black if needed). */
    RgbImage cropped(RgbImage image) {
        return centerCrop(resizeShorterSide(image, preprocessing.resizeSize(), preprocessing.interpolation()),
                preprocessing.cropSize());
    }

    /** torchvision's {@code F.resize(img, [size])} on a PIL image. */
    static RgbImage resizeShorterSide(RgbImage image, int size, Preprocessing.Interpolation interpolation) {
        int w = image.width();
        int h = image.height();
        int shortSide = Math.min(w, h);
        int longSide = Math.max(w, h);
        int newLong = (int) ((double) ((long) size * longSide) / shortSide);
        int newW = w <= h ? size : newLong;
        int newH = w <= h ? newLong : size;
        if (newW == w && newH == h) {
            return image;
        }
        return PilResample.resize(image, newW, newH, interpolation);
    }

    /** torchvision's {@code F.center_crop} on a PIL image: pad with zeros if too small, then crop. */
    static RgbImage centerCrop(RgbImage image, int crop) {
        int w = image.width();
        int h = image.height();
        int padLeft = 0;
        int padTop = 0;
        if (crop > w || crop > h) {
            padLeft = crop > w ? (crop - w) / 2 : 0;
            padTop = crop > h ? (crop - h) / 2 : 0;
            int padRight = crop > w ? (crop - w + 1) / 2 : 0;
            int padBottom = crop > h ? (crop - h + 1) / 2 : 0;
            w += padLeft + padRight;
            h += padTop + padBottom;
        }
        int top = (int) Math.rint((h - crop) / 2.0);
        int left = (int) Math.rint((w - crop) / 2.0);
        byte[] out = new byte[3 * crop * crop];
        for (int y = 0; y < crop; y++) {
            int sy = y + top - padTop;
            if (sy < 0 || sy >= image.height()) {
                continue;
            }
            for (int x = 0; x < crop; x++) {
                int sx = x + left - padLeft;
                if (sx < 0 || sx >= image.width()) {
                    continue;
                }
                System.arraycopy(image.pixels(), 3 * (sy * image.width() + sx), out, 3 * (y * crop + x), 3);
            }
        }
        return new RgbImage(crop, crop, out);
    }

    /** Step 4 into {@code out[offset...]}, channel-major. */
    private void toChw(RgbImage image, float[] out, int offset) {
        int plane = image.width() * image.height();
        byte[] px = image.pixels();
        for (int c = 0; c < 3; c++) {
            float m = mean[c];
            float s = std[c];
            int base = offset + c * plane;
            for (int i = 0; i < plane; i++) {
                float v = (px[3 * i + c] & 0xff) / 255f;
                out[base + i] = (v - m) / s;
            }
        }
    }

    /**
     * Most pixels an image may have: PIL's limit ({@code Image.MAX_IMAGE_PIXELS} 89,478,485 warns,
     * twice that raises {@code DecompressionBombError}). A few KB of PNG can declare billions of
     * pixels, so the size is read from the header and checked before any pixel is decoded.
     */
    static final long MAX_PIXELS = 2L * 89_478_485;

    static BufferedImage read(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new NoSuchFileException(file.toString(), null, "no such image file");
        }
        try (ImageInputStream in = ImageIO.createImageInputStream(file.toFile())) {
            Iterator<ImageReader> readers = in == null ? null : ImageIO.getImageReaders(in);
            if (readers == null || !readers.hasNext()) {
                throw new IOException(file + " is not an image ImageIO can decode (expected PNG, JPEG, BMP or GIF)");
            }
            ImageReader reader = readers.next();
            try {
                reader.setInput(in, true, true);
                long w = reader.getWidth(0);
                long h = reader.getHeight(0);
                if (w * h > MAX_PIXELS) {
                    throw new IOException(String.format(Locale.ROOT, "%s is %dx%d pixels (%,d), more than the %,d PIL "
                            + "accepts: refusing to decode it", file, w, h, w * h, MAX_PIXELS));
                }
                // A JPEG cut short only raises warnings (the missing rows come out grey); PIL refuses
                // a file that ends before the image is decoded, so do the same. A file lacking only
                // its EOI marker, or with a stray marker inside, is decoded by both.
                List<String> warnings = new ArrayList<>();
                reader.addIIOReadWarningListener((source, warning) -> warnings.add(String.valueOf(warning)));
                BufferedImage image = reader.read(0);
                boolean endsEarly = warnings.stream().anyMatch(m -> m.startsWith("Truncated File"));
                boolean dataMissing = warnings.stream().anyMatch(m -> m.toLowerCase(Locale.ROOT).contains("premature end"));
                if (endsEarly && dataMissing) {
                    throw new IOException(file + " is truncated: the file ends before the image is complete "
                            + "(PIL refuses it too)");
                }
                return image;
            } finally {
                reader.dispose();
            }
        } catch (IIOException e) {
            throw new IOException("cannot decode image " + file + ": " + e.getMessage(), e);
        }
    }
}
