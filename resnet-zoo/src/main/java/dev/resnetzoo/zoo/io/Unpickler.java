package dev.resnetzoo.zoo.io;

import static dev.resnetzoo.zoo.io.PickleValues.typeName;

import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;

import dev.resnetzoo.zoo.io.PickleValues.KeyCheck;
import dev.resnetzoo.zoo.io.PickleValues.Tuple;

/**
 * A small, data-only interpreter for the Python pickle format, protocols 0 to 5.
 *
 * <p>It builds plain Java values: {@code null} for None, {@link Boolean}, {@link Long} (or
 * {@link BigInteger} when a Python int does not fit), {@link Double}, {@link String}, {@code byte[]},
 * {@link ArrayList} for lists, {@link Tuple} for tuples, {@link LinkedHashMap} for dicts and
 * {@link LinkedHashSet} for sets. It never imports, instantiates or calls anything on its own:
 * every global, call ({@code REDUCE}, {@code NEWOBJ}, {@code INST}, {@code OBJ}), {@code BUILD} and
 * persistent id is handed to the {@link Hooks} given to the constructor, which decides per instance
 * what is allowed. There is no shared or static registry. Out-of-band buffers and the copyreg
 * extension registry are not supported.
 *
 * <p>One instance reads one pickle from the current position of its buffer and leaves the position
 * just after the STOP opcode, so several pickles stored back to back can be read in turn.
 */
final class Unpickler {

    /** Decides what globals, calls and persistent ids mean. Implementations throw to refuse. */
    interface Hooks {
        /** Resolves {@code module.name} to a value, or refuses it. */
        Object global(String module, String name) throws CheckpointFormatException;

        /** Applies a callable (a value returned by {@link #global}) to positional arguments. */
        Object call(Object callable, Tuple args) throws CheckpointFormatException;

        /** Applies pickle's BUILD (setstate) to an object; returns the resulting object. */
        Object build(Object target, Object state) throws CheckpointFormatException;

        /** Resolves a persistent id. */
        Object persistentLoad(Object pid) throws CheckpointFormatException;
    }

    private static final Object MARK = new Object() {
        @Override
        public String toString() {
            return "<mark>";
        }
    };

    private static final int HIGHEST_PROTOCOL = 5;
    /** Immutable, so one instance serves every () of every pickle, as in Python. */
    private static final Tuple EMPTY_TUPLE = new Tuple();

    private final ByteBuffer in;
    private final String source;
    private final Hooks hooks;
    private final List<Object> stack = new ArrayList<>();
    /** Memo entries 0, 1, 2, ... as pickle writes them; {@link #sparseMemo} holds any others. */
    private final List<Object> memo = new ArrayList<>();
    private final Map<Long, Object> sparseMemo = new HashMap<>();
    /**
     * Most memo entries this pickle may define. Each takes a memo opcode and an opcode that made
     * the value, two bytes at least, so a pickle of n bytes needs no more than n / 2; without a
     * bound, a deflated pickle of one-byte MEMOIZE opcodes fills the heap with entries.
     */
    private final long maxMemo;
    private final int length;
    /** The pickle may be no longer than this; -1 when its buffer holds just the pickle. */
    private final long maxLength;
    private final KeyCheck keys = new KeyCheck();
    /** Estimated heap bytes of what this pickle has built so far (see {@link #MAX_BUILT_PER_BYTE}). */
    private long built;
    private final long maxBuilt;
    private int opcodePos;

    /**
     * @param in     the pickle bytes, read from the buffer's position; the buffer itself is not
     *               changed (see {@link #position()})
     * @param source file name used in error messages
     * @param hooks  what globals, calls and persistent ids mean
     */
    Unpickler(ByteBuffer in, String source, Hooks hooks) {
        this(in, source, hooks, -1);
    }

