package dev.resnetzoo.zoo.download;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ConsoleProgressTest {

    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    private final PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
    private final AtomicLong now = new AtomicLong(1_000_000_000L);
    private final FileSpec spec = FileSpec.of("https://h/models/resnet50.pth", "0".repeat(64), 100_000_000);

    private String output() {
        return bytes.toString(StandardCharsets.UTF_8);
    }

    @Test
    void terminalBarShowsPercentSizesRateAndEtaAndIsThrottled() {
        ConsoleProgress p = new ConsoleProgress(out, true, now::get);
        p.onStart(spec, spec.url(), 0, 100_000_000);
        now.addAndGet(2_000_000_000L);                 // 2 s later: 20 MB done -> 10 MB/s, 80 MB left -> 8 s
        p.onProgress(20_000_000, 100_000_000);
        String line = output().substring(output().lastIndexOf('\r') + 1);
        assertTrue(line.contains(" 20%"), line);
        assertTrue(line.contains("20.0/100.0 MB"), line);
        assertTrue(line.contains("10.0 MB/s"), line);
        assertTrue(line.contains("ETA 0:08"), line);
        assertTrue(line.contains("[====>"), line);

        int redraws = count(output(), '\r');
        now.addAndGet(10_000_000L);                    // 10 ms later: too soon to redraw
        p.onProgress(20_100_000, 100_000_000);
        assertEquals(redraws, count(output(), '\r'));
        now.addAndGet(100_000_000L);
        p.onProgress(21_000_000, 100_000_000);
        assertEquals(redraws + 1, count(output(), '\r'));

        p.onFinish(spec, true);
        assertTrue(output().endsWith(System.lineSeparator()));
    }

    @Test
    void plainModePrintsFewWholeLines() {
        ConsoleProgress p = new ConsoleProgress(out, false, now::get);
        p.onStart(spec, spec.url(), 0, 100_000_000);
        for (int i = 1; i <= 1000; i++) {
            now.addAndGet(10_000_000L);                // 10 s in total
            p.onProgress(i * 100_000L, 100_000_000);
        }
        p.onFinish(spec, true);
        String text = output();
        assertFalse(text.contains("\r"));
        long lines = text.lines().count();
        assertTrue(lines >= 3 && lines <= 13, text);
        assertTrue(text.startsWith("Downloading resnet50.pth from https://h/models/resnet50.pth (100.0 MB)"), text);
        assertTrue(text.contains("Downloaded resnet50.pth (100.0 MB in 0:10)"), text);
    }

    private static int count(String s, char c) {
        return (int) s.chars().filter(x -> x == c).count();
    }
}
