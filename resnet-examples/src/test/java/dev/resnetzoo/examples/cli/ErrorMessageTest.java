package dev.resnetzoo.examples.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Errors reach the user as one line that says what was wrong. */
class ErrorMessageTest {

    @TempDir
    Path tmp;

    @Test
    void fileSystemErrorsNameTheFileAndTheReason() {
        assertEquals("runs/a: already exists", ResNetCli.oneLine(new FileAlreadyExistsException("runs/a")));
        assertEquals("x.zip: no such file or directory", ResNetCli.oneLine(new NoSuchFileException("x.zip")));
        assertEquals("x.zip: no such model file", ResNetCli.oneLine(new NoSuchFileException("x.zip", null,
                "no such model file")));
        assertEquals("/root/f: permission denied", ResNetCli.oneLine(new AccessDeniedException("/root/f")));
    }

    @Test
    void wrappedExceptionsLoseTheirClassNames() {
        IOException io = new IOException("cat.jpg: cannot read the image");
        assertEquals("cat.jpg: cannot read the image", ResNetCli.oneLine(new UncheckedIOException(io)));
        assertEquals("cat.jpg: cannot read the image", ResNetCli.oneLine(new RuntimeException(new UncheckedIOException(io))));
        assertEquals("first line", ResNetCli.oneLine(new IllegalStateException("first line\nsecond line")));
        assertEquals("NullPointerException", ResNetCli.oneLine(new NullPointerException()));
    }

    @Test
    void argumentsThatDoNotParseAreOneLineWithAPointerToHelp() {
        ImportCommandTest.Run r = ImportCommandTest.run("train", "--epochs", "x");
        assertEquals(2, r.code());
        assertEquals(1, r.err().lines().count(), "one line, no usage text: " + r.err());
        assertTrue(r.errorLines().get(0).startsWith("error: Invalid value for option '--epochs'"), r.err());
        assertTrue(r.errorLines().get(0).endsWith("(see ./resnet train --help)"), r.err());
        ImportCommandTest.Run u = ImportCommandTest.run("predcit");
        assertEquals(2, u.code());
        assertEquals(1, u.err().lines().count(), "one line, no usage text: " + u.err());
        assertTrue(u.errorLines().get(0).endsWith("(see ./resnet --help)"), u.err());
    }

    @Test
    void aFileThatIsNoModelIsSaidSo() throws IOException {
        Path file = Files.writeString(tmp.resolve("taken"), "not a folder");
        ImportCommandTest.Run f = ImportCommandTest.run("features", "--model", file.toString(), "--layer", "pool",
                "--out", tmp.resolve("f.npy").toString(), file.toString());
        assertEquals(List.of("error: " + file + " is not a zip file (zip END header not found); expected a model zip "
                + "from ./resnet import, train or finetune"), f.errorLines());
    }
}
