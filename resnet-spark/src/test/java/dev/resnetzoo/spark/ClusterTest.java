package dev.resnetzoo.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.spark.SparkConf;
import org.apache.spark.SparkEnv;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerExecutorRemoved;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.scheduler.SparkListenerTaskStart;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.learning.config.Adam;

/**
 * Spark's {@code local-cluster[2,1,1024]}: a master and two workers in this JVM, each worker
 * launching its executor as a separate JVM with this test's classpath. One executor JVM is killed
 * while the second epoch's tasks run; Spark re-runs them and training finishes.
 */
class ClusterTest {

    /** Spark's launcher wants a Spark installation; executors need only a RELEASE file and a jars folder there. */
    private static void fakeSparkHome() throws IOException {
        Path home = Path.of(System.getenv("SPARK_HOME"));
        Files.createDirectories(home.resolve("jars"));
        Files.writeString(home.resolve("RELEASE"), "resnet-spark test: executors take the test classpath\n");
    }


    @Test
    void killedExecutorsTasksRunAgainAndTrainingFinishes() throws IOException {
        fakeSparkHome();
        SparkConf conf = new SparkConf().setMaster("local-cluster[2,1,1024]").setAppName("resnet-spark-cluster-test")
                .set("spark.driver.host", "127.0.0.1").set("spark.driver.bindAddress", "127.0.0.1")
                .set("spark.ui.enabled", "false")
                .set("spark.executor.extraClassPath", System.getProperty("java.class.path"))
                .set("spark.executorEnv.OMP_NUM_THREADS", "1")
                .set("spark.task.maxFailures", "4");
        AtomicInteger epoch = new AtomicInteger(1);
        Map<String, Long> executorPids = new ConcurrentHashMap<>();
        AtomicLong killed = new AtomicLong(-1);
        AtomicInteger removed = new AtomicInteger();
        AtomicInteger failedTasks = new AtomicInteger();
        try (JavaSparkContext sc = new JavaSparkContext(conf)) {
            sc.sc().addSparkListener(new SparkListener() {
                @Override
                public void onTaskStart(SparkListenerTaskStart start) {
                    Long pid = executorPids.get(start.taskInfo().executorId());
                    if (epoch.get() == 2 && killed.get() < 0 && pid != null) {
                        ProcessHandle.of(pid).ifPresent(p -> {
                            killed.set(p.pid());
                            p.destroyForcibly();
                        });
                    }
                }

                @Override
                public void onTaskEnd(SparkListenerTaskEnd end) {
                    if (end.taskInfo().failed()) {
                        failedTasks.incrementAndGet();
                    }
                }

                @Override
                public void onExecutorRemoved(SparkListenerExecutorRemoved e) {
                    removed.incrementAndGet();
                }
            });
            List<String> runtimes = SparkResNetTrainer.executorRuntimes(sc, 4);
            assertTrue(runtimes.stream().allMatch(r -> r.contains("oneDNN")), runtimes.toString());
            assertTrue(runtimes.stream().noneMatch(r -> r.contains("pid " + ProcessHandle.current().pid() + ":")),
                    "tasks ran outside the driver JVM: " + runtimes);
            assertEquals(2, runtimes.size(), "two executor JVMs: " + runtimes);
            List<Integer> probe = List.of(0, 1, 2, 3);
            sc.parallelize(probe, 4).map(i -> SparkEnv.get().executorId() + "=" + ProcessHandle.current().pid())
                    .distinct().collect().forEach(e -> executorPids.put(e.substring(0, e.indexOf('=')),
                            Long.parseLong(e.substring(e.indexOf('=') + 1))));
            assertEquals(2, executorPids.size(), executorPids.toString());
            assertTrue(executorPids.values().stream().allMatch(pid -> ProcessHandle.current().descendants()
                    .anyMatch(p -> p.pid() == pid)), "the executors are child JVMs of the workers in this JVM");

            List<DataSet> train = Stripes.batches(40, 16, 1);
            List<DataSet> test = Stripes.batches(8, 32, 2);
            JavaRDD<DataSet> rdd = sc.parallelize(train, 2);
            SparkResNetTrainer trainer = SparkResNetTrainer.builder(sc, Stripes.spec())
                    .optTraining(new NeuralNetConfiguration.Builder().seed(7).updater(new Adam(3e-3)).dataType(DataType.FLOAT))
                    .optParameterAveraging(new ParameterAveraging(2, 16, 1)).build();
            ComputationGraph g = trainer.fit(rdd, 4, (e, graph, score) -> epoch.set(e + 1));

            assertTrue(killed.get() > 0, "an executor JVM was killed during epoch 2");
            assertFalse(ProcessHandle.of(killed.get()).map(ProcessHandle::isAlive).orElse(false));
            assertTrue(removed.get() >= 1, "Spark noticed the lost executor");
            assertTrue(failedTasks.get() >= 1, "tasks of the killed executor failed and were run again");
            assertEquals(4, g.getEpochCount());
            double acc = SparkResNetTrainerTest.accuracy(g, test);
            assertTrue(acc >= 0.85, "the run still learns after the loss: test accuracy " + acc);
        }
    }
}
