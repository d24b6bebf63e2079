package dev.resnetzoo.zoo.preprocess;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.resnetzoo.zoo.registry.Preprocessing;
import dev.resnetzoo.zoo.registry.Preprocessing.Interpolation;
import dev.resnetzoo.zoo.registry.Registry;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

import javax.imageio.ImageIO;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * Compares {@link ImagePreprocessor} with PIL + torchvision on the fixtures written by
 * {@code scripts/make_preprocess_fixtures.py} (see {@code src/test/resources/preprocess/cases.json}).
 */
class ImagePreprocessorTest {

    /** PNG input: the 8-bit crop is PIL's exactly, so only float rounding remains. */
    private static final double PNG_TOLERANCE = 1e-6;
    /**
     * JPEG input: ImageIO decodes with its own libjpeg, PIL with libjpeg-turbo. On the fixture (baseline,
     * 4:2:0, quality 90) they agree exactly; other files (progressive, other DCT settings) may differ
     * by a few levels of 255, which this bound allows.
     */
    private static final double JPEG_TOLERANCE = 0.1;

    private static Path dir;
    private static JsonNode doc;

    @TempDir
    Path tmp;

    @BeforeAll
    static void load() throws Exception {
        dir = Path.of(ImagePreprocessorTest.class.getResource("/preprocess/cases.json").toURI()).getParent();
        doc = new ObjectMapper().readTree(dir.resolve("cases.json").toFile());
    }

    private static Preprocessing preprocessing(JsonNode c) {
        return new Preprocessing(c.get("resize_size").asInt(), c.get("crop_size").asInt(),
                Interpolation.of(c.get("interpolation").asText()), doubles(c.get("mean")), doubles(c.get("std")));
    }

    /** The cases whose name satisfies {@code filter}. */
    private static List<JsonNode> cases(java.util.function.Predicate<JsonNode> filter) {
        List<JsonNode> out = new ArrayList<>();
        doc.get("cases").forEach(c -> {
            if (filter.test(c)) {
                out.add(c);
            }
        });
        return out;
    }

    private static boolean png(JsonNode c) {
        return c.get("image").asText().endsWith(".png");
    }

    private static List<Double> doubles(JsonNode array) {
        List<Double> out = new ArrayList<>();
        array.forEach(v -> out.add(v.asDouble()));
        return out;
    }

    private static ByteImage decode(Path file, int channels) throws IOException {
        return ByteImage.of(ImagePreprocessor.read(file), channels);
    }

    /** torchvision's normalisation of an 8-bit crop, in float32. */
    private static float[] normalise(ByteImage img, Preprocessing p) {
        int plane = img.width() * img.height();
        int channels = p.channels();
        assertEquals(channels, img.channels());
        float[] out = new float[channels * plane];
        for (int c = 0; c < channels; c++) {
            float m = p.mean().get(c).floatValue();
            float s = p.std().get(c).floatValue();
            for (int i = 0; i < plane; i++) {
                out[c * plane + i] = ((img.pixels()[channels * i + c] & 0xff) / 255f - m) / s;
            }
        }
        return out;
    }

    private static double maxAbsDiff(float[] a, float[] b) {
        assertEquals(a.length, b.length);
        double max = 0;
        for (int i = 0; i < a.length; i++) {
            max = Math.max(max, Math.abs((double) a[i] - b[i]));
        }
        return max;
    }

    private static int maxLevelDiff(ByteImage a, ByteImage b) {
        assertEquals(a.width(), b.width());
        assertEquals(a.height(), b.height());
        int max = 0;
        for (int i = 0; i < a.pixels().length; i++) {
            max = Math.max(max, Math.abs((a.pixels()[i] & 0xff) - (b.pixels()[i] & 0xff)));
        }
        return max;
    }

