package dev.resnetzoo.examples.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.resnetzoo.core.LayerImpl;
import dev.resnetzoo.core.ResNetSpec;
import dev.resnetzoo.core.ResNets;
import dev.resnetzoo.core.layers.LayerRuntime;
import dev.resnetzoo.core.onednn.OneDnn;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;

/**
 * Images per second for inference and for a training step (Adam) of one architecture, with this
 * project's convolution layers and with DL4J's stock ones, and PyTorch's figure for the same model
 * and batch measured in the same run. Each figure is the median of the timed iterations after
 * warm-up; ratios are what to read, as the machine may be shared.
 */
public final class ResNetBenchmark {

    /**
     * One measured configuration.
     *
     * @param name                the row's label
     * @param inferenceImgPerSec  images/s of inference
     * @param trainImgPerSec      images/s of training steps
     * @param primitivesCreated   oneDNN primitives this project created during the timed iterations (after
     *                            warm-up; 0 when every primitive was reused), or -1 where not applicable
     */
    public record Result(String name, double inferenceImgPerSec, double trainImgPerSec, long primitivesCreated,
                         long peakRssBytes, long steadyRssBytes) {
    }

    private final ResNetSpec spec;
    private final int batch;
    private final int warmup;
    private final int iterations;

    /**
     * @param spec       the architecture
     * @param batch      images per batch
     * @param warmup     untimed iterations first
     * @param iterations timed iterations (the median is reported)
     */
    public ResNetBenchmark(ResNetSpec spec, int batch, int warmup, int iterations) {
        this.spec = spec;
        this.batch = batch;
        this.warmup = warmup;
        this.iterations = iterations;
    }

    /**
     * @param convolution which convolution layers the graph uses
     * @param runtime     how this project's layers compute (ignored for DL4J's stock layers)
     * @return the measured figures
     */
    public Result measure(LayerImpl convolution, LayerRuntime runtime) {
        LayerRuntime.select(runtime);
        try {
            return measureSelected(convolution);
        } finally {
            LayerRuntime.select(null);
        }
    }

    private Result measureSelected(LayerImpl convolution) {
        PeakMemory.reset();
        ComputationGraph g = new ComputationGraph(ResNets.configuration(spec,
                new NeuralNetConfiguration.Builder().seed(0).updater(new Adam(1e-3)), convolution));
        g.init();
        INDArray x = Nd4j.randn(DataType.FLOAT, batch, spec.inputChannels(), spec.inputHeight(), spec.inputWidth());
        INDArray y = Nd4j.zeros(DataType.FLOAT, batch, spec.numClasses());
        for (int i = 0; i < batch; i++) {
            y.putScalar(i, (i * 37) % spec.numClasses(), 1.0);
        }
        DataSet ds = new DataSet(x, y);
        long[] created = new long[1];
        double inference = median(() -> g.output(false, x), warmup, iterations, created, () -> { });
        long[] steady = new long[1];
        double train = median(() -> g.fit(ds), warmup, iterations, created, () -> {
            steady[0] = PeakMemory.peakBytes();
            PeakMemory.reset();
        });
        long steadyPeak = PeakMemory.peakBytes();
        long peak = Math.max(steady[0], steadyPeak);

        g.close();
        if (convolution != LayerImpl.NATIVE) {
            return new Result("DL4J stock ConvolutionLayer", batch / inference, batch / train, -1, peak, steadyPeak);
        }
        boolean oneDnn = LayerRuntime.selected() == LayerRuntime.ONEDNN;
        return new Result(oneDnn ? "resnet-zoo on oneDNN" : "resnet-zoo on libnd4j ops", batch / inference,
                batch / train, oneDnn ? created[0] : -1, peak, steadyPeak);
    }

    /** Median seconds of the timed runs; adds the oneDNN primitives created during them to {@code created[0]}. */
    private static double median(Runnable r, int warmup, int iterations, long[] created, Runnable afterWarmup) {
        for (int i = 0; i < warmup; i++) {
            r.run();
        }
        afterWarmup.run();
        long before = OneDnn.available() ? OneDnn.primitivesCreated() : 0;
        double[] t = new double[iterations];
        for (int i = 0; i < iterations; i++) {
            long t0 = System.nanoTime();
            r.run();
            t[i] = (System.nanoTime() - t0) / 1e9;
        }
        created[0] += (OneDnn.available() ? OneDnn.primitivesCreated() : 0) - before;
        Arrays.sort(t);
        return t[iterations / 2];
    }

