package dev.resnetzoo.examples.cli;

import dev.resnetzoo.zoo.Pretrained;
import dev.resnetzoo.zoo.download.Downloader;
import dev.resnetzoo.zoo.registry.Registry;
import dev.resnetzoo.zoo.registry.WeightsEntry;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.file.Path;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code ./resnet download TAG [--sha256 HEX] [--max-size SIZE] [--deadline DURATION]}: fetches the
 * weight file of a registry entry into the cache and prints its path (only the path, on standard
 * output; progress goes to standard error).
 *
 * <p>The file is verified against the registry's SHA-256 (or prefix) and, if given, {@code --sha256},
 * which must agree with it. Entries that publish no hash are refused unless {@code --sha256} is given
 * (or the file was put into the cache by hand). A body is never longer than the registry's size
 * where it knows one, and otherwise than {@code --max-size}; a longer one is refused and deleted. A
 * fetch that takes longer than {@code --deadline} stops; what arrived is kept, and the next
 * {@code download} resumes it. Cache directory, mirror and offline mode come from
 * {@code -Dresnetzoo.home}, {@code -Dresnetzoo.mirror}, {@code -Dresnetzoo.offline} or their
 * environment variables (see {@link dev.resnetzoo.zoo.download.ZooCache}). Nothing is converted:
 * {@code predict --weights TAG} does that on first use.
 */
@Command(mixinStandardHelpOptions = true, name = "download", description = "Download and verify the weights of a registry entry into the cache; print the path.")
final class DownloadCommand implements Callable<Integer> {

    private static final Pattern SIZE = Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*([a-z]*)");
    private static final Map<String, Long> SIZE_UNITS = Map.of("", 1L, "b", 1L, "kb", 1_000L, "mb", 1_000_000L,
            "gb", 1_000_000_000L, "tb", 1_000_000_000_000L, "kib", 1L << 10, "mib", 1L << 20, "gib", 1L << 30,
            "tib", 1L << 40);
    private static final Pattern DURATION = Pattern.compile("(\\d+)\\s*(ms|s|m|min|h)");

    @Parameters(index = "0", paramLabel = "TAG", description = "a tag, alias or architecture (its default weights), "
            + "e.g. resnet50.tv_in1k or resnet50")
    String tag;

    @Option(names = "--sha256", paramLabel = "HEX", description = "expected SHA-256 (64 hex digits, or a prefix of "
            + "at least 8); needed for entries that publish none")
    String sha256;

    @Option(names = "--max-size", paramLabel = "SIZE", defaultValue = "2GiB", description = "largest file accepted "
            + "when the registry does not know its size, e.g. 500MB or 2GiB (default: ${DEFAULT-VALUE}); a longer "
            + "body is refused and deleted")
    String maxSize;

    @Option(names = "--deadline", paramLabel = "DURATION", defaultValue = "1h", description = "longest time the "
            + "download may take, retries included, e.g. 90s, 30m or 2h (default: ${DEFAULT-VALUE}); what arrived "
            + "is kept and the next download resumes it")
    String deadline;

    @Override
    public Integer call() throws IOException {
        long maxBytes = parseSize(maxSize, "--max-size");
        Duration limit = parseDuration(deadline, "--deadline");
        WeightsEntry entry = Registry.builtin().get(tag);
        Downloader downloader = Downloader.builder().optMaxBytes(maxBytes).optDeadline(limit).build();
        Pretrained pretrained = Pretrained.builder().optSha256(sha256).optDownloader(downloader).build();
        Path file = pretrained.fetch(entry);
        System.out.println(file);
        return 0;
    }

    /** {@code 123}, {@code 500MB}, {@code 1.5GB}, {@code 2GiB}: decimal units are powers of 1000, binary ones of 1024. */
    static long parseSize(String text, String option) {
        Matcher m = SIZE.matcher(text.trim().toLowerCase(Locale.ROOT));
        Long unit = m.matches() ? SIZE_UNITS.get(m.group(2)) : null;
        if (unit != null) {
            BigDecimal bytes = new BigDecimal(m.group(1)).multiply(BigDecimal.valueOf(unit));
            if (bytes.signum() > 0 && bytes.compareTo(BigDecimal.valueOf(Long.MAX_VALUE)) <= 0) {
                return Math.max(1, bytes.longValue());
            }
        }
        throw new IllegalArgumentException(option + " must be a positive size such as 500MB or 2GiB (units B, kB, "
                + "MB, GB, TB, KiB, MiB, GiB, TiB), got '" + text + "'");
    }

    /** {@code 500ms}, {@code 90s}, {@code 30m} or {@code 30min}, {@code 2h}, or ISO-8601 such as {@code PT1H30M}. */
    static Duration parseDuration(String text, String option) {
        String t = text.trim().toLowerCase(Locale.ROOT);
        Duration d = null;
        Matcher m = DURATION.matcher(t);
        try {
            if (m.matches()) {
                long n = Long.parseLong(m.group(1));
                d = switch (m.group(2)) {
                    case "ms" -> Duration.ofMillis(n);
                    case "s" -> Duration.ofSeconds(n);
                    case "m", "min" -> Duration.ofMinutes(n);
                    default -> Duration.ofHours(n);
                };
            } else if (t.startsWith("pt")) {
                d = Duration.parse(t);
            }
        } catch (ArithmeticException | NumberFormatException | DateTimeParseException e) {
            d = null;
        }
        if (d == null || d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException(option + " must be a positive duration such as 90s, 30m or 2h (units "
                    + "ms, s, m, h), got '" + text + "'");
        }
        return d;
    }
}