    /**
     * @param in        the buffer, holding the pickle from its position and possibly more after it
     * @param source    file name used in error messages
     * @param hooks     what globals, calls and persistent ids mean
     * @param maxLength the most bytes the pickle may take, or -1 for all that remain: the memo is
     *                  bounded by the pickle's length, so a pickle followed by a large payload (the
     *                  legacy torch format) must not be judged by the payload's size
     */
    Unpickler(ByteBuffer in, String source, Hooks hooks, long maxLength) {
        this.in = in.duplicate();
        boolean capped = maxLength >= 0 && in.remaining() > maxLength;
        if (capped) {
            this.in.limit(in.position() + (int) maxLength);
        }
        this.maxLength = capped ? maxLength : -1;
        this.length = this.in.remaining();
        this.maxMemo = 16 + length / 2;
        this.maxBuilt = Math.min(MAX_BUILT_PER_BYTE * (long) length + (1 << 20), TorchStateDicts.freeHeap() / 2);
        this.source = source;
        this.hooks = Objects.requireNonNull(hooks);
    }

    /**
     * Most heap, in bytes per byte of pickle, that the values of a pickle may take, as
     * {@link #cost(Object)} estimates it. A one-byte opcode can make a container of about a
     * hundred bytes, so a stored pickle of a few megabytes of one opcode could fill a heap;
     * pickles CPython writes build at most about 50 bytes per byte (a list of distinct empty sets,
     * protocol 4), and a state_dict's under 10. The values may also take at most half the free
     * heap, so that what a file builds ends in this refusal rather than an OutOfMemoryError.
     */
    static final int MAX_BUILT_PER_BYTE = 64;

    /** Position in the input just after the last pickle read (after its STOP opcode). */
    int position() {
        return in.position();
    }

