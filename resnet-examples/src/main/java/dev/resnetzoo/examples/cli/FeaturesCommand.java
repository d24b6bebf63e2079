package dev.resnetzoo.examples.cli;

import dev.resnetzoo.core.Taps;
import dev.resnetzoo.core.plan.InferenceEngine;
import dev.resnetzoo.core.plan.Precision;
import dev.resnetzoo.zoo.Npy;
import dev.resnetzoo.zoo.SavedModel;
import dev.resnetzoo.zoo.files.AtomicFiles;
import dev.resnetzoo.zoo.preprocess.ImagePreprocessor;
import dev.resnetzoo.zoo.transfer.FeatureExtractor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code ./resnet features --model M --layer L INPUT... --out FILE.npy}: the activations of a tap
 * for images (preprocessed as the weights or model require) or preprocessed {@code .npy} arrays
 * {@code [N, 3, H, W]}, written as a float32 {@code .npy}: {@code [N, C]} for {@code pool} (and with
 * {@code --pooled}), else {@code [N, C, H, W]}. The named taps run on the compiled inference plan on
 * CPU unless {@code --engine graph} (stderr says which engine ran).
 */
@Command(mixinStandardHelpOptions = true, name = "features", sortOptions = false,
        description = "Extract features at a tap (stem, layer1..layerN, pool, logits) and write them as .npy.")
final class FeaturesCommand implements Callable<Integer> {

    @Option(names = "--model", paramLabel = "M", description = "model zip from import, train or finetune")
    Path model;

    @Option(names = "--weights", paramLabel = "TAG", description = "registry weights instead of --model")
    String weights;

    @Option(names = "--layer", required = true, paramLabel = "L", description = "tap: stem, layer1..layerN, pool, logits, or a vertex name")
    String layer;

    @Option(names = "--pooled", description = "average feature maps over H and W: [N, C]")
    boolean pooled;

    @Option(names = "--image-size", paramLabel = "S", defaultValue = "0", description = "crop size for images (default: the model's)")
    int imageSize;

    @Option(names = "--batch", paramLabel = "B", defaultValue = "16", description = "images per forward pass (default 16)")
    int batch;

    @Option(names = "--engine", paramLabel = "E", defaultValue = "auto",
            description = "plan (oneDNN, the default on CPU), graph (DL4J, the reference) or auto")
    String engine;

    @Option(names = "--precision", paramLabel = "P", defaultValue = "fp32", description = "plan precision: fp32 or bf16")
    String precision;

    @Option(names = "--out", required = true, paramLabel = "FILE.npy", description = "output file")
    Path out;

    @Parameters(paramLabel = "INPUT", arity = "1..*", description = "images or .npy arrays [N,3,H,W]")
    List<Path> inputs;

    @Override
    public Integer call() throws Exception {
        for (Path p : inputs) {
            if (!Files.isRegularFile(p)) {
                throw new NoSuchFileException(p.toString(), null, "no such input file");
            }
        }
        InferenceEngine chosen = InferenceEngine.parse(engine);
        Precision prec = Precision.parse(precision);
        prec.requireSupported();
        try (SavedModel source = ModelChoice.load(model, weights, imageSize)) {
            extract(source, chosen, prec);
        }
        return 0;
    }

    private void extract(SavedModel source, InferenceEngine chosen, Precision prec) throws IOException {
        Taps.vertex(source.graph(), layer); // fail early, listing the valid taps
        ImagePreprocessor pre = ImagePreprocessor.of(source.preprocessing());
        List<INDArray> parts = new ArrayList<>();
        List<Path> images = new ArrayList<>();
        for (Path p : inputs) {
            if (p.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".npy")) {
                if (!images.isEmpty()) {
                    parts.add(pre.preprocess(images));
                    images.clear();
                }
                INDArray a = Npy.read(p);
                if (a.rank() != 4) {
                    throw new IllegalArgumentException(p + ": expected an array [N, C, H, W], got shape " + Arrays.toString(a.shape()));
                }
                parts.add(a);
            } else {
                images.add(p);
            }
        }
        if (!images.isEmpty()) {
            parts.add(pre.preprocess(images));
        }
        INDArray x = parts.size() == 1 ? parts.get(0) : Nd4j.concat(0, parts.toArray(INDArray[]::new));
        INDArray f;
        try (FeatureExtractor fx = FeatureExtractor.builder(source.graph()).optBatchSize(batch).optPooled(pooled)
                .optEngine(chosen).optPrecision(prec).build()) {
            f = fx.extract(x.castTo(DataType.FLOAT), layer);
            System.err.println(fx.describeEngine());
        }
        AtomicFiles.writeVia(out, tmp -> Npy.write(tmp, f));
        System.out.println(out + ": " + Arrays.toString(f.shape()) + " (" + Taps.canonical(source.graph(), layer) + ")");
    }
}
