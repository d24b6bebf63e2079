package dev.resnetzoo.examples.readme;

import dev.resnetzoo.core.BlockKind;
import dev.resnetzoo.core.ResNetSpec;
import dev.resnetzoo.core.ResNets;
import dev.resnetzoo.core.StemKind;
import dev.resnetzoo.core.Variant;
import java.util.List;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.learning.config.Adam;

class BuildArchitectures {
    static List<ComputationGraph> build() {
        // A named variant (ImageNet configuration: 3x224x224, 1000 classes)
        ComputationGraph resnet50 = ResNets.create(Variant.RESNET50.spec());

        // The same table, adapted: 10 classes, grey 28x28 input, small-image stem
        ResNetSpec fashion = Variant.RESNET18.spec().toBuilder()
                .stem(StemKind.SMALL).input(1, 28, 28).numClasses(10).build();

        // A custom depth table: every knob is data
        ResNetSpec custom = ResNetSpec.builder(BlockKind.BOTTLENECK, 2, 3, 4, 2)
                .name("my-seresnext")
                .widths(32, 64, 128, 256)
                .cardinality(16).baseWidth(4)        // ResNeXt: grouped 3x3
                .se(16)                              // squeeze-and-excitation, reduction 16
                .zeroInitLastBn(true)
                .input(3, 160, 160).numClasses(37)
                .build();

        // Training settings are yours, not the architecture's
        ComputationGraph net = ResNets.create(custom,
                new NeuralNetConfiguration.Builder().seed(42).updater(new Adam(1e-3)));
        return List.of(resnet50, ResNets.create(fashion), net);
    }
}