    /**
     * Runs {@code scripts/bench_pytorch.py} with Debian's python3 (torch 1.13).
     *
     * @param repoRoot the repository root (holds scripts/)
     * @param model    torchvision model name
     * @return PyTorch's figures, or null with the reason printed if PyTorch is not installed
     * @throws IOException if the script cannot be started
     * @throws InterruptedException if interrupted while waiting
     */
    public Result pytorch(Path repoRoot, String model) throws IOException, InterruptedException {
        Path script = repoRoot.resolve("scripts/bench_pytorch.py");
        Path python = Path.of("/usr/bin/python3");
        if (!Files.isRegularFile(script) || !Files.isExecutable(python)) {
            System.err.println("PyTorch figure not measured: need " + script + " and " + python
                    + " with python3-torchvision (apt-get install python3-torchvision)");
            return null;
        }
        List<String> cmd = new ArrayList<>(List.of(python.toString(), script.toString(), model,
                "--batch", String.valueOf(batch), "--size", String.valueOf(spec.inputHeight()),
                "--warmup", String.valueOf(warmup), "--iters", String.valueOf(iterations)));
        Process p = PeerProcess.of(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String last = null;
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) {
                last = line;
            }
        }
        if (!p.waitFor(30, TimeUnit.MINUTES) || p.exitValue() != 0 || last == null) {
            System.err.println("PyTorch figure not measured: bench_pytorch.py failed (exit "
                    + (p.isAlive() ? "timeout" : p.exitValue()) + "); is python3-torchvision installed?");
            return null;
        }
        JsonNode j = new ObjectMapper().readTree(last);
        return new Result("PyTorch " + j.path("torch").asText() + " (" + j.path("threads").asInt() + " threads)",
                j.path("inference_img_s").asDouble(), j.path("train_img_s").asDouble(), -1,
                j.path("peak_rss_bytes").asLong(-1), j.path("steady_rss_bytes").asLong(-1));
    }

    private static String gigabytes(long bytes) {
        return bytes > 0 ? String.format(Locale.ROOT, "%.2f", bytes / 1e9) : "-";
    }

    private static String ratio(long a, long b) {
        return a > 0 && b > 0 ? String.format(Locale.ROOT, "%.2fx", (double) a / b) : "-";
    }

    /**
     * @param results  measured rows; the last is the baseline for the ratio columns (PyTorch when measured)
     * @return a printable table
     */
    public String table(List<Result> results) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "%s, batch %d, %dx%d, median of %d after %d warm-up, %d threads%n",
                spec.name(), batch, spec.inputHeight(), spec.inputWidth(), iterations, warmup,
                Runtime.getRuntime().availableProcessors()));
        sb.append(String.format(Locale.ROOT, "%-30s %11s %7s %11s %7s %13s %7s %13s %7s  %s%n", "", "infer img/s",
                "ratio", "train img/s", "ratio", "peak RSS GB", "ratio", "steady RSS GB", "ratio", "primitives created after warm-up"));
        Result base = results.get(results.size() - 1);
        for (Result r : results) {
            sb.append(String.format(Locale.ROOT, "%-30s %11.2f %6.2fx %11.2f %6.2fx %13s %7s %13s %7s  %s%n", r.name(),
                    r.inferenceImgPerSec(), r.inferenceImgPerSec() / base.inferenceImgPerSec(),
                    r.trainImgPerSec(), r.trainImgPerSec() / base.trainImgPerSec(),
                    gigabytes(r.peakRssBytes()), ratio(r.peakRssBytes(), base.peakRssBytes()),
                    gigabytes(r.steadyRssBytes()), ratio(r.steadyRssBytes(), base.steadyRssBytes()),
                    r.primitivesCreated() < 0 ? "-" : String.valueOf(r.primitivesCreated())));
        }
        sb.append("ratios are to the last row, measured in the same run. peak RSS: the process's peak resident memory"
                + " over the row's inference and training, warm-up included (Java: reset before each row);"
                + " steady RSS: over the timed training steps only\n");
        return sb.toString();
    }
}
