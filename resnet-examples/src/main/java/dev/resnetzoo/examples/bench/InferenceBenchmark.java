package dev.resnetzoo.examples.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.resnetzoo.core.ResNetSpec;
import dev.resnetzoo.core.ResNets;
import dev.resnetzoo.core.Variant;
import dev.resnetzoo.core.plan.InferencePlan;
import dev.resnetzoo.core.plan.Precision;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Inference images/s of one architecture on every engine, measured in one run: the compiled plan
 * (fp32, and bf16 where the CPU has it), this project's DL4J graph, PyTorch eager
 * ({@code scripts/bench_pytorch.py}) and ONNX Runtime's Java API on the same architecture exported
 * by {@code torch.onnx.export} ({@code scripts/export_onnx.py}). Each figure is the median of the
 * timed runs after warm-up; engines that cannot run here are reported with the reason.
 */
public final class InferenceBenchmark {
    private static final int THREADS = 2;

    /** A measured configuration: {@code config} such as "batch 8, 224x224". */
    record Cell(String engine, String config, double imgPerSec) {
    }

    private final int warmup;
    private final int iterations;
    private final Path repo;
    private final Path work;
    private final PrintStream log;
    private final List<String> notes = new ArrayList<>();
    private boolean pytorch = true;
    private boolean onnxRuntime = true;

    /**
     * @param pytorch     whether to measure PyTorch
     * @param onnxRuntime whether to measure ONNX Runtime
     * @return this
     */
    public InferenceBenchmark engines(boolean pytorch, boolean onnxRuntime) {
        this.pytorch = pytorch;
        this.onnxRuntime = onnxRuntime;
        return this;
    }

    /**
     * @param warmup     untimed runs
     * @param iterations timed runs (the median is reported; batch 1 runs three times as many)
     * @param repo       the repository root (holds scripts/)
     * @param log        progress and skipped engines
     * @throws IOException if no scratch directory can be made
     */
    public InferenceBenchmark(int warmup, int iterations, Path repo, PrintStream log) throws IOException {
        this.warmup = warmup;
        this.iterations = iterations;
        this.repo = repo;
        this.work = Files.createTempDirectory("resnet-bench");
        this.log = log;
    }

    /**
     * @param model   the architecture
     * @param configs {batch, size} pairs
     * @param graphToo whether to measure the DL4J graph (slow at large batches)
     * @return the table
     * @throws Exception if a measurement fails
     */
    public String run(String model, List<int[]> configs, boolean graphToo) throws Exception {
        Variant v = Variant.of(model);
        ResNetSpec spec = v.spec();
        ComputationGraph graph = ResNets.create(spec);
        Map<String, Map<String, Double>> rows = new LinkedHashMap<>();
        List<String> columns = new ArrayList<>();
        for (int[] c : configs) {
            columns.add(config(c));
        }
        Path onnx = onnxRuntime ? exportOnnx(v.id()) : null;
        Map<String, Double> ort = onnx == null ? Map.of() : ort(onnx, configs);
        boolean bf16 = Precision.BF16.supported();
        if (!bf16) {
            note("plan bf16 not measured: this CPU has no AVX512-BF16");
        }
        try (InferencePlan fp32 = InferencePlan.builder(graph).optSpec(spec).build();
             InferencePlan half = bf16 ? InferencePlan.builder(graph).optSpec(spec).optPrecision(Precision.BF16).build() : null) {
            for (int[] c : configs) {
                int batch = c[0];
                int size = c[1];
                INDArray x = Nd4j.rand(DataType.FLOAT, batch, 3, size, size);
                String col = config(c);
                int iters = batch == 1 ? iterations * 3 : iterations;
                log.println("  " + model + " " + col + ": plan fp32" + (bf16 ? ", plan bf16" : "")
                        + (graphToo ? ", graph" : "") + ", PyTorch, ONNX Runtime");
                put(rows, "plan fp32 (this project)", col, batch / median(() -> fp32.output(x), iters));
                if (half != null) {
                    put(rows, "plan bf16 (this project)", col, batch / median(() -> half.output(x), iters));
                }
                if (graphToo) {
                    put(rows, "DL4J graph, oneDNN layers (this project)", col,
                            batch / median(() -> graph.output(false, x), Math.max(3, iters / 2)));
                }
                Double torch = pytorch ? pytorch(v.id(), batch, size, iters) : null;
                if (torch != null) {
                    put(rows, torchName, col, torch);
                }
                if (ort.containsKey(col)) {
                    put(rows, ortName, col, batch / ort.get(col));
                }
            }
        }
        graph.close();
        return table(model, columns, rows);
    }

    private String torchName = "PyTorch eager";
    private String ortName = "ONNX Runtime Java";

