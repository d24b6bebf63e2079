package dev.resnetzoo.zoo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.resnetzoo.core.ResNetSpec;
import dev.resnetzoo.core.ResNets;
import dev.resnetzoo.core.TorchNames;
import dev.resnetzoo.zoo.ConformanceTest.Fixture;
import dev.resnetzoo.zoo.WeightImportException.Kind;
import dev.resnetzoo.zoo.WeightImporter.Classifier;
import dev.resnetzoo.zoo.WeightImporter.Report;
import dev.resnetzoo.zoo.io.CheckpointFormatException;
import dev.resnetzoo.zoo.io.StateDict;
import dev.resnetzoo.zoo.io.Tensor;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/** {@link WeightImporter}: read-back, every error at once, classifier policies, file variants, dtypes. */
class ImportTest {

    @TempDir
    Path tmp;

    private static final Fixture RESNEXT = Fixture.committed("tiny_resnext");
    private static final Fixture BOTTLENECK = Fixture.committed("tiny_bottleneck");

    @Test
    void loadedParametersReadBackAsInTheFile() throws IOException {
        StateDict sd = RESNEXT.stateDict("model.pth");
        ComputationGraph graph = ResNets.create(RESNEXT.spec());
        Report report = new WeightImporter().importInto(graph, sd);

        assertTrue(report.isComplete(), report.toString());
        assertEquals(TorchNames.expectedKeys(graph).size(), report.loaded().size());
        assertTrue(report.skipped().isEmpty());
        assertFalse(report.ignored().isEmpty());
        assertTrue(report.ignored().stream().allMatch(k -> k.endsWith(".num_batches_tracked")), report.ignored()::toString);

        // stem convolution: same layout [out, in, kh, kw]
        assertExact(sd.get("conv1.weight").toFloatArray(), graph.getLayer("conv1").getParam("W"));
        // grouped 3x3: [out, in/groups, 3, 3] = [8, 2, 3, 3] with cardinality 4
        INDArray grouped = graph.getLayer("layer1.0.conv2").getParam("W");
        assertArrayEquals(new long[] {8, 2, 3, 3}, grouped.shape());
        assertExact(sd.get("layer1.0.conv2.weight").toFloatArray(), grouped);
        // batch norm: the running variance is stored as is
        assertExact(sd.get("layer2.1.bn2.running_var").toFloatArray(),
                graph.getLayer("layer2.1.bn2").getParam("var").reshape(-1));
        assertExact(sd.get("layer2.1.bn2.weight").toFloatArray(),
                graph.getLayer("layer2.1.bn2").getParam("gamma").reshape(-1));
        // linear: PyTorch [out, in] is DL4J [in, out]
        INDArray fc = graph.getLayer("fc").getParam("W");
        assertArrayEquals(new long[] {64, 10}, fc.shape());
        float[] w = sd.get("fc.weight").toFloats();
        assertEquals(w[3 * 64 + 5], fc.getFloat(5, 3), 0f);
        assertExact(sd.get("fc.weight").toFloatArray().transpose(), fc);
        // and the flattened parameter vector is the same memory
        assertEquals(graph.getLayer("conv1").getParam("W").getFloat(0, 0, 0, 0), graph.params().getFloat(0), 0f);
        graph.close();
    }

