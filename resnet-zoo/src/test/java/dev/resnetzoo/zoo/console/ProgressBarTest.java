package dev.resnetzoo.zoo.console;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class ProgressBarTest {

    private long now;
    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();

    private ProgressBar.Builder bar(boolean interactive) {
        return ProgressBar.builder(new PrintStream(bytes, true, StandardCharsets.UTF_8),
                        s -> s.done() + "/" + s.total() + " rate " + Math.round(s.rate()) + " left "
                                + s.secondsLeft())
                .optInteractive(interactive)
                .optClock(() -> now);
    }

    private String text() {
        return bytes.toString(StandardCharsets.UTF_8);
    }

    @Test
    void aTerminalBarIsRedrawnInPlaceThrottledAndEndedByFinish() {
        ProgressBar b = bar(true).optRedrawInterval(Duration.ofMillis(100)).build();
        b.start("task", "not shown on a terminal", 0, 8);
        assertEquals("\rtask [>                       ] 0/8 rate 0 left NaN", text());
        now += 1_000_000_000L;
        b.update(2, 8);
        assertTrue(text().endsWith("\rtask [======>                 ] 2/8 rate 2 left 3.0"), text());
        int draws = count('\r');
        now += 50_000_000L;
        b.update(3, 8);
        assertEquals(draws, count('\r'), "too soon to redraw");
        now += 10_000_000L;
        b.update(8, 8);
        assertEquals(draws + 1, count('\r'), "a complete task is always drawn");
        b.finish("done");
        assertTrue(text().endsWith("[========================] 8/8 rate 8 left NaN" + System.lineSeparator()
                + "done" + System.lineSeparator()), text());
        assertFalse(text().contains("not shown"));
    }

    @Test
    void aShorterLineWipesTheRestOfTheLongerOne() {
        ProgressBar b = ProgressBar.builder(new PrintStream(bytes, true, StandardCharsets.UTF_8),
                s -> s.done() == 0 ? "a long first text" : "short").optInteractive(true).optClock(() -> now).build();
        b.start("t", null, 0, -1);
        now += 1_000_000_000L;
        b.update(1, -1);
        assertEquals("\rt a long first text\rt short" + " ".repeat(12), text());
    }

    @Test
    void plainModePrintsTheHeaderThenTenthsAndAtLeastEveryLineInterval() {
        ProgressBar b = bar(false).optLineInterval(Duration.ofSeconds(30)).build();
        b.start("task", "task: 100 units", 0, 100);
        for (int i = 1; i <= 100; i++) {
            now += 100_000_000L;
            b.update(i, 100);
        }
        b.finish(null);
        List<String> lines = text().lines().toList();
        assertEquals("task: 100 units", lines.get(0));
        assertEquals("task 10/100 rate 10 left 9.0", lines.get(1));
        assertEquals("task 90/100 rate 10 left 1.0", lines.get(9));
        assertEquals(10, lines.size(), "no line for the complete task: " + lines);
        assertFalse(text().contains("\r"));

        bytes.reset();
        b.start("slow", null, 0, 1_000_000);
        now += 31_000_000_000L;
        b.update(1, 1_000_000);
        assertEquals(List.of("slow 1/1000000 rate 0 left 3.0999969E7"), text().lines().toList(),
                "the line interval passed without a tenth");
    }

    @Test
    void theMinimumGapHoldsBackFastTenths() {
        ProgressBar b = bar(false).optLineInterval(Duration.ofSeconds(10)).optMinLineGap(Duration.ofSeconds(1))
                .build();
        b.start("fast", null, 0, 100);
        for (int i = 1; i <= 100; i++) {
            now += 10_000_000L;                  // the whole task in one second
            b.update(i, 100);
        }
        assertEquals(0, text().lines().count(), text());
    }

    @Test
    void aResumedTaskCountsItsRateFromWhereItStarted() {
        ProgressBar b = bar(false).build();
        b.start("resumed", null, 50, 100);
        now += 2_000_000_000L;
        b.update(70, 100);
        assertEquals(List.of("resumed 70/100 rate 10 left 3.0"), text().lines().toList());
    }

    @Test
    void clockTimes() {
        assertEquals("0:00", ProgressBar.clockTime(0.2));
        assertEquals("0:00", ProgressBar.clockTime(-3));
        assertEquals("1:05", ProgressBar.clockTime(65));
        assertEquals("2:00:01", ProgressBar.clockTime(7201));
    }

    private int count(char c) {
        return (int) text().chars().filter(x -> x == c).count();
    }
}
