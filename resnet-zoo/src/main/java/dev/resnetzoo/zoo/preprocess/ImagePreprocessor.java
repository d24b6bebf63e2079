package dev.resnetzoo.zoo.preprocess;

import dev.resnetzoo.zoo.registry.Preprocessing;
import dev.resnetzoo.zoo.registry.WeightsEntry;

import java.awt.Transparency;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.ComponentColorModel;
import java.awt.image.DataBuffer;
import java.awt.image.WritableRaster;
import java.io.EOFException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.metadata.IIOMetadata;
import javax.imageio.stream.ImageInputStream;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.w3c.dom.Element;
import org.w3c.dom.Node;

/**
 * Turns image files into network input exactly as the weights were evaluated: torchvision's
 * {@code ImageClassification} preset applied to a PIL image, which is also timm's evaluation
 * transform for these models.
 *
 * <pre>{@code
 * WeightsEntry entry = Registry.builtin().get("resnet50");
 * INDArray x = ImagePreprocessor.of(entry).preprocess(Path.of("cat.jpg"));     // [1, 3, 224, 224]
 * INDArray batch = ImagePreprocessor.of(entry).preprocess(List.of(a, b, c));    // [3, 3, 224, 224]
 *
 * // a grey-scale model (Fashion-MNIST style): one channel
 * ImagePreprocessor grey = ImagePreprocessor.of(Preprocessing.grey(28, 28, Interpolation.BILINEAR, 0.2860, 0.3530));
 * INDArray g = grey.preprocess(Path.of("shirt.png"));                          // [1, 1, 28, 28]
 * }</pre>
 *
 * <h2>Steps</h2>
 * <ol>
 *   <li>Decode with {@link ImageIO} (PNG, JPEG, BMP, GIF: the first frame) and convert to 8 bits as
 *       PIL's {@code convert("RGB")}, or {@code convert("L")} when the preprocessing has one
 *       channel. RGB: grey is copied to all channels, alpha is dropped without compositing,
 *       palettes are looked up, 16-bit samples keep their high byte except 16-bit grey, which is
 *       clipped to 255 (PIL opens it as mode {@code I}, with or without a {@code tRNS} chunk).
 *       Grey: the ITU-R 601-2 luma of that RGB image, {@code L = R * 299/1000 + G * 587/1000 +
 *       B * 114/1000}, in PIL's fixed-point arithmetic and rounding (grey sources keep their
 *       levels). No colour management (PIL ignores ICC profiles too). As PIL, a truncated file
 *       (a JPEG that ends before its EOI marker, a PNG whose image data ends early) and an image
 *       of more than {@value #MAX_PIXELS} pixels (checked from the header, before decoding) are
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
 * Output is a float32 array in NCHW layout, channels in RGB order (or the one grey channel).
 *
 * <h2>Agreement with PIL and torchvision</h2>
 * Tested on committed fixtures written by PIL and torchvision
 * ({@code scripts/make_preprocess_fixtures.py}): for PNG input the 8-bit crop is PIL's pixel for
 * pixel, so the result equals torchvision's up to float rounding, for both filters, both channel
 * counts, downscaling and upscaling, grey, 16-bit grey, RGBA and palette images. JPEG files are
 * decoded by ImageIO's libjpeg rather than PIL's libjpeg-turbo; the two can differ by a few levels
 * of 255 on some files (progressive, unusual sampling), so JPEG results are close to
 * torchvision's rather than equal in general.
 *
 * <p>Instances are immutable and thread-safe.
 */
public final class ImagePreprocessor {

    private final Preprocessing preprocessing;
    private final int channels;
    private final float[] mean;
    private final float[] std;