    /** Runs one PNG case and checks the 8-bit crop pixel for pixel and the floats to rounding. */
    private static void assertMatchesPil(JsonNode c) throws IOException {
        String name = c.get("name").asText();
        Preprocessing p = preprocessing(c);
        ImagePreprocessor pre = ImagePreprocessor.of(p);
        Path image = dir.resolve(c.get("image").asText());
        ByteImage source = decode(image, p.channels());

        ByteImage resized = ImagePreprocessor.resizeShorterSide(source, p.resizeSize(), p.interpolation());
        assertEquals(c.get("resized_width").asInt(), resized.width(), name);
        assertEquals(c.get("resized_height").asInt(), resized.height(), name);

        ByteImage expected = decode(dir.resolve(c.get("expected").asText()), p.channels());
        ByteImage crop = pre.cropped(source);
        assertEquals(0, maxLevelDiff(expected, crop), name + ": 8-bit crop differs from PIL's");

        INDArray out = pre.preprocess(image);
        assertArrayEquals(new long[] {1, p.channels(), p.cropSize(), p.cropSize()}, out.shape(), name);
        assertEquals(DataType.FLOAT, out.dataType());
        double diff = maxAbsDiff(normalise(expected, p), out.data().asFloat());
        assertTrue(diff <= PNG_TOLERANCE, name + ": max abs diff " + diff);
        double sum = 0;
        for (float v : out.data().asFloat()) {
            sum += v;
        }
        assertEquals(c.get("sum").asDouble(), sum, 1e-6, name + " sum");
        assertEquals(c.get("abs_max").asDouble(), Transforms.abs(out, true).maxNumber().doubleValue(), 1e-6, name + " max |x|");
    }

    @Test
    void pngMatchesPilAndTorchvisionExactly() throws IOException {
        List<JsonNode> rgb = cases(c -> png(c) && c.get("mode").asText().equals("RGB"));
        for (JsonNode c : rgb) {
            assertMatchesPil(c);
        }
        assertEquals(13, rgb.size());
    }

    @Test
    void grey16BitPngIsClippedAsPilWithOrWithoutTransparency() throws IOException {
        // PIL opens 16-bit grey as mode I and clips to 255 when converting; ImageIO adds an alpha
        // band for a tRNS chunk, which must not change the levels (the high byte would).
        List<JsonNode> grey16 = cases(c -> c.get("image").asText().startsWith("grey16"));
        for (JsonNode c : grey16) {
            assertMatchesPil(c);
        }
        assertEquals(3, grey16.size());
    }

    @Test
    void oneChannelPreprocessingMatchesPilConvertL() throws IOException {
        List<JsonNode> grey = cases(c -> png(c) && c.get("mode").asText().equals("L"));
        for (JsonNode c : grey) {
            assertMatchesPil(c);
        }
        assertEquals(8, grey.size());
    }

    @Test
    void lumaIsPilsFixedPointFormula() {
        // PIL's L24: (R * 19595 + G * 38470 + B * 7471 + 0x8000) >> 16; a float 0.299/0.587/0.114
        // with truncation or plain rounding differs on some of these.
        int[][] rgbToL = {{255, 255, 255, 255}, {0, 0, 0, 0}, {255, 0, 0, 76}, {0, 255, 0, 150}, {0, 0, 255, 29},
            {1, 1, 1, 1}, {128, 128, 128, 128}, {10, 200, 30, 124}, {3, 0, 0, 1}, {0, 1, 0, 1}, {5, 0, 0, 1}};
        byte[] px = new byte[3 * rgbToL.length];
        for (int i = 0; i < rgbToL.length; i++) {
            for (int c = 0; c < 3; c++) {
                px[3 * i + c] = (byte) rgbToL[i][c];
            }
        }
        ByteImage grey = new ByteImage(rgbToL.length, 1, 3, px).grey();
        for (int i = 0; i < rgbToL.length; i++) {
            assertEquals(rgbToL[i][3], grey.get(i, 0, 0), Arrays.toString(rgbToL[i]));
        }
    }

    @Test
    void normalisationMatchesTorchvisionFloats() throws IOException {
        for (JsonNode c : doc.get("cases")) {
            if (!c.has("expected_float32")) {
                continue;
            }
            byte[] raw = Files.readAllBytes(dir.resolve(c.get("expected_float32").asText()));
            float[] torch = new float[raw.length / 4];
            ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(torch);
            INDArray out = ImagePreprocessor.of(preprocessing(c)).preprocess(dir.resolve(c.get("image").asText()));
            double diff = maxAbsDiff(torch, out.data().asFloat());
            System.out.printf(Locale.ROOT, "%s: max abs diff to torchvision's float32 output %.3g%n", c.get("name").asText(), diff);
            assertTrue(diff <= PNG_TOLERANCE, "max abs diff " + diff);
            return;
        }
        throw new AssertionError("no float32 fixture");
    }

