package dev.resnetzoo.core.layers;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.api.ParamInitializer;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

/** Parameters of {@link NativeConvolution}: {@code W [out, in/groups, kh, kw]} then {@code b [out]}. */
final class NativeConvolutionParams implements ParamInitializer {
    static final NativeConvolutionParams INSTANCE = new NativeConvolutionParams();
    static final String WEIGHT_KEY = "W";
    static final String BIAS_KEY = "b";

    private NativeConvolutionParams() {
    }

    static long[] weightShape(NativeConvolution c) {
        int[] k = c.getKernelSize();
        return new long[] {c.getNOut(), c.getNIn() / c.getGroups(), k[0], k[1]};
    }

    private static long weightCount(NativeConvolution c) {
        long[] s = weightShape(c);
        return s[0] * s[1] * s[2] * s[3];
    }

    @Override
    public long numParams(NeuralNetConfiguration conf) {
        return numParams(conf.getLayer());
    }

    @Override
    public long numParams(Layer layer) {
        NativeConvolution c = (NativeConvolution) layer;
        return weightCount(c) + (c.hasBias() ? c.getNOut() : 0);
    }

    @Override
    public List<String> paramKeys(Layer layer) {
        List<String> keys = new ArrayList<>(weightKeys(layer));
        keys.addAll(biasKeys(layer));
        return keys;
    }

    @Override
    public List<String> weightKeys(Layer layer) {
        return Collections.singletonList(WEIGHT_KEY);
    }

    @Override
    public List<String> biasKeys(Layer layer) {
        return ((NativeConvolution) layer).hasBias() ? Collections.singletonList(BIAS_KEY) : Collections.emptyList();
    }

    @Override
    public boolean isWeightParam(Layer layer, String key) {
        return WEIGHT_KEY.equals(key);
    }

    @Override
    public boolean isBiasParam(Layer layer, String key) {
        return BIAS_KEY.equals(key);
    }

    @Override
    public Map<String, INDArray> init(NeuralNetConfiguration conf, INDArray paramsView, boolean initializeParams) {
        NativeConvolution c = (NativeConvolution) conf.getLayer();
        long[] ws = weightShape(c);
        long nW = weightCount(c);
        INDArray flat = paramsView.reshape(paramsView.length());
        INDArray wView = flat.get(NDArrayIndex.interval(0, nW));
        Map<String, INDArray> out = new LinkedHashMap<>();
        if (initializeParams) {
            double fanIn = (double) ws[1] * ws[2] * ws[3];
            double fanOut = (double) ws[0] * ws[2] * ws[3];
            c.getWeightInitFn().init(fanIn, fanOut, ws, 'c', wView);
        }
        out.put(WEIGHT_KEY, wView.reshape('c', ws));
        if (c.hasBias()) {
            INDArray bView = flat.get(NDArrayIndex.interval(nW, nW + c.getNOut()));
            if (initializeParams) {
                bView.assign(c.getBiasInit());
            }
            out.put(BIAS_KEY, bView);
        }
        conf.addVariable(WEIGHT_KEY);
        if (c.hasBias()) {
            conf.addVariable(BIAS_KEY);
        }
        return out;
    }

    @Override
    public Map<String, INDArray> getGradientsFromFlattened(NeuralNetConfiguration conf, INDArray gradientView) {
        NativeConvolution c = (NativeConvolution) conf.getLayer();
        long nW = weightCount(c);
        INDArray flat = gradientView.reshape(gradientView.length());
        Map<String, INDArray> out = new LinkedHashMap<>();
        out.put(WEIGHT_KEY, flat.get(NDArrayIndex.interval(0, nW)).reshape('c', weightShape(c)));
        if (c.hasBias()) {
            out.put(BIAS_KEY, flat.get(NDArrayIndex.interval(nW, nW + c.getNOut())));
        }
        return out;
    }
}