    /** Reads one pickle up to and including its STOP opcode and returns the value it holds. */
    Object load() throws CheckpointFormatException {
        stack.clear();
        memo.clear();
        sparseMemo.clear();
        built = 0;
        while (true) {
            opcodePos = in.position();
            int op = u8();
            switch (op) {
                case 0x80: { // PROTO
                    int proto = u8();
                    if (proto > HIGHEST_PROTOCOL) {
                        throw error("unsupported pickle protocol " + proto);
                    }
                    break;
                }
                case 0x95: // FRAME: we hold the whole input, frames need no handling
                    u64();
                    break;
                case '.': // STOP
                    if (stack.size() != 1) {
                        throw error("STOP with " + stack.size() + " values on the stack");
                    }
                    return pop();
                case '(': // MARK
                    stack.add(MARK);
                    break;
                case '0': // POP
                    pop();
                    break;
                case '1': // POP_MARK
                    popMark();
                    break;
                case '2': // DUP
                    pushRef(peek());
                    break;

                // --- numbers and constants
                case 'N':
                    push(null);
                    break;
                case 0x88: // NEWTRUE
                    push(Boolean.TRUE);
                    break;
                case 0x89: // NEWFALSE
                    push(Boolean.FALSE);
                    break;
                case 'I': { // INT (text); "00"/"01" are False/True in protocol 0
                    String s = line();
                    if (s.equals("00")) {
                        push(Boolean.FALSE);
                    } else if (s.equals("01")) {
                        push(Boolean.TRUE);
                    } else {
                        push(parseInt(s));
                    }
                    break;
                }
                case 'J': // BININT
                    push((long) i32());
                    break;
                case 'K': // BININT1
                    push((long) u8());
                    break;
                case 'M': // BININT2
                    push((long) u16());
                    break;
                case 'L': { // LONG (text, optional trailing L)
                    String s = line();
                    push(parseInt(s.endsWith("L") ? s.substring(0, s.length() - 1) : s));
                    break;
                }
                case 0x8a: // LONG1
                    push(decodeLong(bytes(u8())));
                    break;
                case 0x8b: // LONG4
                    push(decodeLong(bytes(size(i32()))));
                    break;
                case 'F': { // FLOAT (text)
                    String s = line().trim();
                    try {
                        push(parseFloat(s));
                    } catch (NumberFormatException e) {
                        throw error("bad FLOAT literal '" + s + "'");
                    }
                    break;
                }
                case 'G': // BINFLOAT (big-endian double)
                    push(in.order(ByteOrder.BIG_ENDIAN).getDouble(take(8)));
                    break;

                // --- strings and bytes
                case 'S': // STRING (quoted repr, protocol 0)
                    push(decodeQuoted(line()));
                    break;
                case 'T': // BINSTRING (Python 2 str, decoded as UTF-8 like torch.load does)
                    push(utf8(bytes(size(i32()))));
                    break;
                case 'U': // SHORT_BINSTRING
                    push(utf8(bytes(u8())));
                    break;
                case 'V': // UNICODE (raw-unicode-escape)
                    push(decodeRawUnicodeEscape(lineBytes()));
                    break;
                case 'X': // BINUNICODE
                    push(utf8(bytes(size(i32()))));
                    break;
                case 0x8c: // SHORT_BINUNICODE
                    push(utf8(bytes(u8())));
                    break;
                case 0x8d: // BINUNICODE8
                    push(utf8(bytes(size(u64()))));
                    break;
                case 'B': // BINBYTES
                    push(bytes(size(i32())));
                    break;
                case 'C': // SHORT_BINBYTES
                    push(bytes(u8()));
                    break;
                case 0x8e: // BINBYTES8
                case 0x96: // BYTEARRAY8
                    push(bytes(size(u64())));
                    break;

                // --- containers
                case ']': // EMPTY_LIST
                    push(new ArrayList<>());
                    break;
                case 'l': // LIST
                    push(new ArrayList<>(popMark()));
                    break;
                case 'a': { // APPEND
                    Object v = pop();
                    list(peek()).add(v);
                    charge(8);
                    break;
                }
                case 'e': { // APPENDS
                    List<Object> items = popMark();
                    list(peek()).addAll(items);
                    charge(8L * items.size());
                    break;
                }
                case ')': // EMPTY_TUPLE
                    pushRef(EMPTY_TUPLE);
                    break;
                case 't': // TUPLE
                    push(new Tuple(popMark().toArray()));
                    break;
                case 0x85: // TUPLE1
                    push(new Tuple(pop()));
                    break;
                case 0x86: { // TUPLE2
                    Object b = pop();
                    Object a = pop();
                    push(new Tuple(a, b));
                    break;
                }
                case 0x87: { // TUPLE3
                    Object c = pop();
                    Object b = pop();
                    Object a = pop();
                    push(new Tuple(a, b, c));
                    break;
                }
                case '}': // EMPTY_DICT
                    push(new LinkedHashMap<>());
                    break;
                case 'd': { // DICT
                    List<Object> items = popMark();
                    Map<Object, Object> m = new LinkedHashMap<>();
                    putPairs(m, items);
                    push(m);
                    break;
                }
                case 's': { // SETITEM
                    Object v = pop();
                    Object k = pop();
                    dict(peek()).put(key(k), v);
                    charge(ENTRY_BYTES);
                    break;
                }
                case 'u': { // SETITEMS
                    List<Object> items = popMark();
                    putPairs(dict(peek()), items);
                    charge(ENTRY_BYTES * (items.size() / 2));
                    break;
                }
                case 0x8f: // EMPTY_SET
                    push(new LinkedHashSet<>());
                    break;
                case 0x90: { // ADDITEMS
                    List<Object> items = popMark();
                    Object target = peek();
                    if (!(target instanceof LinkedHashSet)) {
                        throw error("ADDITEMS on " + typeName(target));
                    }
                    @SuppressWarnings("unchecked")
                    LinkedHashSet<Object> set = (LinkedHashSet<Object>) target;
                    for (Object item : items) {
                        set.add(key(item));
                    }
                    charge(ENTRY_BYTES * items.size());
                    break;
                }
                case 0x91: { // FROZENSET
                    LinkedHashSet<Object> set = new LinkedHashSet<>();
                    for (Object item : popMark()) {
                        set.add(key(item));
                    }
                    push(Collections.unmodifiableSet(set));
                    break;
                }

                // --- memo
                case 'p': // PUT
                    memoPut(parseIndex(line()), peek());
                    break;
                case 'q': // BINPUT
                    memoPut(u8(), peek());
                    break;
                case 'r': // LONG_BINPUT
                    memoPut(i32() & 0xffffffffL, peek());
                    break;
                case 0x94: // MEMOIZE
                    memoPut(memo.size() + sparseMemo.size(), peek());
                    break;
                case 'g': // GET
                    pushRef(memoGet(parseIndex(line())));
                    break;
                case 'h': // BINGET
                    pushRef(memoGet(u8()));
                    break;
                case 'j': // LONG_BINGET
                    pushRef(memoGet(i32() & 0xffffffffL));
                    break;

                // --- objects: everything goes through the hooks
                case 'c': { // GLOBAL
                    String module = line();
                    String name = line();
                    pushRef(hooks.global(module, name));
                    break;
                }
                case 0x93: { // STACK_GLOBAL
                    Object name = pop();
                    Object module = pop();
                    if (!(module instanceof String) || !(name instanceof String)) {
                        throw error("STACK_GLOBAL needs two strings");
                    }
                    pushRef(hooks.global((String) module, (String) name));
                    break;
                }
                case 'R': { // REDUCE
                    Object args = pop();
                    Object callable = pop();
                    push(hooks.call(callable, tuple(args)));
                    break;
                }
                case 0x81: { // NEWOBJ: cls.__new__(cls, *args)
                    Object args = pop();
                    Object cls = pop();
                    push(hooks.call(cls, tuple(args)));
                    break;
                }
                case 0x92: { // NEWOBJ_EX
                    Object kwargs = pop();
                    Object args = pop();
                    Object cls = pop();
                    if (!(kwargs instanceof Map) || !((Map<?, ?>) kwargs).isEmpty()) {
                        throw error("NEWOBJ_EX with keyword arguments is not supported");
                    }
                    push(hooks.call(cls, tuple(args)));
                    break;
                }
                case 'i': { // INST: module\nname\n, args from the mark
                    String module = line();
                    String name = line();
                    Object cls = hooks.global(module, name);
                    push(hooks.call(cls, new Tuple(popMark().toArray())));
                    break;
                }
                case 'o': { // OBJ: mark, cls, args...
                    List<Object> items = popMark();
                    if (items.isEmpty()) {
                        throw error("OBJ without a class");
                    }
                    push(hooks.call(items.get(0), new Tuple(items.subList(1, items.size()).toArray())));
                    break;
                }
                case 'b': { // BUILD
                    Object state = pop();
                    Object target = pop();
                    pushRef(hooks.build(target, state));
                    break;
                }
                case 'P': // PERSID (text)
                    push(hooks.persistentLoad(utf8(lineBytes())));
                    break;
                case 'Q': // BINPERSID
                    push(hooks.persistentLoad(pop()));
                    break;
                case 0x82: // EXT1
                case 0x83: // EXT2
                case 0x84: // EXT4
                    throw error("the copyreg extension registry (EXT opcodes) is not supported");
                case 0x97: // NEXT_BUFFER
                case 0x98: // READONLY_BUFFER
                    throw error("out-of-band pickle buffers are not supported");
                default:
                    throw error(String.format("unknown pickle opcode 0x%02x", op));
            }
        }
    }

