package dev.resnetzoo.examples.bench;

import java.util.List;

/**
 * Starts the other side of a comparison (PyTorch, ONNX Runtime) in a process of its own, with the
 * environment the user gave this one: without the glibc allocation setting that {@code ./resnet}
 * adds for this project's JVM ({@code MALLOC_MMAP_THRESHOLD_}, marked by
 * {@code RESNET_MALLOC_DEFAULT}), which would make every large allocation of an allocator without
 * a cache, such as PyTorch's on CPU, a fresh mapping.
 */
final class PeerProcess {
    private PeerProcess() {
    }

    /** @return a process builder for {@code command} with the user's own environment */
    static ProcessBuilder of(List<String> command) {
        ProcessBuilder pb = new ProcessBuilder(command);
        if (pb.environment().remove("RESNET_MALLOC_DEFAULT") != null) {
            pb.environment().remove("MALLOC_MMAP_THRESHOLD_");
        }
        return pb;
    }

    /** @return a process builder for {@code command} with the user's own environment */
    static ProcessBuilder of(String... command) {
        return of(List.of(command));
    }
}
