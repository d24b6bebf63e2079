package dev.resnetzoo.examples.readme;

import dev.resnetzoo.zoo.Pretrained;
import dev.resnetzoo.zoo.SavedModel;
import dev.resnetzoo.zoo.preprocess.ImagePreprocessor;
import java.io.IOException;
import java.nio.file.Path;
import org.nd4j.linalg.api.ndarray.INDArray;

class ClassifyImage {
    static String classify(Path image) throws IOException {
        try (SavedModel model = Pretrained.builder().build().load("resnet50")) {   // ResNet50_Weights.IMAGENET1K_V2
            INDArray x = ImagePreprocessor.of(model.preprocessing()).preprocess(image);  // [1, 3, 224, 224]
            INDArray probabilities = model.graph().outputSingle(x);                    // [1, 1000]
            return model.labels().get(probabilities.argMax(1).getInt(0));             // e.g. "tabby"
        }
    }
}
