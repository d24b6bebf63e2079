package dev.resnetzoo.examples.train;

import dev.resnetzoo.core.ResNetSpec;
import dev.resnetzoo.examples.data.FashionMnist;
import dev.resnetzoo.zoo.SavedModel;
import dev.resnetzoo.zoo.registry.Preprocessing;
import org.deeplearning4j.nn.graph.ComputationGraph;

/**
 * A network trained here as a {@link SavedModel}: its architecture, Fashion-MNIST's class names,
 * and the preprocessing it was trained with, so that {@code ./resnet predict --model model.zip
 * shirt.png} prepares a photo as the training images were prepared.
 */
final class TrainedModel {

    private TrainedModel() {
    }

    /**
     * The preprocessing of the training images, for any image: grey as PIL's {@code convert("L")},
     * shorter side resized to the network's input size (bilinear) and center-cropped to it, then
     * {@code (x / 255 - MEAN) / STD} as the data iterator normalises. Fashion-MNIST's images are
     * light garments on black: photos on a light background look unlike them.
     *
     * @param spec the trained architecture (grey, square input)
     * @return the preprocessing
     */
    static Preprocessing preprocessing(ResNetSpec spec) {
        int size = spec.inputHeight();
        return Preprocessing.grey(size, size, Preprocessing.Interpolation.BILINEAR, FashionMnist.MEAN,
                FashionMnist.STD);
    }

    /**
     * @param config the run's configuration
     * @param graph  the network being trained (not copied)
     * @return the network with its metadata
     */
    static SavedModel of(TrainConfig config, ComputationGraph graph) {
        ResNetSpec spec = config.spec();
        return SavedModel.of(graph, spec, preprocessing(spec), FashionMnist.CLASS_NAMES,
                "./resnet train " + config.describeNetwork() + " on Fashion-MNIST");
    }
}
