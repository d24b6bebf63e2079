package dev.resnetzoo.examples.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.resnetzoo.core.ConvolutionImpl;
import dev.resnetzoo.core.ResNetSpec;
import dev.resnetzoo.core.ResNets;
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

    /** One measured configuration. */
    public record Result(String name, double inferenceImgPerSec, double trainImgPerSec) {
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
     * @return the measured figures
     */
    public Result measure(ConvolutionImpl convolution) {
        ComputationGraph g = new ComputationGraph(ResNets.configuration(spec,
                new NeuralNetConfiguration.Builder().seed(0).updater(new Adam(1e-3)), convolution));
        g.init();
        INDArray x = Nd4j.randn(DataType.FLOAT, batch, spec.inputChannels(), spec.inputHeight(), spec.inputWidth());
        INDArray y = Nd4j.zeros(DataType.FLOAT, batch, spec.numClasses());
        for (int i = 0; i < batch; i++) {
            y.putScalar(i, (i * 37) % spec.numClasses(), 1.0);
        }
        DataSet ds = new DataSet(x, y);
        double inference = median(() -> g.output(false, x), warmup, iterations);
        double train = median(() -> g.fit(ds), warmup, iterations);
        g.close();
        return new Result(convolution == ConvolutionImpl.NATIVE ? "resnet-zoo (libnd4j conv ops)"
                : "DL4J stock ConvolutionLayer", batch / inference, batch / train);
    }

    private static double median(Runnable r, int warmup, int iterations) {
        for (int i = 0; i < warmup; i++) {
            r.run();
        }
        double[] t = new double[iterations];
        for (int i = 0; i < iterations; i++) {
            long t0 = System.nanoTime();
            r.run();
            t[i] = (System.nanoTime() - t0) / 1e9;
        }
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
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
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
                j.path("inference_img_s").asDouble(), j.path("train_img_s").asDouble());
    }

    /**
     * @param results  measured rows; the first is the baseline for the ratio columns
     * @return a printable table
     */
    public String table(List<Result> results) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "%s, batch %d, %dx%d, median of %d after %d warm-up, %d threads%n",
                spec.name(), batch, spec.inputHeight(), spec.inputWidth(), iterations, warmup,
                Runtime.getRuntime().availableProcessors()));
        sb.append(String.format(Locale.ROOT, "%-36s %12s %8s %12s %8s%n", "", "infer img/s", "ratio", "train img/s",
                "ratio"));
        Result base = results.get(0);
        for (Result r : results) {
            sb.append(String.format(Locale.ROOT, "%-36s %12.2f %7.2fx %12.2f %7.2fx%n", r.name(),
                    r.inferenceImgPerSec(), r.inferenceImgPerSec() / base.inferenceImgPerSec(),
                    r.trainImgPerSec(), r.trainImgPerSec() / base.trainImgPerSec()));
        }
        return sb.toString();
    }
}
