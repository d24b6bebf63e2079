package dev.resnetzoo.examples.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.resnetzoo.core.ResNetSpec;
import dev.resnetzoo.core.ResNets;
import dev.resnetzoo.core.TorchNames;
import dev.resnetzoo.core.Variant;
import dev.resnetzoo.zoo.SavedModel;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** {@code ./resnet import} on a tiny ResNet-18 (widths 8..64, 32x32 input) exported to safetensors from Java. */
public class ImportCommandTest {

    /** {@code import} with the architecture of {@link #tinySpec(int)}. */
    static final List<String> TINY_ARCH = List.of("import", "--arch", "resnet18", "--widths", "8,16,32,64", "--input", "3,32,32");

    @TempDir
    Path tmp;

    static ComputationGraph source;
    static byte[] checkpoint;

    @BeforeAll
    static void exportTinyModel() {
        source = tinyGraph(10, 42);
        checkpoint = safetensors(source, Map.of(), k -> true);
    }

    @AfterAll
    static void close() {
        source.close();
    }

    /** Exit code and captured output of one in-process run of the command line. */
    public record Run(int code, String out, String err) {
        /** @return the lines of stderr that are this CLI's error lines */
        List<String> errorLines() {
            return err.lines().filter(l -> l.startsWith("error: ")).toList();
        }
    }

    static Run run(List<String> head, String... tail) {
        return run(Stream.concat(head.stream(), Stream.of(tail)).toArray(String[]::new));
    }

    /** Runs {@code ./resnet ARGS} in this JVM, capturing stdout and stderr. */
    public static Run run(String... args) {
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        ByteArrayOutputStream e = new ByteArrayOutputStream();
        int code;
        try {
            System.setOut(new PrintStream(o, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(e, true, StandardCharsets.UTF_8));
            code = ResNetCli.run(args);
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
        return new Run(code, o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8));
    }

    static ResNetSpec tinySpec(int classes) {
        return Variant.RESNET18.spec().toBuilder().widths(8, 16, 32, 64).stemWidth(8).input(3, 32, 32)
                .numClasses(classes).build();
    }

    /** A tiny graph with random weights and non-trivial batch-norm statistics. */
    static ComputationGraph tinyGraph(int classes, long seed) {
        ComputationGraph g = ResNets.create(tinySpec(classes));
        Nd4j.getRandom().setSeed(seed);
        for (Layer l : g.getLayers()) {
            if (l.conf().getLayer() instanceof BatchNormalization) {
                l.getParam("gamma").assign(Nd4j.rand(l.getParam("gamma").shape()).addi(0.5));
                l.getParam("beta").assign(Nd4j.rand(l.getParam("beta").shape()).subi(0.5));
                l.getParam("mean").assign(Nd4j.rand(l.getParam("mean").shape()).subi(0.5).muli(0.2));
                l.getParam("var").assign(Nd4j.rand(l.getParam("var").shape()).addi(0.5));
            }
        }
        return g;
    }

    /**
     * The graph's parameters as a PyTorch-style safetensors file, plus {@code bn1.num_batches_tracked}
     * (int64) and {@code extra}; keys failing {@code keep} are left out.
     */
    public static byte[] safetensors(ComputationGraph g, Map<String, float[]> extra, Predicate<String> keep) {
        Map<String, long[]> shapes = new LinkedHashMap<>();
        Map<String, byte[]> data = new LinkedHashMap<>();
        Map<String, String> dtypes = new LinkedHashMap<>();
        for (TorchNames.ParamRef ref : TorchNames.expectedKeys(g)) {
            if (!keep.test(ref.key())) {
                continue;
            }
            INDArray a = g.getLayer(ref.vertex()).getParam(ref.param());
            if (ref.transpose()) {
                a = a.transpose();
            }
            long[] shape = a.rank() == 4 || ref.transpose() ? a.shape() : new long[] {a.length()};
            shapes.put(ref.key(), shape);
            data.put(ref.key(), floats(a.dup('c').data().asFloat()));
            dtypes.put(ref.key(), "F32");
        }
        for (Map.Entry<String, float[]> e : extra.entrySet()) {
            shapes.put(e.getKey(), new long[] {e.getValue().length});
            data.put(e.getKey(), floats(e.getValue()));
            dtypes.put(e.getKey(), "F32");
        }
        shapes.put("bn1.num_batches_tracked", new long[0]);
        data.put("bn1.num_batches_tracked", ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(7).array());
        dtypes.put("bn1.num_batches_tracked", "I64");

        ObjectMapper json = new ObjectMapper();
        ObjectNode header = json.createObjectNode();
        long offset = 0;
        for (String k : shapes.keySet()) {
            ObjectNode t = header.putObject(k);
            t.put("dtype", dtypes.get(k));
            ArrayNode s = t.putArray("shape");
            for (long d : shapes.get(k)) {
                s.add(d);
            }
            t.putArray("data_offsets").add(offset).add(offset + data.get(k).length);
            offset += data.get(k).length;
        }
        StringBuilder text = new StringBuilder(header.toString());
        while (text.length() % 8 != 0) {
            text.append(' ');
        }
        byte[] head = text.toString().getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(head.length).array());
        out.writeBytes(head);
        data.values().forEach(out::writeBytes);
        return out.toByteArray();
    }

