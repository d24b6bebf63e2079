package dev.resnetzoo.examples.cli;

import dev.resnetzoo.core.ResNetSpec;
import dev.resnetzoo.core.ResNets;
import dev.resnetzoo.core.TorchNames;
import dev.resnetzoo.zoo.WeightImportException;
import dev.resnetzoo.zoo.WeightImporter;
import dev.resnetzoo.zoo.WeightImporter.Classifier;
import dev.resnetzoo.zoo.SavedModel;
import dev.resnetzoo.zoo.io.StateDict;
import dev.resnetzoo.zoo.io.Tensor;
import dev.resnetzoo.zoo.registry.Preprocessing;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.stream.Collectors;
import org.deeplearning4j.nn.graph.ComputationGraph;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code ./resnet import --arch ARCH --from FILE --out MODEL.zip}: converts a PyTorch checkpoint
 * ({@code torch.save} of a {@code state_dict}) or a safetensors file into a model zip (a SavedModel).
 *
 * <p>The graph is built from the architecture and the options ({@code --input}, {@code --stem},
 * {@code --widths}); its number of classes is the file's ({@code fc.weight} rows) unless
 * {@code --num-classes} asks for another, in which case the file's classifier is replaced by a
 * freshly initialised one (transfer learning). The import is strict unless {@code --non-strict}:
 * every graph parameter must come from the file and every file tensor must be used. The model is
 * written without updater state, to a temporary file next to {@code --out} that is then renamed
 * over it, so a failed or interrupted import never leaves a partial or stale-looking output. The
 * zip is a {@link SavedModel}: it records the architecture (with the input shape, which
 * {@code predict} checks its inputs against), the preprocessing of
 * {@link SavedModel#defaultPreprocessing} (ImageNet's at the input size for RGB), and
 * ImageNet-1k's labels when the classifier has 1000 outputs and the file's classifier is kept.
 */
@Command(mixinStandardHelpOptions = true, header = "Convert a PyTorch checkpoint (.pth) or safetensors file into a model zip.", name = "import", description = {
        "Convert a PyTorch checkpoint (.pth) or safetensors file into a model zip.",
        "The number of classes is the file's; --num-classes N gives a new N-class classifier if it differs."})
final class ImportCommand implements Callable<Integer> {

    @Option(names = "--arch", required = true, paramLabel = "ARCH", description = "architecture, e.g. resnet50 (see 'models')")
    String arch;

    @Option(names = "--from", required = true, paramLabel = "FILE", description = "PyTorch checkpoint or safetensors file")
    Path from;

    @Option(names = "--out", required = true, paramLabel = "MODEL.zip", description = "DL4J model to write")
    Path out;

    @Option(names = "--non-strict", description = "load the matching tensors and report missing and unexpected keys "
            + "instead of failing (shape mismatches still fail)")
    boolean nonStrict;

    @Option(names = "--widths", paramLabel = "W,W,..", description = "stage widths of a custom-width checkpoint, "
            + "e.g. 16,32,64,128 (the stem width follows the first)")
    String widths;

    @Mixin
    ArchitectureOptions options = new ArchitectureOptions();

    @Override
    public Integer call() throws IOException {
        if (!Files.isRegularFile(from)) {
            throw new NoSuchFileException(from.toString(), null, "no such file");
        }
        StateDict sd = StateDict.open(from); // keys and shapes only: data is read after they fit
        boolean newClassifier = options.numClasses != null;
        ResNetSpec spec = spec(sd);
        Classifier policy = newClassifier ? Classifier.DROP_IF_MISMATCHED : Classifier.KEEP;
        WeightImporter importer = new WeightImporter().optStrict(!nonStrict).optClassifier(policy);
        ComputationGraph graph = ResNets.create(spec);
        try {
            WeightImporter.Report report;
            try {
                report = importer.importInto(graph, sd);
            } catch (WeightImportException e) {
                throw new IllegalArgumentException(oneLine(e, spec, TorchNames.expectedKeys(graph).size()), e);
            } catch (UncheckedIOException e) {
                throw e.getCause(); // a tensor's data could not be read
            }
            boolean keptClassifier = report.skipped().isEmpty();
            SavedModel.of(graph, spec, preprocessing(spec), keptClassifier ? ImageNet.labels(spec.numClasses()) : List.of(),
                    "imported from " + from.getFileName()).write(out);
            printSummary(spec, graph, report);
        } finally {
            graph.close();
        }
        return 0;
    }

    /** ImageNet's transform at the input size, or plain [0, 1] grey for a 1-channel input (see SavedModel). */
    private static Preprocessing preprocessing(ResNetSpec spec) {
        try {
            return SavedModel.defaultPreprocessing(spec);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--input " + spec.inputChannels() + "," + spec.inputHeight() + ","
                    + spec.inputWidth() + ": import writes a preprocessing for square 1- or 3-channel input", e);
        }
    }

    /** The architecture with the options applied; the number of classes defaults to the file's. */
    private ResNetSpec spec(StateDict sd) {
        ResNetSpec.Builder b = options.apply(arch).toBuilder();
        if (widths != null) {
            int[] w;
            try {
                w = Arrays.stream(widths.split(",")).map(String::trim).mapToInt(Integer::parseInt).toArray();
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--widths expects integers separated by commas, got '" + widths + "'");
            }
            b.widths(w);
            if (w.length > 0) {
                b.stemWidth(w[0]);
            }
        }
        if (options.numClasses == null && sd.contains(ResNets.CLASSIFIER + ".weight")) {
            Tensor fc = sd.get(ResNets.CLASSIFIER + ".weight");
            if (fc.rank() == 2 && fc.shape()[0] >= 1 && fc.shape()[0] <= Integer.MAX_VALUE) {
                b.numClasses((int) fc.shape()[0]);
            }
        }
        return b.build();
    }

    private void printSummary(ResNetSpec spec, ComputationGraph graph, WeightImporter.Report report) throws IOException {
        System.out.printf(Locale.ROOT, "imported %s from %s: %,d parameters, %d classes, input %dx%dx%d%n",
                spec.name(), from.getFileName(), ResNets.countParameters(graph), spec.numClasses(),
                spec.inputChannels(), spec.inputHeight(), spec.inputWidth());
        System.out.printf(Locale.ROOT, "loaded %d tensors", report.loaded().size());
        if (!report.ignored().isEmpty()) {
            System.out.printf(Locale.ROOT, ", ignored %d (num_batches_tracked)", report.ignored().size());
        }
        if (!report.skipped().isEmpty()) {
            System.out.printf(Locale.ROOT, ", dropped %s (new %d-class classifier)",
                    String.join(", ", report.skipped()), spec.numClasses());
        } else if (options.numClasses != null && report.loaded().contains(ResNets.CLASSIFIER + ".weight")) {
            System.out.print(", kept the file's classifier (same number of classes)");
        }
        System.out.println();
        if (!report.missing().isEmpty()) {
            System.out.printf(Locale.ROOT, "missing from the file (left initialised): %d: %s%n", report.missing().size(),
                    abbreviate(report.missing()));
        }
        if (!report.unexpected().isEmpty()) {
            System.out.printf(Locale.ROOT, "not used (no such parameter): %d: %s%n", report.unexpected().size(),
                    abbreviate(report.unexpected()));
        }
        System.out.println("preprocessing: " + preprocessing(spec));
        System.out.printf(Locale.ROOT, "wrote %s (%.1f MB)%n", out, Files.size(out) / 1e6);
    }

    /** The importer's report (many lines) as one line, with hints in terms of this command's options. */
    private String oneLine(WeightImportException e, ResNetSpec spec, int graphTensors) {
        List<WeightImportException.Problem> problems = e.problems();
        String head = e.getMessage().lines().findFirst().orElse("checkpoint does not fit")
                .replaceFirst("^state_dict ", Matcher.quoteReplacement(from.getFileName() + " "));
        StringBuilder sb = new StringBuilder(head).append(": ");
        sb.append(problems.stream().limit(3).map(WeightImportException.Problem::message).collect(Collectors.joining("; ")));
        if (problems.size() > 3) {
            sb.append("; and ").append(problems.size() - 3).append(" more");
        }
        long shapes = problems.stream().filter(p -> p.kind() == WeightImportException.Kind.SHAPE).count();
        long keys = problems.stream().filter(p -> p.kind() == WeightImportException.Kind.MISSING
                || p.kind() == WeightImportException.Kind.UNEXPECTED).count();
        if (shapes > 0 || keys > graphTensors / 4) {
            sb.append(" (the file is another architecture than ").append(spec.name())
                    .append(": check --arch, --widths, --stem and the channels of --input)");
        } else if (keys > 0 && !nonStrict) {
            sb.append(" (--non-strict loads the matching tensors and reports the rest)");
        }
        return sb.toString();
    }

    private static String abbreviate(List<String> keys) {
        return keys.size() <= 5 ? String.join(", ", keys)
                : String.join(", ", keys.subList(0, 5)) + ", ... (" + (keys.size() - 5) + " more)";
    }
}
