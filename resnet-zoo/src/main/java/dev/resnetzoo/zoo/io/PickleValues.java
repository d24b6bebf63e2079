package dev.resnetzoo.zoo.io;

import java.math.BigInteger;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * The values {@link Unpickler} builds, and what may be done with them safely: the immutable
 * {@link Tuple}, the rules for what may be a dict key (so that hashing an untrusted key always
 * ends, and quickly), and bounded descriptions of values for error messages.
 */
final class PickleValues {

    private PickleValues() {
    }

    /** An immutable Python tuple, with value equality so that it can be a dict key. */
    static final class Tuple {
        private final Object[] items;

        Tuple(Object... items) {
            this.items = items.clone();
        }

        int size() {
            return items.length;
        }

        Object get(int i) {
            return items[i];
        }

        List<Object> asList() {
            return Collections.unmodifiableList(Arrays.asList(items));
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Tuple && Arrays.deepEquals(items, ((Tuple) o).items);
        }

        @Override
        public int hashCode() {
            return Arrays.deepHashCode(items);
        }

        /** Python-like text, bounded in depth and length (the contents come from an untrusted file). */
        @Override
        public String toString() {
            return describe(this);
        }
    }

    /** Deepest tuple nesting accepted in a dict key (torch needs 2). */
    static final int MAX_KEY_DEPTH = 32;

    /**
     * Most items a dict key may hold, counted as hashing visits them: a sub-tuple shared n times
     * counts n times. Tuples sharing sub-tuples form a DAG that a few bytes of pickle can make
     * exponentially large to hash (30 levels of {@code (t, t, t)} are 3^30 visits); torch's keys
     * are strings or tuples of a few ints.
     */
    static final int MAX_KEY_ITEMS = 4096;

    /**
     * Most items the tuple keys of one pickle may hold together, counted as {@link #MAX_KEY_ITEMS}
     * counts them. Hashing and comparing a key costs its expanded size, and a key may be inserted
     * any number of times, so without a total a pickle of a few kilobytes (one large key, memoized,
     * then a million SETITEMs) holds the CPU for minutes; and tuples whose hashes collide are
     * compared with each other, so the total also bounds the quadratic cost of collisions. A
     * state_dict has no tuple keys at all.
     */
    static final int MAX_PICKLE_KEY_ITEMS = 8192;

    /** Checks dict keys and set members, and bounds what hashing them costs over one pickle. */
    static final class KeyCheck {
        private int itemsLeft = MAX_PICKLE_KEY_ITEMS;

        /**
         * Why {@code k} cannot be a dict key (one line, for an error message), or null if it can.
         * Tuples are checked recursively, so a key's hashCode/equals always terminate, and quickly:
         * a hashable tuple holds only hashable values, a tuple can never contain itself, and the
         * expanded size is bounded per key and per pickle.
         */
        String problem(Object k) {
            int[] keyItemsLeft = {MAX_KEY_ITEMS};
            String p = unhashable(k, 0, keyItemsLeft);
            if (p != null) {
                return p + " used as a dict key or set member";
            }
            itemsLeft -= MAX_KEY_ITEMS - keyItemsLeft[0];
            if (itemsLeft < 0) {
                return String.format(java.util.Locale.ROOT, "tuple dict keys and set members of more than %,d items "
                        + "in all (counting shared sub-tuples each time they occur): refusing", MAX_PICKLE_KEY_ITEMS);
            }
            return null;
        }
    }

    private static String unhashable(Object k, int depth, int[] itemsLeft) {
        if (k instanceof List || k instanceof Map || k instanceof java.util.Set || k instanceof byte[]) {
            return "unhashable " + typeName(k);
        }
        if (k instanceof Tuple) {
            if (depth >= MAX_KEY_DEPTH) {
                return "a tuple nested more than " + MAX_KEY_DEPTH + " deep";
            }
            for (Object item : ((Tuple) k).items) {
                if (--itemsLeft[0] < 0) {
                    return "a tuple of more than " + MAX_KEY_ITEMS + " items (counting shared sub-tuples each time "
                            + "they occur)";
                }
                String p = unhashable(item, depth + 1, itemsLeft);
                if (p != null) {
                    return p;
                }
            }
        }
        return null;
    }

    /**
     * A short Python-like rendering of an unpickled value for error messages: at most 3 levels
     * deep and about 200 characters, so self-referencing or huge structures cannot blow up.
     */
    static String describe(Object o) {
        StringBuilder sb = new StringBuilder();
        describe(o, 0, sb);
        return sb.length() > 200 ? sb.substring(0, 197) + "..." : sb.toString();
    }

    private static void describe(Object o, int depth, StringBuilder sb) {
        if (sb.length() > 200) {
            return;
        }
        if (o == null) {
            sb.append("None");
        } else if (o instanceof String) {
            String s = (String) o;
            sb.append('\'').append(s.length() > 60 ? s.substring(0, 60) + "..." : s).append('\'');
        } else if (o instanceof Long || o instanceof BigInteger || o instanceof Double) {
            sb.append(o);
        } else if (o instanceof Boolean) {
            sb.append((Boolean) o ? "True" : "False");
        } else if (o instanceof Tuple || o instanceof List) {
            List<?> items = o instanceof Tuple ? ((Tuple) o).asList() : (List<?>) o;
            if (depth >= 3) {
                sb.append(o instanceof Tuple ? "(...)" : "[...]");
                return;
            }
            sb.append(o instanceof Tuple ? '(' : '[');
            for (int i = 0; i < items.size() && sb.length() <= 200; i++) {
                sb.append(i == 0 ? "" : ", ");
                describe(items.get(i), depth + 1, sb);
            }
            sb.append(o instanceof Tuple ? (items.size() == 1 ? ",)" : ")") : "]");
        } else {
            sb.append('<').append(typeName(o)).append('>');
        }
    }

    static String typeName(Object o) {
        if (o == null) {
            return "None";
        }
        if (o instanceof Tuple) {
            return "tuple";
        }
        if (o instanceof List) {
            return "list";
        }
        if (o instanceof Map) {
            return "dict";
        }
        if (o instanceof String) {
            return "str";
        }
        if (o instanceof byte[]) {
            return "bytes";
        }
        if (o instanceof Long || o instanceof BigInteger) {
            return "int";
        }
        if (o instanceof Double) {
            return "float";
        }
        if (o instanceof Boolean) {
            return "bool";
        }
        return o.getClass().getSimpleName();
    }
}