    private ImagePreprocessor(Preprocessing preprocessing) {
        this.preprocessing = Objects.requireNonNull(preprocessing, "preprocessing");
        this.channels = preprocessing.channels();
        this.mean = new float[channels];
        this.std = new float[channels];
        for (int c = 0; c < channels; c++) {
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
     * @return float32 array {@code [1, channels, cropSize, cropSize]}
     * @throws IOException              if the file cannot be read, is not an image ImageIO can decode,
     *                                  is truncated or has too many pixels (the message names it)
     * @throws IllegalArgumentException if the image has an unsupported colour model (e.g. CMYK)
     */
    public INDArray preprocess(Path file) throws IOException {
        return preprocess(List.of(file));
    }

    /**
     * Reads and prepares several image files as one batch.
     *
     * @param files image files, in batch order (at least one)
     * @return float32 array {@code [files.size(), channels, cropSize, cropSize]}
     * @throws IOException              if a file cannot be read or decoded (the message names it)
     * @throws IllegalArgumentException if the list is empty or an image has an unsupported colour model
     */
    public INDArray preprocess(List<Path> files) throws IOException {
        Objects.requireNonNull(files, "files");
        if (files.isEmpty()) {
            throw new IllegalArgumentException("no image files given");
        }
        int crop = preprocessing.cropSize();
        int size = arraySize(1, crop);
        float[] data = new float[arraySize(files.size(), crop)];
        for (int i = 0; i < files.size(); i++) {
            Path file = files.get(i);
            BufferedImage image = read(file);
            try {
                toChw(cropped(ByteImage.of(image, channels)), data, i * size);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
            }
        }
        return Nd4j.create(data, new long[] {files.size(), channels, crop, crop}, 'c');
    }

    /**
     * Prepares an image already in memory.
     *
     * @param image a decoded image (grey, RGB or palette, with or without alpha)
     * @return float32 array {@code [1, channels, cropSize, cropSize]}
     * @throws IllegalArgumentException if the image has an unsupported colour model or more than
     *                                  {@value #MAX_PIXELS} pixels
     */
    public INDArray preprocess(BufferedImage image) {
        Objects.requireNonNull(image, "image");
        int crop = preprocessing.cropSize();
        float[] data = new float[arraySize(1, crop)];
        toChw(cropped(ByteImage.of(image, channels)), data, 0);
        return Nd4j.create(data, new long[] {1, channels, crop, crop}, 'c');
    }

    /** Floats in a batch of {@code n} images, if one array can hold them. */
    private int arraySize(int n, int crop) {
        long size = (long) n * channels * crop * crop;
        if (size > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException(String.format(Locale.ROOT, "a batch of %d images of %dx%dx%d is %,d floats, "
                    + "more than one array holds: use smaller batches", n, channels, crop, crop, size));
        }
        return (int) size;
    }

    /** Steps 2 and 3: resize the shorter side, then center-crop (padding with black if needed). */
    ByteImage cropped(ByteImage image) {
        return centerCrop(resizeShorterSide(image, preprocessing.resizeSize(), preprocessing.interpolation()),
                preprocessing.cropSize());
    }

    /** torchvision's {@code F.resize(img, [size])} on a PIL image. */
    static ByteImage resizeShorterSide(ByteImage image, int size, Preprocessing.Interpolation interpolation) {
        int w = image.width();
        int h = image.height();
        int shortSide = Math.min(w, h);
        int longSide = Math.max(w, h);
        long newLong = (long) ((double) ((long) size * longSide) / shortSide);
        if (newLong * size > MAX_PIXELS) {
            throw new IllegalArgumentException(String.format(Locale.ROOT, "resizing %dx%d to a shorter side of %d gives "
                    + "%s: expected a less elongated image", w, h, size,
                    tooLarge(w <= h ? size : newLong, w <= h ? newLong : size)));
        }
        int newW = w <= h ? size : (int) newLong;
        int newH = w <= h ? (int) newLong : size;
        if (newW == w && newH == h) {
            return image;
        }
        return PilResample.resize(image, newW, newH, interpolation);
    }

    /** torchvision's {@code F.center_crop} on a PIL image: pad with zeros if too small, then crop. */
    static ByteImage centerCrop(ByteImage image, int crop) {
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
        int ch = image.channels();
        byte[] out = new byte[ch * crop * crop];
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
                System.arraycopy(image.pixels(), ch * (sy * image.width() + sx), out, ch * (y * crop + x), ch);
            }
        }
        return new ByteImage(crop, crop, ch, out);
    }

