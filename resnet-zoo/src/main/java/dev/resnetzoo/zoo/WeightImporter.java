package dev.resnetzoo.zoo;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

import dev.resnetzoo.core.ResNetSpec;
import dev.resnetzoo.core.ResNets;
import dev.resnetzoo.core.TorchNames;
import dev.resnetzoo.core.TorchNames.ParamRef;
import dev.resnetzoo.zoo.WeightImportException.Kind;
import dev.resnetzoo.zoo.WeightImportException.Problem;
import dev.resnetzoo.zoo.io.StateDict;
import dev.resnetzoo.zoo.io.Tensor;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Copies a PyTorch {@code state_dict} into a graph built by {@link ResNets}, key by key, using the
 * name mapping of {@link TorchNames} (vertex name = PyTorch module path).
 *
 * <pre>{@code
 * ComputationGraph g = WeightImporter.importCheckpoint(Variant.RESNET50.spec(), Path.of("resnet50.pth"));
 *
 * // transfer learning: 10 classes, everything but the classifier from the file
 * ComputationGraph g10 = WeightImporter.importCheckpoint(Variant.RESNET50.spec(), file, 10);
 *
 * // explicit options
 * new WeightImporter().optStrict(false).optClassifier(Classifier.DROP).load(graph, StateDict.read(file));
 * }</pre>
 *
 * <p><b>Checks.</b> Every tensor of the file is matched to a graph parameter before anything is
 * written, and before any tensor data is read: keys, shapes, element types and storage sizes are
 * metadata, so a file that does not fit the architecture costs only its pickle (with
 * {@link StateDict#open(Path)}, which {@link #importCheckpoint(ResNetSpec, Path)} uses). If anything
 * does not fit, one {@link WeightImportException} (an unchecked {@link IllegalArgumentException})
 * lists all problems at once and the graph is left unchanged:
 * <ul>
 *   <li>missing keys: graph parameters the file has no tensor for;</li>
 *   <li>unexpected keys: file tensors the graph has no parameter for;</li>
 *   <li>shape mismatches, in PyTorch's convention, as
 *       {@code layer1.0.conv1.weight: expected [64,64,1,1], file has [64,64,3,3]};</li>
 *   <li>tensors that are not floating point;</li>
 *   <li>tensors the file keeps in a storage larger than their shape needs (a view of a larger
 *       tensor): what a file makes the reader load is bounded by what the architecture
 *       justifies, so such a storage is refused unread;</li>
 *   <li>only once all of the above fit, and the data is read: tensors holding a NaN or an
 *       infinity (a diverged training run, or a float64 value beyond float32's range), named with
 *       the first such element, BatchNorm running statistics included: loading them would make
 *       every prediction NaN.</li>
 * </ul>
 * {@code num_batches_tracked} buffers are ignored on purpose (DL4J's batch norm has a fixed
 * momentum and no counter). BatchNorm running mean and variance are loaded, as in PyTorch.
 *
 * <p><b>Options</b> (each {@code opt*} method returns a new importer; instances are immutable):
 * <ul>
 *   <li>{@link #optStrict(boolean)}: strict (the default) rejects missing and unexpected keys;
 *       non-strict loads what matches and reports the rest in the {@link Report} (and as a
 *       warning through {@link System.Logger}). Shape and dtype mismatches are errors in both
 *       modes, as in PyTorch's {@code load_state_dict(strict=False)}.</li>
 *   <li>{@link #optClassifier(Classifier)}: what to do with the file's {@code fc.*}.</li>
 * </ul>
 *
 * <p><b>Conversions.</b> Tensors may be float32, float16, bfloat16 or float64; values go through
 * float32 (exact for float16 and bfloat16) and are cast to the graph's data type. Linear weights
 * are transposed from PyTorch's {@code [out, in]} to DL4J's {@code [in, out]}; convolution weights
 * are {@code [out, in/groups, kh, kw]} on both sides. Each parameter is assigned in place with
 * {@code getParam(k).assign(...)}, so the graph's flattened parameter vector stays consistent.
 */
public final class WeightImporter {

    private static final System.Logger LOG = System.getLogger(WeightImporter.class.getName());
    private static final String CLASSIFIER_PREFIX = ResNets.CLASSIFIER + ".";

    /** What to do with the file's classifier ({@code fc.weight}, {@code fc.bias}). */
    public enum Classifier {
        /**
         * Load it like every other tensor (the default). If its number of classes differs from the
         * graph's, the import fails with a message saying how to fix it.
         */
        KEEP,
        /**
         * Never load it: the graph keeps its own, freshly initialised classifier (transfer learning
         * to another number of classes). The file's {@code fc.*} are reported as skipped; a file
         * without a classifier is fine.
         */
        DROP,
        /**
         * Load it if its shapes fit the graph; otherwise (another number of classes, or no
         * classifier in the file) keep the graph's classifier, as {@link #DROP} does.
         */
        DROP_IF_MISMATCHED
    }

    /**
     * What an import did.
     *
     * @param loaded     keys copied into the graph, in file order
     * @param missing    graph parameters the file has no tensor for (non-strict mode only; strict
     *                   imports fail instead)
     * @param unexpected file tensors with no graph parameter (non-strict mode only)
     * @param skipped    file tensors left out on purpose (the classifier, per {@link Classifier})
     * @param ignored    file tensors that carry nothing DL4J uses ({@code num_batches_tracked})
     */
    public record Report(List<String> loaded, List<String> missing, List<String> unexpected,
                         List<String> skipped, List<String> ignored) {
        /** Copies the lists. */
        public Report {
            loaded = List.copyOf(loaded);
            missing = List.copyOf(missing);
            unexpected = List.copyOf(unexpected);
            skipped = List.copyOf(skipped);
            ignored = List.copyOf(ignored);
        }

        /** @return true if every graph parameter was loaded or deliberately skipped and no tensor was left over */
        public boolean isComplete() {
            return missing.isEmpty() && unexpected.isEmpty();
        }

        /** @return a one-line summary, such as {@code loaded 320, missing 0, unexpected 0, skipped 2, ignored 53} */
        @Override
        public String toString() {
            return "loaded " + loaded.size() + ", missing " + missing.size() + ", unexpected " + unexpected.size()
                    + ", skipped " + skipped.size() + ", ignored " + ignored.size();
        }
    }

    private final boolean strict;
    private final Classifier classifier;

    /** An importer with the defaults: strict, {@link Classifier#KEEP}. */
    public WeightImporter() {
        this(true, Classifier.KEEP);
    }

    private WeightImporter(boolean strict, Classifier classifier) {
        this.strict = strict;
        this.classifier = classifier;
    }

    /**
     * @param strict true (default): missing or unexpected keys fail the import; false: they are
     *               reported and the rest is loaded
     * @return an importer with this option
     */
    public WeightImporter optStrict(boolean strict) {
        return new WeightImporter(strict, classifier);
    }

    /**
     * @param classifier what to do with the file's {@code fc.*} (default {@link Classifier#KEEP})
     * @return an importer with this option
     */
    public WeightImporter optClassifier(Classifier classifier) {
        return new WeightImporter(strict, Objects.requireNonNull(classifier, "classifier"));
    }

    /** @return whether missing and unexpected keys fail the import */
    public boolean isStrict() {
        return strict;
    }

    /** @return the classifier policy */
    public Classifier classifier() {
        return classifier;
    }

    /**
     * Loads a state dict into a graph.
     *
     * @param graph an initialised graph built by {@link ResNets} (frozen layers are fine)
     * @param sd    the checkpoint's tensors
     * @return {@code graph}, with its parameters replaced
     * @throws WeightImportException listing every problem, before anything was changed
     */
    public ComputationGraph load(ComputationGraph graph, StateDict sd) {
        importInto(graph, sd);
        return graph;
    }

    /**
     * Loads a state dict into a graph and says what was loaded, skipped and (non-strict) left out.
     *
     * @param graph an initialised graph built by {@link ResNets}
     * @param sd    the checkpoint's tensors; from {@link StateDict#open(Path)}, their data is read
     *              only once the keys, shapes and storage sizes fit
     * @return what happened
     * @throws WeightImportException listing every problem, before anything was changed
     * @throws UncheckedIOException  if {@code sd} came from {@link StateDict#open(Path)} and a
     *                               tensor's data cannot be read; the graph is unchanged
     */
    public Report importInto(ComputationGraph graph, StateDict sd) {
        return importInto(graph, sd, "state_dict");
    }

    /**
     * Builds the graph of a spec and loads a checkpoint into it, strictly and with its classifier.
     *
     * @param spec the architecture; its number of classes must match the file's
     * @param file a PyTorch checkpoint (zip or legacy) or a safetensors file
     * @return the loaded graph
     * @throws IOException           if the file cannot be read or is not a checkpoint
     * @throws WeightImportException if the checkpoint does not fit the spec
     */
    public static ComputationGraph importCheckpoint(ResNetSpec spec, Path file) throws IOException {
        return importCheckpoint(spec, file, new WeightImporter());
    }

    /**
     * Builds the graph of a spec with {@code numClasses} outputs and loads a checkpoint into it,
     * strictly; if the file's classifier has another number of classes (or there is none) the
     * graph keeps its freshly initialised one ({@link Classifier#DROP_IF_MISMATCHED}).
     *
     * @param spec       the architecture (its own number of classes is replaced)
     * @param file       a PyTorch checkpoint or safetensors file
     * @param numClasses outputs of the graph's classifier
     * @return the loaded graph
     * @throws IOException           if the file cannot be read or is not a checkpoint
     * @throws WeightImportException if anything but the classifier does not fit
     */
    public static ComputationGraph importCheckpoint(ResNetSpec spec, Path file, int numClasses) throws IOException {
        ResNetSpec s = spec.toBuilder().numClasses(numClasses).build();
        return importCheckpoint(s, file, new WeightImporter().optClassifier(Classifier.DROP_IF_MISMATCHED));
    }

    private static ComputationGraph importCheckpoint(ResNetSpec spec, Path file, WeightImporter importer)
            throws IOException {
        StateDict sd = StateDict.open(file);
        ComputationGraph graph = ResNets.create(spec);
        try {
            importer.importInto(graph, sd, file.getFileName() + " -> " + spec.name());
            return graph;
        } catch (UncheckedIOException e) {
            graph.close();
            throw e.getCause();
        } catch (RuntimeException e) {
            graph.close();
            throw e;
        }
    }

    // ------------------------------------------------------------------------------------------

    private record Assignment(ParamRef ref, Tensor tensor) {
    }

    private Report importInto(ComputationGraph graph, StateDict sd, String what) {
        Objects.requireNonNull(graph, "graph");
        Objects.requireNonNull(sd, "state dict");
        Map<String, ParamRef> expected = new LinkedHashMap<>();
        for (ParamRef ref : TorchNames.expectedKeys(graph)) {
            expected.put(ref.key(), ref);
        }
        Map<String, Tensor> file = sd.asMap();

        // The classifier decision is made for fc.* as a whole, so it is never half loaded.
        boolean dropClassifier = switch (classifier) {
            case KEEP -> false;
            case DROP -> true;
            case DROP_IF_MISMATCHED -> !classifierFits(graph, expected, file);
        };

        List<Assignment> plan = new ArrayList<>();
        List<String> loaded = new ArrayList<>();
        List<String> unexpected = new ArrayList<>();
        List<String> skipped = new ArrayList<>();
        List<String> ignored = new ArrayList<>();
        List<Problem> shapeProblems = new ArrayList<>();
        List<Problem> dtypeProblems = new ArrayList<>();
        List<Problem> storageProblems = new ArrayList<>();
        List<Problem> unexpectedProblems = new ArrayList<>();
        for (Map.Entry<String, Tensor> e : file.entrySet()) {
            String key = e.getKey();
            Tensor t = e.getValue();
            if (TorchNames.isIgnored(key)) {
                ignored.add(key);
                continue;
            }
            if (dropClassifier && isClassifier(key)) {
                skipped.add(key);
                continue;
            }
            ParamRef ref = expected.get(key);
            if (ref == null) {
                unexpected.add(key);
                unexpectedProblems.add(new Problem(Kind.UNEXPECTED, key,
                        key + ": not a parameter of the graph (file has " + fmt(t.shape()) + ")"));
                continue;
            }
            long[] want = torchShape(graph, ref);
            boolean ok = true;
            if (!Arrays.equals(want, t.shape())) {
                shapeProblems.add(new Problem(Kind.SHAPE, key,
                        key + ": expected " + fmt(want) + ", file has " + fmt(t.shape())));
                ok = false;
            }
            if (!t.dtype().isFloatingPoint()) {
                dtypeProblems.add(new Problem(Kind.DTYPE, key,
                        key + ": file has a " + t.dtype() + " tensor, expected floating point"));
                ok = false;
            }
            long need = Math.multiplyExact(numel(want), (long) t.dtype().byteSize());
            if (ok && t.storageBytes() > need) {
                storageProblems.add(new Problem(Kind.STORAGE, key, String.format(Locale.ROOT, "%s: the file stores it "
                        + "in a storage of %,d bytes, more than the %,d its shape %s needs (a view of a larger tensor; "
                        + "save each tensor on its own, tensor.clone())", key, t.storageBytes(), need, fmt(want))));
                ok = false;
            }
            if (ok) {
                plan.add(new Assignment(ref, t));
                loaded.add(key);
            }
        }
        List<String> missing = new ArrayList<>();
        List<Problem> missingProblems = new ArrayList<>();
        for (ParamRef ref : expected.values()) {
            if (!file.containsKey(ref.key()) && !(dropClassifier && isClassifier(ref.key()))) {
                missing.add(ref.key());
                missingProblems.add(new Problem(Kind.MISSING, ref.key(),
                        ref.key() + ": missing from the file (graph expects " + fmt(torchShape(graph, ref)) + ")"));
            }
        }

        List<Problem> problems = new ArrayList<>();
        if (strict) {
            problems.addAll(missingProblems);
            problems.addAll(unexpectedProblems);
        }
        problems.addAll(shapeProblems);
        problems.addAll(dtypeProblems);
        problems.addAll(storageProblems);
        if (!problems.isEmpty()) {
            throw new WeightImportException(message(what, graph, expected, file, problems), problems);
        }

        // Only now is tensor data read: every key, shape and storage size fits the architecture.
        for (Assignment a : plan) {
            String nonFinite = nonFinite(a.tensor());
            if (nonFinite != null) {
                problems.add(new Problem(Kind.NON_FINITE, a.ref().key(), a.ref().key() + ": " + nonFinite
                        + ", expected finite weights"));
            }
        }
        if (!problems.isEmpty()) {
            throw new WeightImportException(message(what, graph, expected, file, problems), problems);
        }

        for (Assignment a : plan) {
            assign(graph, a.ref(), a.tensor());
        }
        Report report = new Report(loaded, missing, unexpected, skipped, ignored);
        if (!report.isComplete()) {
            LOG.log(System.Logger.Level.WARNING, "{0}: non-strict import, {1}; missing {2}; unexpected {3}",
                    what, report, missing, unexpected);
        }
        return report;
    }

    /** The first NaN or infinite value of a tensor, as float32 (what the graph would hold), or null. */
    private static String nonFinite(Tensor t) {
        float[] v = t.toFloats();
        for (int i = 0; i < v.length; i++) {
            if (!Float.isFinite(v[i])) {
                return String.format(Locale.ROOT, "element %,d of %,d is %s", i, v.length, v[i]);
            }
        }
        return null;
    }

    private static boolean isClassifier(String key) {
        return key.startsWith(CLASSIFIER_PREFIX);
    }

    /** True if the file has every classifier tensor the graph has, with the graph's shapes. */
    private static boolean classifierFits(ComputationGraph graph, Map<String, ParamRef> expected,
                                          Map<String, Tensor> file) {
        boolean any = false;
        for (ParamRef ref : expected.values()) {
            if (isClassifier(ref.key())) {
                any = true;
                Tensor t = file.get(ref.key());
                if (t == null || !Arrays.equals(torchShape(graph, ref), t.shape())) {
                    return false;
                }
            }
        }
        return any;
    }

    private static long numel(long[] shape) {
        long n = 1;
        for (long d : shape) {
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    /** The shape PyTorch gives the tensor of a graph parameter. */
    static long[] torchShape(ComputationGraph graph, ParamRef ref) {
        long[] s = graph.getLayer(ref.vertex()).getParam(ref.param()).shape();
        if (ref.transpose()) {
            return new long[] {s[1], s[0]};
        }
        if (s.length == 4) {
            return s;
        }
        long n = 1;
        for (long d : s) {
            n *= d;
        }
        return new long[] {n};   // biases and batch-norm vectors: DL4J may store them as [1, n]
    }

    private static void assign(ComputationGraph graph, ParamRef ref, Tensor tensor) {
        INDArray target = graph.getLayer(ref.vertex()).getParam(ref.param());
        INDArray src = tensor.toFloatArray();
        if (ref.transpose()) {
            src = src.transpose();
        } else if (!Arrays.equals(src.shape(), target.shape())) {
            src = src.reshape('c', target.shape());
        }
        if (src.dataType() != target.dataType()) {
            src = src.castTo(target.dataType());
        }
        target.assign(src);
    }

    static String fmt(long[] shape) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < shape.length; i++) {
            sb.append(i == 0 ? "" : ",").append(shape[i]);
        }
        return sb.append(']').toString();
    }

    private String message(String what, ComputationGraph graph, Map<String, ParamRef> expected,
                           Map<String, Tensor> file, List<Problem> problems) {
        StringBuilder sb = new StringBuilder();
        sb.append(what).append(" (").append(file.size()).append(" tensors) does not fit the graph (")
                .append(expected.size()).append(" parameter tensors): ").append(problems.size())
                .append(problems.size() == 1 ? " problem" : " problems");
        Kind section = null;
        for (Problem p : problems) {
            if (p.kind() != section) {
                section = p.kind();
                long count = problems.stream().filter(q -> q.kind() == p.kind()).count();
                sb.append("\n ").append(switch (section) {
                    case MISSING -> "missing keys";
                    case UNEXPECTED -> "unexpected keys";
                    case SHAPE -> "shape mismatches";
                    case DTYPE -> "wrong element types";
                    case STORAGE -> "storages larger than their tensors";
                    case NON_FINITE -> "non-finite values";
                }).append(" (").append(count).append("):");
            }
            sb.append("\n   ").append(p.message());
        }
        hints(sb, graph, expected, file, problems);
        return sb.toString();
    }

    private void hints(StringBuilder sb, ComputationGraph graph, Map<String, ParamRef> expected,
                       Map<String, Tensor> file, List<Problem> problems) {
        ParamRef fcWeight = expected.get(CLASSIFIER_PREFIX + "weight");
        Tensor fileFc = file.get(CLASSIFIER_PREFIX + "weight");
        boolean classifierShape = problems.stream().anyMatch(p -> p.kind() == Kind.SHAPE && isClassifier(p.key()));
        if (classifierShape && fcWeight != null && fileFc != null && fileFc.rank() == 2) {
            long[] want = torchShape(graph, fcWeight);
            long[] has = fileFc.shape();
            if (want[1] == has[1] && want[0] != has[0]) {
                sb.append("\n hint: the file's classifier has ").append(has[0]).append(" classes, the graph ")
                        .append(want[0]).append(". To use the file's classifier build the graph with ")
                        .append(has[0]).append(" classes (ResNetSpec.toBuilder().numClasses(").append(has[0])
                        .append(")); to keep the graph's new classifier and load everything else (transfer "
                                + "learning) use optClassifier(Classifier.DROP) or "
                                + "WeightImporter.importCheckpoint(spec, file, ").append(want[0]).append(").");
            } else {
                sb.append("\n hint: the file's classifier takes ").append(has[1]).append(" features, the graph's ")
                        .append(want[1]).append(": the file is another architecture.");
            }
        }
        long otherShapes = problems.stream().filter(p -> p.kind() == Kind.SHAPE && !isClassifier(p.key())).count();
        long missing = problems.stream().filter(p -> p.kind() == Kind.MISSING).count();
        long unexpected = problems.stream().filter(p -> p.kind() == Kind.UNEXPECTED).count();
        if (otherShapes > 3 || missing > expected.size() / 4 || unexpected > expected.size() / 4) {
            sb.append("\n hint: this many differences mean the checkpoint is for another architecture "
                    + "(depth, width, cardinality, SE or stem); build the graph from the spec it was trained with.");
        } else if (strict && (missing > 0 || unexpected > 0) && otherShapes == 0 && !classifierShape) {
            sb.append("\n hint: optStrict(false) loads the matching tensors and reports the rest.");
        }
    }
}
