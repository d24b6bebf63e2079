package dev.resnetzoo.examples.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code ./resnet} command line. Every subcommand is its own class; errors are one line on
 * stderr and a non-zero exit code.
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
            String message = e.getMessage() == null ? e.toString() : e.getMessage();
            commandLine.getErr().println("error: " + message);
            if (Boolean.getBoolean("resnet.stacktrace")) {
                e.printStackTrace(commandLine.getErr());
            }
            return 1;
        });
        return cli.execute(args);
    }

    /** @param args command-line arguments */
    public static void main(String[] args) {
        System.exit(run(args));
    }
}