    // ------------------------------------------------------------------ stack helpers

    /** Pushes a value just built, charging its estimated size. */
    private void push(Object o) throws CheckpointFormatException {
        charge(cost(o));
        stack.add(o);
    }

    /** Pushes a value that already exists (a memo entry, a duplicate, a global): only a stack slot. */
    private void pushRef(Object o) throws CheckpointFormatException {
        charge(8);
        stack.add(o);
    }

    /** Bytes of one dict or set entry. */
    private static final long ENTRY_BYTES = 40;

    /** Estimated heap bytes of a value just built, with its stack slot (contents counted as they are added). */
    private static long cost(Object o) {
        long slot = 8;
        if (o == null || o instanceof Boolean) {
            return slot;
        }
        if (o instanceof Long || o instanceof Double) {
            return slot + 16;
        }
        if (o instanceof String) {
            return slot + 48 + ((String) o).length();
        }
        if (o instanceof byte[]) {
            return slot + 16 + ((byte[]) o).length;
        }
        if (o instanceof BigInteger) {
            return slot + 40 + ((BigInteger) o).bitLength() / 8;
        }
        if (o instanceof Tuple) {
            return slot + 24 + 8L * ((Tuple) o).size();
        }
        if (o instanceof List) {
            return slot + 40 + 8L * ((List<?>) o).size();
        }
        if (o instanceof Map) {
            return slot + 64 + ENTRY_BYTES * ((Map<?, ?>) o).size();
        }
        if (o instanceof java.util.Set) {
            return slot + 80 + ENTRY_BYTES * ((java.util.Set<?>) o).size();
        }
        return slot + 64; // what a hook built: a tensor or storage reference
    }

