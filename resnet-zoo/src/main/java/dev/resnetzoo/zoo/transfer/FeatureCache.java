package dev.resnetzoo.zoo.transfer;

import dev.resnetzoo.core.Taps;
import dev.resnetzoo.zoo.Npy;
import dev.resnetzoo.zoo.files.AtomicFiles;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.graph.vertex.GraphVertex;
import org.deeplearning4j.nn.graph.vertex.VertexIndices;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;

/**
 * Featurized data sets on disk: {@code <dir>/<key>.features.npy} and {@code <key>.labels.npy}.
 * A key ({@link #key(ComputationGraph, String, String)}) combines a fingerprint of the parameters
 * that determine the features (every layer up to the tap), the tap, and a caller-supplied
 * description of the data, so changed weights or data never reuse stale features.
 * Files are written to a temporary name and moved into place.
 */
public final class FeatureCache {

    private final Path dir;

    private FeatureCache(Path dir) {
        this.dir = dir;
    }

    /**

     * @param dir cache directory (created on first write)

     * @return the cache

     */
    public static FeatureCache at(Path dir) {
        return new FeatureCache(Objects.requireNonNull(dir, "dir"));
    }

    /** @return the cache directory */
    public Path directory() {
        return dir;
    }

    /**
     * @param graph   the model
     * @param tap     a tap or vertex name
     * @param dataKey identifies the data (e.g. file names, sizes, modification times, preprocessing)
     * @return {@code <tap>-<24 hex digits>}
     */
    public static String key(ComputationGraph graph, String tap, String dataKey) {
        String vertex = Taps.vertex(graph, tap);
        MessageDigest md = sha256();
        md.update(vertex.getBytes(StandardCharsets.UTF_8));
        md.update((byte) 0);
        md.update(Objects.requireNonNull(dataKey, "dataKey").getBytes(StandardCharsets.UTF_8));
        md.update((byte) 0);
        int[] order = graph.topologicalSortOrder();
        Set<String> ancestors = ancestors(graph, vertex);
        for (int idx : order) {
            GraphVertex v = graph.getVertices()[idx];
            if (!ancestors.contains(v.getVertexName()) || !v.hasLayer()) {
                continue;
            }
            Layer l = v.getLayer();
            md.update(v.getVertexName().getBytes(StandardCharsets.UTF_8));
            if (l.numParams() > 0) {
                INDArray p = l.params().castTo(DataType.FLOAT).dup('c');
                float[] f = p.data().asFloat();
                ByteBuffer bb = ByteBuffer.allocate(f.length * 4).order(ByteOrder.LITTLE_ENDIAN);
                bb.asFloatBuffer().put(f);
                md.update(bb.array());
            }
        }
        String name = Taps.canonical(graph, tap).replaceAll("[^A-Za-z0-9._-]", "_");
        return name + "-" + HexFormat.of().formatHex(md.digest()).substring(0, 24);
    }

    /** @return the vertex and every vertex it depends on */
    static Set<String> ancestors(ComputationGraph graph, String vertex) {
        Set<String> seen = new HashSet<>();
        Deque<GraphVertex> todo = new ArrayDeque<>();
        todo.add(graph.getVertex(vertex));
        while (!todo.isEmpty()) {
            GraphVertex v = todo.pop();
            if (!seen.add(v.getVertexName())) {
                continue;
            }
            VertexIndices[] in = v.getInputVertices();
            if (in != null) {
                for (VertexIndices vi : in) {
                    todo.add(graph.getVertices()[vi.getVertexIndex()]);
                }
            }
        }
        return seen;
    }

    /**
     * @param key a key from {@link #key}
     * @return the cached data set, if both files exist
     * @throws IOException if they exist but cannot be read
     */
    public Optional<DataSet> load(String key) throws IOException {
        Path f = dir.resolve(key + ".features.npy");
        Path l = dir.resolve(key + ".labels.npy");
        if (!Files.isRegularFile(f) || !Files.isRegularFile(l)) {
            return Optional.empty();
        }
        return Optional.of(new DataSet(Npy.read(f), Npy.read(l)));
    }

    /**
     * @param key  a key from {@link #key}
     * @param data features and labels to store
     * @throws IOException if the files cannot be written
     */
    public void save(String key, DataSet data) throws IOException {
        Files.createDirectories(dir);
        write(dir.resolve(key + ".labels.npy"), data.getLabels());
        write(dir.resolve(key + ".features.npy"), data.getFeatures());
    }

    private static void write(Path target, INDArray array) throws IOException {
        AtomicFiles.writeVia(target, tmp -> Npy.write(tmp, array));
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is not available", e);
        }
    }
}
