package dev.resnetzoo.examples.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.resnetzoo.examples.cli.ImportCommandTest.Run;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code --help} on every subcommand, {@code ./resnet help}, and the top-level list. */
class HelpTest {
    static List<String> subcommands() {
        return new CommandLine(new ResNetCli()).getSubcommands().keySet().stream().filter(n -> !n.equals("help")).toList();
    }

    @ParameterizedTest(name = "{0} --help")
    @MethodSource("subcommands")
    void everySubcommandAnswersHelp(String name) {
        Run r = ImportCommandTest.run(name, "--help");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("Usage: resnet " + name), r.out());
        assertTrue(r.out().contains("-h, --help"), r.out());
        assertEquals("", r.err(), "nothing on stderr (no picocli warnings)");
        Run viaHelp = ImportCommandTest.run("help", name);
        assertEquals(0, viaHelp.code(), viaHelp.err());
        assertEquals(r.out(), viaHelp.out());
    }

    @Test
    void topLevelListGivesEachSubcommandOneWholeLine() {
        Run r = ImportCommandTest.run("--help");
        assertEquals(0, r.code(), r.err());
        List<String> lines = r.out().lines().toList();
        List<String> names = subcommands();
        for (String name : names) {
            int at = -1;
            for (int i = 0; i < lines.size() && at < 0; i++) {
                if (lines.get(i).trim().startsWith(name + " ")) {
                    at = i;
                }
            }
            assertTrue(at >= 0, name + " missing from\n" + r.out());
            // the entry with its wrapped continuation lines (indented, no command name of their own)
            StringBuilder entry = new StringBuilder(lines.get(at).trim());
            for (int i = at + 1; i < lines.size(); i++) {
                String next = lines.get(i).trim();
                if (next.isEmpty() || names.stream().anyMatch(n -> next.startsWith(n + " ")) || next.startsWith("help ")) {
                    break;
                }
                entry.append(' ').append(next);
            }
            assertTrue(entry.toString().endsWith("."), "one whole sentence for " + name + ": " + entry);
        }
        assertFalse(r.out().contains("Unknown option"), r.out());
    }
}
