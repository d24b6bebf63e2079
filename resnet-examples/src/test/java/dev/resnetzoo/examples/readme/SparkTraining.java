package dev.resnetzoo.examples.readme;

import dev.resnetzoo.core.ResNetSpec;
import dev.resnetzoo.spark.ParameterAveraging;
import dev.resnetzoo.spark.SparkMasters;
import dev.resnetzoo.spark.SparkResNetTrainer;
import dev.resnetzoo.zoo.SavedModel;
import java.nio.file.Path;
import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.learning.config.Adam;

class SparkTraining {
    static ComputationGraph train(ResNetSpec spec, List<DataSet> minibatches, Path out) {
        try (JavaSparkContext sc = SparkMasters.context("local[2]", "my-training")) {  // or your cluster's
            JavaRDD<DataSet> rdd = sc.parallelize(minibatches);           // one minibatch DataSet per element
            SparkResNetTrainer trainer = SparkResNetTrainer.builder(sc, spec)
                    .optTraining(new NeuralNetConfiguration.Builder().seed(42).updater(new Adam(1e-3)))
                    .optParameterAveraging(new ParameterAveraging(2, 16, 5))  // workers, batch per worker, frequency
                    .build();
            return trainer.fit(rdd, 2, (epoch, graph, score) -> SavedModel.of(graph, spec,
                    SavedModel.defaultPreprocessing(spec), List.of(), "spark epoch " + epoch)
                    .write(out.resolve("epoch-" + epoch + ".zip")));
        }
    }
}
