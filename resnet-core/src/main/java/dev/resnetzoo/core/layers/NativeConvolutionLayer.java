package dev.resnetzoo.core.layers;

import dev.resnetzoo.core.onednn.ConvPrimitives;
import dev.resnetzoo.core.onednn.OneDnn;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.exception.DL4JInvalidInputException;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.BaseLayer;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.api.ops.impl.broadcast.BroadcastAddOp;
import org.nd4j.linalg.convolution.Convolution;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Runtime of {@link NativeConvolution}. On the {@link LayerRuntime#ONEDNN} runtime (float32), every
 * convolution, plain or grouped, is one oneDNN primitive per pass, created once per input shape.
 * On {@link LayerRuntime#LIBND4J}, ungrouped convolutions call libnd4j's {@code conv2d} and
 * {@code conv2d_bp} with the weight format {@code [out, in, kh, kw]} (no weight copies); grouped
 * ones compute im2col once and a batched matrix product over the groups per image.
 */
final class NativeConvolutionLayer extends BaseLayer<NativeConvolution> {
    /** libnd4j's weight-format argument for {@code [oC, iC, kH, kW]}. */
    private static final int WEIGHT_FORMAT_OIHW = 1;
    private static final int DATA_FORMAT_NCHW = 0;

    /** Primitives for the last few input shapes (training and evaluation batches may differ). */
    private final Map<List<Long>, ConvPrimitives> primitives = new LinkedHashMap<>(4, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<List<Long>, ConvPrimitives> eldest) {
            return size() > 4;
        }
    };

    NativeConvolutionLayer(NeuralNetConfiguration conf, DataType dataType) {
        super(conf, dataType);
    }

    @Override
    public Type type() {
        return Type.CONVOLUTIONAL;
    }

    @Override
    public boolean isPretrainLayer() {
        return false;
    }

    /** Flat parameter vectors are in 'c' order, as DL4J's own convolution layer expects (BaseLayer assumes 'f'). */
    @Override
    public void setParams(INDArray params) {
        setParams(params, 'c');
    }

    @Override
    public boolean hasBias() {
        return layerConf().hasBias();
    }

    private int[] iArgs() {
        NativeConvolution c = layerConf();
        int[] k = c.getKernelSize();
        int[] s = c.getStride();
        int[] p = c.getPadding();
        int[] d = c.getDilation();
        return new int[] {k[0], k[1], s[0], s[1], p[0], p[1], d[0], d[1], 0, DATA_FORMAT_NCHW, WEIGHT_FORMAT_OIHW};
    }

    private long[] outputShape(INDArray x) {
        NativeConvolution c = layerConf();
        int[] k = c.getKernelSize();
        int[] s = c.getStride();
        int[] p = c.getPadding();
        int[] d = c.getDilation();
        long oh = (x.size(2) + 2L * p[0] - (long) d[0] * (k[0] - 1) - 1) / s[0] + 1;
        long ow = (x.size(3) + 2L * p[1] - (long) d[1] * (k[1] - 1) - 1) / s[1] + 1;
        return new long[] {x.size(0), c.getNOut(), oh, ow};
    }

    private INDArray checkedInput() {
        assertInputSet(false);
        NativeConvolution c = layerConf();
        if (input.rank() != 4 || input.size(1) != c.getNIn()) {
            throw new DL4JInvalidInputException("layer '" + c.getLayerName() + "' expects input [batch, "
                    + c.getNIn() + ", height, width] (NCHW), got " + Arrays.toString(input.shape()) + " " + layerId());
        }
        long[] o = outputShape(input);
        if (o[2] < 1 || o[3] < 1) {
            throw new DL4JInvalidInputException("layer '" + c.getLayerName() + "': input " + input.size(2) + "x"
                    + input.size(3) + " is smaller than its kernel " + Arrays.toString(c.getKernelSize()) + " "
                    + layerId());
        }
        INDArray x = input.dataType() == dataType ? input : input.castTo(dataType);
        return x.ordering() == 'c' && x.elementWiseStride() == 1 ? x : x.dup('c');
    }

    @Override
    public INDArray activate(boolean training, LayerWorkspaceMgr workspaceMgr) {
        applyDropOutIfNecessary(training, workspaceMgr);
        INDArray x = checkedInput();
        INDArray w = getParamWithNoise(NativeConvolutionParams.WEIGHT_KEY, training, workspaceMgr);
        INDArray out = workspaceMgr.createUninitialized(ArrayType.ACTIVATIONS, dataType, outputShape(x), 'c');
        if (LayerRuntime.oneDnnFor(dataType)) {
            INDArray b = hasBias() ? getParamWithNoise(NativeConvolutionParams.BIAS_KEY, training, workspaceMgr) : null;
            primitivesFor(x).forward(x, w, b, out);
            return out;
        }
        if (layerConf().getGroups() == 1) {
            INDArray[] in = hasBias()
                    ? new INDArray[] {x, w, getParamWithNoise(NativeConvolutionParams.BIAS_KEY, training, workspaceMgr)}
                    : new INDArray[] {x, w};
            Nd4j.exec(DynamicCustomOp.builder("conv2d").addInputs(in).addOutputs(out)
                    .addIntegerArguments(iArgs()).build());
        } else {
            groupedForward(x, w, out, workspaceMgr);
            if (hasBias()) {
                INDArray b = getParamWithNoise(NativeConvolutionParams.BIAS_KEY, training, workspaceMgr);
                Nd4j.exec(new BroadcastAddOp(out, b, out, 1));
            }
        }
        return out;
    }

    /** @return the oneDNN primitives for this input shape, created on first use */
    ConvPrimitives primitivesFor(INDArray x) {
        List<Long> key = List.of(x.size(0), x.size(1), x.size(2), x.size(3));
        ConvPrimitives p = primitives.get(key);
        if (p == null) {
            NativeConvolution c = layerConf();
            int[] k = c.getKernelSize();
            int[] s = c.getStride();
            int[] pad = c.getPadding();
            int[] d = c.getDilation();
            p = new ConvPrimitives(new ConvPrimitives.Geometry(x.size(0), x.size(1), x.size(2), x.size(3), c.getNOut(),
                    c.getGroups(), k[0], k[1], s[0], s[1], pad[0], pad[1], d[0], d[1], hasBias()),
                    OneDnn.activationBlock(x.size(1), c.isBlockedInput()), OneDnn.activationBlock(c.getNOut(), c.isBlockedOutput()));
            primitives.put(key, p);
        }
        return p;
    }

    private INDArray im2col(INDArray x, long[] outShape, LayerWorkspaceMgr mgr, ArrayType type) {
        NativeConvolution c = layerConf();
        int[] k = c.getKernelSize();
        int[] s = c.getStride();
        int[] p = c.getPadding();
        int[] d = c.getDilation();
        INDArray cols = mgr.createUninitialized(type, dataType,
                new long[] {x.size(0), x.size(1), k[0], k[1], outShape[2], outShape[3]}, 'c');
        Convolution.im2col(x, k[0], k[1], s[0], s[1], p[0], p[1], d[0], d[1], false, cols);
        return cols;
    }

    /** out[n] viewed as [G, out/G, oh*ow] = W [G, out/G, in/G*kh*kw] x cols[n] [G, in/G*kh*kw, oh*ow]. */
    private void groupedForward(INDArray x, INDArray w, INDArray out, LayerWorkspaceMgr mgr) {
        long g = layerConf().getGroups();
        long[] o = out.shape();
        INDArray cols = im2col(x, o, mgr, ArrayType.FF_WORKING_MEM);
        long kdim = x.size(1) / g * w.size(2) * w.size(3);
        long ohw = o[2] * o[3];
        INDArray wg = w.reshape('c', new long[] {g, o[1] / g, kdim});
        for (long n = 0; n < o[0]; n++) {
            INDArray colN = cols.slice(n).reshape('c', new long[] {g, kdim, ohw});
            INDArray outN = out.slice(n).reshape('c', new long[] {g, o[1] / g, ohw});
            matmul(wg, colN, outN, false, false);
        }
    }

    private static void matmul(INDArray a, INDArray b, INDArray z, boolean transA, boolean transB) {
        Nd4j.exec(DynamicCustomOp.builder("matmul").addInputs(a, b).addOutputs(z)
                .addIntegerArguments(transA ? 1 : 0, transB ? 1 : 0, 0).build());
    }

    @Override
    public Pair<Gradient, INDArray> backpropGradient(INDArray epsilon, LayerWorkspaceMgr workspaceMgr) {
        INDArray x = checkedInput();
        INDArray w = getParamWithNoise(NativeConvolutionParams.WEIGHT_KEY, true, workspaceMgr);
        INDArray eps = epsilon.dataType() == dataType ? epsilon : epsilon.castTo(dataType);
        if (eps.ordering() != 'c' || eps.elementWiseStride() != 1) {
            eps = eps.dup('c');
        }
        INDArray wGrad = gradientViews.get(NativeConvolutionParams.WEIGHT_KEY);
        INDArray bGrad = hasBias() ? gradientViews.get(NativeConvolutionParams.BIAS_KEY) : null;
        INDArray epsOut = workspaceMgr.createUninitialized(ArrayType.ACTIVATION_GRAD, dataType, x.shape(), 'c');
        if (LayerRuntime.oneDnnFor(dataType)) {
            primitivesFor(x).backward(x, w, eps, epsOut, wGrad, bGrad);
        } else if (layerConf().getGroups() == 1) {
            INDArray[] in = hasBias()
                    ? new INDArray[] {x, w, getParamWithNoise(NativeConvolutionParams.BIAS_KEY, true, workspaceMgr), eps}
                    : new INDArray[] {x, w, eps};
            INDArray[] outs = hasBias() ? new INDArray[] {epsOut, wGrad, bGrad} : new INDArray[] {epsOut, wGrad};
            Nd4j.exec(DynamicCustomOp.builder("conv2d_bp").addInputs(in).addOutputs(outs)
                    .addIntegerArguments(iArgs()).build());
        } else {
            groupedBackward(x, w, eps, wGrad, epsOut, workspaceMgr);
            if (hasBias()) {
                eps.sum(bGrad, 0, 2, 3);
            }
        }
        Gradient g = new DefaultGradient();
        g.setGradientFor(NativeConvolutionParams.WEIGHT_KEY, wGrad);
        if (hasBias()) {
            g.setGradientFor(NativeConvolutionParams.BIAS_KEY, bGrad);
        }
        weightNoiseParams.clear();
        return new Pair<>(g, backpropDropOutIfPresent(epsOut));
    }

    private void groupedBackward(INDArray x, INDArray w, INDArray eps, INDArray wGrad, INDArray epsOut,
                                 LayerWorkspaceMgr mgr) {
        NativeConvolution c = layerConf();
        long g = c.getGroups();
        long[] o = eps.shape();
        INDArray cols = im2col(x, o, mgr, ArrayType.BP_WORKING_MEM);
        long kdim = x.size(1) / g * w.size(2) * w.size(3);
        long ohw = o[2] * o[3];
        long og = o[1] / g;
        INDArray wg = w.reshape('c', new long[] {g, og, kdim});
        INDArray wGradG = wGrad.reshape('c', new long[] {g, og, kdim});
        INDArray dCols = mgr.createUninitialized(ArrayType.BP_WORKING_MEM, dataType, cols.shape(), 'c');
        INDArray partial = mgr.createUninitialized(ArrayType.BP_WORKING_MEM, dataType, new long[] {g, og, kdim}, 'c');
        wGradG.assign(0);
        for (long n = 0; n < o[0]; n++) {
            INDArray colN = cols.slice(n).reshape('c', new long[] {g, kdim, ohw});
            INDArray epsN = eps.slice(n).reshape('c', new long[] {g, og, ohw});
            matmul(epsN, colN, partial, false, true);
            wGradG.addi(partial);
            matmul(wg, epsN, dCols.slice(n).reshape('c', new long[] {g, kdim, ohw}), true, false);
        }
        int[] s = c.getStride();
        int[] p = c.getPadding();
        int[] d = c.getDilation();
        Convolution.col2im(dCols, epsOut, s[0], s[1], p[0], p[1], (int) x.size(2), (int) x.size(3), d[0], d[1]);
    }
}
