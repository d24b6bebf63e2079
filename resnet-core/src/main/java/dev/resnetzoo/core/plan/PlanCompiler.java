package dev.resnetzoo.core.plan;

import dev.resnetzoo.core.BlockKind;
import dev.resnetzoo.core.ResNetSpec;
import dev.resnetzoo.core.StemKind;
import dev.resnetzoo.core.layers.NativeConvolution;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.layers.FrozenLayer;
import org.deeplearning4j.nn.layers.FrozenLayerWithBackprop;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Reads a graph built by {@link dev.resnetzoo.core.ResNets} into a {@link Network}: the layers
 * with parameters, found by their PyTorch module paths ({@code conv1}, {@code bn1},
 * {@code layerS.B.convK}/{@code bnK}, {@code layerS.B.downsample.0}/{@code .1},
 * {@code layerS.B.se.fc1}/{@code fc2}, {@code fc}), walked in the order of the depth table. The
 * parameter-free vertices (ReLU, add, pools) are not read: their place is fixed by the
 * architecture. Each batch norm is folded into the convolution before it, in double precision:
 * {@code w' = w * gamma / sqrt(var + eps)}, {@code b' = beta + (b - mean) * gamma / sqrt(var + eps)}.
 */
final class PlanCompiler {
    private final ComputationGraph graph;

    private PlanCompiler(ComputationGraph graph) {
        this.graph = graph;
    }

    /** The structure the walk needs: from a spec, or read off the graph's parameterised layers. */
    record Structure(BlockKind block, int[] depths, StemKind stem, boolean se) {
        static Structure of(ResNetSpec spec) {
            return new Structure(spec.block(), spec.depths().stream().mapToInt(Integer::intValue).toArray(), spec.stem(),
                    spec.seReduction() > 0);
        }

        static Structure of(ComputationGraph graph) {
            if (layer(graph, "conv1") == null || layer(graph, "layer1.0.conv1") == null) {
                throw new IllegalArgumentException("not a ResNet graph of this project: expected layers conv1 and "
                        + "layer1.0.conv1 (PyTorch module paths)");
            }
            List<Integer> depths = new ArrayList<>();
            for (int s = 1; layer(graph, "layer" + s + ".0.conv1") != null; s++) {
                int b = 0;
                while (layer(graph, "layer" + s + "." + b + ".conv1") != null) {
                    b++;
                }
                depths.add(b);
            }
            BlockKind block = layer(graph, "layer1.0.conv3") != null ? BlockKind.BOTTLENECK : BlockKind.BASIC;
            boolean se = layer(graph, "layer1.0.se.fc1") != null;
            StemKind stem = StemKind.SMALL;
            for (GraphVertex v : graph.getConfiguration().getVertices().values()) {
                if (v instanceof LayerVertex lv && lv.getLayerConf().getLayer() instanceof SubsamplingLayer p
                        && p.getPoolingType() == PoolingType.MAX) {
                    stem = StemKind.IMAGENET;
                }
            }
            return new Structure(block, depths.stream().mapToInt(Integer::intValue).toArray(), stem, se);
        }
    }

    /**
     * @param graph     the graph (its parameters are copied; later changes to it do not reach the result)
     * @param structure the architecture to walk
     * @return the network with folded batch norms
     * @throws IllegalArgumentException naming the layer that is missing or cannot be expressed
     */
    static Network read(ComputationGraph graph, Structure structure) {
        return new PlanCompiler(graph).network(structure);
    }

    private Network network(Structure st) {
        Network.Conv stem = conv("conv1", "bn1");
        if (st.stem() == StemKind.IMAGENET && (stem.kernel() != 7 || stem.stride() != 2)) {
            throw new IllegalArgumentException("conv1: the ImageNet stem has a 7x7 stride-2 convolution, got "
                    + stem.kernel() + "x" + stem.kernel() + " stride " + stem.stride());
        }
        List<List<Network.Block>> stages = new ArrayList<>();
        for (int s = 1; s <= st.depths().length; s++) {
            List<Network.Block> blocks = new ArrayList<>();
            for (int b = 0; b < st.depths()[s - 1]; b++) {
                String p = "layer" + s + "." + b + ".";
                int convs = st.block() == BlockKind.BASIC ? 2 : 3;
                List<Network.Conv> main = new ArrayList<>();
                for (int k = 1; k <= convs; k++) {
                    main.add(conv(p + "conv" + k, p + "bn" + k));
                }
                Network.Conv down = layer(graph, p + "downsample.0") != null
                        ? conv(p + "downsample.0", p + "downsample.1") : null;
                Network.Conv fc1 = st.se() ? conv(p + "se.fc1", null) : null;
                Network.Conv fc2 = st.se() ? conv(p + "se.fc2", null) : null;
                blocks.add(new Network.Block(p.substring(0, p.length() - 1), main, down, fc1, fc2));
            }
            stages.add(blocks);
        }
        Network.Classifier fc = classifier();
        return new Network(st.stem(), stem.inPerGroup() * stem.groups(), stem, stages, fc);
    }

