package dev.resnetzoo.zoo.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Random;

import javax.imageio.ImageIO;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageFolderTest {

    private static final String LAYOUT = "expected one sub-folder of images per class, e.g. DIR/cat/1.jpg, "
            + "DIR/dog/2.png (image extensions: png, jpg, jpeg, bmp, gif)";

    @TempDir
    Path tmp;

    /** Three classes told apart by colour: red, green, blue dominated noise; 40x36 PNGs. */
    static Path colourFolder(Path root, int perClass) throws IOException {
        Random r = new Random(11);
        String[] names = {"blue", "green", "red"};
        int[] channel = {2, 1, 0};
        for (int c = 0; c < 3; c++) {
            Path dir = Files.createDirectories(root.resolve(names[c]));
            for (int i = 0; i < perClass; i++) {
                BufferedImage img = new BufferedImage(40, 36, BufferedImage.TYPE_INT_RGB);
                for (int y = 0; y < img.getHeight(); y++) {
                    for (int x = 0; x < img.getWidth(); x++) {
                        int[] rgb = {r.nextInt(120), r.nextInt(120), r.nextInt(120)};
                        rgb[channel[c]] += 100 + r.nextInt(36);
                        img.setRGB(x, y, (rgb[0] << 16) | (rgb[1] << 8) | rgb[2]);
                    }
                }
                ImageIO.write(img, "png", dir.resolve(String.format("%03d.png", i)).toFile());
            }
        }
        Files.writeString(root.resolve("README.txt"), "not an image");
        return root;
    }

    private static Path touch(Path file) throws IOException {
        Files.createDirectories(file.getParent());
        return Files.write(file, new byte[] {1});
    }

    @Test
    void splitIsStratifiedAndSeeded() throws Exception {
        ImageFolder f = ImageFolder.scan(colourFolder(tmp.resolve("images"), 10));
        assertEquals(List.of("blue", "green", "red"), f.classes());
        assertEquals(30, f.samples().size());
        ImageFolder.Split s = f.split(0.2, 1);
        assertEquals(24, s.train().size());
        assertEquals(6, s.heldOut().size());
        for (int c = 0; c < 3; c++) {
            int k = c;
            assertEquals(2, s.heldOut().stream().filter(x -> x.label() == k).count());
        }
        assertEquals(s, f.split(0.2, 1));
        assertEquals(List.of(), f.split(0, 1).heldOut());
        assertThrows(IllegalArgumentException.class, () -> f.split(1, 1));
    }

    @Test
    void classesAreTheTopFoldersAndImagesAreFoundBelowThemAsTorchvisionDoes() throws IOException {
        Path root = tmp.resolve("d");
        Path cat1 = touch(root.resolve("cat/1.JPG"));
        Path cat2 = touch(root.resolve("cat/more/2.png"));
        Path dog = touch(root.resolve("dog/3.jpeg"));
        touch(root.resolve("dog/notes.txt"));
        touch(root.resolve("dog/.hidden/4.png"));
        touch(root.resolve(".ipynb_checkpoints/5.png"));
        touch(root.resolve("loose.png"));
        ImageFolder f = ImageFolder.scan(root);
        assertEquals(List.of("cat", "dog"), f.classes());
        assertEquals(List.of(new ImageFolder.Sample(cat1, 0), new ImageFolder.Sample(cat2, 0),
                new ImageFolder.Sample(dog, 1)), f.samples());
        assertEquals(root + ": 3 images in 2 classes [cat, dog]", f.toString());
    }

    @Test
    void anEmptyFolderIsRefused() throws IOException {
        Path root = Files.createDirectories(tmp.resolve("empty"));
        IOException e = assertThrows(IOException.class, () -> ImageFolder.scan(root));
        assertEquals(root + " has no class sub-folders: " + LAYOUT + ", at least two classes", e.getMessage());
    }

    @Test
    void aFolderOfImagesWithoutClassFoldersIsRefused() throws IOException {
        Path root = tmp.resolve("flat");
        touch(root.resolve("a.png"));
        touch(root.resolve("b.jpg"));
        IOException e = assertThrows(IOException.class, () -> ImageFolder.scan(root));
        assertEquals(root + " has no class sub-folders (and 2 image(s) directly in it, which have no class): " + LAYOUT
                + ", at least two classes", e.getMessage());

        touch(root.resolve("cat/c.png"));
        e = assertThrows(IOException.class, () -> ImageFolder.scan(root));
        assertEquals(root + " has one class sub-folder, cat (and 2 image(s) directly in it, which have no class): "
                + LAYOUT + ", at least two classes", e.getMessage());
    }

    @Test
    void aClassFolderWithoutImagesIsRefusedRatherThanDropped() throws IOException {
        Path root = tmp.resolve("d");
        touch(root.resolve("cat/1.png"));
        touch(root.resolve("dog/2.png"));
        touch(root.resolve("emu/readme.txt"));
        IOException e = assertThrows(IOException.class, () -> ImageFolder.scan(root));
        assertEquals("class folder " + root.resolve("emu") + " holds no images: " + LAYOUT, e.getMessage());
    }

    @Test
    void aMissingFolderOrAFileIsRefused() throws IOException {
        Path missing = tmp.resolve("nowhere");
        IOException e = assertThrows(IOException.class, () -> ImageFolder.scan(missing));
        assertEquals("image folder " + missing + " does not exist or is not a directory", e.getMessage());
        Path file = touch(tmp.resolve("file.png"));
        assertThrows(IOException.class, () -> ImageFolder.scan(file));
    }

    @Test
    void aLinkLoopIsRefused() throws IOException {
        Path root = tmp.resolve("d");
        touch(root.resolve("cat/1.png"));
        touch(root.resolve("dog/2.png"));
        Path loop = Files.createSymbolicLink(root.resolve("dog/again"), root.resolve("dog"));
        IOException e = assertThrows(IOException.class, () -> ImageFolder.scan(root));
        assertEquals("class folder " + root.resolve("dog") + " links back into itself at " + loop
                + ": expected a tree of image files", e.getMessage());
    }

    @Test
    void anUnreadableImageIsNamed() throws IOException {
        Path root = tmp.resolve("d");
        touch(root.resolve("cat/1.png"));
        Path locked = touch(root.resolve("dog/2.png"));
        Files.setPosixFilePermissions(locked, PosixFilePermissions.fromString("---------"));
        if (Files.isReadable(locked)) {
            System.out.println("ImageFolderTest.anUnreadableImageIsNamed SKIPPED: file permissions do not apply to "
                    + "this user (root), so no unreadable file can be made; run the tests as another user to check it");
        }
        assumeFalse(Files.isReadable(locked), "permissions do not apply to this user (root)");
        IOException e = assertThrows(IOException.class, () -> ImageFolder.scan(root));
        assertEquals("image " + locked + " is not readable: check its permissions", e.getMessage());
    }
}
