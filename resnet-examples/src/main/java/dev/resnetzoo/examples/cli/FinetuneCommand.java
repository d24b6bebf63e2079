package dev.resnetzoo.examples.cli;

import dev.resnetzoo.examples.finetune.FolderFineTuning;
import dev.resnetzoo.zoo.SavedModel;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code ./resnet finetune}: see {@link dev.resnetzoo.examples.finetune.FolderFineTuning}. */
@Command(mixinStandardHelpOptions = true, header = "Fine-tune a backbone on a folder of images (one sub-folder per class).", name = "finetune", sortOptions = false,
        description = {"Fine-tune a backbone on a folder of images (one sub-folder per class): new classifier,",
                "backbone frozen through --freeze-through, features computed once, held-out accuracy,",
                "model.zip and labels.txt in --out."})
final class FinetuneCommand implements Callable<Integer> {

    @Option(names = "--data", required = true, paramLabel = "DIR", description = "image folder, one sub-folder per class")
    Path data;

    @Option(names = "--weights", paramLabel = "TAG", description = "registry weights (must be in the cache when offline)")
    String weights;

    @Option(names = "--model", paramLabel = "MODEL.zip", description = "model zip (from import, train or finetune) as backbone")
    Path model;

    @Option(names = "--arch", paramLabel = "ARCH", description = "randomly initialised architecture, e.g. resnet18")
    String arch;

    @Option(names = "--freeze-through", paramLabel = "TAP", defaultValue = "pool",
            description = "freeze up to and including: stem, layer1..layerN, pool (default: train the classifier only), none")
    String freezeThrough;

    @Option(names = "--epochs", paramLabel = "E", defaultValue = "10", description = "epochs (default 10)")
    int epochs;

    @Option(names = "--batch", paramLabel = "B", defaultValue = "32", description = "batch size (default 32)")
    int batch;

    @Option(names = "--lr", paramLabel = "LR", defaultValue = "1e-3", description = "Adam learning rate (default 1e-3)")
    double lr;

    @Option(names = "--held-out", paramLabel = "F", defaultValue = "0.2", description = "held-out fraction per class (default 0.2)")
    double heldOut;

    @Option(names = "--image-size", paramLabel = "S", defaultValue = "0",
            description = "crop size (default: the weights' or the model's input size, else 224)")
    int imageSize;

    @Option(names = "--seed", paramLabel = "N", defaultValue = "42", description = "seed of split, init and shuffling")
    long seed;

    @Option(names = "--out", paramLabel = "DIR", defaultValue = "finetune-out", description = "output folder (default finetune-out)")
    Path out;

    @Override
    public Integer call() throws Exception {
        FolderFineTuning.Result r;
        try (SavedModel source = ModelChoice.load(model, weights, arch, imageSize)) {
            r = FolderFineTuning.run(source,
                    new FolderFineTuning.Options(data, freezeThrough, epochs, batch, heldOut, lr, seed, out), System.err);
        }
        if (r.heldOut() > 0) {
            System.out.printf("held-out accuracy: %.4f (%d/%d)%n", r.accuracy(), r.correct(), r.heldOut());
        } else {
            System.out.println("held-out accuracy: n/a (no held-out images)");
        }
        System.out.println("model: " + r.model());
        return 0;
    }
}
