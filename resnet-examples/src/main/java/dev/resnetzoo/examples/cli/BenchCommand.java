package dev.resnetzoo.examples.cli;

import dev.resnetzoo.core.LayerImpl;
import dev.resnetzoo.core.ResNetSpec;
import dev.resnetzoo.core.Variant;
import dev.resnetzoo.core.layers.LayerRuntime;
import dev.resnetzoo.examples.bench.ConvShapeBenchmark;
import dev.resnetzoo.examples.bench.InferenceBenchmark;
import dev.resnetzoo.examples.bench.PlanSoak;
import dev.resnetzoo.examples.bench.ResNetBenchmark;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code ./resnet bench}: images/s of this project's graph, DL4J's stock graph and PyTorch, in one run. */
@Command(mixinStandardHelpOptions = true, name = "bench", description = "Benchmark inference and training images/s: oneDNN and libnd4j runtimes, PyTorch (and DL4J's stock layers).")
final class BenchCommand implements Callable<Integer> {
    @Parameters(index = "0", arity = "0..1", paramLabel = "ARCH", description = "architecture (default resnet50)")
    String arch = "resnet50";

    @Option(names = "--batch", description = "batch size (default 8)")
    int batch = 8;

    @Option(names = "--size", description = "input height and width (default 224)")
    int size = 224;

    @Option(names = "--warmup", description = "untimed iterations (default 2)")
    int warmup = 2;

    @Option(names = "--iters", description = "timed iterations, median reported (default 5)")
    int iters = 5;

    @Option(names = "--stock", description = "also measure DL4J's stock-layer graph (slow)")
    boolean stock;

    @Option(names = "--no-libnd4j", description = "skip this project's layers on the libnd4j runtime")
    boolean noLibnd4j;

    @Option(names = "--no-pytorch", description = "skip the PyTorch measurement")
    boolean noPytorch;

    @Option(names = "--conv", description = "instead: single convolutions of ResNet shapes, GFLOP/s on both runtimes")
    boolean conv;

    @Option(names = "--inference", description = "instead: inference on every engine (plan fp32/bf16, DL4J graph, PyTorch, "
            + "ONNX Runtime) for resnet50 and resnext50_32x4d at batch 1 and 8, and cost growth (batch 1/8/32, 224/320 px)")
    boolean inference;

    @Option(names = "--models", split = ",", description = "with --inference: architectures (default resnet50,resnext50_32x4d)")
    List<String> models = List.of("resnet50", "resnext50_32x4d");

    @Option(names = "--no-growth", description = "with --inference: skip the batch/size growth table")
    boolean noGrowth;

    @Option(names = "--no-ort", description = "with --inference: skip ONNX Runtime")
    boolean noOrt;

    @Option(names = "--no-graph", description = "with --inference: skip the DL4J graph")
    boolean noGraph;

    @Option(names = "--accuracy", paramLabel = "MODEL.zip", description = "instead: Fashion-MNIST test accuracy and speed of "
            + "a trained model on the graph, the fp32 plan and the bf16 plan")
    Path accuracy;

    @Option(names = "--data", paramLabel = "DIR", description = "with --accuracy: Fashion-MNIST directory")
    Path data;

    @Option(names = "--soak", paramLabel = "CALLS", description = "instead: CALLS plan calls from 2 threads in rounds "
            + "on one plan, then again with a plan compiled and closed per round, printing resident memory")
    int soak;

    @Option(names = "--soak-rounds", paramLabel = "N", description = "with --soak: rounds, one table row each (default 8)")
    int soakRounds = 8;

    @Option(names = "--repo", description = "repository root holding scripts/ (default: current directory)")
    Path repo = Path.of(System.getProperty("resnet.home", "."));

    @Override
    public Integer call() throws Exception {
        if (accuracy != null) {
            dev.resnetzoo.examples.bench.PrecisionAccuracy.run(accuracy, data, 256, System.out);
            return 0;
        }
        if (soak > 0) {
            PlanSoak.run(soak, soakRounds, 2, false, System.out);
            PlanSoak.run(soak, soakRounds, 2, true, System.out);
            return 0;
        }
        if (inference) {
            InferenceBenchmark b = new InferenceBenchmark(warmup, iters, repo, System.err).engines(!noPytorch, !noOrt);
            StringBuilder out = new StringBuilder();
            for (String m : models) {
                System.err.println("measuring " + m + "...");
                String t = b.run(m, List.of(new int[] {1, 224}, new int[] {8, 224}), !noGraph);
                System.out.print(t);
                out.append(t);
            }
            if (!noGrowth) {
                System.err.println("measuring cost growth of " + models.get(0) + "...");
                System.out.print(b.run(models.get(0), List.of(new int[] {1, 224}, new int[] {8, 224}, new int[] {32, 224},
                        new int[] {1, 320}, new int[] {8, 320}, new int[] {32, 320}), false));
            }
            b.notes().forEach(n -> System.out.println("note: " + n));
            return 0;
        }
        if (conv) {
            System.out.print(new ConvShapeBenchmark(warmup, Math.max(iters, 7)).run());
            return 0;
        }
        Variant v = Variant.of(arch);
        ResNetSpec spec = v.spec().toBuilder().input(3, size, size).build();
        ResNetBenchmark bench = new ResNetBenchmark(spec, batch, warmup, iters);
        List<ResNetBenchmark.Result> rows = new ArrayList<>();
        System.err.println("layer runtime by default here: " + LayerRuntime.describe());
        if (stock && spec.cardinality() == 1) {
            System.err.println("measuring DL4J stock layers...");
            rows.add(bench.measure(LayerImpl.DL4J, null));
        }
        if (!noLibnd4j) {
            System.err.println("measuring resnet-zoo layers on libnd4j ops...");
            rows.add(bench.measure(LayerImpl.NATIVE, LayerRuntime.LIBND4J));
        }
        if (LayerRuntime.selected() == LayerRuntime.ONEDNN) {
            System.err.println("measuring resnet-zoo layers on oneDNN...");
            rows.add(bench.measure(LayerImpl.NATIVE, LayerRuntime.ONEDNN));
        }
        if (!noPytorch) {
            System.err.println("measuring PyTorch...");
            ResNetBenchmark.Result torch = bench.pytorch(repo, v.id());
            if (torch != null) {
                rows.add(torch);
            }
        }
        System.out.print(bench.table(rows));
        return 0;
    }
}
