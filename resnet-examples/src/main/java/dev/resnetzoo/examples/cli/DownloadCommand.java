package dev.resnetzoo.examples.cli;

import dev.resnetzoo.zoo.Pretrained;
import dev.resnetzoo.zoo.registry.Registry;
import dev.resnetzoo.zoo.registry.WeightsEntry;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code ./resnet download TAG [--sha256 HEX]}: fetches the weight file of a registry entry into the
 * cache and prints its path (only the path, on standard output; progress goes to standard error).
 *
 * <p>The file is verified against the registry's SHA-256 (or prefix) and, if given, {@code --sha256},
 * which must agree with it. Entries that publish no hash are refused unless {@code --sha256} is given
 * (or the file was put into the cache by hand). Cache directory, mirror and offline mode come from
 * {@code -Dresnetzoo.home}, {@code -Dresnetzoo.mirror}, {@code -Dresnetzoo.offline} or their
 * environment variables (see {@link dev.resnetzoo.zoo.download.ZooCache}). Nothing is converted:
 * {@code predict --weights TAG} does that on first use.
 */
@Command(mixinStandardHelpOptions = true, name = "download", description = "Download and verify the weights of a registry entry into the cache; print the path.")
final class DownloadCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "TAG", description = "a tag, alias or architecture (its default weights), "
            + "e.g. resnet50.tv_in1k or resnet50")
    String tag;

    @Option(names = "--sha256", paramLabel = "HEX", description = "expected SHA-256 (64 hex digits, or a prefix of "
            + "at least 8); needed for entries that publish none")
    String sha256;

    @Override
    public Integer call() throws IOException {
        WeightsEntry entry = Registry.builtin().get(tag);
        Pretrained pretrained = Pretrained.builder().optSha256(sha256).build();
        Path file = pretrained.fetch(entry);
        System.out.println(file);
        return 0;
    }
}
