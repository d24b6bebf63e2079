package dev.resnetzoo.core;

import dev.resnetzoo.core.layers.AddReluVertex;
import dev.resnetzoo.core.layers.ChannelScaleVertex;
import dev.resnetzoo.core.layers.KaimingNormal;
import dev.resnetzoo.core.layers.NativeBatchNorm;
import dev.resnetzoo.core.layers.NativeConvolution;
import dev.resnetzoo.core.layers.ParameterCopy;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.LossLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.transferlearning.FineTuneConfiguration;
import org.deeplearning4j.nn.transferlearning.TransferLearning;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * Builds DL4J {@link ComputationGraph}s from a {@link ResNetSpec}. One loop over the depth table
 * builds every variant.
 *
 * <p>Vertex names are the PyTorch module paths of torchvision's ResNet ({@code conv1}, {@code bn1},
 * {@code layer1.0.conv1}, {@code layer1.0.downsample.0}, {@code layer3.5.se.fc1}, {@code fc}), so a
 * {@code state_dict} key {@code layer1.0.conv1.weight} is parameter {@code W} of vertex
 * {@code layer1.0.conv1}. A batch norm that torchvision follows by a ReLU computes both
 * ({@link NativeBatchNorm#withRelu()}), so {@code bn1} outputs {@code relu(bn1(x))}, and a block's
 * residual add and its ReLU are one vertex, {@code layerS.B.out} ({@link AddReluVertex}).
 * Parameter-free vertices carry suffixes that cannot collide with a module path: {@code maxpool},
 * {@code layerS.B.out} (the block output), {@code layerS.B.se.pool}/{@code relu}/{@code gate}/
 * {@code scale}, {@code avgpool}. The classifier {@code fc} outputs logits; the graph's output
 * vertex {@link #OUTPUT} applies softmax with cross-entropy loss. With DL4J's stock layers
 * ({@link LayerImpl#DL4J}) the ReLUs and adds are separate vertices ({@code relu},
 * {@code layerS.B.relu1}/{@code relu2}, {@code layerS.B.add}).
 *
 * <p>The arrays inside a block, and a block's output inside a stage, are declared private to this
 * project's layers ({@link NativeConvolution#withBlockedInput()} and its kin): on the oneDNN
 * runtime they hold oneDNN's channel-blocked layout, so no reorder runs between the layers. Stage
 * outputs, the stem output and the arrays of squeeze-and-excitation stay NCHW; read activations at
 * those taps ({@link Taps}).
 *
 * <p>Training settings (updater, seed, regularisation) are not part of the architecture: pass them
 * in a {@link NeuralNetConfiguration.Builder} to {@link #configuration(ResNetSpec, NeuralNetConfiguration.Builder, LayerImpl)}.
 */
public final class ResNets {
    /** Name of the graph input. */
    public static final String INPUT = "input";
    /** Name of the classifier (logits). */
    public static final String CLASSIFIER = "fc";
    /** Name of the output vertex (softmax + cross-entropy). */
    public static final String OUTPUT = "loss";
    /** Name of the global average pool (features before the classifier). */
    public static final String POOL = "avgpool";

    private ResNets() {
    }

    /**
     * @param spec the depth table
     * @return an initialised graph with native convolutions and DL4J's default training settings
     */
    public static ComputationGraph create(ResNetSpec spec) {
        return create(spec, new NeuralNetConfiguration.Builder());
    }

    /**
     * @param spec     the depth table
     * @param training updater, seed, regularisation and so on; architecture settings are overridden
     * @return an initialised graph with native convolutions
     */
    public static ComputationGraph create(ResNetSpec spec, NeuralNetConfiguration.Builder training) {
        ComputationGraph g = new ComputationGraph(configuration(spec, training, LayerImpl.NATIVE));
        g.init();
        return g;
    }

    /**
     * @param spec        the depth table
     * @param training    updater, seed, regularisation ... (the builder is used, not copied)
     * @param convolution which convolution layer to use
     * @return the graph configuration
     * @throws IllegalArgumentException if {@code convolution} cannot express the spec (groups with DL4J's layer)
     */
    public static ComputationGraphConfiguration configuration(ResNetSpec spec, NeuralNetConfiguration.Builder training,
                                                              LayerImpl convolution) {
        Objects.requireNonNull(spec, "spec");
        Objects.requireNonNull(training, "training");
        Objects.requireNonNull(convolution, "convolution");
        if (convolution == LayerImpl.DL4J && spec.cardinality() > 1) {
            throw new IllegalArgumentException(spec.name() + " has grouped convolutions (cardinality "
                    + spec.cardinality() + "), which DL4J's ConvolutionLayer cannot express; use LayerImpl.NATIVE");
        }
        GraphSink sink = new GraphSink(training.graphBuilder(), convolution);
        sink.graph.addInputs(INPUT)
                .setInputTypes(InputType.convolutional(spec.inputHeight(), spec.inputWidth(), spec.inputChannels()));
        new Walker(spec, sink).walk();
        sink.graph.setOutputs(OUTPUT);
        ComputationGraphConfiguration conf = sink.graph.build();
        registerVariables(conf);
        return conf;
    }

    /**
     * Records each layer's parameter names in its configuration, as {@code ComputationGraph.init()}
     * does. DL4J 1.0.0-M2.1's {@code fromJson} decides whether a BatchNormalization stores variance
     * or log10(std) from that list, so without it the JSON of a never-initialised configuration would
     * come back with {@code useLogStd = true} and a different parameter set.
     */
    private static void registerVariables(ComputationGraphConfiguration conf) {
        for (org.deeplearning4j.nn.conf.graph.GraphVertex v : conf.getVertices().values()) {
            if (v instanceof org.deeplearning4j.nn.conf.graph.LayerVertex lv) {
                NeuralNetConfiguration nnc = lv.getLayerConf();
                for (String key : nnc.getLayer().initializer().paramKeys(nnc.getLayer())) {
                    nnc.addVariable(key);
                }
            }
        }
    }

    /**
     * @param spec the depth table
     * @return the stage shapes, parameter counts and MACs, computed without building the graph
     */
    public static Summary summary(ResNetSpec spec) {
        Walker w = new Walker(spec, null);
        w.walk();
        return new Summary(spec, w.stages, w.totalMacs);
    }

    /**
     * Trainable parameters of a graph, counted as PyTorch counts them: BatchNorm running mean and
     * variance are buffers there, not parameters, and are excluded here.
     *
     * @param graph an initialised graph
     * @return the parameter count comparable to torchvision's {@code num_params}
     */
    public static long countParameters(ComputationGraph graph) {
        long n = 0;
        for (org.deeplearning4j.nn.api.Layer l : graph.getLayers()) {
            for (var e : l.paramTable().entrySet()) {
                boolean runningStat = l.conf().getLayer() instanceof BatchNormalization
                        && (e.getKey().equals("mean") || e.getKey().equals("var") || e.getKey().equals("log10stdev"));
                if (!runningStat) {
                    n += e.getValue().length();
                }
            }
        }
        return n;
    }

    /**
     * A copy of a graph built here with a new, randomly initialised classifier of
     * {@code numClasses} outputs (initialised as {@link #create} initialises it: PyTorch's
     * {@code nn.Linear} default, uniform in {@code +-1/sqrt(fan_in)}). Every other parameter,
     * batch-norm statistics included, is copied with {@link ParameterCopy}; the source is not
     * modified. This is the one place the classifier is replaced (pretrained loading, fine-tuning).
     *
     * @param graph      a graph built by this class (it has a layer {@value #CLASSIFIER})
     * @param numClasses outputs of the new classifier, at least 1
     * @param seed       seed of the new classifier's initialisation
     * @return the new graph
     * @throws IllegalArgumentException if the graph has no classifier or {@code numClasses < 1}
     */
    public static ComputationGraph replaceClassifier(ComputationGraph graph, int numClasses, long seed) {
        if (numClasses < 1) {
            throw new IllegalArgumentException("numClasses must be >= 1, got " + numClasses);
        }
        if (graph.getLayer(CLASSIFIER) == null) {
            throw new IllegalArgumentException("the graph has no classifier layer '" + CLASSIFIER
                    + "': not a ResNet graph of this project");
        }
        Nd4j.getRandom().setSeed(seed);
        ComputationGraph out = new TransferLearning.GraphBuilder(graph)
                .fineTuneConfiguration(new FineTuneConfiguration.Builder()
                        .seed(seed).build())
                .nOutReplace(CLASSIFIER, numClasses, WeightInit.UNIFORM)
                .build();
        ParameterCopy.copy(graph, out, CLASSIFIER);
        return out;
    }

    static String blockOutput(int stage, int block) {
        return "layer" + stage + "." + block + ".out";
    }

    /** Receives the layers of the walk; null sink = summary only. */
    private static final class GraphSink {
        final ComputationGraphConfiguration.GraphBuilder graph;
        final LayerImpl convolution;

        GraphSink(ComputationGraphConfiguration.GraphBuilder graph, LayerImpl convolution) {
            this.graph = graph;
            this.convolution = convolution;
        }

        void add(String name, Layer layer, String... inputs) {
            graph.addLayer(name, layer, inputs);
        }

        /** Whether batch norm + ReLU and add + ReLU are single vertices (this project's layers). */
        boolean fused() {
            return convolution == LayerImpl.NATIVE;
        }

        /** Every batch norm reads a convolution's output; {@code blockedOut}: only convolutions read its output. */
        Layer batchNorm(long channels, double gammaInit, boolean relu, boolean blockedOut) {
            if (convolution == LayerImpl.NATIVE) {
                NativeBatchNorm bn = NativeBatchNorm.of(channels, 1e-5, 0.9, gammaInit).withBlockedInput();
                if (blockedOut) {
                    bn.withBlockedOutput();
                }
                return relu ? bn.withRelu() : bn;
            }
            return new BatchNormalization.Builder().nIn(channels).nOut(channels).eps(1e-5).decay(0.9)
                    .useLogStd(false).gamma(gammaInit).beta(0.0).build();
        }

        /** {@code blockedIn}: the input is a batch norm's output read only by convolutions; {@code blockedOut}: a batch norm reads the output. */
        Layer conv(long in, long out, int k, int stride, int pad, int groups, boolean bias, boolean blockedIn,
                   boolean blockedOut) {
            if (convolution == LayerImpl.NATIVE) {
                NativeConvolution c = NativeConvolution.of(in, out, k, stride, pad, groups, bias, new KaimingNormal());
                if (blockedIn) {
                    c.withBlockedInput();
                }
                if (blockedOut) {
                    c.withBlockedOutput();
                }
                return c;
            }
            return new ConvolutionLayer.Builder(k, k).stride(stride, stride).padding(pad, pad)
                    .convolutionMode(ConvolutionMode.Truncate).nIn(in).nOut(out).hasBias(bias)
                    .activation(Activation.IDENTITY).weightInit(new KaimingNormal()).build();
        }
    }

    /** One walk over the depth table; emits layers into the sink (if any) and accounts shapes, params, MACs. */
    private static final class Walker {
        final ResNetSpec spec;
        final GraphSink sink;
        final List<Summary.Stage> stages = new ArrayList<>();
        long totalMacs;
        long stageParams;
        long stageMacs;
        long channels;
        long h;
        long w;

        Walker(ResNetSpec spec, GraphSink sink) {
            this.spec = spec;
            this.sink = sink;
        }

        void walk() {
            channels = spec.inputChannels();
            h = spec.inputHeight();
            w = spec.inputWidth();
            String x = stem();
            endStage("stem", x, new long[] {channels, h, w});
            for (int s = 0; s < spec.numStages(); s++) {
                for (int b = 0; b < spec.depths().get(s); b++) {
                    x = block(s + 1, b, x, s > 0 && b == 0 ? 2 : 1);
                }
                endStage("layer" + (s + 1), x, new long[] {channels, h, w});
            }
            head(x);
            endStage("head", OUTPUT, new long[] {spec.numClasses()});
        }

        void endStage(String name, String vertex, long[] shape) {
            stages.add(new Summary.Stage(name, vertex, shape, stageParams, stageMacs));
            totalMacs += stageMacs;
            stageParams = 0;
            stageMacs = 0;
        }

        /**
         * Adds a convolution; updates channels and spatial size. {@code blockedIn}/{@code blockedOut}:
         * whether the array before / after it is private to this project's layers (see
         * {@link NativeConvolution#withBlockedInput()}).
         */
        String conv(String name, String in, long out, int k, int stride, int pad, int groups, boolean bias,
                    boolean blockedIn, boolean blockedOut) {
            long oh = (h + 2L * pad - k) / stride + 1;
            long ow = (w + 2L * pad - k) / stride + 1;
            stageParams += out * (channels / groups) * k * k + (bias ? out : 0);
            stageMacs += oh * ow * out * (channels / groups) * k * k;
            if (sink != null) {
                sink.add(name, sink.conv(channels, out, k, stride, pad, groups, bias, blockedIn, blockedOut), in);
            }
            channels = out;
            h = oh;
            w = ow;
            return name;
        }

        /** A batch norm without ReLU; {@code blockedOut}: only layers reading oneDNN's blocked layout read its output. */
        String bn(String name, String in, boolean zeroGamma, boolean blockedOut) {
            stageParams += 2 * channels;
            if (sink != null) {
                sink.add(name, sink.batchNorm(channels, zeroGamma ? 0.0 : 1.0, false, blockedOut), in);
            }
            return name;
        }

        /**
         * Batch norm then ReLU: one vertex {@code bnName} when fused, else {@code reluName} after it;
         * {@code blockedOut}: only convolutions read the result.
         */
        String bnRelu(String bnName, String reluName, String in, boolean blockedOut) {
            stageParams += 2 * channels;
            if (sink == null) {
                return bnName;
            }
            if (sink.fused()) {
                sink.add(bnName, sink.batchNorm(channels, 1.0, true, blockedOut), in);
                return bnName;
            }
            sink.add(bnName, sink.batchNorm(channels, 1.0, false, false), in);
            return activation(reluName, bnName, Activation.RELU);
        }

        String activation(String name, String in, Activation fn) {
            if (sink != null) {
                sink.add(name, new ActivationLayer.Builder().activation(fn).build(), in);
            }
            return name;
        }

        String stem() {
            String x;
            if (spec.stem() == StemKind.IMAGENET) {
                x = conv("conv1", INPUT, spec.stemWidth(), 7, 2, 3, 1, false, false, true);
                x = bnRelu("bn1", "relu", x, false);
                h = (h + 2 - 3) / 2 + 1;
                w = (w + 2 - 3) / 2 + 1;
                if (sink != null) {
                    sink.add("maxpool", new SubsamplingLayer.Builder(PoolingType.MAX).kernelSize(3, 3).stride(2, 2)
                            .padding(1, 1).convolutionMode(ConvolutionMode.Truncate).build(), x);
                }
                return "maxpool";
            }
            x = conv("conv1", INPUT, spec.stemWidth(), 3, 1, 1, 1, false, false, true);
            return bnRelu("bn1", "relu", x, false);
        }

        String block(int stage, int index, String in, int stride) {
            String p = "layer" + stage + "." + index + ".";
            long inChannels = channels;
            long inH = h;
            long inW = w;
            long out = spec.stageOutChannels(stage - 1);
            long inner = spec.innerWidth(stage - 1);
            // Which arrays at the block's ends may stay in oneDNN's blocked layout: a block output
            // inside a stage (read by the next block's first convolution and its add), and the add's
            // inputs when both are; a stage's output (a tap) and anything around squeeze-and-excitation
            // (DL4J's pooling reads it) stay NCHW.
            boolean se = spec.seReduction() > 0;
            boolean downsample = stride != 1 || inChannels != out;
            boolean inputBlocked = !se && index > 0;
            boolean addInputsBlocked = !se && (downsample || index > 0);
            boolean outputBlocked = !se && index < spec.depths().get(stage - 1) - 1;
            String x;
            if (spec.block() == BlockKind.BASIC) {
                x = conv(p + "conv1", in, inner, 3, stride, 1, 1, false, inputBlocked, true);
                x = bnRelu(p + "bn1", p + "relu1", x, true);
                x = conv(p + "conv2", x, out, 3, 1, 1, 1, false, true, true);
                x = bn(p + "bn2", x, spec.zeroInitLastBn(), addInputsBlocked);
            } else {
                x = conv(p + "conv1", in, inner, 1, 1, 0, 1, false, inputBlocked, true);
                x = bnRelu(p + "bn1", p + "relu1", x, true);
                x = conv(p + "conv2", x, inner, 3, stride, 1, spec.cardinality(), false, true, true);
                x = bnRelu(p + "bn2", p + "relu2", x, true);
                x = conv(p + "conv3", x, out, 1, 1, 0, 1, false, true, true);
                x = bn(p + "bn3", x, spec.zeroInitLastBn(), addInputsBlocked);
            }
            if (spec.seReduction() > 0) {
                x = squeezeExcite(p + "se.", x);
            }
            String shortcut = in;
            if (stride != 1 || inChannels != out) {
                long outC = channels;
                long outH = h;
                long outW = w;
                channels = inChannels;
                h = inH;
                w = inW;
                shortcut = bn(p + "downsample.1", conv(p + "downsample.0", in, out, 1, stride, 0, 1, false, inputBlocked,
                        true), false, addInputsBlocked);
                if (channels != outC || h != outH || w != outW) {
                    throw new IllegalStateException("shortcut shape mismatch in " + p);
                }
            }
            if (sink != null && sink.fused()) {
                sink.graph.addVertex(p + "out", new AddReluVertex(addInputsBlocked, outputBlocked), x, shortcut);
            } else if (sink != null) {
                sink.graph.addVertex(p + "add", new ElementWiseVertex(ElementWiseVertex.Op.Add), x, shortcut);
                activation(p + "out", p + "add", Activation.RELU);
            }
            return p + "out";
        }

        String squeezeExcite(String p, String in) {
            long c = channels;
            long rd = spec.seChannels((int) c);
            long savedH = h;
            long savedW = w;
            if (sink != null) {
                sink.add(p + "pool", new GlobalPoolingLayer.Builder(PoolingType.AVG).collapseDimensions(false).build(), in);
            }
            h = 1;
            w = 1;
            String x = conv(p + "fc1", p + "pool", rd, 1, 1, 0, 1, true, false, false);
            x = activation(p + "relu", x, Activation.RELU);
            x = conv(p + "fc2", x, c, 1, 1, 0, 1, true, false, false);
            x = activation(p + "gate", x, Activation.SIGMOID);
            h = savedH;
            w = savedW;
            if (sink != null) {
                sink.graph.addVertex(p + "scale", new ChannelScaleVertex(), in, x);
            }
            return p + "scale";
        }

        void head(String in) {
            if (sink != null) {
                sink.add(POOL, new GlobalPoolingLayer.Builder(PoolingType.AVG).build(), in);
                sink.add(CLASSIFIER, new DenseLayer.Builder().nIn(channels).nOut(spec.numClasses())
                        .activation(Activation.IDENTITY).weightInit(WeightInit.UNIFORM).build(), POOL);
                sink.add(OUTPUT, new LossLayer.Builder(LossFunctions.LossFunction.MCXENT)
                        .activation(Activation.SOFTMAX).build(), CLASSIFIER);
            }
            stageParams += channels * spec.numClasses() + spec.numClasses();
            stageMacs += channels * spec.numClasses();
        }
    }
}
