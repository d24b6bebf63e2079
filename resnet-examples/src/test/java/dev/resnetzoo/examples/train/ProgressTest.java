package dev.resnetzoo.examples.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class ProgressTest {

    private long now;
    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();

    private Progress progress(boolean interactive) {
        return new Progress(new PrintStream(bytes, true, StandardCharsets.UTF_8), interactive, () -> now);
    }

    private String text() {
        return bytes.toString(StandardCharsets.UTF_8);
    }

    @Test
    void plainLinesEveryTenthOfTheEpoch() {
        Progress p = progress(false);
        p.begin(2, 5, 1000, 10);
        for (int i = 1; i <= 10; i++) {
            now += 1_000_000_000L; // 100 images a second
            p.update(i * 100, 0.5, 0.8);
        }
        p.end(1000, 0.5, 0.8);
        List<String> lines = text().lines().toList();
        assertEquals("epoch 2/5: training on 1,000 images (10 batches)", lines.get(0));
        assertEquals("epoch 2/5 100/1,000  loss 0.5000  acc 80.00%  100 img/s  ETA 0:09", lines.get(1));
        assertEquals("epoch 2/5 900/1,000  loss 0.5000  acc 80.00%  100 img/s  ETA 0:01", lines.get(9));
        assertEquals(10, lines.size(), "no line for the completed epoch: the epoch summary follows on stdout");
    }

    @Test
    void terminalBarIsRedrawnInPlace() {
        Progress p = progress(true);
        p.begin(1, 3, 200, 2);
        now += 2_000_000_000L;
        p.update(100, 1.25, Double.NaN);
        now += 2_000_000_000L;
        p.update(200, 1.0, 0.5);
        p.end(200, 1.0, 0.5);
        String t = text();
        assertTrue(t.startsWith("\repoch 1/3 [>"), t);
        assertTrue(t.contains("\repoch 1/3 [============>           ] 100/200  loss 1.2500  50 img/s  ETA 0:02"), t);
        assertTrue(t.contains("[========================] 200/200  loss 1.0000  acc 50.00%  50 img/s  0:04"), t);
        assertTrue(t.endsWith(System.lineSeparator()), t);
    }

    @Test
    void clockTimes() {
        assertEquals("0:00", Progress.clockTime(0.2));
        assertEquals("1:05", Progress.clockTime(65));
        assertEquals("2:00:01", Progress.clockTime(7201));
    }
}
