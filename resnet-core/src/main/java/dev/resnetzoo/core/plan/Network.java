package dev.resnetzoo.core.plan;

import dev.resnetzoo.core.StemKind;
import java.util.List;

/**
 * A network as the plan computes it, independent of the input shape: every convolution with its
 * batch norm already folded in, and the structure the depth table gives. Read once from a graph
 * by {@link PlanCompiler}; each {@link Program} (one per input shape) is built from it.
 *
 * @param stem       the stem kind (the ImageNet stem has the max pool)
 * @param inChannels channels of the input image
 * @param stemConv   {@code conv1} with {@code bn1} folded, followed by ReLU
 * @param stages     the blocks of each stage
 * @param classifier the classifier {@code fc}, or null when the graph has none
 */
record Network(StemKind stem, int inChannels, Conv stemConv, List<List<Block>> stages, Classifier classifier) {

    /**
     * One convolution with its batch norm folded in: {@code weights} laid out
     * {@code [out, in/groups, k, k]} in C order, {@code bias} per output channel.
     */
    record Conv(String name, float[] weights, int out, int inPerGroup, int groups, int kernel, int stride, int pad,
                float[] bias) {
        long[] weightDims() {
            return groups == 1 ? new long[] {out, inPerGroup, kernel, kernel}
                    : new long[] {groups, out / groups, inPerGroup, kernel, kernel};
        }
    }

    /**
     * A residual block: {@code main} is conv1..conv2 (basic) or conv1..conv3 (bottleneck), each
     * but the last followed by ReLU; {@code downsample} is null for an identity shortcut;
     * {@code seFc1}/{@code seFc2} are the squeeze-and-excitation 1x1 convolutions, or null.
     */
    record Block(String name, List<Conv> main, Conv downsample, Conv seFc1, Conv seFc2) {
    }

    /** The classifier: {@code weights} {@code [out, in]} in C order (PyTorch's layout). */
    record Classifier(float[] weights, float[] bias, int in, int out) {
    }
}
