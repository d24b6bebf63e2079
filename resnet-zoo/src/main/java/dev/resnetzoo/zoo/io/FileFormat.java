package dev.resnetzoo.zoo.io;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The checkpoint formats this package reads, recognised from a file's first bytes so that the file
 * name does not matter. The one place that decides what a file is: {@link StateDict#read(Path)}
 * and {@link TorchCheckpointReader#read(Path)} both ask it.
 */
enum FileFormat {
    /** {@code torch.save} of torch 1.6 and later: a zip archive. */
    TORCH_ZIP("a PyTorch zip checkpoint"),
    /** {@code torch.save} before torch 1.6 (or {@code _use_new_zipfile_serialization=False}): pickles. */
    TORCH_LEGACY("a legacy PyTorch checkpoint"),
    /** safetensors: an 8-byte little-endian header length, then a JSON object. */
    SAFETENSORS("a safetensors file");

    /** Bytes needed to tell the formats apart: the safetensors header length and its opening brace. */
    private static final int HEAD_BYTES = 9;

    private final String description;

    FileFormat(String description) {
        this.description = description;
    }

    /** @return for example {@code "a safetensors file"} */
    String description() {
        return description;
    }

    /**
     * Recognises a file.
     *
     * @throws CheckpointFormatException if the file is empty or none of the formats
     */
    static FileFormat of(Path file) throws IOException {
        byte[] head;
        try (InputStream in = Files.newInputStream(file)) {
            head = in.readNBytes(HEAD_BYTES);
        }
        String name = name(file);
        if (head.length == 0) {
            throw new CheckpointFormatException(name + " is empty, not a checkpoint");
        }
        if (head.length >= 4 && head[0] == 'P' && head[1] == 'K' && head[2] == 3 && head[3] == 4) {
            return TORCH_ZIP;
        }
        // a pickle of protocol 2 or later starts with the PROTO opcode; torch.save always writes one
        if (head.length >= 2 && (head[0] & 0xff) == 0x80 && head[1] >= 2 && head[1] <= 5) {
            return TORCH_LEGACY;
        }
        if (head.length == HEAD_BYTES && head[8] == '{') {
            return SAFETENSORS;
        }
        throw new CheckpointFormatException(name + " is not a checkpoint: expected a PyTorch zip archive, a legacy "
                + "PyTorch pickle or a safetensors file, but it starts with bytes " + hex(head));
    }

    /** The file name used in messages (the last path element). */
    static String name(Path file) {
        Path n = file.getFileName();
        return n == null ? file.toString() : n.toString();
    }

    private static String hex(byte[] b) {
        StringBuilder sb = new StringBuilder();
        for (byte x : b) {
            sb.append(sb.length() == 0 ? "" : " ").append(String.format("%02x", x & 0xff));
        }
        return sb.toString();
    }
}
