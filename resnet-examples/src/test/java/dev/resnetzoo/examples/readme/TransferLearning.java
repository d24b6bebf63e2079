package dev.resnetzoo.examples.readme;

import dev.resnetzoo.zoo.Pretrained;
import dev.resnetzoo.zoo.SavedModel;
import dev.resnetzoo.zoo.data.ImageFolder;
import dev.resnetzoo.zoo.data.ImageFolderIterator;
import dev.resnetzoo.zoo.preprocess.ImagePreprocessor;
import dev.resnetzoo.zoo.transfer.FeatureExtractor;
import dev.resnetzoo.zoo.transfer.FineTuner;
import java.io.IOException;
import java.nio.file.Path;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;

class TransferLearning {
    static SavedModel fineTune(Path photos, INDArray images) throws IOException {
        try (SavedModel backbone = Pretrained.builder().build().load("resnet50")) {
            // Features from any stage: stem, layer1..layer4, pool (pooled [N, 2048]), logits
            try (FeatureExtractor features = FeatureExtractor.builder(backbone.graph()).build()) {
                INDArray pooled = features.extract(images, "pool");
            }

            // A folder with one sub-folder per class, prepared as the backbone's weights require
            ImageFolder folder = ImageFolder.scan(photos);
            ImageFolderIterator train = new ImageFolderIterator(folder.samples(), folder.classes(),
                    ImagePreprocessor.of(backbone.preprocessing()), 16);

            // Fine-tuning: freeze through a stage (frozen BatchNorm stays in inference mode), new classifier
            FineTuner tuner = FineTuner.builder(backbone.graph())
                    .optFreezeThrough("layer3")          // "pool" = train the classifier only
                    .optNumClasses(folder.classes().size())
                    .build();
            tuner.fit(train, 3);                         // end to end through the unfrozen stages
            ComputationGraph tuned = tuner.graph();      // one graph, ready to predict and save
            return SavedModel.of(tuned, backbone.spec().toBuilder().numClasses(folder.classes().size()).build(),
                    backbone.preprocessing(), folder.classes(), "resnet50 fine-tuned on " + photos);
        }
    }
}
