package dev.resnetzoo.zoo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.resnetzoo.core.BlockKind;
import dev.resnetzoo.core.ResNetSpec;
import dev.resnetzoo.core.ResNets;
import dev.resnetzoo.core.StemKind;
import dev.resnetzoo.zoo.registry.Preprocessing;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class SavedModelTest {

    private static final ResNetSpec SPEC = ResNetSpec.builder(BlockKind.BASIC, 1, 1).name("tiny").widths(8, 16)
            .stemWidth(8).stem(StemKind.SMALL).input(3, 16, 16).numClasses(3).build();
    private static final List<String> LABELS = List.of("cat", "dog", "bird");

    @TempDir
    Path dir;

    private static SavedModel model() {
        return SavedModel.of(ResNets.create(SPEC), SPEC, SavedModel.defaultPreprocessing(SPEC), LABELS, "test");
    }

    private static INDArray logits(ComputationGraph g, INDArray x) {
        return g.feedForward(x, false).get(ResNets.CLASSIFIER);
    }

    @Test
    void roundTripKeepsNetworkAndMetadata() throws IOException {
        Path file = dir.resolve("m.zip");
        INDArray x = Nd4j.rand(DataType.FLOAT, 2, 3, 16, 16);
        try (SavedModel m = model()) {
            m.write(file);
            try (SavedModel back = SavedModel.read(file)) {
                assertEquals(SPEC, back.spec());
                assertArrayEquals(new int[] {3, 16, 16}, back.inputShape());
                assertEquals(m.preprocessing(), back.preprocessing());
                assertEquals(LABELS, back.labels());
                assertEquals("test", back.source());
                assertTrue(logits(m.graph(), x).equalsWithEps(logits(back.graph(), x), 1e-6));
            }
            assertEquals(SPEC, SavedModel.readSpec(file));
        }
        // DL4J's own reader still restores the file.
        ComputationGraph plain = ModelSerializer.restoreComputationGraph(file.toFile(), false);
        assertEquals(3, plain.getLayer(ResNets.CLASSIFIER).getParam("b").length());
        try (var files = Files.list(dir)) {
            assertEquals(List.of(file), files.toList(), "no temporary files left behind");
        }
    }

    @Test
    void defaultPreprocessingIsImageNetsAtTheInputSize() {
        Preprocessing p = SavedModel.defaultPreprocessing(Variants.spec(224));
        assertEquals(224, p.cropSize());
        assertEquals(256, p.resizeSize());
        assertEquals(Preprocessing.IMAGENET_MEAN, p.mean());
        assertEquals(137, SavedModel.defaultPreprocessing(Variants.spec(120)).resizeSize());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SavedModel.defaultPreprocessing(SPEC.toBuilder().input(3, 16, 24).build()));
        assertTrue(e.getMessage().contains("16x24"), e.getMessage());
        Preprocessing grey = SavedModel.defaultPreprocessing(SPEC.toBuilder().input(1, 28, 28).build());
        assertEquals(1, grey.channels());
        assertEquals(List.of(0.0), grey.mean());
        assertEquals(32, grey.resizeSize());
        assertThrows(IllegalArgumentException.class,
                () -> SavedModel.defaultPreprocessing(SPEC.toBuilder().input(2, 16, 16).build()));
    }

    @Test
    void preprocessingMustMakeTheNetworksChannels() {
        ComputationGraph g = ResNets.create(SPEC);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SavedModel.of(g, SPEC,
                Preprocessing.grey(18, 16, Preprocessing.Interpolation.BILINEAR, 0.5, 0.5), List.of(), "x"));
        assertTrue(e.getMessage().contains("1-channel input, the network takes 3"), e.getMessage());
        g.close();
    }

    /** Specs at a given input size. */
    private static final class Variants {
        static ResNetSpec spec(int size) {
            return SPEC.toBuilder().input(3, size, size).build();
        }
    }

    @Test
    void metadataMustDescribeTheNetwork() {
        ComputationGraph g = ResNets.create(SPEC);
        IllegalArgumentException classes = assertThrows(IllegalArgumentException.class, () -> SavedModel.of(g,
                SPEC.toBuilder().numClasses(4).build(), SavedModel.defaultPreprocessing(SPEC), List.of(), "x"));
        assertTrue(classes.getMessage().contains("3 outputs"), classes.getMessage());
        IllegalArgumentException labels = assertThrows(IllegalArgumentException.class, () -> SavedModel.of(g, SPEC,
                SavedModel.defaultPreprocessing(SPEC), List.of("a", "b"), "x"));
        assertTrue(labels.getMessage().contains("2 labels for 3 classes"), labels.getMessage());
        g.close();
    }

    @Test
    void newClassifierKeepsTheBackboneAndChangesTheSpec() {
        try (SavedModel m = model(); SavedModel five = m.withNewClassifier(5, List.of(), 7)) {
            assertEquals(5, five.spec().numClasses());
            assertEquals(5, five.graph().getLayer(ResNets.CLASSIFIER).getParam("b").length());
            assertEquals(m.graph().getLayer("conv1").getParam("W"), five.graph().getLayer("conv1").getParam("W"));
            assertEquals(3, m.spec().numClasses(), "the source is unchanged");
        }
    }

    @Test
    void missingFileAndDirectoryAreNamed() throws IOException {
        assertThrows(NoSuchFileException.class, () -> SavedModel.read(dir.resolve("none.zip")));
        Path d = Files.createDirectory(dir.resolve("folder.zip"));
        IOException e = assertThrows(IOException.class, () -> SavedModel.read(d));
        assertTrue(e.getMessage().contains("is a directory"), e.getMessage());
    }

    @Test
    void plainDl4jZipIsRefusedWithWhatToDo() throws IOException {
        Path file = dir.resolve("plain.zip");
        ModelSerializer.writeModel(ResNets.create(SPEC), file.toFile(), false);
        IOException e = assertThrows(IOException.class, () -> SavedModel.read(file));
        assertTrue(e.getMessage().contains("without " + SavedModel.ENTRY), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
    }

    @Test
    void notAZipIsRefused() throws IOException {
        Path file = Files.writeString(dir.resolve("text.zip"), "hello");
        IOException e = assertThrows(IOException.class, () -> SavedModel.read(file));
        assertTrue(e.getMessage().contains("not a zip file"), e.getMessage());
    }

    @Test
    void hostileMetadataIsRefusedBeforeTheNetworkIsRead() throws IOException {
        assertRefused(zipWith("{\"format\": 2}"), "format 2");
        assertRefused(zipWith("{\"format\": 1, \"spec\": {"), "invalid " + SavedModel.ENTRY);
        assertRefused(zipWith("{\"format\": 1, \"spec\": null, \"preprocessing\": null, \"labels\": null}"),
                "lacks spec");
        String badSpec = new String(metadataOf(model()), StandardCharsets.UTF_8).replace("\"numClasses\" : 3",
                "\"numClasses\" : -3");
        assertRefused(zipWith(badSpec), "invalid " + SavedModel.ENTRY);
        // metadata that does not describe the network in the zip
        String otherClasses = new String(metadataOf(model()), StandardCharsets.UTF_8).replace("\"numClasses\" : 3",
                "\"numClasses\" : 4").replace("\"labels\" : [ \"cat\", \"dog\", \"bird\" ]", "\"labels\" : [ ]");
        Path file = dir.resolve("other.zip");
        try (SavedModel m = model()) {
            m.write(file);
        }
        Path swapped = dir.resolve("swapped.zip");
        rewriteMetadata(file, swapped, otherClasses);
        assertRefused(swapped, "does not fit its metadata");
    }

    @Test
    void oversizedMetadataIsRefused() throws IOException {
        Path file = dir.resolve("big.zip");
        try (OutputStream out = Files.newOutputStream(file); ZipOutputStream zip = new ZipOutputStream(out)) {
            zip.putNextEntry(new ZipEntry(SavedModel.ENTRY));
            byte[] spaces = new byte[1 << 20];
            java.util.Arrays.fill(spaces, (byte) ' ');
            for (int i = 0; i <= SavedModel.MAX_METADATA_BYTES >> 20; i++) {
                zip.write(spaces);
            }
            zip.closeEntry();
        }
        assertRefused(file, "larger than");
    }

    private static void assertRefused(Path file, String expected) {
        IOException e = assertThrows(IOException.class, () -> SavedModel.read(file));
        assertTrue(e.getMessage().contains(expected), e.getMessage());
        assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
    }

    private byte[] metadataOf(SavedModel m) throws IOException {
        Path file = Files.createTempFile(dir, "meta", ".zip");
        m.write(file);
        try (var zip = new java.util.zip.ZipFile(file.toFile())) {
            return zip.getInputStream(zip.getEntry(SavedModel.ENTRY)).readAllBytes();
        }
    }

    private Path zipWith(String metadata) throws IOException {
        Path file = Files.createTempFile(dir, "hostile", ".zip");
        try (OutputStream out = Files.newOutputStream(file); ZipOutputStream zip = new ZipOutputStream(out)) {
            zip.putNextEntry(new ZipEntry(SavedModel.ENTRY));
            zip.write(metadata.getBytes(StandardCharsets.UTF_8));
            zip.closeEntry();
        }
        return file;
    }

    private static void rewriteMetadata(Path from, Path to, String metadata) throws IOException {
        try (var src = new java.util.zip.ZipFile(from.toFile()); OutputStream out = Files.newOutputStream(to);
             ZipOutputStream zip = new ZipOutputStream(out)) {
            var entries = src.entries();
            while (entries.hasMoreElements()) {
                ZipEntry e = entries.nextElement();
                zip.putNextEntry(new ZipEntry(e.getName()));
                if (e.getName().equals(SavedModel.ENTRY)) {
                    zip.write(metadata.getBytes(StandardCharsets.UTF_8));
                } else {
                    src.getInputStream(e).transferTo(zip);
                }
                zip.closeEntry();
            }
        }
    }
}
