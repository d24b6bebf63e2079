package dev.resnetzoo.examples.readme;

import dev.resnetzoo.core.plan.InferencePlan;
import dev.resnetzoo.core.plan.Precision;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;

class CompiledInference {
    static Map<String, INDArray> run(ComputationGraph graph, INDArray images) {
        try (InferencePlan plan = InferencePlan.builder(graph).build()) {               // fp32
            INDArray logits = plan.output(images);                                       // [N, classes]
            Map<String, INDArray> f = plan.output(images, List.of("layer3", "pool"));    // [N,C,H,W], [N,C]
            if (Precision.BF16.supported()) {                                            // AVX512-BF16 only
                try (InferencePlan fast = InferencePlan.builder(graph).optPrecision(Precision.BF16).build()) {
                    fast.output(images);
                }
            }
            return Map.of("logits", logits, "layer3", f.get("layer3"), "pool", f.get("pool"));
        }
    }
}