    private void charge(long bytes) throws CheckpointFormatException {
        built += bytes;
        if (built > maxBuilt) {
            throw error(String.format(java.util.Locale.ROOT, "the pickle builds more than %,d bytes of objects from its "
                    + "%,d bytes (at most %d per byte, and half the free heap): refusing", maxBuilt, length,
                    MAX_BUILT_PER_BYTE));
        }
    }

    private Object pop() throws CheckpointFormatException {
        if (stack.isEmpty()) {
            throw error("stack underflow");
        }
        Object o = stack.remove(stack.size() - 1);
        if (o == MARK) {
            throw error("unexpected MARK on the stack");
        }
        return o;
    }

    private Object peek() throws CheckpointFormatException {
        if (stack.isEmpty() || stack.get(stack.size() - 1) == MARK) {
            throw error("stack underflow");
        }
        return stack.get(stack.size() - 1);
    }

    /** Pops everything above the topmost MARK, and the MARK itself; returns the items in order. */
    private List<Object> popMark() throws CheckpointFormatException {
        for (int i = stack.size() - 1; i >= 0; i--) {
            if (stack.get(i) == MARK) {
                List<Object> sub = stack.subList(i, stack.size());
                List<Object> items = new ArrayList<>(sub.subList(1, sub.size()));
                sub.clear();
                return items;
            }
        }
        throw error("no MARK on the stack");
    }

    private void memoPut(long index, Object value) throws CheckpointFormatException {
        if (index < memo.size()) {
            memo.set((int) index, value);
            return;
        }
        if (!sparseMemo.containsKey(index) && memo.size() + sparseMemo.size() >= maxMemo) {
            throw error(String.format(java.util.Locale.ROOT, "more than %,d memo entries in a pickle of %,d bytes "
                    + "(every entry takes at least 2 bytes): refusing", maxMemo, length));
        }
        if (index == memo.size()) {
            charge(8);
            memo.add(value);
            // entries written out of order move over once the dense part reaches them
            while (sparseMemo.containsKey((long) memo.size())) {
                memo.add(sparseMemo.remove((long) memo.size()));
            }
        } else {
            charge(sparseMemo.containsKey(index) ? 0 : 48);
            sparseMemo.put(index, value);
        }
    }

    private Object memoGet(long index) throws CheckpointFormatException {
        if (index < memo.size()) {
            return memo.get((int) index);
        }
        if (!sparseMemo.containsKey(index)) {
            throw error("memo key " + index + " not defined");
        }
        return sparseMemo.get(index);
    }

    @SuppressWarnings("unchecked")
    private List<Object> list(Object o) throws CheckpointFormatException {
        if (!(o instanceof ArrayList)) {
            throw error("APPEND on " + typeName(o));
        }
        return (List<Object>) o;
    }

    @SuppressWarnings("unchecked")
    private Map<Object, Object> dict(Object o) throws CheckpointFormatException {
        if (!(o instanceof LinkedHashMap)) {
            throw error("SETITEM on " + typeName(o));
        }
        return (Map<Object, Object>) o;
    }

