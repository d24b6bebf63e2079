package dev.resnetzoo.zoo.io;

import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.resnetzoo.zoo.io.StridedTensors.RootStorage;
import dev.resnetzoo.zoo.io.StridedTensors.StorageRef;
import dev.resnetzoo.zoo.io.StridedTensors.TensorRef;
import dev.resnetzoo.zoo.io.Tensor.DType;
import dev.resnetzoo.zoo.io.PickleValues.Tuple;

/**
 * What a state_dict pickle may name, and what each allowed name means: the {@link Unpickler.Hooks}
 * of both PyTorch formats.
 *
 * <p>Allowed are {@code collections.OrderedDict}, {@code torch._utils._rebuild_tensor},
 * {@code _rebuild_tensor_v2}, {@code _rebuild_parameter}, {@code _rebuild_parameter_with_state},
 * {@code torch.Size} and the {@code torch.*Storage} types (only as dtype markers of persistent
 * ids; they cannot be called). Any other global is refused before anything else happens, and
 * nothing from the file is ever instantiated or executed: the rebuild functions only record a
 * {@link TensorRef}, whose data is read later.
 */
final class TorchAllowList {

    private TorchAllowList() {
    }

    /** A {@code torch.*Storage} class named by a persistent id: only a dtype marker. */
    static final class StorageType {
        final DType dtype;
        final String name;

        StorageType(DType dtype, String name) {
            this.dtype = dtype;
            this.name = name;
        }
    }

    /** The allowed callables. */
    enum Fn {
        ORDERED_DICT("collections.OrderedDict"),
        REBUILD_TENSOR("torch._utils._rebuild_tensor"),
        REBUILD_TENSOR_V2("torch._utils._rebuild_tensor_v2"),
        REBUILD_PARAMETER("torch._utils._rebuild_parameter"),
        REBUILD_PARAMETER_WITH_STATE("torch._utils._rebuild_parameter_with_state"),
        TORCH_SIZE("torch.Size");

        final String qualifiedName;

        Fn(String qualifiedName) {
            this.qualifiedName = qualifiedName;
        }
    }

    private static final Map<String, Object> ALLOWED = new HashMap<>();

    static {
        for (Fn f : Fn.values()) {
            ALLOWED.put(f.qualifiedName, f);
        }
        Object[][] storages = {
            {"FloatStorage", DType.FLOAT32}, {"HalfStorage", DType.FLOAT16}, {"BFloat16Storage", DType.BFLOAT16},
            {"DoubleStorage", DType.FLOAT64}, {"LongStorage", DType.INT64}, {"IntStorage", DType.INT32},
            {"ShortStorage", DType.INT16}, {"CharStorage", DType.INT8}, {"ByteStorage", DType.UINT8},
            {"BoolStorage", DType.BOOL},
        };
        for (Object[] s : storages) {
            String n = (String) s[0];
            ALLOWED.put("torch." + n, new StorageType((DType) s[1], n));
            ALLOWED.put("torch.cuda." + n, new StorageType((DType) s[1], n)); // pre-1.0 CUDA checkpoints
        }
        ALLOWED.put("torch.UntypedStorage", new StorageType(DType.UINT8, "UntypedStorage"));
        ALLOWED.put("torch.storage.UntypedStorage", new StorageType(DType.UINT8, "UntypedStorage"));
    }

    static CheckpointFormatException refused(String module, String name, String src) {
        String q = module + "." + name;
        String msg = "refusing to load global '" + q + "' from " + src + ": only state_dict globals are allowed";
        if (module.startsWith("torch") || module.startsWith("__main__") || module.startsWith("timm")) {
            msg += " (if the file was written by torch.save(model), save model.state_dict() instead)";
        }
        return new CheckpointFormatException(msg);
    }

    /** For the small header pickles of the legacy format: plain data only, every global refused. */
    static final class DataOnlyHooks implements Unpickler.Hooks {
        private final String src;

        DataOnlyHooks(String src) {
            this.src = src;
        }

        @Override
        public Object global(String module, String name) throws CheckpointFormatException {
            throw refused(module, name, src);
        }

        @Override
        public Object call(Object callable, Tuple args) throws CheckpointFormatException {
            throw new CheckpointFormatException(src + ": unexpected call in a data-only pickle");
        }

        @Override
        public Object build(Object target, Object state) throws CheckpointFormatException {
            throw new CheckpointFormatException(src + ": unexpected BUILD in a data-only pickle");
        }

        @Override
        public Object persistentLoad(Object pid) throws CheckpointFormatException {
            throw new CheckpointFormatException(src + ": unexpected persistent id in a data-only pickle");
        }
    }

    /** The state_dict allow-list, one instance per file read; collects the storages the pickle declares. */
    static final class TorchHooks implements Unpickler.Hooks {
        private final String src;
        private final boolean legacy;
        final Map<String, RootStorage> roots = new HashMap<>();
        private final PickleValues.KeyCheck keys = new PickleValues.KeyCheck();

        TorchHooks(String src, boolean legacy) {
            this.src = src;
            this.legacy = legacy;
        }

        @Override
        public Object global(String module, String name) throws CheckpointFormatException {
            Object v = ALLOWED.get(module + "." + name);
            if (v == null) {
                throw refused(module, name, src);
            }
            return v;
        }

