package dev.resnetzoo.zoo;

import java.util.List;

/**
 * A checkpoint does not fit a graph. Thrown by {@link WeightImporter} before any parameter of the
 * graph has been changed, listing every problem found at once: missing keys, unexpected keys,
 * shape mismatches, tensors that are not floating point or whose storage is larger than their
 * shape needs, and (checked once those fit and the data is read) non-finite values. The message
 * has one line per problem,
 * for example {@code layer1.0.conv1.weight: expected [64,64,1,1], file has [64,64,3,3]}, followed
 * by hints on how to fix the common cases (another architecture, another number of classes).
 *
 * <p>It is an {@link IllegalArgumentException} (unchecked): a checkpoint that does not match the
 * architecture is a bad argument, not an I/O failure, and callers that only want the message can
 * treat it like any other. Callers that want to react to specific problems use {@link #problems()}.
 */
public class WeightImportException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    /** What is wrong with one key. */
    public enum Kind {
        /** The graph has the parameter, the file has no tensor for it. */
        MISSING,
        /** The file has a tensor the graph has no parameter for. */
        UNEXPECTED,
        /** Both have it, with different shapes. */
        SHAPE,
        /** The tensor is not floating point (integers or booleans cannot be weights). */
        DTYPE,
        /**
         * The file keeps the tensor in a storage larger than its shape needs (a view of a larger
         * tensor): reading it would cost more than the architecture justifies, so it is refused
         * before it is read.
         */
        STORAGE,
        /** The tensor holds a NaN or an infinity (or a float64 value beyond float32's range). */
        NON_FINITE
    }

    /**
     * One problem.
     *
     * @param kind    what is wrong
     * @param key     the {@code state_dict} key
     * @param message one line: the key, then what was expected and what the file has
     */
    public record Problem(Kind kind, String key, String message) {
        @Override
        public String toString() {
            return message;
        }
    }

    private final transient List<Problem> problems;

    /**
     * @param message  the full message (all problems and hints)
     * @param problems the problems, in the order reported
     */
    public WeightImportException(String message, List<Problem> problems) {
        super(message);
        this.problems = List.copyOf(problems);
    }

    /** @return every problem found, in report order (missing, unexpected, shape, dtype, storage; or non-finite) */
    public List<Problem> problems() {
        return problems;
    }

    /**
     * @param kind a kind of problem
     * @return the keys with that problem
     */
    public List<String> keys(Kind kind) {
        return problems.stream().filter(p -> p.kind() == kind).map(Problem::key).toList();
    }
}