    private static byte[] floats(float[] values) {
        ByteBuffer b = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(values);
        return b.array();
    }

    /** Imports {@link #checkpoint} with the CLI into {@code dir/model.zip}. */
    static Path importTiny(Path dir) throws IOException {
        Path ckpt = Files.write(dir.resolve("tiny.safetensors"), checkpoint);
        Path zip = dir.resolve("model.zip");
        Run r = run(TINY_ARCH, "--from", ckpt.toString(), "--out", zip.toString());
        assertEquals(0, r.code(), r.err());
        return zip;
    }

    private List<String> files() throws IOException {
        try (Stream<Path> s = Files.list(tmp)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void importsSafetensorsIntoAModelWithTheSameParameters() throws IOException {
        Path ckpt = Files.write(tmp.resolve("tiny.safetensors"), checkpoint);
        Path zip = tmp.resolve("out/model.zip");
        Run r = run(TINY_ARCH, "--from", ckpt.toString(), "--out", zip.toString());
        assertEquals(0, r.code(), r.err());
        int tensors = TorchNames.expectedKeys(source).size();
        assertTrue(r.out().contains("imported resnet18 from tiny.safetensors: "), r.out());
        assertTrue(r.out().contains(String.format("%,d parameters, 10 classes, input 3x32x32", ResNets.countParameters(source))), r.out());
        assertTrue(r.out().contains("loaded " + tensors + " tensors, ignored 1 (num_batches_tracked)"), r.out());
        assertTrue(r.out().contains("wrote " + zip), r.out());
        try (Stream<Path> s = Files.list(zip.getParent())) {
            assertEquals(List.of("model.zip"), s.map(p -> p.getFileName().toString()).toList());
        }
        ComputationGraph restored = ModelSerializer.restoreComputationGraph(zip.toFile(), false);
        try {
            assertEquals(source.params(), restored.params());
            try (SavedModel saved = SavedModel.read(zip)) {
                assertArrayEquals(new int[] {3, 32, 32}, saved.inputShape());
                assertEquals(32, saved.preprocessing().cropSize());
                assertEquals("imported from " + ckpt.getFileName(), saved.source());
            }
        } finally {
            restored.close();
        }
    }

    @Test
    void aFailingImportLeavesNoOutputFile() throws IOException {
        Path ckpt = Files.write(tmp.resolve("tiny.safetensors"), checkpoint);
        Path zip = tmp.resolve("model.zip");
        Run r = run("import", "--arch", "resnet18", "--input", "3,32,32", "--from", ckpt.toString(), "--out", zip.toString());
        assertEquals(1, r.code());
        assertEquals(1, r.errorLines().size(), r.err());
        String error = r.errorLines().get(0);
        assertTrue(error.startsWith("error: tiny.safetensors ("), error);
        assertTrue(error.contains("conv1.weight: expected [64,3,7,7], file has [8,3,7,7]"), error);
        assertTrue(error.contains("check --arch, --widths"), error);
        assertEquals(List.of("tiny.safetensors"), files());

        // an existing model is left as it was
        Files.writeString(zip, "previous");
        assertEquals(1, run("import", "--arch", "resnet50", "--from", ckpt.toString(), "--out", zip.toString()).code());
        assertEquals("previous", Files.readString(zip));
        assertEquals(List.of("model.zip", "tiny.safetensors"), files());
    }

    @Test
    void strictByDefaultNonStrictReportsMissingAndUnexpectedKeys() throws IOException {
        byte[] partial = safetensors(source, Map.of("head.extra", new float[] {1, 2}), k -> !k.equals("layer4.1.bn2.running_var"));
        Path ckpt = Files.write(tmp.resolve("partial.pth"), partial);
        Path zip = tmp.resolve("model.zip");
        Run strict = run(TINY_ARCH, "--from", ckpt.toString(), "--out", zip.toString());
        assertEquals(1, strict.code());
        String error = strict.errorLines().get(0);
        assertTrue(error.contains("layer4.1.bn2.running_var: missing from the file"), error);
        assertTrue(error.contains("head.extra: not a parameter of the graph"), error);
        assertTrue(error.contains("--non-strict"), error);
        assertFalse(Files.exists(zip));

        Run lenient = run(TINY_ARCH, "--from", ckpt.toString(), "--out", zip.toString(), "--non-strict");
        assertEquals(0, lenient.code(), lenient.err());
        assertTrue(lenient.out().contains("missing from the file (left initialised): 1: layer4.1.bn2.running_var"), lenient.out());
        assertTrue(lenient.out().contains("not used (no such parameter): 1: head.extra"), lenient.out());
        assertTrue(Files.isRegularFile(zip));
    }

    @Test
    void numClassesReplacesTheClassifier() throws IOException {
        Path ckpt = Files.write(tmp.resolve("tiny.safetensors"), checkpoint);
        Path zip = tmp.resolve("five.zip");
        Run r = run(TINY_ARCH, "--from", ckpt.toString(), "--out", zip.toString(), "--num-classes", "5");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("dropped fc.weight, fc.bias (new 5-class classifier)"), r.out());
        ComputationGraph restored = ModelSerializer.restoreComputationGraph(zip.toFile(), false);
        try {
            assertEquals(5, restored.getLayer(ResNets.CLASSIFIER).getParam("b").length());
            assertEquals(source.getLayer("layer3.0.conv1").getParam("W"), restored.getLayer("layer3.0.conv1").getParam("W"));
        } finally {
            restored.close();
        }
    }

    @Test
    void missingOrInvalidCheckpointIsOneErrorLine() throws IOException {
        Path zip = tmp.resolve("model.zip");
        Run missing = run(TINY_ARCH, "--from", tmp.resolve("nope.pth").toString(), "--out", zip.toString());
        assertEquals(1, missing.code());
        assertEquals(List.of("error: " + tmp.resolve("nope.pth") + ": no such file"), missing.errorLines());

        Path junk = Files.writeString(tmp.resolve("junk.pth"), "not a checkpoint");
        Run bad = run(TINY_ARCH, "--from", junk.toString(), "--out", zip.toString());
        assertEquals(1, bad.code());
        assertTrue(bad.errorLines().get(0).contains("is not a checkpoint"), bad.err());
        assertEquals(List.of("junk.pth"), files());
    }
}