    private Network.Classifier classifier() {
        Layer l = layer(graph, "fc");
        if (l == null) {
            return null;
        }
        if (!(l.conf().getLayer() instanceof DenseLayer d) || !(d.getActivationFn() instanceof ActivationIdentity)) {
            throw new IllegalArgumentException("fc: expected a DenseLayer with identity activation (logits), got "
                    + l.conf().getLayer().getClass().getSimpleName());
        }
        INDArray w = l.getParam("W");
        int in = (int) w.size(0);
        int out = (int) w.size(1);
        double[] wd = doubles(w.transpose());
        double[] b = l.paramTable().containsKey("b") ? doubles(l.getParam("b")) : new double[out];
        return new Network.Classifier(floats(wd), floats(b), in, out);
    }

    private Network.Conv conv(String name, String bnName) {
        Layer l = layer(graph, name);
        if (l == null) {
            throw new IllegalArgumentException("the graph has no layer '" + name + "', which the depth table needs");
        }
        if (!(l.conf().getLayer() instanceof ConvolutionLayer c)) {
            throw new IllegalArgumentException(name + ": expected a convolution, got "
                    + l.conf().getLayer().getClass().getSimpleName());
        }
        int[] k = c.getKernelSize();
        int[] s = c.getStride();
        int[] p = c.getPadding();
        int[] d = c.getDilation();
        if (k[0] != k[1] || s[0] != s[1] || p[0] != p[1] || d[0] != 1 || d[1] != 1
                || c.getConvolutionMode() == ConvolutionMode.Same || c.getConvolutionMode() == ConvolutionMode.Causal) {
            throw new IllegalArgumentException(name + ": the plan supports square kernels, equal strides and paddings, no "
                    + "dilation, Truncate/Strict mode; got kernel " + Arrays.toString(k) + " stride " + Arrays.toString(s)
                    + " padding " + Arrays.toString(p) + " dilation " + Arrays.toString(d) + " mode "
                    + c.getConvolutionMode());
        }
        if (!(c.getActivationFn() instanceof ActivationIdentity)) {
            throw new IllegalArgumentException(name + ": expected identity activation, got " + c.getActivationFn());
        }
        int groups = c instanceof NativeConvolution nc ? nc.getGroups() : 1;
        INDArray w = l.getParam("W");
        if (w.rank() != 4 || w.size(2) != k[0] || w.size(3) != k[1]) {
            throw new IllegalArgumentException(name + ": weights " + Arrays.toString(w.shape())
                    + " do not match kernel " + Arrays.toString(k));
        }
        int out = (int) w.size(0);
        int inPerGroup = (int) w.size(1);
        double[] weights = doubles(w);
        double[] bias = c.hasBias() && l.paramTable().containsKey("b") ? doubles(l.getParam("b")) : new double[out];
        if (bnName != null) {
            fold(bnName, weights, bias, out);
        }
        return new Network.Conv(name, floats(weights), out, inPerGroup, groups, k[0], s[0], p[0], floats(bias));
    }

    private void fold(String bnName, double[] weights, double[] bias, int out) {
        Layer l = layer(graph, bnName);
        if (l == null || !(l.conf().getLayer() instanceof BatchNormalization bn)) {
            throw new IllegalArgumentException("the graph has no batch norm '" + bnName + "', which the depth table needs");
        }
        if (bn.isUseLogStd() || !l.paramTable().containsKey("var")) {
            throw new IllegalArgumentException(bnName + ": the plan needs the variance parameterisation "
                    + "(parameters gamma, beta, mean, var); this batch norm stores " + l.paramTable().keySet());
        }
        double[] gamma = doubles(l.getParam("gamma"));
        double[] beta = doubles(l.getParam("beta"));
        double[] mean = doubles(l.getParam("mean"));
        double[] var = doubles(l.getParam("var"));
        if (gamma.length != out) {
            throw new IllegalArgumentException(bnName + ": " + gamma.length + " channels, but the convolution before it has "
                    + out + " outputs");
        }
        int per = weights.length / out;
        for (int o = 0; o < out; o++) {
            double scale = gamma[o] / Math.sqrt(var[o] + bn.getEps());
            for (int i = o * per; i < (o + 1) * per; i++) {
                weights[i] *= scale;
            }
            bias[o] = beta[o] + (bias[o] - mean[o]) * scale;
        }
    }

    static Layer layer(ComputationGraph graph, String name) {
        if (graph.getConfiguration().getVertices().get(name) == null) {
            return null;
        }
        Layer l = graph.getLayer(name);
        if (l instanceof FrozenLayer f) {
            return f.getInsideLayer();
        }
        if (l instanceof FrozenLayerWithBackprop f) {
            return f.getInsideLayer();
        }
        return l;
    }

    private static double[] doubles(INDArray a) {
        return a.castTo(DataType.DOUBLE).dup('c').data().asDouble();
    }

    private static float[] floats(double[] d) {
        float[] f = new float[d.length];
        for (int i = 0; i < d.length; i++) {
            f[i] = (float) d[i];
        }
        return f;
    }
}
