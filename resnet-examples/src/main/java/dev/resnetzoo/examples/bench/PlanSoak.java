package dev.resnetzoo.examples.bench;

import dev.resnetzoo.core.ResNetSpec;
import dev.resnetzoo.core.ResNets;
import dev.resnetzoo.core.Variant;
import dev.resnetzoo.core.plan.InferencePlan;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Leak check of {@link InferencePlan}: thousands of calls from several threads on one plan, in
 * rounds; after each round the plan is closed and a new one compiled. Prints the process's resident
 * memory ({@code VmRSS} of {@code /proc/self/status}) after each round: flat when calls and
 * {@code close()} release what they allocate.
 */
public final class PlanSoak {
    private PlanSoak() {
    }

    /**
     * @param calls   calls in all
     * @param rounds  plans compiled and closed, one after another
     * @param threads concurrent callers
     * @param out     where the rows go
     * @throws Exception if a call fails
     */
    public static void run(int calls, int rounds, int threads, PrintStream out) throws Exception {
        ResNetSpec spec = Variant.RESNET18.spec().toBuilder().input(3, 64, 64).numClasses(10).build();
        ComputationGraph graph = ResNets.create(spec);
        INDArray x = Nd4j.rand(DataType.FLOAT, 2, 3, 64, 64);
        INDArray y = Nd4j.rand(DataType.FLOAT, 3, 3, 80, 64);
        out.printf(Locale.ROOT, "soak: %s at 64x64 and 80x64, batch 2 and 3, %d calls from %d threads in %d rounds "
                + "(a new plan each round, the last one closed)%n", spec.name(), calls, threads, rounds);
        out.printf(Locale.ROOT, "%8s %10s %12s%n", "round", "calls", "VmRSS MB");
        out.printf(Locale.ROOT, "%8s %10d %12.1f%n", "start", 0, rssMb());
        AtomicLong done = new AtomicLong();
        int perRound = calls / rounds;
        for (int r = 1; r <= rounds; r++) {
            try (InferencePlan plan = InferencePlan.builder(graph).optSpec(spec).build()) {
                List<Thread> workers = new ArrayList<>();
                List<Throwable> failures = new ArrayList<>();
                for (int t = 0; t < threads; t++) {
                    int id = t;
                    Thread w = new Thread(() -> {
                        try {
                            for (int i = id; i < perRound; i += threads) {
                                INDArray in = i % 3 == 0 ? y : x;
                                if (i % 2 == 0) {
                                    plan.output(in);
                                } else {
                                    plan.output(in, List.of("layer2", "pool"));
                                }
                                done.incrementAndGet();
                            }
                        } catch (Throwable e) {
                            synchronized (failures) {
                                failures.add(e);
                            }
                        }
                    });
                    workers.add(w);
                    w.start();
                }
                for (Thread w : workers) {
                    w.join();
                }
                if (!failures.isEmpty()) {
                    throw new IllegalStateException("a soak call failed", failures.get(0));
                }
            }
            System.gc();
            out.printf(Locale.ROOT, "%8d %10d %12.1f%n", r, done.get(), rssMb());
        }
        graph.close();
    }

    static double rssMb() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024.0;
            }
        }
        return Double.NaN;
    }
}