    @Test
    void missingUnexpectedAndWrongShapeAreReportedTogetherAndNothingIsChanged() throws IOException {
        Map<String, Entry> entries = entries(BOTTLENECK.stateDict("model.pth"));
        entries.remove("layer1.0.bn1.running_var");
        entries.put("layer9.0.conv1.weight", Entry.zeros(4, 4, 1, 1));
        entries.put("layer1.0.conv1.weight", Entry.zeros(8, 16, 3, 3));
        Path file = write(entries, "broken.safetensors");

        ComputationGraph graph = ResNets.create(BOTTLENECK.spec());
        INDArray before = graph.params().dup();
        WeightImportException e = assertThrows(WeightImportException.class,
                () -> new WeightImporter().load(graph, StateDict.read(file)));
        assertEquals(List.of("layer1.0.bn1.running_var"), e.keys(Kind.MISSING));
        assertEquals(List.of("layer9.0.conv1.weight"), e.keys(Kind.UNEXPECTED));
        assertEquals(List.of("layer1.0.conv1.weight"), e.keys(Kind.SHAPE));
        assertEquals(3, e.problems().size());
        String msg = e.getMessage();
        assertTrue(msg.contains("layer1.0.conv1.weight: expected [8,16,1,1], file has [8,16,3,3]"), msg);
        assertTrue(msg.contains("layer1.0.bn1.running_var: missing from the file (graph expects [8])"), msg);
        assertTrue(msg.contains("layer9.0.conv1.weight: not a parameter of the graph (file has [4,4,1,1])"), msg);
        assertTrue(msg.contains("3 problems"), msg);
        assertExact(before, graph.params());
        System.out.println(msg);

        // non-strict: missing and unexpected are allowed, the shape mismatch still is not
        WeightImportException e2 = assertThrows(WeightImportException.class,
                () -> new WeightImporter().optStrict(false).load(graph, StateDict.read(file)));
        assertEquals(List.of("layer1.0.conv1.weight"), e2.keys(Kind.SHAPE));
        assertEquals(1, e2.problems().size());
        assertExact(before, graph.params());
        graph.close();
    }

    @Test
    void nanAndInfinityAreRefusedNamingTheTensorAndNothingIsChanged() throws IOException {
        Map<String, Entry> entries = entries(BOTTLENECK.stateDict("model.pth"));
        entries.put("layer1.0.conv1.weight", withValue(entries.get("layer1.0.conv1.weight"), 5, Float.NaN));
        entries.put("fc.bias", withValue(entries.get("fc.bias"), 2, Float.NEGATIVE_INFINITY));
        // running statistics count: an infinite variance makes the normalised output 0 or NaN
        entries.put("layer1.0.bn1.running_var", withValue(entries.get("layer1.0.bn1.running_var"), 0,
                Float.POSITIVE_INFINITY));
        Path file = write(entries, "nan.safetensors");

        ComputationGraph graph = ResNets.create(BOTTLENECK.spec());
        INDArray before = graph.params().dup();
        WeightImportException e = assertThrows(WeightImportException.class,
                () -> new WeightImporter().load(graph, StateDict.read(file)));
        assertEquals(List.of("layer1.0.conv1.weight", "layer1.0.bn1.running_var", "fc.bias"), e.keys(Kind.NON_FINITE));
        assertEquals(3, e.problems().size());
        String msg = e.getMessage();
        assertTrue(msg.contains("layer1.0.conv1.weight: element 5 of 128 is NaN, expected finite weights"), msg);
        assertTrue(msg.contains("fc.bias: element 2 of 10 is -Infinity, expected finite weights"), msg);
        assertTrue(msg.contains("layer1.0.bn1.running_var: element 0 of 8 is Infinity, expected finite weights"), msg);
        assertExact(before, graph.params());

        // the file-level entry point refuses too
        assertThrows(WeightImportException.class, () -> WeightImporter.importCheckpoint(BOTTLENECK.spec(), file));
        // and a PyTorch file, whose data is read only after its shapes fit
        Path pth = new TorchZipWriter().putAll(entries).write(tmp.resolve("nan.pth"));
        WeightImportException fromPth = assertThrows(WeightImportException.class,
                () -> WeightImporter.importCheckpoint(BOTTLENECK.spec(), pth));
        assertEquals(e.keys(Kind.NON_FINITE), fromPth.keys(Kind.NON_FINITE));
        graph.close();
    }

