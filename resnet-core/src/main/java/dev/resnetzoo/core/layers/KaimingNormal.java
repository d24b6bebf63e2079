package dev.resnetzoo.core.layers;

import org.deeplearning4j.nn.weights.IWeightInit;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * He (Kaiming) normal initialisation with fan-out, {@code N(0, 2 / fanOut)}: what torchvision's
 * ResNet uses for every convolution ({@code kaiming_normal_(mode="fan_out", nonlinearity="relu")}).
 * DL4J's {@code WeightInit.RELU} uses fan-in instead.
 */
public final class KaimingNormal implements IWeightInit {
    private static final long serialVersionUID = 1L;

    /** Creates the initialiser (also used by JSON deserialisation). */
    public KaimingNormal() {
    }

    @Override
    public INDArray init(double fanIn, double fanOut, long[] shape, char order, INDArray paramView) {
        INDArray values = Nd4j.randn(paramView.dataType(), shape).muli(Math.sqrt(2.0 / fanOut));
        paramView.assign(values.reshape(order, new long[] {paramView.length()}));
        return paramView.reshape(order, shape);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof KaimingNormal;
    }

    @Override
    public int hashCode() {
        return KaimingNormal.class.hashCode();
    }

    @Override
    public String toString() {
        return "KaimingNormal(fanOut)";
    }
}