    @Test
    void jpegIsCloseToPil() throws IOException {
        List<JsonNode> jpegs = cases(c -> c.get("image").asText().endsWith(".jpg"));
        for (JsonNode c : jpegs) {
            Preprocessing p = preprocessing(c);
            Path image = dir.resolve(c.get("image").asText());
            ByteImage expected = decode(dir.resolve(c.get("expected").asText()), p.channels());
            INDArray out = ImagePreprocessor.of(p).preprocess(image);
            assertArrayEquals(new long[] {1, p.channels(), p.cropSize(), p.cropSize()}, out.shape());
            float[] want = normalise(expected, p);
            float[] got = out.data().asFloat();
            double diff = maxAbsDiff(want, got);
            double mean = 0;
            for (int i = 0; i < want.length; i++) {
                mean += Math.abs(want[i] - got[i]);
            }
            mean /= want.length;
            int levels = maxLevelDiff(expected, ImagePreprocessor.of(p).cropped(decode(image, p.channels())));
            System.out.printf(Locale.ROOT, "%s: JPEG (ImageIO vs PIL/libjpeg-turbo): max abs diff %.4f, mean %.5f "
                    + "after normalisation; max %d levels of 255%n", c.get("name").asText(), diff, mean, levels);
            assertTrue(diff <= JPEG_TOLERANCE, "max abs diff " + diff);
            assertTrue(mean <= 0.01, "mean abs diff " + mean);
        }
        assertEquals(2, jpegs.size());
    }

    @Test
    void batchesStackSingleImages() throws IOException {
        ImagePreprocessor pre = ImagePreprocessor.of(Preprocessing.imagenet(64, 56, Interpolation.BICUBIC));
        List<Path> files = List.of(dir.resolve("scene.png"), dir.resolve("grey.png"), dir.resolve("rgba.png"),
                dir.resolve("scene.jpg"));
        INDArray batch = pre.preprocess(files);
        assertArrayEquals(new long[] {4, 3, 56, 56}, batch.shape());
        for (int i = 0; i < files.size(); i++) {
            INDArray one = pre.preprocess(files.get(i));
            assertEquals(one.reshape(3, 56, 56), batch.get(NDArrayIndex.point(i), NDArrayIndex.all(), NDArrayIndex.all(),
                    NDArrayIndex.all()), files.get(i).toString());
        }
        ImagePreprocessor grey = ImagePreprocessor.of(Preprocessing.grey(32, 28, Interpolation.BILINEAR, 0.286, 0.353));
        INDArray greyBatch = grey.preprocess(files);
        assertArrayEquals(new long[] {4, 1, 28, 28}, greyBatch.shape());
        assertEquals(grey.preprocess(files.get(2)).reshape(1, 28, 28), greyBatch.get(NDArrayIndex.point(2),
                NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.all()));
    }

    @Test
    void inMemoryImagesGoThroughTheSamePipeline() throws IOException {
        ImagePreprocessor pre = ImagePreprocessor.of(Registry.builtin().get("resnet50"));
        assertEquals(232, pre.preprocessing().resizeSize());
        Path file = dir.resolve("scene.png");
        BufferedImage decoded = ImageIO.read(file.toFile());
        BufferedImage intRgb = new BufferedImage(decoded.getWidth(), decoded.getHeight(), BufferedImage.TYPE_INT_RGB);
        intRgb.getGraphics().drawImage(decoded, 0, 0, null);
        assertEquals(pre.preprocess(file), pre.preprocess(intRgb));

        // Grey: the stored level in all three channels (no gamma conversion as BufferedImage.getRGB would do).
        BufferedImage grey = new BufferedImage(40, 30, BufferedImage.TYPE_BYTE_GRAY);
        grey.getRaster().setSample(3, 4, 0, 100);
        ByteImage rgb = ByteImage.rgb(grey);
        assertEquals(100, rgb.get(3, 4, 0));
        assertEquals(100, rgb.get(3, 4, 1));
        assertEquals(100, rgb.get(3, 4, 2));
        assertEquals(0, rgb.get(0, 0, 0));
    }

