package dev.resnetzoo.zoo.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.function.BiFunction;
import java.util.stream.Collectors;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class TorchCheckpointReaderTest {

    /** The command in the malicious fixtures would create this file. */
    private static final Path PWNED_MARKER = Path.of("/tmp/resnetzoo-io-pwned-marker");

    @TempDir
    Path tmp;

    static List<String> validFiles() {
        return Fixtures.validFiles();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("validFiles")
    void everyValidFixtureRoundTripsExactly(String file) throws IOException {
        Fixtures.assertMatches(file, StateDict.read(Fixtures.path(file)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("validFiles")
    void openGivesTheSameTensorsReadingThemWhenConverted(String file) throws IOException {
        Fixtures.assertMatches(file, StateDict.open(Fixtures.path(file)));
    }

    @Test
    void openReadsNoStorageUntilATensorIsConverted() throws IOException {
        Path p = rewriteZip("zip_all.pth", (name, data) -> data);
        StateDict sd = StateDict.open(p);
        Files.delete(p);
        assertEquals(22, sd.size());
        assertArrayEquals(new long[] {2, 3, 3, 3}, sd.get("conv.weight").shape());
        assertEquals(40, sd.get("f32").storageBytes());
        UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> sd.get("f32").toFloats());
        assertTrue(e.getCause() instanceof java.nio.file.NoSuchFileException, e.toString());
        assertEquals(e.getCause().getMessage(), e.getMessage());
        assertEquals(0, sd.get("empty").toFloats().length, "an empty tensor needs no storage");
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"zip_all.pth", "legacy_all.pth", "zip_all_proto4.pth", "legacy_all_proto5.pth"})
    void torchReaderReadsBothFormatsDirectly(String file) throws IOException {
        Fixtures.assertMatches(file, TorchCheckpointReader.read(Fixtures.path(file)));
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"zip_all.pth", "legacy_all.pth"})
    void viewsOfOneStorageHonourOffsetAndStride(String file) throws IOException {
        StateDict sd = StateDict.read(Fixtures.path(file));
        float[] base = sd.get("base").toFloats(); // 3x4: -1.0, -0.5, ..., 4.5
        for (int i = 0; i < 12; i++) {
            assertEquals(i * 0.5f - 1f, base[i]);
        }
        float[] t = sd.get("transposed").toFloats(); // 4x3
        assertArrayEquals(new long[] {4, 3}, sd.get("transposed").shape());
        for (int r = 0; r < 4; r++) {
            for (int c = 0; c < 3; c++) {
                assertEquals(base[c * 4 + r], t[r * 3 + c]);
            }
        }
        assertArrayEquals(new float[] {base[5], base[6], base[9], base[10]}, sd.get("slice").toFloats());
        assertArrayEquals(new float[] {base[8], base[9], base[10], base[11]}, sd.get("row").toFloats());
        assertArrayEquals(new float[] {base[0], base[2], base[4], base[6], base[8], base[10]}, sd.get("step").toFloats());
        assertArrayEquals(new float[] {0, 1, 2, 0, 1, 2}, sd.get("expanded").toFloats());
        assertEquals(base[2 * 4 + 3], sd.get("transposed").toFloatArray().getFloat(3, 2), "INDArray indexing of a transposed view");
        assertEquals(base[10], sd.get("slice").toFloatArray().getFloat(1, 1));
    }

    @Test
    void scalarsAndEmptyTensors() throws IOException {
        StateDict sd = StateDict.read(Fixtures.path("zip_all.pth"));
        Tensor scalar = sd.get("scalar");
        assertEquals(0, scalar.rank());
        assertEquals(0, scalar.toFloatArray().rank());
        assertEquals(3.25f, scalar.toFloatArray().getFloat(0));
        assertArrayEquals(new long[] {7}, sd.get("bn.num_batches_tracked").toLongArray());
        Tensor empty = sd.get("empty");
        assertArrayEquals(new long[] {0, 3}, empty.shape());
        assertEquals(0, empty.numel());
        assertTrue(empty.toFloatArray().isEmpty());
    }

    @Test
    void nestedUnderStateDictOrModel() throws IOException {
        List<String> expected = List.of("conv.weight", "bn.num_batches_tracked");
        assertEquals(expected, StateDict.read(Fixtures.path("zip_nested_state_dict.pth")).keys());
        assertEquals(expected, StateDict.read(Fixtures.path("legacy_nested_model.pth")).keys());
    }

    @Test
    void archiveFolderNameIsFoundWhateverItIs() throws IOException {
        assertEquals(List.of("archive/data.pkl"), entriesNamed("zip_nested_state_dict.pth", "data.pkl"));
        assertEquals(List.of("zip_all/data.pkl"), entriesNamed("zip_all.pth", "data.pkl"));
    }

    private static List<String> entriesNamed(String file, String suffix) throws IOException {
        try (ZipFile z = new ZipFile(Fixtures.path(file).toFile())) {
            return z.stream().map(ZipEntry::getName).filter(n -> n.endsWith(suffix)).collect(Collectors.toList());
        }
    }

    @Test
    void dataParallelPrefixIsStrippedOnlyWhenEveryKeyHasIt() throws IOException {
        assertEquals(List.of("conv.weight", "bn.num_batches_tracked"),
                StateDict.read(Fixtures.path("zip_module_prefix.pth")).keys());
        assertEquals(List.of("conv.weight", "bn.num_batches_tracked", "module.extra"),
                StateDict.read(Fixtures.path("zip_partial_prefix.pth")).keys());
    }

    @Test
    void stateDictAccessors() throws IOException {
        StateDict sd = StateDict.read(Fixtures.path("zip_all.pth"));
        assertTrue(sd.contains("f32"));
        assertFalse(sd.contains("nope"));
        NoSuchElementException e = assertThrows(NoSuchElementException.class, () -> sd.get("nope"));
        assertTrue(e.getMessage().contains("'nope'"), e.getMessage());
        assertEquals(sd.keys(), List.copyOf(sd.asMap().keySet()));
        assertThrows(UnsupportedOperationException.class, () -> sd.keys().add("x"));
        assertThrows(UnsupportedOperationException.class, () -> sd.asMap().clear());
        assertEquals("StateDict[22 tensors]", sd.toString());
        assertEquals("Tensor[FLOAT32, 2x3x3x3]", sd.get("conv.weight").toString());
        IllegalStateException ise = assertThrows(IllegalStateException.class, () -> sd.get("f32").toLongArray());
        assertTrue(ise.getMessage().contains("FLOAT32"), ise.getMessage());
    }

    // ------------------------------------------------------------------ refusing malicious files

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"evil_p2.pkl", "evil_inst.pkl", "evil_legacy.pth", "evil_zip.pth"})
    void maliciousPicklesAreRefusedAndNothingRuns(String file) throws IOException {
        Files.deleteIfExists(PWNED_MARKER);
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class,
                () -> StateDict.read(Fixtures.path(file)));
        assertEquals("refusing to load global 'os.system' from " + file + ": only state_dict globals are allowed",
                e.getMessage());
        assertFalse(Files.exists(PWNED_MARKER), "the payload ran");
    }

    @Test
    void stackGlobalIsRefusedToo() throws IOException {
        Files.deleteIfExists(PWNED_MARKER);
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class,
                () -> TorchCheckpointReader.read(Fixtures.path("evil_p4.pkl")));
        assertTrue(e.getMessage().startsWith("refusing to load global 'posix.system' from evil_p4.pkl"), e.getMessage());
        assertFalse(Files.exists(PWNED_MARKER), "the payload ran");
    }

    @Test
    void aPickledModuleIsRefusedWithAHint() {
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class,
                () -> StateDict.read(Fixtures.path("zip_full_module.pth")));
        assertTrue(e.getMessage().startsWith("refusing to load global 'torch.nn.modules.linear.Linear' from "
                + "zip_full_module.pth: only state_dict globals are allowed"), e.getMessage());
        assertTrue(e.getMessage().contains("model.state_dict()"), e.getMessage());
    }

    // ------------------------------------------------------------------ not checkpoints

    @Test
    void filesThatAreNoCheckpointGiveClearErrors() {
        assertMessage("not_a_checkpoint.txt", "not_a_checkpoint.txt is not a checkpoint: expected a PyTorch zip "
                + "archive, a legacy PyTorch pickle or a safetensors file, but it starts with bytes 68 65 6c 6c 6f 2c 20 49 20");
        assertMessage("empty.bin", "empty.bin is empty, not a checkpoint");
        assertMessage("plain.zip", "plain.zip is a zip archive but not a PyTorch checkpoint: it has no "
                + "<archive>/data.pkl entry");
        assertMessage("pickle_not_torch.pkl", "pickle_not_torch.pkl is a pickle but not a PyTorch checkpoint: it does "
                + "not start with the torch.save magic number");
    }

    private static void assertMessage(String file, String expected) {
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class,
                () -> StateDict.read(Fixtures.path(file)));
        assertEquals(expected, e.getMessage());
    }

    @Test
    void torchReaderRejectsSafetensors() {
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class,
                () -> TorchCheckpointReader.read(Fixtures.path("st_all.safetensors")));
        assertTrue(e.getMessage().startsWith("st_all.safetensors is not a PyTorch checkpoint"), e.getMessage());
    }

    // ------------------------------------------------------------------ damaged checkpoints

    @Test
    void missingStorageEntry() throws IOException {
        Path p = rewriteZip("zip_all.pth", (name, data) -> name.equals("zip_all/data/0") ? null : data);
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> StateDict.read(p));
        assertEquals("damaged.pth: storage '0' is referenced but zip_all/data/0 is missing", e.getMessage());
    }

    @Test
    void storageShorterThanItsTensor() throws IOException {
        Path p = rewriteZip("zip_all.pth",
                (name, data) -> name.equals("zip_all/data/0") ? Arrays.copyOf(data, data.length - 4) : data);
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> StateDict.read(p));
        assertEquals("damaged.pth: storage 'zip_all/data/0' declares 40 bytes (10 FLOAT32 elements) but its zip entry "
                + "holds 36: refusing", e.getMessage());
    }

    @Test
    void truncatedLegacyFile() throws IOException {
        byte[] all = Files.readAllBytes(Fixtures.path("legacy_all.pth"));
        Path p = tmp.resolve("cut.pth");
        Files.write(p, Arrays.copyOf(all, all.length - 3));
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> StateDict.read(p));
        assertTrue(e.getMessage().startsWith("cut.pth: storage '"), e.getMessage());
        assertTrue(e.getMessage().contains("bytes are left in the file"), e.getMessage());

        Files.write(p, Arrays.copyOf(all, 200));
        e = assertThrows(CheckpointFormatException.class, () -> StateDict.read(p));
        assertTrue(e.getMessage().startsWith("malformed pickle in cut.pth at byte "), e.getMessage());
        assertTrue(e.getMessage().contains("truncated"), e.getMessage());
    }

    @Test
    void tensorReachingPastItsStorage() throws IOException {
        // make the 'f32' storage (key 0, 10 elements) declare 9 elements in data.pkl
        Path p = rewriteZip("zip_all.pth", (name, data) -> {
            if (!name.endsWith("data.pkl")) {
                return data;
            }
            // persistent id ('storage', FloatStorage, '0', 'cpu', 10): the numel is BININT1 0x0a after 'cpu'
            byte[] cpu0 = {'c', 'p', 'u'};
            for (int i = 0; i + 6 < data.length; i++) {
                if (data[i] == cpu0[0] && data[i + 1] == cpu0[1] && data[i + 2] == cpu0[2]) {
                    int k = i + 3;
                    while (data[k] != 'K') {
                        k++;
                    }
                    if (data[k + 1] == 10) {
                        data[k + 1] = 9;
                        return data;
                    }
                }
            }
            throw new AssertionError("pattern not found");
        });
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> StateDict.read(p));
        assertEquals("damaged.pth: tensor 'f32' (size [10], stride [1], offset 0) reaches element 9 but its FLOAT32 "
                + "storage '0' has only 9 elements", e.getMessage());
    }

    @Test
    void hugeExpandedTensorIsRefusedBeforeAllocating() throws IOException {
        // {'x': _rebuild_tensor_v2(<1-element FloatStorage>, 0, (2^30, 2^30), (0, 0), False, OrderedDict())}
        byte[] pkl = pickle(0x80, 2, "ccollections\nOrderedDict\n)R", "X", le(1), "x",
                "ctorch._utils\n_rebuild_tensor_v2\n(",
                "(X", le(7), "storagectorch\nFloatStorage\nX", le(1), "0X", le(3), "cpuK", 1, "tQ",
                "K", 0, "(J", le(1 << 30), "J", le(1 << 30), "t(K", 0, "K", 0, "t", 0x89,
                "ccollections\nOrderedDict\n)RtRs.");
        Path p = zipOf("huge.pth", "arch/data.pkl", pkl, "arch/data/0", new byte[4]);
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> StateDict.read(p));
        assertEquals("huge.pth: tensor 'x' has 1152921504606846976 elements, more than supported", e.getMessage());

        // the same with a sane size reads fine, as a broadcast copy
        byte[] ok = pickle(0x80, 2, "ccollections\nOrderedDict\n)R", "X", le(1), "x",
                "ctorch._utils\n_rebuild_tensor_v2\n(",
                "(X", le(7), "storagectorch\nFloatStorage\nX", le(1), "0X", le(3), "cpuK", 1, "tQ",
                "K", 0, "(K", 2, "K", 3, "t(K", 0, "K", 0, "t", 0x89,
                "ccollections\nOrderedDict\n)RtRs.");
        Path q = zipOf("ok.pth", "arch/data.pkl", ok, "arch/data/0", new byte[] {0, 0, (byte) 0xc0, 0x3f});
        assertArrayEquals(new float[] {1.5f, 1.5f, 1.5f, 1.5f, 1.5f, 1.5f}, StateDict.read(q).get("x").toFloats());
    }

    @Test
    void expandedTensorsNeedingMoreThanTheHeapAreRefusedBeforeAllocating() throws IOException {
        // 40 tensors of 2^27 elements, each a stride-0 view of one float: 1.4 KB of file, 20 GiB to copy out
        java.io.ByteArrayOutputStream pkl = new java.io.ByteArrayOutputStream();
        pkl.writeBytes(pickle(0x80, 2, "}"));
        for (int i = 0; i < 40; i++) {
            String key = "t" + i;
            pkl.writeBytes(pickle("X", le(key.length()), key, "ctorch._utils\n_rebuild_tensor_v2\n(",
                    "(X", le(7), "storagectorch\nFloatStorage\nX", le(1), "0X", le(3), "cpuK", 1, "tQ",
                    "K", 0, "J", le(1 << 27), 0x85, "K", 0, 0x85, 0x89, "ccollections\nOrderedDict\n)RtRs"));
        }
        pkl.write('.');
        Path p = zipOf("many.pth", "arch/data.pkl", pkl.toByteArray(), "arch/data/0", new byte[4]);
        assertTrue(Files.size(p) < 4096);
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> StateDict.read(p));
        assertTrue(e.getMessage().startsWith("many.pth: its tensors need 21,474,836,484 bytes of memory (the largest, "
                + "'t0', 536,870,912), more than the "), e.getMessage());
        assertTrue(e.getMessage().endsWith(" bytes free in the Java heap: refusing (a genuine checkpoint this "
                + "large needs a larger -Xmx)"), e.getMessage());
    }

    @Test
    void aPickleInflatingToHundredsOfMegabytesIsRefusedBeforeInflating() throws IOException {
        // data.pkl: None, then 200 million MEMOIZE opcodes; deflated to a few hundred KB
        Path p = tmp.resolve("memo.pth");
        try (ZipOutputStream zos = new ZipOutputStream(Files.newOutputStream(p))) {
            zos.setLevel(1);
            zos.putNextEntry(new ZipEntry("arch/data.pkl"));
            zos.write(pickle(0x80, 2, "N"));
            byte[] memoize = new byte[1 << 20];
            Arrays.fill(memoize, (byte) 0x94);
            for (int i = 0; i < 200; i++) {
                zos.write(memoize);
            }
            zos.write('.');
            zos.closeEntry();
        }
        assertTrue(Files.size(p) < 2_000_000, "a small file: " + Files.size(p));
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> StateDict.read(p));
        assertEquals("memo.pth: arch/data.pkl declares 209,715,204 bytes, more than the 16,777,216 a state_dict "
                + "pickle may have: refusing", e.getMessage());
    }

    @Test
    void aDeflatedPickleOfMillionsOfEmptyContainersIsRefusedBeforeInflating() throws IOException {
        // data.pkl: 12 million EMPTY_SET opcodes, under the 16 MiB cap but deflated to a few KB; each
        // would become a Java set of about 100 bytes
        Path p = tmp.resolve("sets.pth");
        try (ZipOutputStream zos = new ZipOutputStream(Files.newOutputStream(p))) {
            zos.putNextEntry(new ZipEntry("arch/data.pkl"));
            zos.write(pickle(0x80, 2));
            byte[] sets = new byte[1 << 20];
            Arrays.fill(sets, (byte) 0x8f);
            for (int i = 0; i < 12; i++) {
                zos.write(sets);
            }
            zos.write('.');
            zos.closeEntry();
        }
        long size = Files.size(p);
        assertTrue(size < 100_000, "a small file: " + size);
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> StateDict.read(p));
        assertTrue(e.getMessage().matches("sets\\.pth: arch/data\\.pkl inflates from [0-9,]+ to 12,582,915 bytes, "
                + "more than 32 times its compressed size \\(torch stores it uncompressed, and a pickle deflates "
                + "about 4 times\\): refusing"), e.getMessage());
    }

    @Test
    void aStoredPickleOfMillionsOfEmptyContainersIsRefusedBeforeItFillsTheHeap() throws IOException {
        // data.pkl stored as torch stores it: 2 million EMPTY_SET opcodes, each a Java set of about
        // 100 bytes, where no real pickle builds more than about 50 bytes of objects per byte
        byte[] sets = new byte[2 << 20];
        Arrays.fill(sets, (byte) 0x8f);
        Path p = tmp.resolve("stored.pth");
        try (ZipOutputStream zos = new ZipOutputStream(Files.newOutputStream(p))) {
            byte[] pkl = pickle(0x80, 2, sets, ".");
            ZipEntry e = new ZipEntry("arch/data.pkl");
            e.setMethod(ZipEntry.STORED);
            e.setSize(pkl.length);
            CRC32 crc = new CRC32();
            crc.update(pkl);
            e.setCrc(crc.getValue());
            zos.putNextEntry(e);
            zos.write(pkl);
            zos.closeEntry();
        }
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> StateDict.read(p));
        assertTrue(e.getMessage().matches("malformed pickle in stored\\.pth:arch/data\\.pkl at byte [0-9]+: the pickle "
                + "builds more than [0-9,]+ bytes of objects from its 2,097,155 bytes \\(at most 64 per byte, and "
                + "half the free heap\\): refusing"), e.getMessage());
    }

    @Test
    void aLegacyPickleLongerThanAStateDictNeedsIsRefused() throws IOException {
        // the magic number, protocol and sys_info pickles of a real file, then 20 MiB of None-and-POP
        byte[] real = Files.readAllBytes(Fixtures.path("legacy_all.pth"));
        java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(real);
        for (int i = 0; i < 3; i++) {
            Unpickler u = new Unpickler(b, "x", new TorchAllowList.DataOnlyHooks("x"));
            u.load();
            b.position(u.position());
        }
        Path p = tmp.resolve("long.pth");
        try (OutputStream out = Files.newOutputStream(p)) {
            out.write(real, 0, b.position());
            out.write(pickle(0x80, 2, "N"));
            byte[] noneAndPop = "N0".repeat(1 << 19).getBytes(java.nio.charset.StandardCharsets.US_ASCII);
            for (int i = 0; i < 20; i++) {
                out.write(noneAndPop);
            }
            out.write('.');
        }
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> StateDict.read(p));
        assertTrue(e.getMessage().startsWith("malformed pickle in long.pth at byte "), e.getMessage());
        assertTrue(e.getMessage().endsWith(": the pickle is longer than the 16,777,216 bytes a state_dict pickle may "
                + "have: refusing"), e.getMessage());
    }

    @Test
    void deflatedStoragesInflatingFarBeyondTheFileAreRefusedBeforeInflating() throws IOException {
        // {'w': a FloatStorage of 20 Mi elements: 80 MiB of zeros, deflated to about 80 KB}
        byte[] pkl = pickle(0x80, 2, "}X", le(1), "w", "ctorch._utils\n_rebuild_tensor_v2\n(",
                "(X", le(7), "storagectorch\nFloatStorage\nX", le(1), "0X", le(3), "cpuJ", le(20 << 20), "tQ",
                "K", 0, "J", le(20 << 20), 0x85, "K", 1, 0x85, 0x89, "ccollections\nOrderedDict\n)RtRs.");
        Path p = zipOf("bomb.pth", "arch/data.pkl", pkl, "arch/data/0", new byte[20 << 22]);
        assertTrue(Files.size(p) < 200_000, "a small file: " + Files.size(p));
        for (ThrowingReader reader : List.<ThrowingReader>of(StateDict::read, StateDict::open)) {
            CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> reader.read(p));
            assertTrue(e.getMessage().matches("bomb\\.pth: its storages inflate from [0-9,]+ to 83,886,080 bytes, "
                    + "more than 32 times their compressed size: refusing \\(torch stores them uncompressed\\)"),
                    e.getMessage());
        }
    }

    private interface ThrowingReader {
        StateDict read(Path file) throws IOException;
    }

    @Test
    void storageEntriesMustHoldWhatThePickleDeclaresAndFitTheBudget() throws IOException {
        // {'w': a FloatStorage of 4 Mi elements (16 MiB of zeros, deflated to a few KB)}
        byte[] pkl = pickle(0x80, 2, "}X", le(1), "w", "ctorch._utils\n_rebuild_tensor_v2\n(",
                "(X", le(7), "storagectorch\nFloatStorage\nX", le(1), "0X", le(3), "cpuJ", le(1 << 22), "tQ",
                "K", 0, "J", le(1 << 22), 0x85, "K", 1, 0x85, 0x89, "ccollections\nOrderedDict\n)RtRs.");
        Path p = zipOf("deflated.pth", "arch/data.pkl", pkl, "arch/data/0", new byte[1 << 24]);
        assertTrue(Files.size(p) < 100_000);
        assertEquals(1 << 22, ZipCheckpoint.read(p, 1L << 25).get("w").numel());
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class,
                () -> ZipCheckpoint.read(p, 1L << 20));
        assertEquals("deflated.pth: its tensors need 16,777,216 bytes of memory (the largest, 'w', 16,777,216), more "
                + "than the 1,048,576 bytes free in the Java heap: refusing (a genuine checkpoint this large needs a "
                + "larger -Xmx)", e.getMessage());

        // the pickle declares 4 Mi elements but the entry holds 1,024 bytes
        Path q = zipOf("short.pth", "arch/data.pkl", pkl, "arch/data/0", new byte[1024]);
        e = assertThrows(CheckpointFormatException.class, () -> StateDict.read(q));
        assertEquals("short.pth: storage 'arch/data/0' declares 16,777,216 bytes (4,194,304 FLOAT32 elements) but its "
                + "zip entry holds 1,024: refusing", e.getMessage());
    }

    @Test
    void legacyStorageViewsOfOldTorchVersions() throws IOException {
        // reuse the magic number, protocol version and sys_info pickles of a real legacy file
        byte[] real = Files.readAllBytes(Fixtures.path("legacy_all.pth"));
        java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(real);
        for (int i = 0; i < 3; i++) {
            Unpickler u = new Unpickler(b, "x", new TorchAllowList.DataOnlyHooks("x"));
            u.load();
            b.position(u.position());
        }
        byte[] header = Arrays.copyOf(real, b.position());
        // {'v': _rebuild_tensor_v2(<view of elements 1..3 of storage 'k'>, 1, (2,), (1,), False, OrderedDict())}
        byte[] main = pickle(0x80, 2, "}X", le(1), "v", "ctorch._utils\n_rebuild_tensor_v2\n(",
                "(X", le(7), "storagectorch\nFloatStorage\nX", le(1), "kX", le(3), "cpuK", 4,
                "X", le(2), "v1K", 1, "K", 3, 0x87, "tQ",
                "K", 1, "K", 2, 0x85, "K", 1, 0x85, 0x89, "ccollections\nOrderedDict\n)RtRs.");
        byte[] keys = pickle(0x80, 2, "]X", le(1), "ka.");
        java.nio.ByteBuffer data = java.nio.ByteBuffer.allocate(24).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        data.putLong(4).putFloat(0f).putFloat(1f).putFloat(2f).putFloat(3f);
        Path p = tmp.resolve("views.pth");
        Files.write(p, pickle(header, main, keys, data.array()));
        assertArrayEquals(new float[] {2f, 3f}, StateDict.read(p).get("v").toFloats());
    }

    private static byte[] le(int v) {
        return new byte[] {(byte) v, (byte) (v >>> 8), (byte) (v >>> 16), (byte) (v >>> 24)};
    }

    private static byte[] pickle(Object... parts) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        for (Object p : parts) {
            if (p instanceof String) {
                out.writeBytes(((String) p).getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
            } else if (p instanceof Integer) {
                out.write((Integer) p);
            } else {
                out.writeBytes((byte[]) p);
            }
        }
        return out.toByteArray();
    }

    private Path zipOf(String name, Object... entries) throws IOException {
        Path out = tmp.resolve(name);
        try (ZipOutputStream zos = new ZipOutputStream(Files.newOutputStream(out))) {
            for (int i = 0; i < entries.length; i += 2) {
                zos.putNextEntry(new ZipEntry((String) entries[i]));
                zos.write((byte[]) entries[i + 1]);
                zos.closeEntry();
            }
        }
        return out;
    }

    /** Copies a fixture zip into damaged.pth, passing each entry through {@code edit} (null drops it). */
    private Path rewriteZip(String fixture, BiFunction<String, byte[], byte[]> edit) throws IOException {
        Path out = tmp.resolve("damaged.pth");
        try (ZipFile in = new ZipFile(Fixtures.path(fixture).toFile());
             OutputStream os = Files.newOutputStream(out);
             ZipOutputStream zos = new ZipOutputStream(os)) {
            for (ZipEntry e : Collections.list(in.entries())) {
                byte[] data;
                try (InputStream is = in.getInputStream(e)) {
                    data = is.readAllBytes();
                }
                data = edit.apply(e.getName(), data);
                if (data == null) {
                    continue;
                }
                ZipEntry ne = new ZipEntry(e.getName());
                ne.setMethod(ZipEntry.STORED);
                ne.setSize(data.length);
                CRC32 crc = new CRC32();
                crc.update(data);
                ne.setCrc(crc.getValue());
                zos.putNextEntry(ne);
                zos.write(data);
                zos.closeEntry();
            }
        }
        return out;
    }
}
