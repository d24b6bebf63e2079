package dev.resnetzoo.examples.cli;

import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code ./resnet} command line. Every subcommand is its own class; errors are one line on
 * stderr and a non-zero exit code: 1 when the command fails, 2 when its arguments do not parse
 * (with a pointer to its {@code --help} instead of the whole usage text).
 */
@Command(name = "resnet", mixinStandardHelpOptions = true, version = "resnet-zoo 0.1.0",
        description = "ResNet, ResNeXt, Wide ResNet and SE-ResNeXt for Deeplearning4j.",
        subcommands = {
                ModelsCommand.class,
                SummaryCommand.class,
                TrainCommand.class,
                BenchCommand.class,
                ImportCommand.class,
                PredictCommand.class,
                DownloadCommand.class,
                FeaturesCommand.class,
                FinetuneCommand.class,
                CommandLine.HelpCommand.class,
        })
public final class ResNetCli implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        spec.commandLine().usage(System.out);
        return 0;
    }

    /**
     * @param args command-line arguments
     * @return the exit code
     */
    public static int run(String... args) {
        CommandLine cli = new CommandLine(new ResNetCli());
        cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            commandLine.getErr().println("error: " + oneLine(e));
            if (Boolean.getBoolean("resnet.stacktrace")) {
                e.printStackTrace(commandLine.getErr());
            }
            return 1;
        });
        cli.setParameterExceptionHandler((e, commandArgs) -> {
            CommandLine c = e.getCommandLine();
            String name = c.getCommandName().equals("resnet") ? "" : " " + c.getCommandName();
            c.getErr().println("error: " + oneLine(e) + " (see ./resnet" + name + " --help)");
            return c.getCommandSpec().exitCodeOnInvalidInput();
        });
        return cli.execute(args);
    }

    /**
     * The message of a failure as one line that says what was wrong: a file-system error names the
     * file and the reason (Java's own message is often only the path), and a wrapped exception's
     * message loses the {@code java.io.IOException: } prefix that {@code Throwable.toString} adds.
     *
     * @param e the failure
     * @return one line
     */
    static String oneLine(Throwable e) {
        String m;
        if (e instanceof FileSystemException f && (f.getMessage() == null || f.getMessage().equals(f.getFile())
                || f.getReason() == null)) {
            String reason = f.getReason() != null ? f.getReason()
                    : e instanceof FileAlreadyExistsException ? "already exists"
                    : e instanceof NoSuchFileException ? "no such file or directory"
                    : e instanceof AccessDeniedException ? "permission denied"
                    : e instanceof NotDirectoryException ? "not a directory"
                    : e instanceof DirectoryNotEmptyException ? "directory not empty"
                    : "file-system error";
            String where = f.getOtherFile() == null ? f.getFile() : f.getFile() + " -> " + f.getOtherFile();
            m = where + ": " + reason;
        } else {
            m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        }
        String stripped;
        while (!(stripped = m.replaceFirst("^(?:[a-z][a-z0-9_]*\\.)+[A-Z][A-Za-z0-9_]*(?:Exception|Error): ", ""))
                .equals(m)) {
            m = stripped;
        }
        return m.lines().findFirst().orElse(m);
    }

    /** @param args command-line arguments */
    public static void main(String[] args) {
        System.exit(run(args));
    }
}