    @Test
    void resizeKeepsConstantImagesAndIdentity() {
        byte[] px = new byte[3 * 50 * 40];
        Arrays.fill(px, (byte) 200);
        ByteImage flat = new ByteImage(50, 40, 3, px);
        for (Interpolation f : Interpolation.values()) {
            ByteImage down = PilResample.resize(flat, 13, 7, f);
            ByteImage up = PilResample.resize(flat, 121, 97, f);
            for (byte b : down.pixels()) {
                assertEquals(200, b & 0xff, f + " down");
            }
            for (byte b : up.pixels()) {
                assertEquals(200, b & 0xff, f + " up");
            }
            assertTrue(PilResample.resize(flat, 50, 40, f) == flat, "same size: untouched");
        }
        assertThrows(IllegalArgumentException.class, () -> PilResample.resize(flat, 0, 5, Interpolation.BILINEAR));
    }

    @Test
    void truncatedJpegIsRefusedAsPilDoes() throws IOException {
        byte[] jpeg = Files.readAllBytes(dir.resolve("scene.jpg"));
        Path cut = Files.write(tmp.resolve("cut.jpg"), Arrays.copyOf(jpeg, jpeg.length / 2));
        ImagePreprocessor pre = ImagePreprocessor.of(Preprocessing.imagenet(64, 56, Interpolation.BILINEAR));
        IOException e = assertThrows(IOException.class, () -> pre.preprocess(cut));
        assertEquals(cut + " is truncated: the file ends before the image is complete (PIL refuses it too)",
                e.getMessage());
        pre.preprocess(dir.resolve("scene.jpg")); // the whole file is fine
    }

    @Test
    void jpegLackingOnlyItsEndMarkerIsRefusedAsPilDoes() throws IOException {
        // PIL: "image file is truncated" for every cut, even of the last byte or two (the EOI marker);
        // ImageIO decodes all rows and only warns "Truncated File - Missing EOI marker".
        byte[] jpeg = Files.readAllBytes(dir.resolve("scene.jpg"));
        ImagePreprocessor pre = ImagePreprocessor.of(Preprocessing.imagenet(64, 56, Interpolation.BILINEAR));
        for (int cut : new int[] {1, 2}) {
            Path file = Files.write(tmp.resolve("cut" + cut + ".jpg"), Arrays.copyOf(jpeg, jpeg.length - cut));
            IOException e = assertThrows(IOException.class, () -> pre.preprocess(file), "cut " + cut);
            assertEquals(file + " is truncated: the file ends before the image is complete (PIL refuses it too)",
                    e.getMessage());
        }
        // Bytes after the EOI marker are ignored, by PIL too.
        byte[] trailing = Arrays.copyOf(jpeg, jpeg.length + 7);
        pre.preprocess(Files.write(tmp.resolve("trailing.jpg"), trailing));
    }

    @Test
    void truncatedPngIsRefusedInOneLine() throws IOException {
        byte[] png = Files.readAllBytes(dir.resolve("scene.png"));
        ImagePreprocessor pre = ImagePreprocessor.of(Preprocessing.imagenet(64, 56, Interpolation.BILINEAR));
        for (int length : new int[] {png.length / 2, 100, 40}) {
            Path file = Files.write(tmp.resolve("cut" + length + ".png"), Arrays.copyOf(png, length));
            IOException e = assertThrows(IOException.class, () -> pre.preprocess(file), "length " + length);
            assertEquals(file + " is truncated: the file ends before the image is complete (PIL refuses it too)",
                    e.getMessage());
        }
        // Without its IEND chunk the image is complete: PIL and ImageIO decode it.
        pre.preprocess(Files.write(tmp.resolve("no-iend.png"), Arrays.copyOf(png, png.length - 12)));
    }

    @Test
    void grey16BitPngIsClippedTo255AsPilConvertsIt() throws IOException {
        // PIL opens a 16-bit grey PNG as mode I;16 and convert("RGB") clips each value to 255
        int[] values = {0, 40, 255, 256, 1000, 65535};
        BufferedImage grey16 = new BufferedImage(values.length, 1, BufferedImage.TYPE_USHORT_GRAY);
        for (int x = 0; x < values.length; x++) {
            grey16.getRaster().setSample(x, 0, 0, values[x]);
        }
        Path file = tmp.resolve("grey16.png");
        assertTrue(ImageIO.write(grey16, "png", file.toFile()));
        ByteImage rgb = ByteImage.rgb(ImagePreprocessor.read(file));
        for (int x = 0; x < values.length; x++) {
            for (int c = 0; c < 3; c++) {
                assertEquals(Math.min(values[x], 255), rgb.get(x, 0, c), "value " + values[x] + " channel " + c);
            }
        }
    }