    /** Runs {@link OrtRunner} in a JVM of its own; config -> median seconds (empty with a note if unavailable). */
    private Map<String, Double> ort(Path onnx, List<int[]> configs) throws IOException, InterruptedException {
        log.println("  ONNX Runtime (separate JVM): " + onnx.getFileName());
        // Only this module's classes and ONNX Runtime's jar: with the whole classpath its native library crashed.
        String classes = OrtRunner.class.getProtectionDomain().getCodeSource().getLocation().getPath();
        String ortJar = Arrays.stream(System.getProperty("java.class.path").split(java.io.File.pathSeparator))
                .filter(e -> Path.of(e).getFileName().toString().startsWith("onnxruntime-")).findFirst().orElse(null);
        if (ortJar == null) {
            note("ONNX Runtime not measured: it is not on the classpath; run with RESNET_PROFILES=bench-ort "
                    + "./resnet bench --inference (Maven profile bench-ort of resnet-examples)");
            return Map.of();
        }
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", classes + java.io.File.pathSeparator + ortJar, OrtRunner.class.getName(), onnx.toString(),
                String.valueOf(THREADS), String.valueOf(warmup), String.valueOf(iterations)));
        for (int[] c : configs) {
            cmd.add(c[0] + "," + c[1]);
        }
        Process p = PeerProcess.of(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        Map<String, Double> out = new LinkedHashMap<>();
        String problem = null;
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) {
                if (line.startsWith("unavailable ")) {
                    problem = line.substring(12);
                } else if (line.startsWith("version ")) {
                    ortName = "ONNX Runtime " + line.substring(8) + " Java";
                } else {
                    String[] f = line.trim().split(" ");
                    out.put(config(new int[] {Integer.parseInt(f[0]), Integer.parseInt(f[1])}), Double.parseDouble(f[2]));
                }
            }
        }
        if (!p.waitFor(60, TimeUnit.MINUTES) || p.exitValue() != 0) {
            problem = problem != null ? problem : "its JVM failed (exit " + (p.isAlive() ? "timeout" : p.exitValue()) + ")";
        }
        if (problem != null) {
            note("ONNX Runtime not measured: " + problem);
        }
        return out;
    }

    private static String config(int[] c) {
        return "b" + c[0] + " " + c[1] + "px";
    }

    private static void put(Map<String, Map<String, Double>> rows, String row, String col, double v) {
        rows.computeIfAbsent(row, k -> new LinkedHashMap<>()).put(col, v);
    }

    private void note(String s) {
        if (!notes.contains(s)) {
            notes.add(s);
            log.println(s);
        }
    }

    /** @return notes on engines that were not measured */
    public List<String> notes() {
        return notes;
    }

    private double median(Runnable r, int iters) {
        for (int i = 0; i < warmup; i++) {
            r.run();
        }
        double[] t = new double[iters];
        for (int i = 0; i < iters; i++) {
            long t0 = System.nanoTime();
            r.run();
            t[i] = (System.nanoTime() - t0) / 1e9;
        }
        Arrays.sort(t);
        return t[iters / 2];
    }

    private String table(String model, List<String> columns, Map<String, Map<String, Double>> rows) {
        StringBuilder sb = new StringBuilder();
        String base = rows.keySet().stream().filter(k -> k.startsWith("ONNX Runtime")).findFirst()
                .orElse(rows.keySet().stream().filter(k -> k.startsWith("PyTorch")).findFirst().orElse(null));
        sb.append(String.format(Locale.ROOT, "%s inference, images/s (median after %d warm-up; %d threads)%s%n", model,
                warmup, THREADS, base == null ? "" : "; ratio to " + base));
        sb.append(String.format(Locale.ROOT, "%-42s", "engine"));
        for (String c : columns) {
            sb.append(String.format(Locale.ROOT, " %16s", c));
        }
        sb.append('\n');
        for (Map.Entry<String, Map<String, Double>> r : rows.entrySet()) {
            sb.append(String.format(Locale.ROOT, "%-42s", r.getKey()));
            for (String c : columns) {
                Double v = r.getValue().get(c);
                Double b = base == null ? null : rows.get(base).get(c);
                String cell = v == null ? "-" : b == null ? String.format(Locale.ROOT, "%.2f", v)
                        : String.format(Locale.ROOT, "%.2f (%.2fx)", v, v / b);
                sb.append(String.format(Locale.ROOT, " %16s", cell));
            }
            sb.append('\n');
        }
        return sb.toString();
    }

    /** Exports the model once (dynamic batch and size); null with a note if python3-onnx is missing. */
    private Path exportOnnx(String model) throws IOException, InterruptedException {
        Path out = work.resolve(model + ".onnx");
        if (Files.isRegularFile(out)) {
            return out;
        }
        Path script = repo.resolve("scripts/export_onnx.py");
        Path log = work.resolve(model + ".export.log");
        Process p = PeerProcess.of("/usr/bin/python3", script.toString(), model, out.toString())
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        if (!p.waitFor(20, TimeUnit.MINUTES) || p.exitValue() != 0 || !Files.isRegularFile(out)) {
            String tail = Files.isRegularFile(log) ? Files.readString(log).strip() : "";
            tail = tail.lines().reduce((a, b) -> b).orElse("");
            note("ONNX Runtime not measured: exporting " + model + " with " + script + " failed (" + tail
                    + "); it needs python3-torchvision and python3-onnx (apt-get install python3-torchvision python3-onnx)");
            return null;
        }
        return out;
    }

    private Double pytorch(String model, int batch, int size, int iters) throws IOException, InterruptedException {
        Path script = repo.resolve("scripts/bench_pytorch.py");
        Process p = PeerProcess.of("/usr/bin/python3", script.toString(), model, "--no-train",
                "--batch", String.valueOf(batch), "--size", String.valueOf(size), "--threads", String.valueOf(THREADS),
                "--warmup", String.valueOf(warmup), "--iters", String.valueOf(iters))
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String last = null;
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) {
                last = line;
            }
        }
        if (!p.waitFor(30, TimeUnit.MINUTES) || p.exitValue() != 0 || last == null || !last.startsWith("{")) {
            note("PyTorch not measured: " + script + " failed; it needs /usr/bin/python3 with python3-torchvision");
            return null;
        }
        JsonNode j = new ObjectMapper().readTree(last);
        torchName = "PyTorch " + j.path("torch").asText() + " eager";
        return j.path("inference_img_s").asDouble();
    }
}