        @Override
        public Object call(Object callable, Tuple args) throws CheckpointFormatException {
            if (!(callable instanceof Fn)) {
                String what = callable instanceof StorageType ? "torch." + ((StorageType) callable).name
                        : PickleValues.typeName(callable);
                throw new CheckpointFormatException(src + ": refusing to call " + what + ": only state_dict "
                        + "rebuild functions may be called");
            }
            Fn fn = (Fn) callable;
            switch (fn) {
                case ORDERED_DICT: {
                    LinkedHashMap<Object, Object> m = new LinkedHashMap<>();
                    if (args.size() == 1 && args.get(0) instanceof List) {
                        for (Object pair : (List<?>) args.get(0)) {
                            if (!(pair instanceof Tuple) || ((Tuple) pair).size() != 2) {
                                throw badArgs(fn, args);
                            }
                            Object k = ((Tuple) pair).get(0);
                            if (keys.problem(k) != null) {
                                throw badArgs(fn, args);
                            }
                            m.put(k, ((Tuple) pair).get(1));
                        }
                    } else if (args.size() != 0) {
                        throw badArgs(fn, args);
                    }
                    return m;
                }
                case REBUILD_TENSOR:
                case REBUILD_TENSOR_V2: {
                    int min = fn == Fn.REBUILD_TENSOR ? 4 : 6;
                    int max = fn == Fn.REBUILD_TENSOR ? 4 : 7;
                    if (args.size() < min || args.size() > max || !(args.get(0) instanceof StorageRef)
                            || !(args.get(1) instanceof Long)) {
                        throw badArgs(fn, args);
                    }
                    long[] size = longs(args.get(2), fn, args);
                    long[] stride = longs(args.get(3), fn, args);
                    if (size.length != stride.length) {
                        throw new CheckpointFormatException(src + ": tensor with size " + Arrays.toString(size)
                                + " but stride " + Arrays.toString(stride));
                    }
                    return new TensorRef((StorageRef) args.get(0), (Long) args.get(1), size, stride);
                }
                case REBUILD_PARAMETER:
                case REBUILD_PARAMETER_WITH_STATE:
                    if (args.size() < 1 || !(args.get(0) instanceof TensorRef)) {
                        throw badArgs(fn, args);
                    }
                    return args.get(0);
                case TORCH_SIZE:
                    if (args.size() != 1 || !(args.get(0) instanceof Tuple)) {
                        throw badArgs(fn, args);
                    }
                    return args.get(0);
                default:
                    throw new AssertionError(fn);
            }
        }

        private long[] longs(Object o, Fn fn, Tuple args) throws CheckpointFormatException {
            if (!(o instanceof Tuple)) {
                throw badArgs(fn, args);
            }
            Tuple t = (Tuple) o;
            long[] r = new long[t.size()];
            for (int i = 0; i < r.length; i++) {
                if (!(t.get(i) instanceof Long)) {
                    throw badArgs(fn, args);
                }
                r[i] = (Long) t.get(i);
            }
            return r;
        }

        private CheckpointFormatException badArgs(Fn fn, Tuple args) {
            StringBuilder types = new StringBuilder();
            for (Object a : args.asList()) {
                types.append(types.length() == 0 ? "" : ", ").append(PickleValues.typeName(a));
            }
            return new CheckpointFormatException(src + ": unexpected arguments to " + fn.qualifiedName + "(" + types + ")");
        }

        @Override
        public Object build(Object target, Object state) throws CheckpointFormatException {
            if (target instanceof Map || target instanceof TensorRef) {
                return target; // OrderedDict._metadata and similar attributes carry no tensor data
            }
            throw new CheckpointFormatException(src + ": unexpected BUILD on a " + PickleValues.typeName(target));
        }

        @Override
        public Object persistentLoad(Object pid) throws CheckpointFormatException {
            if (!(pid instanceof Tuple) || ((Tuple) pid).size() < 5 || !"storage".equals(((Tuple) pid).get(0))) {
                throw new CheckpointFormatException(src + ": unsupported persistent id " + PickleValues.describe(pid)
                        + " (expected ('storage', type, key, location, numel))");
            }
            Tuple t = (Tuple) pid;
            int expected = legacy ? 6 : 5;
            if (t.size() != expected || !(t.get(1) instanceof StorageType) || !(t.get(2) instanceof String)
                    || !(t.get(4) instanceof Long) || (Long) t.get(4) < 0) {
                throw new CheckpointFormatException(src + ": malformed storage persistent id " + PickleValues.describe(pid));
            }
            StorageType type = (StorageType) t.get(1);
            String key = (String) t.get(2);
            long numel = (Long) t.get(4);
            RootStorage root = roots.get(key);
            if (root == null) {
                roots.put(key, new RootStorage(type.dtype, numel));
            } else if (root.dtype != type.dtype) {
                throw new CheckpointFormatException(src + ": storage '" + key + "' is used both as " + root.dtype
                        + " and as " + type.dtype);
            } else if (root.numel != numel) {
                throw new CheckpointFormatException(src + ": storage '" + key + "' is declared with " + root.numel
                        + " and with " + numel + " elements");
            }
            if (legacy && t.get(5) != null) {
                // (view_key, offset, view_size): a storage view written by very old torch versions
                if (!(t.get(5) instanceof Tuple) || ((Tuple) t.get(5)).size() != 3
                        || !(((Tuple) t.get(5)).get(1) instanceof Long) || !(((Tuple) t.get(5)).get(2) instanceof Long)) {
                    throw new CheckpointFormatException(src + ": malformed storage view metadata "
                            + PickleValues.describe(t.get(5)));
                }
                Tuple view = (Tuple) t.get(5);
                long off = (Long) view.get(1);
                long len = (Long) view.get(2);
                if (off < 0 || len < 0 || off > numel || len > numel - off) {
                    throw new CheckpointFormatException(src + ": storage view " + PickleValues.describe(view)
                            + " outside storage '" + key
                            + "' of " + numel + " elements");
                }
                return new StorageRef(type.dtype, key, off, len);
            }
            return new StorageRef(type.dtype, key, 0, numel);
        }
    }
}