    /** Step 4 into {@code out[offset...]}, channel-major. */
    private void toChw(ByteImage image, float[] out, int offset) {
        int plane = image.width() * image.height();
        byte[] px = image.pixels();
        for (int c = 0; c < channels; c++) {
            float m = mean[c];
            float s = std[c];
            int base = offset + c * plane;
            for (int i = 0; i < plane; i++) {
                float v = (px[channels * i + c] & 0xff) / 255f;
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

    /** Why an image of {@code width x height} pixels is refused. */
    static String tooLarge(long width, long height) {
        return String.format(Locale.ROOT, "%dx%d pixels (%,d), more than the %,d PIL accepts",
                width, height, width * height, MAX_PIXELS);
    }

    /**
     * Decodes the first image of a file, refusing what PIL refuses.
     *
     * @throws IOException with a one-line message naming the file
     */
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
                long w;
                long h;
                try {
                    w = reader.getWidth(0);
                    h = reader.getHeight(0);
                } catch (IOException | RuntimeException e) {
                    throw decodeError(file, e);
                }
                if (w * h > MAX_PIXELS) {
                    throw new IOException(file + " is " + tooLarge(w, h) + ": refusing to decode it");
                }
                // ImageIO's JPEG reader only warns when the file ends before the EOI marker (the
                // missing rows come out grey); PIL's decoder needs the EOI and refuses the file.
                List<String> warnings = new ArrayList<>();
                reader.addIIOReadWarningListener((source, warning) -> warnings.add(String.valueOf(warning)));
                BufferedImage image;
                boolean grey16;
                try {
                    image = reader.read(0);
                    grey16 = isPngGrey16(reader);
                } catch (IOException | RuntimeException e) {
                    throw decodeError(file, e);
                }
                if (warnings.stream().anyMatch(m -> m.startsWith("Truncated File"))) {
                    throw truncated(file);
                }
                return grey16 ? greyBandOnly(image) : image;
            } finally {
                reader.dispose();
            }
        }
    }

    private static IOException truncated(Path file) {
        return new IOException(file + " is truncated: the file ends before the image is complete (PIL refuses it too)");
    }

    /** A decoder's failure as one line; a stream that ended early (PNG, BMP) is a truncated file. */
    private static IOException decodeError(Path file, Exception e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof EOFException) {
                return truncated(file);
            }
        }
        String why = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        return new IOException("cannot decode image " + file + ": " + why, e);
    }

    /** A PNG of colour type 0 (grey) and 16 bits per sample: PIL's mode {@code I}. */
    private static boolean isPngGrey16(ImageReader reader) throws IOException {
        if (!"png".equalsIgnoreCase(reader.getFormatName())) {
            return false;
        }
        IIOMetadata metadata = reader.getImageMetadata(0);
        if (metadata == null) {
            return false;
        }
        Node node = metadata.getAsTree(PNG_METADATA).getFirstChild();
        for (; node != null; node = node.getNextSibling()) {
            if (node instanceof Element ihdr && "IHDR".equals(node.getNodeName())) {
                return "Grayscale".equals(ihdr.getAttribute("colorType")) && "16".equals(ihdr.getAttribute("bitDepth"));
            }
        }
        return false;
    }

    private static final String PNG_METADATA = "javax_imageio_png_1.0";

    /**
     * The grey band of a 16-bit grey PNG. ImageIO turns its {@code tRNS} chunk into an alpha band;
     * PIL keeps mode {@code I} (the transparent level goes to {@code info}), whose conversions clip
     * to 255, so the alpha band goes and the image converts as plain 16-bit grey.
     */
    private static BufferedImage greyBandOnly(BufferedImage image) {
        WritableRaster raster = image.getRaster();
        if (raster.getNumBands() == 1) {
            return image;
        }
        WritableRaster grey = raster.createWritableChild(raster.getMinX(), raster.getMinY(), raster.getWidth(),
                raster.getHeight(), 0, 0, new int[] {0});
        ColorModel cm = new ComponentColorModel(ColorSpace.getInstance(ColorSpace.CS_GRAY), new int[] {16}, false,
                false, Transparency.OPAQUE, DataBuffer.TYPE_USHORT);
        return new BufferedImage(cm, grey, false, null);
    }
}
