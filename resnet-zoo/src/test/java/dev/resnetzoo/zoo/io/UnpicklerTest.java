package dev.resnetzoo.zoo.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;

import com.fasterxml.jackson.databind.JsonNode;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import dev.resnetzoo.zoo.io.PickleValues.Tuple;

class UnpicklerTest {

    /** Hooks that refuse everything and record whether anything but a global lookup was attempted. */
    static final class RefuseAll implements Unpickler.Hooks {
        final List<String> calls = new ArrayList<>();

        @Override
        public Object global(String module, String name) throws CheckpointFormatException {
            calls.add("global " + module + "." + name);
            throw new CheckpointFormatException("refused " + module + "." + name);
        }

        @Override
        public Object call(Object callable, Tuple args) throws CheckpointFormatException {
            calls.add("call");
            throw new CheckpointFormatException("call");
        }

        @Override
        public Object build(Object target, Object state) throws CheckpointFormatException {
            calls.add("build");
            throw new CheckpointFormatException("build");
        }

        @Override
        public Object persistentLoad(Object pid) throws CheckpointFormatException {
            calls.add("persistent " + pid);
            return "P(" + pid + ")";
        }
    }

    static Object load(byte[] pickle) throws CheckpointFormatException {
        return new Unpickler(ByteBuffer.wrap(pickle), "test.pkl", new RefuseAll()).load();
    }

