package dev.resnetzoo.examples.cli;

import dev.resnetzoo.core.ResNets;
import dev.resnetzoo.core.plan.InferenceEngine;
import dev.resnetzoo.core.plan.InferencePlan;
import dev.resnetzoo.core.plan.Precision;
import dev.resnetzoo.zoo.Npy;
import dev.resnetzoo.zoo.Pretrained;
import dev.resnetzoo.zoo.SavedModel;
import dev.resnetzoo.zoo.files.AtomicFiles;
import dev.resnetzoo.zoo.preprocess.ImagePreprocessor;
import dev.resnetzoo.zoo.registry.Registry;
import dev.resnetzoo.zoo.registry.WeightsEntry;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.ops.transforms.Transforms;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code ./resnet predict (--model MODEL.zip | --weights TAG) INPUT...}: classifies images or
 * preprocessed arrays and prints the top classes of each.
 *
 * <p><b>Model.</b> {@code --model} reads a {@link SavedModel} (written by {@code import},
 * {@code train} or {@code finetune}); {@code --weights} loads registry weights through
 * {@link Pretrained} (downloading and converting them on first use). Either way the model brings
 * its input shape, preprocessing and labels. With both, the model comes from the zip and
 * {@code --weights} only names the preprocessing and labels (the registry entry is looked up,
 * nothing is downloaded).
 *
 * <p><b>Inputs.</b> A {@code .npy} file is a float32 (or float64) array {@code [N, C, H, W]} already
 * preprocessed; its C, H and W must be the model's. Any other file is decoded as an image (PNG,
 * JPEG, BMP, GIF) and preprocessed as the model says. All inputs form one batch, evaluated in chunks
 * of {@value #CHUNK}.
 *
 * <p><b>Output.</b> For each sample the top-k classes with softmax probabilities, labelled with
 * {@code --labels} (one per line), else the model's labels, else ImageNet-1k's when the model has
 * 1000 classes. {@code --output-npy} writes the logits ({@code fc} activations, before softmax)
 * as a float32 {@code [N, classes]} array, atomically.
 *
 * <p><b>Engine.</b> On the CPU backend the graph is compiled into an {@link InferencePlan} (oneDNN
 * primitives, batch norm folded) unless {@code --engine graph}; the line {@code inference engine: ...}
 * on stderr says which ran. {@code --precision bf16} runs the plan in bfloat16.
 */
@Command(mixinStandardHelpOptions = true, name = "predict", description = "Classify images or preprocessed .npy arrays [N,C,H,W]; print the top-k classes.")
final class PredictCommand implements Callable<Integer> {

    /** Samples per forward pass. */
    static final int CHUNK = 32;

    @Option(names = "--model", paramLabel = "MODEL.zip", description = "model zip from 'import', 'train' or 'finetune'")
    Path model;

    @Option(names = "--weights", paramLabel = "TAG", description = "registry weights, e.g. resnet50 or resnet50.tv_in1k "
            + "(with --model: only their preprocessing and labels)")
    String weights;

    @Option(names = "--top", paramLabel = "K", defaultValue = "5", description = "classes to show per input (default 5)")
    int top;

    @Option(names = "--output-npy", paramLabel = "FILE", description = "write the logits [N, classes] as float32 .npy")
    Path outputNpy;

    @Option(names = "--labels", paramLabel = "FILE", description = "class names, one per line")
    Path labelsFile;

    @Option(names = "--engine", paramLabel = "E", defaultValue = "auto",
            description = "plan (oneDNN, the default on CPU), graph (DL4J, the reference) or auto")
    String engine;

    @Option(names = "--precision", paramLabel = "P", defaultValue = "fp32", description = "plan precision: fp32 or bf16")
    String precision;

    @Parameters(paramLabel = "INPUT", arity = "1..*", description = "image files (JPEG, PNG) or .npy arrays [N,C,H,W]")
    List<Path> inputs;

    /** One row of the batch: where it came from. */
    private record Sample(String name) {
    }

    @Override
    public Integer call() throws IOException {
        if (model == null && weights == null) {
            throw new IllegalArgumentException("give the model: --model MODEL.zip or --weights TAG");
        }
        if (top < 1) {
            throw new IllegalArgumentException("--top must be >= 1, got " + top);
        }
        for (Path p : inputs) {
            requireFile(p, "input");
        }
        if (labelsFile != null) {
            requireFile(labelsFile, "labels file");
        }
        Precision prec = Precision.parse(precision);
        InferenceEngine requested = InferenceEngine.parse(engine);
        InferenceEngine chosen = InferenceEngine.resolve(requested);
        if (chosen == InferenceEngine.GRAPH && prec != Precision.FP32) {
            throw new IllegalArgumentException("--precision " + precision + " needs --engine plan; the graph computes in fp32");
        }
        prec.requireSupported();
        SavedModel saved = load();
        ComputationGraph graph = saved.graph();
        InferencePlan plan = null;
        try {
            List<Sample> samples = new ArrayList<>();
            INDArray x = batch(saved, samples);
            String engineLine = null;
            if (chosen == InferenceEngine.PLAN) {
                try {
                    plan = InferencePlan.builder(graph).optPrecision(prec).build();
                } catch (IllegalArgumentException e) {
                    if (requested == InferenceEngine.PLAN || prec != Precision.FP32) {
                        throw e;
                    }
                    engineLine = "inference engine: graph (the model could not be compiled into a plan: " + e.getMessage() + ")";
                }
            }
            System.err.println(engineLine != null ? engineLine : (plan != null ? InferenceEngine.PLAN : InferenceEngine.GRAPH)
                    .describe(prec));
            INDArray logits = forward(graph, plan, x);
            int classes = (int) logits.size(1);
            List<String> labels = labels(saved, classes);
            INDArray probs = softmax(logits);
            print(samples, probs, labels);
            if (outputNpy != null) {
                INDArray out = logits;
                AtomicFiles.writeVia(outputNpy, tmp -> {
                    try (OutputStream os = new BufferedOutputStream(Files.newOutputStream(tmp))) {
                        Npy.write(os, out);
                    }
                });
            }
        } finally {
            if (plan != null) {
                plan.close();
            }
            saved.close();
        }
        return 0;
    }

    /** The model; with --weights beside --model, the entry's preprocessing and labels. */
    private SavedModel load() throws IOException {
        if (model == null) {
            return Pretrained.builder().build().load(Registry.builtin().get(weights));
        }
        SavedModel m = SavedModel.read(model);
        if (weights == null) {
            return m;
        }
        WeightsEntry entry = Registry.builtin().get(weights);
        SavedModel p = m.withPreprocessing(entry.preprocessing());
        return entry.labels().size() == p.numClasses() ? p.withLabels(entry.labels()) : p;
    }

    private static void requireFile(Path p, String what) throws NoSuchFileException {
        if (!Files.isRegularFile(p)) {
            throw new NoSuchFileException(p.toString(), null, "no such " + what + " file");
        }
    }

    /** All inputs as one batch, in order; {@code samples} receives one name per row. */
    private INDArray batch(SavedModel saved, List<Sample> samples) throws IOException {
        int[] shape = saved.inputShape();
        List<INDArray> parts = new ArrayList<>();
        List<Path> images = new ArrayList<>();
        ImagePreprocessor pre = null;
        for (Path p : inputs) {
            if (p.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".npy")) {
                flushImages(images, pre, parts);
                INDArray a = Npy.read(p);
                checkShape(p, a, shape);
                parts.add(a);
                for (int i = 0; i < a.size(0); i++) {
                    samples.add(new Sample(a.size(0) == 1 ? p.toString() : p + "[" + i + "]"));
                }
            } else {
                if (pre == null) {
                    pre = ImagePreprocessor.of(saved.preprocessing());
                }
                images.add(p);
                samples.add(new Sample(p.toString()));
            }
        }
        flushImages(images, pre, parts);
        return parts.size() == 1 ? parts.get(0) : Nd4j.concat(0, parts.toArray(new INDArray[0]));
    }

    private static void flushImages(List<Path> images, ImagePreprocessor pre, List<INDArray> parts) throws IOException {
        if (images.isEmpty()) {
            return;
        }
        for (Path p : images) {
            try {
                parts.add(pre.preprocess(p));
            } catch (IOException | IllegalArgumentException e) {
                String m = e.getMessage() == null ? e.toString() : e.getMessage();
                throw new IOException(m.contains(p.toString()) ? m : p + ": cannot read the image (" + m + ")", e);
            }
        }
        images.clear();
    }

    private static void checkShape(Path p, INDArray a, int[] shape) {
        long[] s = a.shape();
        if (s.length != 4 || s[0] < 1 || s[1] != shape[0] || s[2] != shape[1] || s[3] != shape[2]) {
            throw new IllegalArgumentException(p + ": shape " + Arrays.toString(s).replace(" ", "")
                    + " does not fit the model: expected [N," + shape[0] + "," + shape[1] + "," + shape[2] + "]");
        }
    }

    /** Logits of the whole batch, {@value #CHUNK} samples per forward pass. */
    private static INDArray forward(ComputationGraph graph, InferencePlan plan, INDArray x) {
        long n = x.size(0);
        if (n <= CHUNK) {
            return logits(graph, plan, x);
        }
        List<INDArray> parts = new ArrayList<>();
        for (long i = 0; i < n; i += CHUNK) {
            parts.add(logits(graph, plan, x.get(NDArrayIndex.interval(i, Math.min(n, i + CHUNK))).dup('c')));
        }
        return Nd4j.concat(0, parts.toArray(new INDArray[0]));
    }

    private static INDArray logits(ComputationGraph graph, InferencePlan plan, INDArray x) {
        if (plan != null) {
            return plan.output(x);
        }
        Map<String, INDArray> acts = graph.feedForward(x, false);
        return acts.get(ResNets.CLASSIFIER).detach();
    }

    private static INDArray softmax(INDArray logits) {
        INDArray shifted = logits.subColumnVector(logits.max(1).reshape(logits.size(0), 1));
        INDArray e = Transforms.exp(shifted, true);
        return e.diviColumnVector(e.sum(1).reshape(e.size(0), 1));
    }

    /** Names of the classes, or an empty list. */
    private List<String> labels(SavedModel saved, int classes) throws IOException {
        if (labelsFile != null) {
            List<String> l = Files.readAllLines(labelsFile, StandardCharsets.UTF_8).stream()
                    .map(String::strip).toList();
            int n = l.size();
            while (n > 0 && l.get(n - 1).isEmpty()) {
                n--;
            }
            if (n != classes) {
                throw new IllegalArgumentException(labelsFile + " has " + n + " labels but the model has " + classes
                        + " classes");
            }
            return l.subList(0, n);
        }
        if (saved.labels().size() == classes) {
            return saved.labels();
        }
        return ImageNet.labels(classes);
    }

    private void print(List<Sample> samples, INDArray probs, List<String> labels) {
        int classes = (int) probs.size(1);
        int k = Math.min(top, classes);
        for (int i = 0; i < samples.size(); i++) {
            float[] p = probs.getRow(i).dup().toFloatVector();
            Integer[] order = new Integer[classes];
            for (int c = 0; c < classes; c++) {
                order[c] = c;
            }
            Arrays.sort(order, (a, b) -> p[a] != p[b] ? Float.compare(p[b], p[a]) : Integer.compare(a, b));
            System.out.println(samples.get(i).name());
            for (int r = 0; r < k; r++) {
                int c = order[r];
                String label = labels.isEmpty() ? "class " + c : labels.get(c) + " (" + c + ")";
                System.out.printf(Locale.ROOT, "  %2d  %.4f  %s%n", r + 1, p[c], label);
            }
        }
    }
}