    private Tuple tuple(Object o) throws CheckpointFormatException {
        if (!(o instanceof Tuple)) {
            throw error("call arguments must be a tuple, got " + typeName(o));
        }
        return (Tuple) o;
    }

    /** Only immutable values may be dict keys or set members. */
    private Object key(Object k) throws CheckpointFormatException {
        String problem = keys.problem(k);
        if (problem != null) {
            throw error(problem);
        }
        return k;
    }

    private void putPairs(Map<Object, Object> m, List<Object> items) throws CheckpointFormatException {
        if (items.size() % 2 != 0) {
            throw error("odd number of items for a dict");
        }
        for (int i = 0; i < items.size(); i += 2) {
            m.put(key(items.get(i)), items.get(i + 1));
        }
    }

    // ------------------------------------------------------------------ input helpers

    private CheckpointFormatException error(String what) {
        return new CheckpointFormatException("malformed pickle in " + source + " at byte " + opcodePos + ": " + what);
    }

    private int take(int n) throws CheckpointFormatException {
        if (in.remaining() < n) {
            throw truncated("truncated (needs " + n + " more bytes, " + in.remaining() + " left)");
        }
        int p = in.position();
        in.position(p + n);
        return p;
    }

    private int u8() throws CheckpointFormatException {
        return in.get(take(1)) & 0xff;
    }

    private int u16() throws CheckpointFormatException {
        return in.order(ByteOrder.LITTLE_ENDIAN).getShort(take(2)) & 0xffff;
    }

    private int i32() throws CheckpointFormatException {
        return in.order(ByteOrder.LITTLE_ENDIAN).getInt(take(4));
    }

    private long u64() throws CheckpointFormatException {
        return in.order(ByteOrder.LITTLE_ENDIAN).getLong(take(8));
    }

    /** Checks a length read from the stream: non-negative and available. */
    private int size(long n) throws CheckpointFormatException {
        if (n < 0 || n > in.remaining()) {
            throw error("length " + Long.toUnsignedString(n) + " exceeds the " + in.remaining() + " bytes left");
        }
        return (int) n;
    }

    private byte[] bytes(int n) throws CheckpointFormatException {
        int p = take(n);
        byte[] b = new byte[n];
        in.get(p, b);
        return b;
    }

    private byte[] lineBytes() throws CheckpointFormatException {
        int start = in.position();
        for (int p = start; p < in.limit(); p++) {
            if (in.get(p) == '\n') {
                byte[] b = new byte[p - start];
                in.get(start, b);
                in.position(p + 1);
                return b;
            }
        }
        throw truncated("truncated (no end of line)");
    }

    /** The input ends: the pickle is cut short, or longer than it may be. */
    private CheckpointFormatException truncated(String what) {
        if (maxLength >= 0) {
            return error(String.format(java.util.Locale.ROOT, "the pickle is longer than the %,d bytes a state_dict "
                    + "pickle may have: refusing", maxLength));
        }
        return error(what);
    }

    private String line() throws CheckpointFormatException {
        return new String(lineBytes(), StandardCharsets.ISO_8859_1);
    }

