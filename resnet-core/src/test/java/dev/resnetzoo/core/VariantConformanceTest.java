package dev.resnetzoo.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Every named variant against the reference implementation's architecture (torchvision / timm). */
class VariantConformanceTest {

    @ParameterizedTest
    @EnumSource(Variant.class)
    void summaryMatchesReferenceParamsAndStageShapes(Variant v) {
        Summary s = ResNets.summary(v.spec());
        assertEquals(Reference.params(v.id()), s.params(), "analytic parameter count of " + v.id());
        for (Summary.Stage stage : s.stages()) {
            if (!stage.name().equals("head")) {
                assertArrayEquals(Reference.stage(v.id(), stage.name()), stage.shape(), v.id() + " " + stage.name());
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Variant.class)
    void graphParametersMapOneToOneOntoReferenceStateDict(Variant v) {
        ComputationGraph graph = ResNets.create(v.spec());
        assertEquals(Reference.params(v.id()), ResNets.countParameters(graph), "built parameter count of " + v.id());

        Map<String, long[]> reference = Reference.stateDict(v.id());
        List<String> problems = new ArrayList<>();
        Set<String> covered = new HashSet<>();
        for (Map.Entry<String, long[]> e : reference.entrySet()) {
            if (TorchNames.isIgnored(e.getKey())) {
                continue;
            }
            var ref = TorchNames.resolve(graph, e.getKey());
            if (ref.isEmpty()) {
                problems.add("no parameter for reference key " + e.getKey());
                continue;
            }
            long[] shape = graph.getLayer(ref.get().vertex()).getParam(ref.get().param()).shape();
            long[] expected = e.getValue();
            if (ref.get().transpose()) {
                expected = new long[] {expected[1], expected[0]};
            }
            if (!java.util.Arrays.equals(expected, shape)) {
                problems.add(e.getKey() + ": reference " + java.util.Arrays.toString(expected) + ", graph "
                        + java.util.Arrays.toString(shape));
            }
            covered.add(ref.get().vertex() + "/" + ref.get().param());
        }
        for (TorchNames.ParamRef ref : TorchNames.expectedKeys(graph)) {
            if (!reference.containsKey(ref.key())) {
                problems.add("graph parameter " + ref.vertex() + "/" + ref.param() + " (" + ref.key()
                        + ") is not in the reference state_dict");
            }
            if (!covered.contains(ref.vertex() + "/" + ref.param())) {
                problems.add("graph parameter " + ref.vertex() + "/" + ref.param() + " not covered");
            }
        }
        assertTrue(problems.isEmpty(), v.id() + ":\n" + String.join("\n", problems));
    }

    @ParameterizedTest
    @EnumSource(Variant.class)
    void forwardPassAt224HasReferenceFeatureMaps(Variant v) {
        ComputationGraph graph = ResNets.create(v.spec());
        INDArray x = Nd4j.rand(DataType.FLOAT, 1, 3, 224, 224);
        Map<String, INDArray> acts = graph.feedForward(x, false);
        for (String stage : List.of("stem", "layer1", "layer2", "layer3", "layer4")) {
            long[] shape = acts.get(Taps.vertex(graph, stage)).shape();
            long[] perImage = java.util.Arrays.copyOfRange(shape, 1, shape.length);
            assertArrayEquals(Reference.stage(v.id(), stage), perImage, v.id() + " " + stage);
        }
        INDArray probs = acts.get(ResNets.OUTPUT);
        assertArrayEquals(new long[] {1, 1000}, probs.shape());
        assertEquals(1.0, probs.sumNumber().doubleValue(), 1e-4, "softmax output sums to 1");
        graph.close();
    }
}
