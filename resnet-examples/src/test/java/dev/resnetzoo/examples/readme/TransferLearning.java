package dev.resnetzoo.examples.readme;

import dev.resnetzoo.zoo.Pretrained;
import dev.resnetzoo.zoo.SavedModel;
import dev.resnetzoo.zoo.transfer.FeatureExtractor;
import dev.resnetzoo.zoo.transfer.FineTuner;
import java.io.IOException;
import java.util.List;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;

class TransferLearning {
    static SavedModel fineTune(INDArray images, DataSetIterator train, List<String> classes) throws IOException {
        try (SavedModel backbone = Pretrained.builder().build().load("resnet50")) {
            // Features from any stage: stem, layer1..layer4, pool (pooled [N, 2048]), logits
            try (FeatureExtractor features = FeatureExtractor.builder(backbone.graph()).build()) {
                INDArray pooled = features.extract(images, "pool");
            }

            // Fine-tuning: freeze through a stage (frozen BatchNorm stays in inference mode), new classifier
            FineTuner tuner = FineTuner.builder(backbone.graph())
                    .optFreezeThrough("layer3")          // "pool" = train the classifier only
                    .optNumClasses(classes.size())
                    .build();
            tuner.fit(train, 3);                         // end to end through the unfrozen stages
            ComputationGraph tuned = tuner.graph();      // one graph, ready to predict and save
            return SavedModel.of(tuned, backbone.spec().toBuilder().numClasses(classes.size()).build(),
                    backbone.preprocessing(), classes, "resnet50 fine-tuned");
        }
    }
}
