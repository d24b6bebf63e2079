package dev.resnetzoo.core.layers;

import dev.resnetzoo.core.onednn.BatchNormPrimitives;
import dev.resnetzoo.core.onednn.OneDnn;
import java.util.Arrays;
import java.util.List;
import org.deeplearning4j.exception.DL4JInvalidInputException;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.normalization.BatchNormalization;
import org.deeplearning4j.nn.params.BatchNormalizationParamInitializer;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.api.ops.impl.reduce3.Dot;
import org.nd4j.linalg.api.ops.impl.transforms.gradient.ThresholdReluBp;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * Runtime of {@link NativeBatchNorm}. On {@link LayerRuntime#ONEDNN} (float32) the forward and
 * backward passes are oneDNN's batch-normalization primitives on the arrays' own memory; on
 * {@link LayerRuntime#LIBND4J} they are libnd4j ops as follows.
 *
 * <p>Backward pass, with {@code M = N*H*W} values per channel, {@code s = 1/sqrt(var + eps)}:
 * {@code dbeta = sum(dy)}, {@code dgamma = s * (sum(dy*x) - mean*dbeta)} and
 * {@code dx = a*dy + b*x + c} per channel with {@code a = gamma*s}, {@code b = -gamma*s^2*dgamma/M},
 * {@code c = -gamma*s*dbeta/M - b*mean}: two reductions and three elementwise passes, where each
 * per-channel affine map is one libnd4j {@code batchnorm} call.
 *
 * <p>With a fused ReLU ({@link NativeBatchNorm#withRelu()}), oneDNN applies it inside its
 * primitives (forward and backward); on libnd4j the forward applies it in place and the backward
 * masks {@code dy} by the kept output ({@code thresholdedrelu_bp}) before the steps above.
 */
final class NativeBatchNormLayer extends BatchNormalization {
    private static final int[] NON_CHANNEL = {0, 2, 3};

    private INDArray batchMean;
    private INDArray batchVar;
    /** With a fused ReLU on libnd4j: the training forward pass's output, whose sign masks dy. */
    private INDArray reluOutput;
    /** Which runtime ran the last training forward pass (its ReLU mask is that runtime's). */
    private boolean forwardOnOneDnn;

    private BatchNormPrimitives primitives;
    private List<Long> primitivesShape;

    NativeBatchNormLayer(NeuralNetConfiguration conf, DataType dataType) {
        super(conf, dataType);
    }

    private NativeBatchNorm bnConf() {
        return (NativeBatchNorm) conf.getLayer();
    }

    private INDArray checkedInput() {
        assertInputSet(false);
        if (input.rank() != 4 || input.size(1) != bnConf().getNOut()) {
            throw new DL4JInvalidInputException("batch norm '" + bnConf().getLayerName() + "' expects [batch, "
                    + bnConf().getNOut() + ", height, width], got " + Arrays.toString(input.shape()) + " " + layerId());
        }
        INDArray x = input.dataType() == dataType ? input : input.castTo(dataType);
        return x.ordering() == 'c' && x.elementWiseStride() == 1 ? x : x.dup('c');
    }

    /**
     * Batch mean and biased variance per channel, accumulated in double precision. Float32
     * statistics (libnd4j's {@code moments} and oneDNN's batch norm alike) made one SGD step of
     * the fashion-fast network less accurate than PyTorch's float32 step; with these the step is as
     * accurate as PyTorch's float32 one ({@code TrainingStepAccuracyTest} checks it).
     */
    private void moments(INDArray x, boolean oneDnn, INDArray mean, INDArray var) {
        if (x.dataType() == DataType.DOUBLE) {
            Nd4j.exec(DynamicCustomOp.builder("moments").addInputs(x).addOutputs(mean, var)
                    .addIntegerArguments(NON_CHANNEL).build());
            return;
        }
        // Moments of each image's map in float (a few thousand terms), combined across the batch in
        // double with the law of total variance.
        long n = x.size(0);
        long channels = x.size(1);
        INDArray mapMean = Nd4j.createUninitialized(x.dataType(), n, channels);
        INDArray mapVar = Nd4j.createUninitialized(x.dataType(), n, channels);
        if (oneDnn && inputBlock() > 0) {
            // oneDNN's kernels read the blocked array in place (libnd4j's strided reductions are slower)
            primitivesFor(x).imageMoments(x, mapMean, mapVar);
        } else {
            Nd4j.exec(DynamicCustomOp.builder("moments").addInputs(x).addOutputs(mapMean, mapVar)
                    .addIntegerArguments(2, 3).build());
        }
        // [N, C] values: a plain loop in double beats a chain of small ND4J ops.
        float[] mm = mapMean.data().asFloat();
        float[] mv = mapVar.data().asFloat();
        float[] outMean = new float[(int) channels];
        float[] outVar = new float[(int) channels];
        for (int c = 0; c < channels; c++) {
            double sum = 0;
            for (int i = 0; i < n; i++) {
                sum += mm[(int) (i * channels + c)];
            }
            double mu = sum / n;
            double v = 0;
            for (int i = 0; i < n; i++) {
                double d = mm[(int) (i * channels + c)] - mu;
                v += mv[(int) (i * channels + c)] + d * d;
            }
            outMean[c] = (float) mu;
            outVar[c] = (float) (v / n);
        }
        mean.data().setData(outMean);
        var.data().setData(outVar);
    }

    /** out = (in - m) / sqrt(v + eps) * g + b, per channel, in one pass. */
    private static void batchnorm(INDArray in, INDArray m, INDArray v, INDArray g, INDArray b, double eps,
                                  INDArray out) {
        Nd4j.exec(DynamicCustomOp.builder("batchnorm").addInputs(in, m, v, g, b).addOutputs(out)
                .addIntegerArguments(1, 1, 1).addFloatingPointArguments(eps).build());
    }

    /** out = in * scale + shift, per channel, in one pass. */
    private static void affine(INDArray in, INDArray scale, INDArray shift, INDArray out) {
        INDArray zero = Nd4j.zeros(in.dataType(), scale.length());
        INDArray one = Nd4j.ones(in.dataType(), scale.length());
        batchnorm(in, zero, one, scale, shift, 0.0, out);
    }

    @Override
    public INDArray activate(boolean training, LayerWorkspaceMgr workspaceMgr) {
        INDArray x = checkedInput();
        NativeBatchNorm c = bnConf();
        long channels = c.getNOut();
        boolean oneDnn = LayerRuntime.oneDnnFor(dataType);
        INDArray mean;
        INDArray var;
        if (training) {
            try (MemoryWorkspace ws = Nd4j.getMemoryManager().scopeOutOfWorkspaces()) {
                batchMean = Nd4j.createUninitialized(dataType, channels);
                batchVar = Nd4j.createUninitialized(dataType, channels);
                moments(x, oneDnn, batchMean, batchVar);
            }
            mean = batchMean;
            var = batchVar;
        } else {
            mean = getParam(BatchNormalizationParamInitializer.GLOBAL_MEAN);
            var = getParam(BatchNormalizationParamInitializer.GLOBAL_VAR);
        }
        INDArray out = workspaceMgr.createUninitialized(ArrayType.ACTIVATIONS, dataType, x.shape(), 'c');
        if (training) {
            forwardOnOneDnn = oneDnn;
        }
        if (oneDnn) {
            INDArray gamma = getParam(BatchNormalizationParamInitializer.GAMMA);
            INDArray beta = getParam(BatchNormalizationParamInitializer.BETA);
            // The batch statistics computed above are given to the primitive in training too.
            primitivesFor(x).forward(training, x, gamma, beta, out, mean, var);
            return out;
        }
        batchnorm(x, mean.reshape(channels), var.reshape(channels),
                getParam(BatchNormalizationParamInitializer.GAMMA).reshape(channels),
                getParam(BatchNormalizationParamInitializer.BETA).reshape(channels), c.getEps(), out);
        if (c.isRelu()) {
            Transforms.relu(out, false);
            // The output stays in the activations workspace until the backward pass of this iteration.
            if (training) {
                reluOutput = out;
            }
        }
        return out;
    }

    @Override
    public Pair<Gradient, INDArray> backpropGradient(INDArray epsilon, LayerWorkspaceMgr workspaceMgr) {
        INDArray x = checkedInput();
        NativeBatchNorm c = bnConf();
        long channels = c.getNOut();
        INDArray dy = epsilon.dataType() == dataType ? epsilon : epsilon.castTo(dataType);
        if (dy.ordering() != 'c' || dy.elementWiseStride() != 1) {
            dy = dy.dup('c');
        }
        boolean oneDnn = LayerRuntime.oneDnnFor(dataType);
        if (batchMean == null || (c.isRelu() && (forwardOnOneDnn != oneDnn || (!oneDnn && reluOutput == null)))) {
            activate(true, LayerWorkspaceMgr.noWorkspaces());
        }
        if (c.isRelu() && !oneDnn) {
            INDArray masked = workspaceMgr.createUninitialized(ArrayType.BP_WORKING_MEM, dataType, x.shape(), 'c');
            Nd4j.exec(new ThresholdReluBp(reluOutput, dy, masked, 0.0));
            dy = masked;
        }
        double m = (double) x.length() / channels;
        INDArray gamma = getParam(BatchNormalizationParamInitializer.GAMMA).reshape(channels);
        INDArray dGamma = gradientViews.get(BatchNormalizationParamInitializer.GAMMA);
        INDArray dBeta = gradientViews.get(BatchNormalizationParamInitializer.BETA);
        INDArray dx = workspaceMgr.createUninitialized(ArrayType.ACTIVATION_GRAD, dataType, x.shape(), 'c');
        try (MemoryWorkspace ws = Nd4j.getMemoryManager().scopeOutOfWorkspaces()) {
            if (oneDnn) {
                primitivesFor(x).backward(x, gamma, getParam(BatchNormalizationParamInitializer.BETA), batchMean, batchVar, dy,
                        dx, dGamma, dBeta);
            } else {
                libnd4jBackward(x, dy, dx, gamma, dGamma, dBeta, m, workspaceMgr);
            }
            runningStatistics(m);
        }
        Gradient g = new DefaultGradient();
        g.setGradientFor(BatchNormalizationParamInitializer.GAMMA, dGamma);
        g.setGradientFor(BatchNormalizationParamInitializer.BETA, dBeta);
        g.setGradientFor(BatchNormalizationParamInitializer.GLOBAL_MEAN, gradientViews.get(BatchNormalizationParamInitializer.GLOBAL_MEAN));
        g.setGradientFor(BatchNormalizationParamInitializer.GLOBAL_VAR, gradientViews.get(BatchNormalizationParamInitializer.GLOBAL_VAR));
        batchMean = null;
        batchVar = null;
        reluOutput = null;
        return new Pair<>(g, dx);
    }

    /** Channel block of the input on the oneDNN runtime (0 = NCHW). */
    private int inputBlock() {
        return OneDnn.activationBlock(bnConf().getNOut(), bnConf().isBlockedInput());
    }

    private BatchNormPrimitives primitivesFor(INDArray x) {
        List<Long> shape = List.of(x.size(0), x.size(1), x.size(2), x.size(3));
        if (primitives == null || !shape.equals(primitivesShape)) {
            primitives = new BatchNormPrimitives(x.shape(), bnConf().getEps(), bnConf().isRelu(), inputBlock(),
                    OneDnn.activationBlock(x.size(1), bnConf().isBlockedOutput()));
            primitivesShape = shape;
        }
        return primitives;
    }

    private void libnd4jBackward(INDArray x, INDArray dy, INDArray dx, INDArray gamma, INDArray dGamma, INDArray dBeta,
                                 double m, LayerWorkspaceMgr workspaceMgr) {
        NativeBatchNorm c = bnConf();
        long channels = c.getNOut();
        INDArray sumDy = dy.sum(NON_CHANNEL);
        INDArray sumDyX = Nd4j.createUninitialized(dataType, channels);
        Nd4j.exec(new Dot(dy, x, sumDyX, NON_CHANNEL));
        INDArray s = Transforms.pow(batchVar.add(c.getEps()), -0.5, false);
        INDArray dg = sumDyX.subi(batchMean.mul(sumDy)).muli(s);
        dGamma.assign(dg.reshape(dGamma.shape()));
        dBeta.assign(sumDy.reshape(dBeta.shape()));
        INDArray a = gamma.mul(s);
        INDArray b = a.mul(s).muli(dg).divi(-m);
        INDArray cc = a.mul(sumDy).divi(-m).subi(b.mul(batchMean));
        INDArray zero = Nd4j.zeros(dataType, channels);
        affine(dy, a, cc, dx);
        INDArray bx = workspaceMgr.createUninitialized(ArrayType.BP_WORKING_MEM, dataType, x.shape(), 'c');
        affine(x, b, zero, bx);
        dx.addi(bx);
    }

    /** Running statistics, DL4J style: the "gradient" is the amount to subtract, applied by a NoOp updater. */
    private void runningStatistics(double m) {
        NativeBatchNorm c = bnConf();
        long channels = c.getNOut();
        double decay = c.getDecay();
        INDArray globalMean = getParam(BatchNormalizationParamInitializer.GLOBAL_MEAN);
        INDArray globalVar = getParam(BatchNormalizationParamInitializer.GLOBAL_VAR);
        INDArray dMean = gradientViews.get(BatchNormalizationParamInitializer.GLOBAL_MEAN);
        INDArray dVar = gradientViews.get(BatchNormalizationParamInitializer.GLOBAL_VAR);
        double unbias = m > 1 ? m / (m - 1) : 1.0;
        dMean.assign(globalMean.reshape(channels).sub(batchMean).muli(1 - decay).reshape(dMean.shape()));
        dVar.assign(globalVar.reshape(channels).sub(batchVar.mul(unbias)).muli(1 - decay).reshape(dVar.shape()));
    }
}
