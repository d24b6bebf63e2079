package dev.resnetzoo.zoo.io;

import java.io.IOException;

/**
 * Thrown when a checkpoint file (PyTorch zip, legacy PyTorch pickle or safetensors) is malformed,
 * uses a feature this package does not support, or asks the unpickler for a global that is not on
 * the state_dict allow-list. The message always names the offending file and, where it applies,
 * the tensor or pickle global involved.
 */
public class CheckpointFormatException extends IOException {

    private static final long serialVersionUID = 1L;

    /**
     * Creates an exception with the given message.
     *
     * @param message what is wrong, naming the file
     */
    public CheckpointFormatException(String message) {
        super(message);
    }

    /**
     * Creates an exception with the given message and cause.
     *
     * @param message what is wrong, naming the file
     * @param cause   the underlying error
     */
    public CheckpointFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
