package dev.resnetzoo.zoo.data;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryIteratorException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystemLoopException;
import java.nio.file.FileVisitOption;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Random;
import java.util.stream.Stream;

/**
 * A folder of images laid out one sub-folder per class, as torchvision's
 * {@code datasets.ImageFolder} reads it:
 *
 * <pre>
 * DIR/cat/1.jpg
 * DIR/cat/more/2.png      (found recursively: still class "cat")
 * DIR/dog/3.png
 * </pre>
 *
 * Classes are the names of the sub-folders of {@code DIR}, sorted; their index is the label. An
 * image is any file whose name ends in one of {@link #EXTENSIONS} (any case). Unlike torchvision,
 * hidden files and folders (names starting with {@code .}, such as {@code .ipynb_checkpoints})
 * are skipped, and a folder with fewer than two classes is refused, since nothing can be learned
 * from it. Images are not opened here: an undecodable file is reported, by name, when
 * {@link ImageFolderIterator} reads it.
 *
 * <pre>{@code
 * ImageFolder folder = ImageFolder.scan(Path.of("flowers"));
 * ImageFolder.Split split = folder.split(0.2, 42);
 * ImagePreprocessor pre = ImagePreprocessor.of(Registry.builtin().get("resnet50"));
 * DataSetIterator train = new ImageFolderIterator(split.train(), folder.classes(), pre, 32);
 * DataSetIterator heldOut = new ImageFolderIterator(split.heldOut(), folder.classes(), pre, 32);
 * }</pre>
 *
 * <p>Instances are immutable.
 */
public final class ImageFolder {

    /** File name extensions read, compared ignoring case: those ImageIO decodes. */
    public static final List<String> EXTENSIONS = List.of("png", "jpg", "jpeg", "bmp", "gif");

    private static final String LAYOUT = "expected one sub-folder of images per class, e.g. DIR/cat/1.jpg, "
            + "DIR/dog/2.png (image extensions: png, jpg, jpeg, bmp, gif)";

    /**
     * One image and its class.
     *
     * @param file  the image file
     * @param label index of its class in {@link ImageFolder#classes()}
     */
    public record Sample(Path file, int label) {

        /**
         * @param file  the image file
         * @param label class index, at least 0
         * @throws IllegalArgumentException if the label is negative
         */
        public Sample {
            Objects.requireNonNull(file, "file");
            if (label < 0) {
                throw new IllegalArgumentException("label must be >= 0, got " + label + " for " + file);
            }
        }
    }

    /**
     * A partition of the images into a training part and a held-out part.
     *
     * @param train   images to train on, shuffled
     * @param heldOut images to evaluate on, grouped by class
     */
    public record Split(List<Sample> train, List<Sample> heldOut) {

        /** Copies both lists. */
        public Split {
            train = List.copyOf(train);
            heldOut = List.copyOf(heldOut);
        }
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
     * Finds the classes and images of a folder.
     *
     * @param root the folder, holding one sub-folder per class
     * @return the classes and their images, by class then by path
     * @throws IOException if the folder does not exist or cannot be listed, holds fewer than two
     *                     class sub-folders, or a class sub-folder holds no image; the one-line
     *                     message names the folder and says what was expected
     */
    public static ImageFolder scan(Path root) throws IOException {
        Objects.requireNonNull(root, "root");
        if (!Files.isDirectory(root)) {
            throw new IOException("image folder " + root + " does not exist or is not a directory");
        }
        List<Path> classDirs = new ArrayList<>();
        int loose = 0;
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(root)) {
            for (Path p : entries) {
                if (hidden(p)) {
                    continue;
                }
                if (Files.isDirectory(p)) {
                    classDirs.add(p);
                } else if (isImage(p)) {
                    loose++;
                }
            }
        } catch (IOException | DirectoryIteratorException e) {
            throw new IOException("cannot list image folder " + root + ": " + e, e);
        }
        if (classDirs.size() < 2) {
            String found = classDirs.isEmpty() ? "no class sub-folders" : "one class sub-folder, "
                    + classDirs.get(0).getFileName();
            String images = loose > 0 ? " (and " + loose + " image(s) directly in it, which have no class)" : "";
            throw new IOException(root + " has " + found + images + ": " + LAYOUT + ", at least two classes");
        }
        classDirs.sort(Path::compareTo);
        List<String> classes = new ArrayList<>();
        List<Sample> samples = new ArrayList<>();
        for (Path dir : classDirs) {
            List<Path> images = images(dir);
            if (images.isEmpty()) {
                throw new IOException("class folder " + dir + " holds no images: " + LAYOUT);
            }
            int label = classes.size();
            classes.add(dir.getFileName().toString());
            for (Path image : images) {
                samples.add(new Sample(image, label));
            }
        }
        return new ImageFolder(root, List.copyOf(classes), List.copyOf(samples));
    }

    /** The images under one class folder, recursively, sorted by path. */
    private static List<Path> images(Path dir) throws IOException {
        List<Path> out = new ArrayList<>();
        try (Stream<Path> walk = Files.walk(dir, Integer.MAX_VALUE, FileVisitOption.FOLLOW_LINKS)) {
            walk.filter(p -> !p.equals(dir) && !hiddenBelow(dir, p) && Files.isRegularFile(p) && isImage(p))
                    .forEach(out::add);
        } catch (UncheckedIOException e) {
            throw listingError(dir, e.getCause());
        } catch (IOException e) {
            throw listingError(dir, e);
        }
        Collections.sort(out);
        for (Path p : out) {
            if (!Files.isReadable(p)) {
                throw new IOException("image " + p + " is not readable: check its permissions");
            }
        }
        return out;
    }

    private static IOException listingError(Path dir, IOException e) {
        if (e instanceof FileSystemLoopException) {
            return new IOException("class folder " + dir + " links back into itself at " + e.getMessage()
                    + ": expected a tree of image files", e);
        }
        // NIO's messages are often the bare path (AccessDeniedException): name the exception too.
        return new IOException("cannot list class folder " + dir + ": " + e, e);
    }

    private static boolean hidden(Path p) {
        return p.getFileName().toString().startsWith(".");
    }

    private static boolean hiddenBelow(Path dir, Path p) {
        for (Path part : dir.relativize(p)) {
            if (part.toString().startsWith(".")) {
                return true;
            }
        }
        return false;
    }

    private static boolean isImage(Path p) {
        String name = p.getFileName().toString();
        int dot = name.lastIndexOf('.');
        return dot > 0 && EXTENSIONS.contains(name.substring(dot + 1).toLowerCase(Locale.ROOT));
    }

    /**
     * Returns the folder scanned.
     *
     * @return the folder
     */
    public Path root() {
        return root;
    }

    /**
     * Returns the class names; a class's position is its label.
     *
     * @return sub-folder names, sorted
     */
    public List<String> classes() {
        return classes;
    }

    /**
     * Returns every image with its class.
     *
     * @return the images, by class then by path
     */
    public List<Sample> samples() {
        return samples;
    }

    /**
     * A stratified, seeded split: in each class, a shuffled {@code heldOutFraction} of the images
     * (rounded, at least one when the fraction is positive and the class has two or more) is held
     * out. The same seed gives the same split.
     *
     * @param heldOutFraction fraction in {@code [0, 1)}
     * @param seed            shuffle seed
     * @return the partition; the train part is shuffled too
     * @throws IllegalArgumentException if the fraction is not in {@code [0, 1)}
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
        return new Split(train, held);
    }

    @Override
    public String toString() {
        return root + ": " + samples.size() + " images in " + classes.size() + " classes " + classes;
    }
}