    private String utf8(byte[] b) throws CheckpointFormatException {
        try {
            return StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(b)).toString();
        } catch (java.nio.charset.CharacterCodingException e) {
            throw error("invalid UTF-8 in a string");
        }
    }

    private Object parseInt(String s) throws CheckpointFormatException {
        if (s.length() > 4300) { // CPython's own limit for decimal int conversion
            throw error("integer literal of " + s.length() + " digits is too long");
        }
        try {
            BigInteger v = new BigInteger(s.trim());
            return v.bitLength() < 64 ? (Object) v.longValue() : v;
        } catch (NumberFormatException e) {
            throw error("bad integer literal '" + s + "'");
        }
    }

    /** Python's float repr: decimal, or inf / -inf / nan (which Java's parser spells differently). */
    private static double parseFloat(String s) {
        switch (s) {
            case "inf": return Double.POSITIVE_INFINITY;
            case "-inf": return Double.NEGATIVE_INFINITY;
            case "nan": case "-nan": return Double.NaN;
            default:
                if (s.isEmpty() || !Character.isDigit(s.charAt(s.length() - 1)) && s.charAt(s.length() - 1) != '.') {
                    throw new NumberFormatException(s); // Java would accept "1.5f", "Infinity", "NaN"
                }
                return Double.parseDouble(s);
        }
    }

    private long parseIndex(String s) throws CheckpointFormatException {
        Object v = parseInt(s);
        if (!(v instanceof Long) || (Long) v < 0) {
            throw error("bad memo index '" + s + "'");
        }
        return (Long) v;
    }

    /** Little-endian two's complement integer of any length. */
    static Object decodeLong(byte[] le) {
        if (le.length == 0) {
            return 0L;
        }
        byte[] be = new byte[le.length];
        for (int i = 0; i < le.length; i++) {
            be[i] = le[le.length - 1 - i];
        }
        BigInteger v = new BigInteger(be);
        return v.bitLength() < 64 ? (Object) v.longValue() : v;
    }

    /** Decodes a Python 2 style quoted string literal ('...' or "..." with backslash escapes). */
    private String decodeQuoted(String s) throws CheckpointFormatException {
        if (s.length() < 2 || (s.charAt(0) != '\'' && s.charAt(0) != '"') || s.charAt(s.length() - 1) != s.charAt(0)) {
            throw error("STRING argument is not quoted");
        }
        String body = s.substring(1, s.length() - 1);
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        for (int i = 0; i < body.length(); i++) {
            char c = body.charAt(i);
            if (c != '\\') {
                out.write(c);
                continue;
            }
            if (++i >= body.length()) {
                throw error("bad escape in STRING");
            }
            char e = body.charAt(i);
            switch (e) {
                case 'n': out.write('\n'); break;
                case 't': out.write('\t'); break;
                case 'r': out.write('\r'); break;
                case 'a': out.write(7); break;
                case 'b': out.write('\b'); break;
                case 'f': out.write('\f'); break;
                case 'v': out.write(11); break;
                case '\\': case '\'': case '"': out.write(e); break;
                case 'x':
                    if (i + 3 > body.length()) {
                        throw error("bad \\x escape in STRING");
                    }
                    try {
                        out.write(Integer.parseInt(body.substring(i + 1, i + 3), 16));
                    } catch (RuntimeException ex) {
                        throw error("bad \\x escape in STRING");
                    }
                    i += 2;
                    break;
                default:
                    if (e >= '0' && e <= '7') {
                        int end = i;
                        while (end < body.length() && end < i + 3 && body.charAt(end) >= '0' && body.charAt(end) <= '7') {
                            end++;
                        }
                        out.write(Integer.parseInt(body.substring(i, end), 8) & 0xff);
                        i = end - 1;
                    } else {
                        out.write('\\');
                        out.write(e);
                    }
            }
        }
        return utf8(out.toByteArray());
    }

    /** Python's raw-unicode-escape: bytes are Latin-1 except backslash-u and backslash-U escapes. */
    private String decodeRawUnicodeEscape(byte[] b) throws CheckpointFormatException {
        StringBuilder sb = new StringBuilder(b.length);
        for (int i = 0; i < b.length; i++) {
            int c = b[i] & 0xff;
            if (c == '\\' && i + 1 < b.length && (b[i + 1] == 'u' || b[i + 1] == 'U')) {
                int digits = b[i + 1] == 'u' ? 4 : 8;
                if (i + 2 + digits > b.length) {
                    throw error("truncated \\u escape in UNICODE");
                }
                int cp;
                try {
                    cp = Integer.parseUnsignedInt(new String(b, i + 2, digits, StandardCharsets.ISO_8859_1), 16);
                } catch (NumberFormatException e) {
                    throw error("bad \\u escape in UNICODE");
                }
                if (!Character.isValidCodePoint(cp)) {
                    throw error("bad code point in UNICODE");
                }
                sb.appendCodePoint(cp);
                i += 1 + digits;
            } else {
                sb.append((char) c);
            }
        }
        return sb.toString();
    }
}