    @Test
    void hugeImagesAreRefusedFromTheirHeaderBeforeDecoding() throws IOException {
        Path file = tmp.resolve("huge.png");
        Files.write(file, bilevelPng(27_000, 27_000));
        assertTrue(Files.size(file) < 1_000_000, "a small file: " + Files.size(file));
        ImagePreprocessor pre = ImagePreprocessor.of(Preprocessing.imagenet(64, 56, Interpolation.BILINEAR));
        IOException e = assertThrows(IOException.class, () -> pre.preprocess(file));
        assertEquals(file + " is 27000x27000 pixels (729,000,000), more than the 178,956,970 PIL accepts: refusing "
                + "to decode it", e.getMessage());
    }

    @Test
    void hugeImagesInMemoryAreRefusedWithoutOverflow() {
        // 27000 * 27000 * 3 bytes overflows an int: this was a NegativeArraySizeException "-2107967296".
        BufferedImage huge = new BufferedImage(27_000, 27_000, BufferedImage.TYPE_BYTE_BINARY);
        ImagePreprocessor pre = ImagePreprocessor.of(Preprocessing.imagenet(64, 56, Interpolation.BILINEAR));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> pre.preprocess(huge));
        assertEquals("the image is 27000x27000 pixels (729,000,000), more than the 178,956,970 PIL accepts",
                e.getMessage());
    }

    @Test
    void elongatedImagesThatWouldResizePastTheLimitAreRefused() {
        // 1 x 1,000,000 pixels is within the limit, but resized to a shorter side of 256 it would be
        // 256 x 256,000,000, whose byte count overflows an int in the resampler.
        ByteImage line = new ByteImage(1, 1_000_000, 1, new byte[1_000_000]);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ImagePreprocessor.resizeShorterSide(line, 256, Interpolation.BILINEAR));
        assertEquals("resizing 1x1000000 to a shorter side of 256 gives 256x256000000 pixels (65,536,000,000), more "
                + "than the 178,956,970 PIL accepts: expected a less elongated image", e.getMessage());
    }

    /** An all-black 1-bit grey PNG of the given size (rows of zeros, deflated). */
    private static byte[] bilevelPng(int width, int height) throws IOException {
        java.io.ByteArrayOutputStream idat = new java.io.ByteArrayOutputStream();
        try (java.util.zip.DeflaterOutputStream z = new java.util.zip.DeflaterOutputStream(idat,
                new java.util.zip.Deflater(1))) {
            byte[] row = new byte[1 + (width + 7) / 8]; // filter byte 0, then the packed pixels
            for (int y = 0; y < height; y++) {
                z.write(row);
            }
        }
        ByteBuffer ihdr = ByteBuffer.allocate(13).putInt(width).putInt(height).put(new byte[] {1, 0, 0, 0, 0});
        java.io.ByteArrayOutputStream png = new java.io.ByteArrayOutputStream();
        png.writeBytes(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});
        chunk(png, "IHDR", ihdr.array());
        chunk(png, "IDAT", idat.toByteArray());
        chunk(png, "IEND", new byte[0]);
        return png.toByteArray();
    }

    private static void chunk(java.io.ByteArrayOutputStream out, String type, byte[] data) {
        java.util.zip.CRC32 crc = new java.util.zip.CRC32();
        crc.update(type.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        crc.update(data);
        out.writeBytes(ByteBuffer.allocate(4).putInt(data.length).array());
        out.writeBytes(type.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        out.writeBytes(data);
        out.writeBytes(ByteBuffer.allocate(4).putInt((int) crc.getValue()).array());
    }

    @Test
    void errorsNameTheFile() throws IOException {
        ImagePreprocessor pre = ImagePreprocessor.of(Preprocessing.imagenet(64, 56, Interpolation.BILINEAR));
        Path text = Files.writeString(tmp.resolve("notes.png"), "not an image");
        IOException e = assertThrows(IOException.class, () -> pre.preprocess(text));
        assertTrue(e.getMessage().contains("notes.png"), e.getMessage());
        assertThrows(NoSuchFileException.class, () -> pre.preprocess(tmp.resolve("missing.jpg")));
        assertThrows(IllegalArgumentException.class, () -> pre.preprocess(List.of()));
    }
}
