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
        run(calls, rounds, threads, true, out);
    }

    /**
     * @param calls   calls in all
     * @param rounds  rounds (a row of the table each)
     * @param threads concurrent callers
     * @param rebuild whether each round compiles a new plan and closes it (else one plan for all rounds)
     * @param out     where the rows go
     * @throws Exception if a call fails
     */
    public static void run(int calls, int rounds, int threads, boolean rebuild, PrintStream out) throws Exception {
        ResNetSpec spec = Variant.RESNET18.spec().toBuilder().input(3, 64, 64).numClasses(10).build();
        ComputationGraph graph = ResNets.create(spec);
        INDArray x = Nd4j.rand(DataType.FLOAT, 2, 3, 64, 64);
        INDArray y = Nd4j.rand(DataType.FLOAT, 3, 3, 80, 64);
        out.printf(Locale.ROOT, "soak: %s at 64x64 and 80x64, batch 2 and 3, %d calls from %d threads in %d rounds (%s)%n",
                spec.name(), calls, threads, rounds, rebuild ? "a new plan each round, closed after it" : "one plan");
        out.printf(Locale.ROOT, "%8s %10s %12s %16s %18s%n", "round", "calls", "VmRSS MB", "JVM heap used MB",
                "JavaCPP tracked MB");
        row(out, "start", 0);
        AtomicLong done = new AtomicLong();
        int perRound = calls / rounds;
        InferencePlan shared = rebuild ? null : InferencePlan.builder(graph).optSpec(spec).build();
        for (int r = 1; r <= rounds; r++) {
            InferencePlan plan = rebuild ? InferencePlan.builder(graph).optSpec(spec).build() : shared;
            try {
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
            } finally {
                if (rebuild) {
                    plan.close();
                }
            }
            row(out, String.valueOf(r), done.get());
        }
        if (shared != null) {
            shared.close();
            row(out, "closed", done.get());
        }
        graph.close();
    }

    private static void row(PrintStream out, String round, long calls) throws IOException, InterruptedException {
        // Output arrays are freed when collected: collect, and give the deallocator thread a moment.
        System.gc();
        Thread.sleep(200);
        System.gc();
        Runtime rt = Runtime.getRuntime();
        out.printf(Locale.ROOT, "%8s %10d %12.1f %16.1f %18.1f%n", round, calls, rssMb(),
                (rt.totalMemory() - rt.freeMemory()) / 1048576.0, org.bytedeco.javacpp.Pointer.totalBytes() / 1048576.0);
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
