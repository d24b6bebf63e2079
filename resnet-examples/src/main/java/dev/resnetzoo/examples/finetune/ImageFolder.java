package dev.resnetzoo.examples.finetune;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.datavec.api.io.labels.ParentPathLabelGenerator;
import org.datavec.api.split.FileSplit;

/**
 * A folder of images laid out one sub-folder per class ({@code DIR/cat/1.jpg}, {@code DIR/dog/2.png}):
 * found with DataVec's {@link FileSplit} (image extensions only, recursive) and labelled with
 * {@link ParentPathLabelGenerator}. Classes are the sub-folder names in sorted order.
 */
public final class ImageFolder {

    /** File extensions read (those ImageIO decodes). */
    public static final String[] EXTENSIONS = {"png", "jpg", "jpeg", "bmp", "gif", "PNG", "JPG", "JPEG", "BMP", "GIF"};

    /** One image and its class index. */
    public record Sample(Path file, int label) {
    }

    /** A train / held-out partition. */
    public record Split(List<Sample> train, List<Sample> heldOut) {
    }

    private final Path root;
    private final List<String> classes;
    private final List<Sample> samples;

    private ImageFolder(Path root, List<String> classes, List<Sample> samples) {
        this.root = root;
        this.classes = classes;
        this.samples = samples;
    }

    /**
     * @param root the folder
     * @return the images found, in sorted path order
     * @throws IOException if the folder does not exist, holds no images, or fewer than two classes
     */
    public static ImageFolder scan(Path root) throws IOException {
        if (!Files.isDirectory(root)) {
            throw new IOException("image folder " + root + " does not exist or is not a directory");
        }
        FileSplit split = new FileSplit(root.toFile(), EXTENSIONS, true);
        ParentPathLabelGenerator labeler = new ParentPathLabelGenerator();
        Map<String, List<Path>> byClass = new TreeMap<>();
        Path absRoot = root.toAbsolutePath().normalize();
        for (URI uri : split.locations()) {
            Path p = Path.of(uri).toAbsolutePath().normalize();
            if (p.getParent() == null || p.getParent().equals(absRoot)) {
                continue; // images directly in DIR have no class
            }
            byClass.computeIfAbsent(labeler.getLabelForPath(uri).toString(), k -> new ArrayList<>()).add(p);
        }
        if (byClass.size() < 2) {
            throw new IOException(root + " must hold one sub-folder of images per class (at least 2), found "
                    + byClass.size() + (byClass.isEmpty() ? "" : " " + byClass.keySet()) + "; image extensions: png, jpg, jpeg, bmp, gif");
        }
        List<String> classes = new ArrayList<>(byClass.keySet());
        List<Sample> samples = new ArrayList<>();
        for (int c = 0; c < classes.size(); c++) {
            List<Path> files = byClass.get(classes.get(c));
            Collections.sort(files);
            for (Path f : files) {
                samples.add(new Sample(f, c));
            }
        }
        return new ImageFolder(root, List.copyOf(classes), List.copyOf(samples));
    }

    /** @return the folder */
    public Path root() {
        return root;
    }

    /** @return class names (sub-folder names), sorted */
    public List<String> classes() {
        return classes;
    }

    /** @return every image with its class */
    public List<Sample> samples() {
        return samples;
    }

    /**
     * Stratified, seeded split: in each class, a shuffled {@code heldOutFraction} of the images
     * (rounded, at least one when the class has two or more) is held out.
     *
     * @param heldOutFraction fraction in [0, 1)
     * @param seed            shuffle seed
     * @return the partition; the train part is shuffled too
     */
    public Split split(double heldOutFraction, long seed) {
        if (!(heldOutFraction >= 0 && heldOutFraction < 1)) {
            throw new IllegalArgumentException("held-out fraction must be in [0, 1), got " + heldOutFraction);
        }
        Random rnd = new Random(seed);
        List<Sample> train = new ArrayList<>();
        List<Sample> held = new ArrayList<>();
        for (int c = 0; c < classes.size(); c++) {
            List<Sample> of = new ArrayList<>();
            for (Sample s : samples) {
                if (s.label() == c) {
                    of.add(s);
                }
            }
            Collections.shuffle(of, rnd);
            int k = (int) Math.round(of.size() * heldOutFraction);
            if (heldOutFraction > 0 && k == 0 && of.size() >= 2) {
                k = 1;
            }
            held.addAll(of.subList(0, k));
            train.addAll(of.subList(k, of.size()));
        }
        Collections.shuffle(train, rnd);
        return new Split(List.copyOf(train), List.copyOf(held));
    }
}