    @ParameterizedTest(name = "protocol {0}")
    @ValueSource(ints = {0, 1, 2, 3, 4, 5})
    void picklesOfEveryProtocolWrittenByCPython(int protocol) throws IOException, NoSuchAlgorithmException {
        String file = "plain_p" + protocol + ".pkl";
        Object value = new Unpickler(ByteBuffer.wrap(Files.readAllBytes(Fixtures.path(file))), file, new RefuseAll())
                .load();
        String canon = canon(value);
        JsonNode exp = Fixtures.expected().get("pickles").get(file);
        byte[] utf8 = canon.getBytes(StandardCharsets.UTF_8);
        assertEquals(exp.get("length").asInt(), utf8.length, canon);
        assertEquals(exp.get("sha256").asText(), HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(utf8)),
                canon);
        Map<?, ?> m = (Map<?, ?>) value;
        assertSame(m.get("shared_a"), m.get("shared_b"), "memo must return the same object");
        assertEquals(BigInteger.TWO.pow(70), m.get("big"));
        assertEquals(Long.MAX_VALUE, m.get("int64_max"));
        assertEquals("int key", ((Map<?, ?>) m.get("keys")).get(1L));
        assertEquals("tuple key", ((Map<?, ?>) m.get("keys")).get(new Tuple(1L, 2L)));
        assertEquals("none key", ((Map<?, ?>) m.get("keys")).get(null));
    }

    /** Same canonical text as canon() in make_io_fixtures.py. */
    static String canon(Object v) {
        if (v == null) {
            return "N";
        }
        if (v instanceof Boolean) {
            return (Boolean) v ? "T" : "F";
        }
        if (v instanceof Long || v instanceof BigInteger) {
            return "i" + v;
        }
        if (v instanceof Double) {
            return "f" + Double.doubleToRawLongBits((Double) v);
        }
        if (v instanceof String) {
            return "s" + HexFormat.of().formatHex(((String) v).getBytes(StandardCharsets.UTF_8));
        }
        if (v instanceof byte[]) {
            return "b" + HexFormat.of().formatHex((byte[]) v);
        }
        if (v instanceof Tuple) {
            return "(" + join(((Tuple) v).asList()) + ")";
        }
        if (v instanceof List) {
            return "[" + join((List<?>) v) + "]";
        }
        if (v instanceof Set) {
            return "<" + join(new ArrayList<>((Set<?>) v)) + ">";
        }
        if (v instanceof Map) {
            StringBuilder sb = new StringBuilder("{");
            for (Map.Entry<?, ?> e : ((Map<?, ?>) v).entrySet()) {
                sb.append(sb.length() == 1 ? "" : ",").append(canon(e.getKey())).append(':').append(canon(e.getValue()));
            }
            return sb.append('}').toString();
        }
        throw new AssertionError(v.getClass());
    }

    private static String join(List<?> items) {
        StringBuilder sb = new StringBuilder();
        for (Object o : items) {
            sb.append(sb.length() == 0 ? "" : ",").append(canon(o));
        }
        return sb.toString();
    }

    // ------------------------------------------------------------------ hand-written pickles

    private static byte[] bytes(Object... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (Object p : parts) {
            if (p instanceof String) {
                out.writeBytes(((String) p).getBytes(StandardCharsets.ISO_8859_1));
            } else if (p instanceof Integer) {
                out.write((Integer) p);
            } else {
                out.writeBytes((byte[]) p);
            }
        }
        return out.toByteArray();
    }

    @Test
    void globalsAreRefusedBeforeAnythingIsCalled() {
        RefuseAll hooks = new RefuseAll();
        byte[] p = bytes(0x80, 2, "cbuiltins\neval\n", "X", new byte[] {2, 0, 0, 0}, "42", 0x85, "R.");
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class,
                () -> new Unpickler(ByteBuffer.wrap(p), "t", hooks).load());
        assertEquals("refused builtins.eval", e.getMessage());
        assertEquals(List.of("global builtins.eval"), hooks.calls);
    }

    @Test
    void perInstanceAllowLists() throws IOException {
        // the same bytes mean different things under different hooks: no global registry
        byte[] p = bytes(0x80, 2, "ccollections\nOrderedDict\n)R.");
        assertThrows(CheckpointFormatException.class, () -> load(p));
        Object od = new Unpickler(ByteBuffer.wrap(p), "t", new TorchAllowList.TorchHooks("t", false)).load();
        assertEquals(Map.of(), od);
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class,
                () -> new Unpickler(ByteBuffer.wrap(p), "t", new TorchAllowList.DataOnlyHooks("x.pth")).load());
        assertEquals("refusing to load global 'collections.OrderedDict' from x.pth: only state_dict globals are allowed",
                e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {"torch._utils._rebuild_tensor_v2x", "torch.storage._load_from_bytes", "torch.load",
        "__builtin__.eval", "builtins.getattr", "collections.OrderedDict.fromkeys", "torch._utils._rebuild_qtensor",
        "torch.FloatStorage.from_file", "numpy.core.multiarray._reconstruct"})
    void nearMissesAreNotOnTheTorchAllowList(String qualified) {
        int dot = qualified.lastIndexOf('.');
        byte[] p = bytes(0x80, 2, "c", qualified.substring(0, dot), "\n", qualified.substring(dot + 1), "\n.");
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class,
                () -> new Unpickler(ByteBuffer.wrap(p), "t", new TorchAllowList.TorchHooks("m.pth", false)).load());
        assertTrue(e.getMessage().startsWith("refusing to load global '" + qualified + "' from m.pth: "), e.getMessage());
    }

    @Test
    void storageTypesCannotBeCalled() {
        byte[] p = bytes(0x80, 2, "ctorch\nFloatStorage\n)R.");
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class,
                () -> new Unpickler(ByteBuffer.wrap(p), "t", new TorchAllowList.TorchHooks("m.pth", false)).load());
        assertEquals("m.pth: refusing to call torch.FloatStorage: only state_dict rebuild functions may be called",
                e.getMessage());
    }

    @Test
    void persistentIdsGoToTheHooks() throws IOException {
        assertEquals("P(abc)", load(bytes("Pabc\n.")));
        assertEquals("P(('s', 1))", load(bytes(0x80, 2, "X", new byte[] {1, 0, 0, 0}, "sK", 1, 0x86, "Q.")));
    }

    @Test
    void sequentialPicklesAndPosition() throws IOException {
        byte[] p = bytes(0x80, 2, "K", 7, ".", 0x80, 2, "N.", "rest");
        ByteBuffer b = ByteBuffer.wrap(p);
        Unpickler u = new Unpickler(b, "t", new RefuseAll());
        assertEquals(7L, u.load());
        assertEquals(5, u.position());
        assertEquals(0, b.position(), "the caller's buffer is not moved");
        assertEquals(null, u.load());
        assertEquals(9, u.position());
    }

    @Test
    void protocol0Literals() throws IOException {
        assertEquals(List.of(Boolean.TRUE, Boolean.FALSE, 12L, new BigInteger("123456789012345678901234567890"),
                -3L, 2.5, "a\n'b\u00e9"),
                new ArrayList<>((List<?>) load(bytes("(lp0\nI01\naI00\naI12\naL123456789012345678901234567890L\naL-3\n",
                        "aF2.5\naS'a\\n\\'b\\xc3\\xa9'\na."))));
        assertEquals("\u2603x\\", load(bytes("V\\u2603x\\\n.")));
        assertEquals(new Tuple(1L, 2L), load(bytes("(I1\nI2\nt.")));
        assertEquals(Map.of("k", 1L), load(bytes("(S'k'\nI1\nd.")));
    }

    @Test
    void cyclesAndDeepNestingCannotOverflowTheStack() throws IOException {
        // L = []; t = (L,); L.append(t); {t: 1}  -> t is unhashable, and hashing it would never end
        byte[] cyclicKey = bytes("}]q", 0, 0x85, "q", 1, "0h", 0, "h", 1, "a0h", 1, "K", 1, "s.");
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> load(cyclicKey));
        assertEquals("malformed pickle in test.pkl at byte 18: unhashable list used as a dict key or set member",
                e.getMessage());

        byte[] deep = bytes("})", "\u0085".repeat(100), "K", 1, "s.");
        e = assertThrows(CheckpointFormatException.class, () -> load(deep));
        assertEquals("malformed pickle in test.pkl at byte 104: a tuple nested more than 32 deep used as a dict key "
                + "or set member", e.getMessage());

        // a list containing itself, handed over as a persistent id: the error message stays short
        byte[] selfList = bytes(0x80, 2, "]q", 0, "h", 0, "aQ.");
        e = assertThrows(CheckpointFormatException.class, () -> new Unpickler(ByteBuffer.wrap(selfList), "t",
                new TorchAllowList.TorchHooks("m.pth", false)).load());
        assertEquals("m.pth: unsupported persistent id [[[[...]]]] (expected ('storage', type, key, location, numel))",
                e.getMessage());

        // deep nesting of values (not keys) is fine: no recursion while unpickling
        byte[] deepValue = bytes(")", "\u0085".repeat(100_000), ".");
        assertTrue(load(deepValue) instanceof Tuple);
    }

    @Test
    @Timeout(value = 10, threadMode = Timeout.ThreadMode.SEPARATE_THREAD) // a CPU loop ignores interrupts
    void aKeyOfSharedSubTuplesCannotMakeHashingExponential() throws IOException {
        // t0 = (1, 1, 1); t(i+1) = (ti, ti, ti), 30 deep: 87 bytes, but 3^30 leaves when expanded
        byte[] dag = bytes("}K", 1, "\u0032\u0032\u0087".repeat(30), "K", 1, "s.");
        assertTrue(dag.length < 100);
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> load(dag));
        assertEquals("malformed pickle in test.pkl at byte 95: a tuple of more than 4096 items (counting shared "
                + "sub-tuples each time they occur) used as a dict key or set member", e.getMessage());

        // the same through OrderedDict([(key, 1)]), which torch's own pickles use
        byte[] od = bytes(0x80, 2, "ccollections\nOrderedDict\n(]K", 1, "\u0032\u0032\u0087".repeat(30),
                "K", 1, 0x86, "at", "R.");
        e = assertThrows(CheckpointFormatException.class, () -> new Unpickler(ByteBuffer.wrap(od), "t",
                new TorchAllowList.TorchHooks("m.pth", false)).load());
        assertTrue(e.getMessage().startsWith("m.pth: unexpected arguments to collections.OrderedDict"), e.getMessage());

        // small tuple keys stay fine
        assertEquals(Map.of(new Tuple(new Tuple(1L, 1L), new Tuple(1L, 1L)), 1L),
                load(bytes("}K", 1, "\u0032\u0086\u0032\u0086K", 1, "s.")));
    }

    @Test
    @Timeout(value = 1, threadMode = Timeout.ThreadMode.SEPARATE_THREAD) // a CPU loop ignores interrupts
    void aLargeKeyUsedOverAndOverCannotHoldTheCpu() throws IOException {
        // t = a DAG of 1,092 items when expanded (under the per-key limit), memoized, then used as
        // the key of a million SETITEMs of 5 bytes each: each one hashed and checked in full, and
        // the eighth one passes the total
        byte[] dag = bytes("K", 1, "\u0032\u0032\u0087".repeat(6), "q", 0, "0");
        byte[] setItems = bytes("}", dag, "h\u0000K\u0001s".repeat(1_000_000), ".");
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> load(setItems));
        assertEquals("malformed pickle in test.pkl at byte 63: tuple dict keys and set members of more than 8,192 "
                + "items in all (counting shared sub-tuples each time they occur): refusing", e.getMessage());

        // the same through OrderedDict([(t, 1), (t, 1), ...]), built by the torch allow-list
        byte[] pairs = bytes(0x80, 2, "ccollections\nOrderedDict\n(]", dag, "h\u0000K\u0001\u0086a".repeat(200_000),
                "tR.");
        e = assertThrows(CheckpointFormatException.class, () -> new Unpickler(ByteBuffer.wrap(pairs), "t",
                new TorchAllowList.TorchHooks("m.pth", false)).load());
        assertTrue(e.getMessage().startsWith("m.pth: unexpected arguments to collections.OrderedDict"), e.getMessage());

        // a few thousand small tuple keys are fine
        byte[] small = bytes("}", "K\u0001K\u0002\u0086K\u0001s".repeat(4000), ".");
        assertEquals(1, ((Map<?, ?>) load(small)).size());
    }

    @Test
    void theMemoCannotOutgrowThePickle() throws IOException {
        // 100,000 MEMOIZE opcodes of one byte each: every real memo entry costs at least two bytes
        byte[] p = bytes("K", 1, "\u0094".repeat(100_000), ".");
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> load(p));
        assertEquals("malformed pickle in test.pkl at byte 50019: more than 50,017 memo entries in a pickle of "
                + "100,003 bytes (every entry takes at least 2 bytes): refusing", e.getMessage());

        // two bytes per entry is what a pickle of many small objects needs, and is fine
        byte[] ok = bytes(0x80, 4, "(", "]\u0094".repeat(10_000), "l.");
        assertEquals(10_000, ((List<?>) load(ok)).size());
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "X\u00ff\u00ff\u00ff\u007f.:malformed pickle in test.pkl at byte 0: length 2147483647 exceeds the 1 bytes left",
        "\u008d\u00ff\u00ff\u00ff\u00ff\u00ff\u00ff\u00ff\u00ff.:malformed pickle in test.pkl at byte 0: length 18446744073709551615 exceeds the 1 bytes left",
        "\u0080\u0006.:malformed pickle in test.pkl at byte 0: unsupported pickle protocol 6",
        "\u00ff:malformed pickle in test.pkl at byte 0: unknown pickle opcode 0xff",
        "a.:malformed pickle in test.pkl at byte 0: stack underflow",
        "h\u0005.:malformed pickle in test.pkl at byte 0: memo key 5 not defined",
        "\u0082\u0001.:malformed pickle in test.pkl at byte 0: the copyreg extension registry (EXT opcodes) is not supported",
        "\u0097.:malformed pickle in test.pkl at byte 0: out-of-band pickle buffers are not supported",
        "K\u0001K\u0002.:malformed pickle in test.pkl at byte 4: STOP with 2 values on the stack",
        "K\u0001:malformed pickle in test.pkl at byte 2: truncated (needs 1 more bytes, 0 left)",
        "}]K\u0001s.:malformed pickle in test.pkl at byte 4: unhashable list used as a dict key or set member",
        "e.:malformed pickle in test.pkl at byte 0: no MARK on the stack",
        "(.:malformed pickle in test.pkl at byte 1: unexpected MARK on the stack",
        "Iabc\n.:malformed pickle in test.pkl at byte 0: bad integer literal 'abc'",
        "K\u0001)\u0081.:malformed pickle in test.pkl at byte 3: call",
        "]K\u0001K\u0002s.:malformed pickle in test.pkl at byte 5: SETITEM on list",
        "F1.5f\n.:malformed pickle in test.pkl at byte 0: bad FLOAT literal '1.5f'",
        "cos:malformed pickle in test.pkl at byte 0: truncated (no end of line)",
    })
    void malformedPicklesFailCleanly(String spec) {
        int sep = spec.indexOf(":malformed");
        byte[] p = spec.substring(0, sep).getBytes(StandardCharsets.ISO_8859_1);
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> load(p));
        String expected = spec.substring(sep + 1);
        if (expected.endsWith(": call")) {
            assertEquals("call", e.getMessage()); // NEWOBJ goes through the hooks like REDUCE
        } else {
            assertEquals(expected, e.getMessage());
        }
    }
}
