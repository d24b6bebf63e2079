package dev.resnetzoo.examples.bench;

import java.lang.reflect.Method;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.Map;

/**
 * ONNX Runtime's Java API, reached by reflection so that neither this module nor anything that
 * depends on it needs ONNX Runtime: the jar is on the classpath only when the examples are built with
 * the Maven profile {@code bench-ort} ({@code RESNET_PROFILES=bench-ort ./resnet bench --inference}).
 *
 * <p>It runs in a JVM of its own ({@link #main}), started by {@link InferenceBenchmark} with only
 * this module's classes and ONNX Runtime's jar on the classpath: with the examples' whole classpath
 * (DL4J, JavaCPP presets) ONNX Runtime 1.29.0's native library crashed the JVM (SIGSEGV) on this
 * machine.
 */
final class OrtRunner implements AutoCloseable {
    private final Object env;
    private final Object session;
    private final Class<?> envClass;
    private final Method createTensor;
    private final Method run;
    private final String version;

    private OrtRunner(Path model, int threads) throws ReflectiveOperationException {
        envClass = Class.forName("ai.onnxruntime.OrtEnvironment");
        env = envClass.getMethod("getEnvironment").invoke(null);
        Class<?> optionsClass = Class.forName("ai.onnxruntime.OrtSession$SessionOptions");
        Object options = optionsClass.getConstructor().newInstance();
        optionsClass.getMethod("setIntraOpNumThreads", int.class).invoke(options, threads);
        @SuppressWarnings({"unchecked", "rawtypes"})
        Object all = Enum.valueOf((Class) Class.forName("ai.onnxruntime.OrtSession$SessionOptions$OptLevel"), "ALL_OPT");
        optionsClass.getMethod("setOptimizationLevel", all.getClass()).invoke(options, all);
        session = envClass.getMethod("createSession", String.class, optionsClass).invoke(env, model.toString(), options);
        Class<?> tensorClass = Class.forName("ai.onnxruntime.OnnxTensor");
        createTensor = tensorClass.getMethod("createTensor", envClass, FloatBuffer.class, long[].class);
        run = Class.forName("ai.onnxruntime.OrtSession").getMethod("run", Map.class);
        Package p = envClass.getPackage();
        version = p != null && p.getImplementationVersion() != null ? p.getImplementationVersion() : versionFromJar();
    }

    /** @return null with {@code why[0]} set when ONNX Runtime is not on the classpath or cannot load the model */
    static OrtRunner open(Path model, int threads, String[] why) {
        try {
            Class.forName("ai.onnxruntime.OrtEnvironment");
        } catch (ClassNotFoundException e) {
            why[0] = "ONNX Runtime is not on the classpath: run with RESNET_PROFILES=bench-ort ./resnet bench --inference "
                    + "(Maven profile bench-ort of resnet-examples)";
            return null;
        }
        try {
            return new OrtRunner(model, threads);
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            Throwable c = e.getCause() != null ? e.getCause() : e;
            why[0] = "ONNX Runtime could not load " + model + ": " + c;
            return null;
        }
    }

    String version() {
        return version;
    }

    /** One inference of a float32 NCHW batch. */
    void run(float[] input, long[] shape) throws Exception {
        try (AutoCloseable tensor = (AutoCloseable) createTensor.invoke(null, env, FloatBuffer.wrap(input), shape);
             AutoCloseable result = (AutoCloseable) run.invoke(session, Map.of("input", tensor))) {
            if (result == null) {
                throw new IllegalStateException("ONNX Runtime returned no result");
            }
        }
    }

    /**
     * {@code OrtRunner MODEL.onnx THREADS WARMUP ITERS BATCH,SIZE...}: prints one line per
     * configuration, {@code BATCH SIZE SECONDS} (median), after a first line {@code version V}; or
     * {@code unavailable REASON}.
     *
     * @param args the arguments above
     * @throws Exception if a run fails
     */
    public static void main(String[] args) throws Exception {
        String[] why = new String[1];
        try (OrtRunner ort = open(Path.of(args[0]), Integer.parseInt(args[1]), why)) {
            if (ort == null) {
                System.out.println("unavailable " + why[0]);
                return;
            }
            System.out.println("version " + ort.version());
            int warmup = Integer.parseInt(args[2]);
            int iters = Integer.parseInt(args[3]);
            java.util.Random r = new java.util.Random(0);
            for (int a = 4; a < args.length; a++) {
                String[] bs = args[a].split(",");
                int batch = Integer.parseInt(bs[0]);
                int size = Integer.parseInt(bs[1]);
                float[] x = new float[batch * 3 * size * size];
                for (int i = 0; i < x.length; i++) {
                    x[i] = r.nextFloat();
                }
                long[] shape = {batch, 3, size, size};
                int n = batch == 1 ? iters * 3 : iters;
                for (int i = 0; i < warmup; i++) {
                    ort.run(x, shape);
                }
                double[] t = new double[n];
                for (int i = 0; i < n; i++) {
                    long t0 = System.nanoTime();
                    ort.run(x, shape);
                    t[i] = (System.nanoTime() - t0) / 1e9;
                }
                java.util.Arrays.sort(t);
                System.out.println(batch + " " + size + " " + t[n / 2]);
            }
        }
    }

    private String versionFromJar() {
        String path = envClass.getProtectionDomain().getCodeSource().getLocation().getPath();
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("onnxruntime-([0-9.]+)\\.jar").matcher(path);
        return m.find() ? m.group(1) : "?";
    }

    @Override
    public void close() throws Exception {
        ((AutoCloseable) session).close();
    }

}
