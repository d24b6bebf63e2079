package dev.resnetzoo.examples.readme;

import dev.resnetzoo.core.ResNetSpec;
import dev.resnetzoo.core.Variant;
import dev.resnetzoo.zoo.SavedModel;
import dev.resnetzoo.zoo.WeightImporter;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.deeplearning4j.nn.graph.ComputationGraph;

class ImportCheckpoint {
    static void importCheckpoint(Path checkpoint, Path out) throws IOException {
        ResNetSpec spec = Variant.RESNET18.spec();
        // torch.save(model.state_dict()) (.pth) or a .safetensors file; strict: every key must fit
        ComputationGraph graph = WeightImporter.importCheckpoint(spec, checkpoint);
        try (SavedModel model = SavedModel.of(graph, spec, SavedModel.defaultPreprocessing(spec),
                List.of(), "my resnet18")) {
            model.write(out);                        // then: ./resnet predict --model out.zip cat.jpg
        }
    }
}
