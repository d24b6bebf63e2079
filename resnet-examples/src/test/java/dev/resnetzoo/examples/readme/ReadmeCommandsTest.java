package dev.resnetzoo.examples.readme;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.resnetzoo.examples.cli.ResNetCli;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * Every {@code ./resnet} command the README shows is one the CLI accepts: in shell blocks the whole
 * command parses (subcommand, options, values, required ones present); in inline code, which often
 * only names a command or an option, the subcommand and options must exist and their values parse.
 * Placeholders in capitals (ARCH, TAG, HEX, NAME, MASTER) and {@code ...} are filled first.
 */
class ReadmeCommandsTest {

    private static final Pattern INLINE = Pattern.compile("`((?:[A-Z_]+=\\S+ )*\\./resnet [^`]*)`");

    /** A command as the README shows it; {@code inline} for inline code rather than a shell block. */
    record Command(String text, boolean inline) {
    }

    static List<Command> commands() throws IOException {
        List<Command> found = new ArrayList<>();
        boolean shell = false;
        for (String line : Files.readAllLines(ReadmeSnippetsTest.README, StandardCharsets.UTF_8)) {
            if (line.startsWith("```")) {
                shell = line.equals("```bash") || line.equals("```sh");
                continue;
            }
            if (shell) {
                String cmd = line.replaceFirst("\\s+#.*$", "").strip();
                if (cmd.matches("(?:[A-Z_]+=\\S+ )*\\./resnet( .*)?")) {
                    found.add(new Command(cmd, false));
                }
            } else {
                Matcher m = INLINE.matcher(line);
                while (m.find()) {
                    found.add(new Command(m.group(1), true));
                }
            }
        }
        return found;
    }

    /** Shell words of a command, without environment assignments and {@code ./resnet}, placeholders filled. */
    static List<String> args(String command) {
        List<String> words = new ArrayList<>();
        Matcher m = Pattern.compile("'([^']*)'|\"([^\"]*)\"|(\\S+)").matcher(command);
        while (m.find()) {
            words.add(m.group(1) != null ? m.group(1) : m.group(2) != null ? m.group(2) : m.group(3));
        }
        while (!words.isEmpty() && !words.get(0).equals("./resnet")) {
            words.remove(0);
        }
        words.remove(0);
        List<String> out = new ArrayList<>();
        for (String w : words) {
            switch (w) {
                case "...", "[options]" -> { }
                case "ARCH" -> out.add("resnet18");
                case "TAG" -> out.add("resnet50");
                case "HEX" -> out.add("0123456789abcdef".repeat(4));
                case "NAME" -> out.add("onednn");
                case "MASTER" -> out.add("local[2]");
                default -> out.add(w);
            }
        }
        return out;
    }

    @Test
    void everyReadmeCommandParses() throws IOException {
        List<Command> commands = commands();
        assertTrue(commands.stream().filter(c -> !c.inline()).count() >= 10, "README commands found: " + commands);
        List<String> bad = new ArrayList<>();
        for (Command c : commands) {
            List<String> a = args(c.text());
            try {
                CommandLine cli = new CommandLine(new ResNetCli());
                CommandLine.ParseResult r = cli.parseArgs(a.toArray(String[]::new));
                if (!a.isEmpty() && !r.hasSubcommand()) {
                    bad.add(c.text() + " -> no subcommand");
                }
            } catch (CommandLine.MissingParameterException e) {
                if (!c.inline()) {
                    bad.add(c.text() + " -> " + e.getMessage());
                }
            } catch (CommandLine.ParameterException e) {
                bad.add(c.text() + " -> " + e.getMessage());
            }
        }
        if (!bad.isEmpty()) {
            fail("README commands the CLI refuses:\n" + String.join("\n", bad));
        }
    }
}