    private static Entry withValue(Entry e, int index, float value) {
        byte[] data = e.data().clone();
        ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN).putFloat(4 * index, value);
        return new Entry(e.dtype(), e.shape(), data);
    }

    @Test
    void nonStrictLoadsWhatMatchesAndReportsTheRest() throws IOException {
        StateDict full = BOTTLENECK.stateDict("model.pth");
        Map<String, Entry> entries = entries(full);
        entries.remove("layer2.0.conv2.weight");
        entries.put("head.extra.bias", Entry.zeros(3));
        Path file = write(entries, "partial.safetensors");

        ComputationGraph graph = ResNets.create(BOTTLENECK.spec());
        INDArray untouched = graph.getLayer("layer2.0.conv2").getParam("W").dup();
        assertThrows(WeightImportException.class, () -> new WeightImporter().load(graph, StateDict.read(file)));
        Report r = new WeightImporter().optStrict(false).importInto(graph, StateDict.read(file));
        assertEquals(List.of("layer2.0.conv2.weight"), r.missing());
        assertEquals(List.of("head.extra.bias"), r.unexpected());
        assertFalse(r.isComplete());
        assertExact(untouched, graph.getLayer("layer2.0.conv2").getParam("W"));
        assertExact(full.get("layer2.0.conv1.weight").toFloatArray(), graph.getLayer("layer2.0.conv1").getParam("W"));
        graph.close();
    }

    @Test
    void classifierWithOtherClassCountFailsWithAFixAndCanBeDropped() throws IOException {
        ResNetSpec spec1000 = RESNEXT.spec().toBuilder().numClasses(1000).build();
        StateDict sd = RESNEXT.stateDict("model.pth");
        ComputationGraph graph = ResNets.create(spec1000);
        INDArray freshFc = graph.getLayer("fc").getParam("W").dup();

        WeightImportException e = assertThrows(WeightImportException.class,
                () -> new WeightImporter().load(graph, sd));
        assertEquals(List.of("fc.weight", "fc.bias"), e.keys(Kind.SHAPE));
        String msg = e.getMessage();
        assertTrue(msg.contains("fc.weight: expected [1000,64], file has [10,64]"), msg);
        assertTrue(msg.contains("fc.bias: expected [1000], file has [10]"), msg);
        assertTrue(msg.contains("the file's classifier has 10 classes, the graph 1000"), msg);
        assertTrue(msg.contains("optClassifier(Classifier.DROP)"), msg);
        assertTrue(msg.contains("numClasses(10)"), msg);
        System.out.println(msg);

        Report r = new WeightImporter().optClassifier(Classifier.DROP).importInto(graph, sd);
        assertEquals(List.of("fc.weight", "fc.bias"), r.skipped());
        assertTrue(r.isComplete(), r.toString());
        assertExact(freshFc, graph.getLayer("fc").getParam("W"));   // DROP keeps the graph's classifier
        assertExact(sd.get("conv1.weight").toFloatArray(), graph.getLayer("conv1").getParam("W"));
        assertExact(sd.get("layer4.0.bn3.running_mean").toFloatArray(),
                graph.getLayer("layer4.0.bn3").getParam("mean").reshape(-1));
        // the network still runs, with 1000 outputs
        assertArrayEquals(new long[] {2, 1000}, RESNEXT.logits(graph).shape());
        graph.close();

        // the convenience overload: another class count drops, the same class count keeps
        ComputationGraph g1000 = WeightImporter.importCheckpoint(RESNEXT.spec(), RESNEXT.file("model.pth"), 1000);
        assertEquals(1000, g1000.getLayer("fc").getParam("b").length());
        assertExact(sd.get("layer3.0.conv3.weight").toFloatArray(), g1000.getLayer("layer3.0.conv3").getParam("W"));
        g1000.close();
        ComputationGraph g10 = WeightImporter.importCheckpoint(RESNEXT.spec(), RESNEXT.file("model.pth"), 10);
        assertExact(sd.get("fc.weight").toFloatArray().transpose(), g10.getLayer("fc").getParam("W"));
        RESNEXT.check(g10, RESNEXT.file("logits.npy"));
        g10.close();
    }

    @Test
    void dropIfMismatchedAcceptsAHeadlessCheckpoint() throws IOException {
        Map<String, Entry> entries = entries(RESNEXT.stateDict("model.pth"));
        entries.remove("fc.weight");
        entries.remove("fc.bias");
        Path file = write(entries, "headless.safetensors");
        WeightImportException e = assertThrows(WeightImportException.class,
                () -> WeightImporter.importCheckpoint(RESNEXT.spec(), file));
        assertEquals(List.of("fc.weight", "fc.bias"), e.keys(Kind.MISSING));
        ComputationGraph g = WeightImporter.importCheckpoint(RESNEXT.spec(), file, 5);
        assertEquals(5, g.getLayer("fc").getParam("b").length());
        g.close();
    }

    @Test
    void dataParallelPrefixIsStrippedAndImportsIdentically() throws IOException {
        StateDict prefixed = RESNEXT.stateDict("model_module.pth");
        assertTrue(prefixed.keys().stream().noneMatch(k -> k.startsWith("module.")), "StateDict strips module.");
        ComputationGraph a = WeightImporter.importCheckpoint(RESNEXT.spec(), RESNEXT.file("model.pth"));
        ComputationGraph b = WeightImporter.importCheckpoint(RESNEXT.spec(), RESNEXT.file("model_module.pth"));
        assertExact(a.params(), b.params());
        RESNEXT.check(b, RESNEXT.file("logits.npy"));
        a.close();
        b.close();
    }

    @Test
    void safetensorsImportsIdentically() throws IOException {
        ComputationGraph a = WeightImporter.importCheckpoint(RESNEXT.spec(), RESNEXT.file("model.pth"));
        ComputationGraph b = WeightImporter.importCheckpoint(RESNEXT.spec(), RESNEXT.file("model.safetensors"));
        assertExact(a.params(), b.params());
        assertExact(RESNEXT.logits(a), RESNEXT.logits(b));
        RESNEXT.check(b, RESNEXT.file("logits.npy"));
        a.close();
        b.close();
    }

    @Test
    void float16Bfloat16AndFloat64TensorsAreConverted() throws IOException {
        StateDict mixed = RESNEXT.stateDict("model_mixed.safetensors");
        Set<Tensor.DType> dtypes = EnumSet.noneOf(Tensor.DType.class);
        mixed.asMap().values().forEach(t -> dtypes.add(t.dtype()));
        assertTrue(dtypes.containsAll(EnumSet.of(Tensor.DType.FLOAT16, Tensor.DType.BFLOAT16, Tensor.DType.FLOAT64,
                Tensor.DType.FLOAT32)), dtypes::toString);
        ComputationGraph g = WeightImporter.importCheckpoint(RESNEXT.spec(), RESNEXT.file("model_mixed.safetensors"));
        // PyTorch's logits for exactly these rounded weights
        RESNEXT.check(g, RESNEXT.file("logits_mixed.npy"));
        for (String key : mixed.keys()) {
            if (!TorchNames.isIgnored(key)) {
                var ref = TorchNames.resolve(g, key).orElseThrow();
                INDArray expect = mixed.get(key).toFloatArray();
                INDArray actual = g.getLayer(ref.vertex()).getParam(ref.param());
                assertExact(ref.transpose() ? expect.transpose() : expect.reshape(actual.shape()), actual);
            }
        }
        g.close();
    }

    @Test
    void loadsIntoADoublePrecisionGraph() throws IOException {
        ComputationGraph g = ResNets.create(RESNEXT.spec()).convertDataType(DataType.DOUBLE);
        new WeightImporter().load(g, RESNEXT.stateDict("model.pth"));
        assertEquals(DataType.DOUBLE, g.getLayer("conv1").getParam("W").dataType());
        INDArray x = RESNEXT.input().castTo(DataType.DOUBLE);
        INDArray logits = g.feedForward(x, false).get(ResNets.CLASSIFIER);
        INDArray expected = Npy.read(RESNEXT.file("logits.npy"));
        assertTrue(Fixture.maxAbsDiff(logits.castTo(DataType.FLOAT), expected) <= 1e-4 * expected.amaxNumber().doubleValue());
        g.close();
    }

    @Test
    void integerTensorsAreRejected() throws IOException {
        Map<String, Entry> entries = entries(BOTTLENECK.stateDict("model.pth"));
        Entry w = entries.get("conv1.weight");
        entries.put("conv1.weight", new Entry("I64", w.shape(), new byte[w.data().length * 2]));
        Path file = write(entries, "int.safetensors");
        WeightImportException e = assertThrows(WeightImportException.class,
                () -> WeightImporter.importCheckpoint(BOTTLENECK.spec(), file));
        assertEquals(List.of("conv1.weight"), e.keys(Kind.DTYPE));
        assertTrue(e.getMessage().contains("conv1.weight: file has a INT64 tensor, expected floating point"),
                e.getMessage());
    }

    @Test
    void anotherArchitectureIsNamedAsSuch() throws IOException {
        // a basic-block checkpoint into a bottleneck graph: every block differs
        Fixture basic = Fixture.committed("tiny_basic");
        ResNetSpec spec = BOTTLENECK.spec();
        WeightImportException e = assertThrows(WeightImportException.class,
                () -> WeightImporter.importCheckpoint(spec, basic.file("model.pth")));
        assertTrue(e.getMessage().contains("another architecture"), e.getMessage());
        assertTrue(e.keys(Kind.MISSING).contains("layer1.0.conv3.weight"));
        assertTrue(e.problems().size() > 20);
    }

    @Test
    void aFileThatIsNoCheckpointIsAnIoError() throws IOException {
        Path junk = Files.writeString(tmp.resolve("junk.pth"), "not a checkpoint");
        assertThrows(CheckpointFormatException.class, () -> WeightImporter.importCheckpoint(BOTTLENECK.spec(), junk));
    }

    @Test
    void optionsAreImmutable() {
        WeightImporter d = new WeightImporter();
        WeightImporter lax = d.optStrict(false).optClassifier(Classifier.DROP);
        assertTrue(d.isStrict());
        assertEquals(Classifier.KEEP, d.classifier());
        assertFalse(lax.isStrict());
        assertEquals(Classifier.DROP, lax.classifier());
    }

    @Test
    void toleranceDetectsASmallBatchNormChange() throws IOException {
        // the conformance check is not vacuous: a 1% change of one running variance fails it
        ComputationGraph g = WeightImporter.importCheckpoint(RESNEXT.spec(), RESNEXT.file("model.pth"));
        g.getLayer("layer3.0.bn2").getParam("var").muli(1.01);
        assertThrows(AssertionError.class, () -> RESNEXT.check(g, RESNEXT.file("logits.npy")));
        g.close();
    }

    /** Same shape and bit-identical float values (INDArray.equals allows differences up to 1e-5). */
    static void assertExact(INDArray expected, INDArray actual) {
        assertArrayEquals(expected.shape(), actual.shape(), "shape");
        float[] e = expected.castTo(DataType.FLOAT).dup('c').data().asFloat();
        float[] a = actual.castTo(DataType.FLOAT).dup('c').data().asFloat();
        assertArrayEquals(e, a);
    }

    // ---------------------------------------------------------------- a minimal safetensors writer

    /** One tensor for {@link #write}: safetensors dtype name, shape, little-endian bytes. */
    record Entry(String dtype, long[] shape, byte[] data) {
        static Entry of(Tensor t) {
            if (t.dtype().isFloatingPoint()) {
                float[] v = t.toFloats();
                ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
                b.asFloatBuffer().put(v);
                return new Entry("F32", t.shape(), b.array());
            }
            long[] v = t.toLongArray();
            ByteBuffer b = ByteBuffer.allocate(8 * v.length).order(ByteOrder.LITTLE_ENDIAN);
            b.asLongBuffer().put(v);
            return new Entry("I64", t.shape(), b.array());
        }

        static Entry zeros(long... shape) {
            long n = 1;
            for (long d : shape) {
                n *= d;
            }
            return new Entry("F32", shape, new byte[(int) (4 * n)]);
        }
    }

    static Map<String, Entry> entries(StateDict sd) {
        Map<String, Entry> out = new LinkedHashMap<>();
        sd.asMap().forEach((k, t) -> out.put(k, Entry.of(t)));
        return out;
    }

    Path write(Map<String, Entry> entries, String name) throws IOException {
        ObjectMapper json = new ObjectMapper();
        ObjectNode header = json.createObjectNode();
        long offset = 0;
        List<byte[]> blobs = new ArrayList<>();
        for (Map.Entry<String, Entry> e : entries.entrySet()) {
            ObjectNode t = header.putObject(e.getKey());
            t.put("dtype", e.getValue().dtype());
            var shape = t.putArray("shape");
            for (long d : e.getValue().shape()) {
                shape.add(d);
            }
            t.putArray("data_offsets").add(offset).add(offset + e.getValue().data().length);
            offset += e.getValue().data().length;
            blobs.add(e.getValue().data());
        }
        byte[] text = json.writeValueAsString(header).getBytes(StandardCharsets.UTF_8);
        int pad = (8 - text.length % 8) % 8;
        Path file = tmp.resolve(name);
        try (OutputStream out = Files.newOutputStream(file)) {
            out.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(text.length + pad).array());
            out.write(text);
            out.write(" ".repeat(pad).getBytes(StandardCharsets.US_ASCII));
            for (byte[] b : blobs) {
                out.write(b);
            }
        }
        return file;
    }
}
