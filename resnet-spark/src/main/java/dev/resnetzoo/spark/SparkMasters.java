package dev.resnetzoo.spark;

import java.util.regex.Pattern;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;

/**
 * Spark master URLs: checked before Spark sees them, and a context for them whose driver stays on
 * loopback when the whole cluster is on this machine.
 */
public final class SparkMasters {

    private static final Pattern LOCAL = Pattern.compile("local(\\[(\\*|[1-9]\\d*)(,[1-9]\\d*)?])?");
    private static final Pattern LOCAL_CLUSTER = Pattern.compile("local-cluster\\[[1-9]\\d*,\\s*[1-9]\\d*,\\s*[1-9]\\d*]");
    private static final Pattern REMOTE = Pattern.compile("(spark://[^\\s/:,]+:\\d+(,[^\\s/:,]+:\\d+)*|yarn|k8s://\\S+|mesos://\\S+)");

    private SparkMasters() {
    }

    /**
     * @param master a Spark master URL
     * @return {@code master}, trimmed
     * @throws IllegalArgumentException naming the URL and the accepted forms
     */
    public static String check(String master) {
        String m = master == null ? "" : master.trim();
        if (LOCAL.matcher(m).matches() || LOCAL_CLUSTER.matcher(m).matches() || REMOTE.matcher(m).matches()) {
            return m;
        }
        throw new IllegalArgumentException("invalid Spark master '" + master + "': expected local, local[N], local[*], "
                + "local-cluster[WORKERS,CORES,MB], spark://HOST:PORT, yarn or k8s://URL");
    }

    /** @return whether every executor of {@code master} runs on this machine ({@code local...}) */
    public static boolean onThisMachine(String master) {
        return check(master).startsWith("local");
    }

    /**
     * A Spark context for {@code master}. For masters on this machine the driver binds to
     * 127.0.0.1 and the web UI is off, so that nothing listens beyond loopback; for a real
     * cluster Spark's own settings apply ({@code spark-submit --conf}, {@code spark-defaults.conf}).
     *
     * @param master  a master URL, see {@link #check}
     * @param appName the application's name in Spark's UI and logs
     * @return a new context; close it when done
     */
    public static JavaSparkContext context(String master, String appName) {
        SparkConf conf = new SparkConf().setMaster(check(master)).setAppName(appName);
        if (onThisMachine(master)) {
            conf.set("spark.driver.host", "127.0.0.1").set("spark.driver.bindAddress", "127.0.0.1")
                    .set("spark.ui.enabled", "false");
        }
        return new JavaSparkContext(conf);
    }
}
