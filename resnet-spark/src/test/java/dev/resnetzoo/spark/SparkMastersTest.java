package dev.resnetzoo.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SparkMastersTest {

    @ParameterizedTest
    @ValueSource(strings = {"local", "local[2]", "local[*]", "local[2,3]", "local-cluster[2,1,1024]",
            "spark://master-host:7077", "spark://a:7077,b:7077", "yarn", "k8s://https://host:6443"})
    void acceptsSparksForms(String master) {
        assertEquals(master, SparkMasters.check(" " + master + " "));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "local[0]", "local[two]", "locl[2]", "spark://host", "http://host:7077",
            "local-cluster[2,1]", "yarn-client"})
    void refusesOtherStringsNamingThem(String master) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SparkMasters.check(master));
        assertTrue(e.getMessage().startsWith("invalid Spark master '" + master + "': expected local, local[N]"),
                e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {"local[2]", "local-cluster[2,1,1024]"})
    void localMastersAreOnThisMachine(String master) {
        assertTrue(SparkMasters.onThisMachine(master));
        assertFalse(SparkMasters.onThisMachine("spark://h:7077"));
    }
}
