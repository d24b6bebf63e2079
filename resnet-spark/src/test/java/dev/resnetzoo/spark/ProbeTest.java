package dev.resnetzoo.spark;

import dev.resnetzoo.core.BlockKind;
import dev.resnetzoo.core.ResNetSpec;
import dev.resnetzoo.core.ResNets;
import dev.resnetzoo.core.StemKind;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.spark.impl.graph.SparkComputationGraph;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingMaster;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;

class ProbeTest {
    @Test
    void probe() {
        SparkConf conf = new SparkConf().setMaster("local[2]").setAppName("probe")
                .set("spark.driver.host", "127.0.0.1").set("spark.driver.bindAddress", "127.0.0.1")
                .set("spark.ui.enabled", "false");
        try (JavaSparkContext sc = new JavaSparkContext(conf)) {
            ResNetSpec spec = ResNetSpec.builder(BlockKind.BASIC, 1, 1, 1, 1).name("tiny").widths(4, 8, 8, 8).stemWidth(4)
                    .stem(StemKind.SMALL).input(1, 12, 12).numClasses(3).build();
            ComputationGraph g = ResNets.create(spec, new NeuralNetConfiguration.Builder().seed(1).updater(new Adam(1e-3)));
            List<DataSet> data = new ArrayList<>();
            for (int i = 0; i < 16; i++) {
                data.add(new DataSet(Nd4j.rand(8, 1, 12, 12), Nd4j.eye(3).getRows(new int[] {0, 1, 2, 0, 1, 2, 0, 1})));
            }
            JavaRDD<DataSet> rdd = sc.parallelize(data, 2);
            ParameterAveragingTrainingMaster tm = new ParameterAveragingTrainingMaster.Builder(8).averagingFrequency(2)
                    .workerPrefetchNumBatches(0).batchSizePerWorker(8).build();
            SparkComputationGraph s = new SparkComputationGraph(sc, g, tm);
            double before = g.params().dup().sumNumber().doubleValue();
            s.fit(rdd);
            System.out.println("PROBE score " + s.getScore() + " params changed " + (s.getNetwork().params().sumNumber().doubleValue() - before));
        }
    }
}
