package dev.resnetzoo.zoo.download;

import java.io.IOException;

/**
 * A download that cannot succeed: a permanent HTTP error (e.g. 404), a size or SHA-256 mismatch,
 * retries exhausted, a missing file in offline mode, or a cache directory that cannot be written.
 *
 * <p>The message is a single line naming the file and, where relevant, the URL, the HTTP status,
 * and the expected and actual hash and size. Failures caused by a network error keep it as the
 * {@linkplain #getCause() cause}.
 */
public class DownloadException extends IOException {

    private static final long serialVersionUID = 1L;

    /**
     * Creates an exception with a one-line message.
     *
     * @param message what failed and, where possible, how to fix it
     */
    public DownloadException(String message) {
        super(message);
    }

    /**
     * Creates an exception with a one-line message and the underlying cause.
     *
     * @param message what failed and, where possible, how to fix it
     * @param cause   the underlying error
     */
    public DownloadException(String message, Throwable cause) {
        super(message, cause);
    }

    /** A cause in a few words for a one-line message: its message, with its class name where that helps. */
    static String describe(Throwable e) {
        String message = e.getMessage();
        if (e instanceof Transfer.RetryableStatusException || e instanceof DownloadException) {
            return message;
        }
        return message == null || message.isBlank() ? e.getClass().getSimpleName()
                : e.getClass().getSimpleName() + ": " + message;
    }
}
