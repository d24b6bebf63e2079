package dev.resnetzoo.zoo.download;

import org.junit.jupiter.api.Test;

import java.net.URI;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Settings resolution and the mirror rule; no network. */
class ZooCacheTest {

    private final Map<String, String> props = new HashMap<>(Map.of("user.home", "/home/u"));
    private final Map<String, String> env = new HashMap<>();

    private ZooCache resolve() {
        return ZooCache.resolve(props::get, env::get);
    }

    @Test
    void homeFallsBackToDotCache() {
        assertEquals(Path.of("/home/u/.cache/resnet-zoo"), resolve().home());
        assertEquals(Path.of("/home/u/.cache/resnet-zoo/weights"), resolve().weights());
        assertEquals(Path.of("/home/u/.cache/resnet-zoo/models"), resolve().models());
    }

    @Test
    void homePrecedenceIsPropertyThenEnvThenXdg() {
        env.put("XDG_CACHE_HOME", "/xdg");
        assertEquals(Path.of("/xdg/resnet-zoo"), resolve().home());
        env.put(ZooCache.HOME_ENV, "/env-home");
        assertEquals(Path.of("/env-home"), resolve().home());
        props.put(ZooCache.HOME_PROPERTY, "~/prop-home");
        assertEquals(Path.of("/home/u/prop-home"), resolve().home());
    }

    @Test
    void relativeXdgCacheHomeIsIgnored() {
        env.put("XDG_CACHE_HOME", "relative/dir");
        assertEquals(Path.of("/home/u/.cache/resnet-zoo"), resolve().home());
    }

    @Test
    void offlineFromEnvOverriddenByProperty() {
        assertFalse(resolve().offline());
        env.put(ZooCache.OFFLINE_ENV, "1");
        assertTrue(resolve().offline());
        props.put(ZooCache.OFFLINE_PROPERTY, "false");
        assertFalse(resolve().offline());
        props.put(ZooCache.OFFLINE_PROPERTY, "true");
        assertTrue(resolve().offline());
    }

    @Test
    void mirrorKeepsOnlyTheFileName() {
        env.put(ZooCache.MIRROR_ENV, "https://env-mirror.example/zoo");
        props.put(ZooCache.MIRROR_PROPERTY, "https://mirror.example/resnet-zoo/");
        ZooCache cache = resolve();
        FileSpec spec = FileSpec.of("https://download.pytorch.org/models/resnet50-0676ba61.pth", "0".repeat(64), -1);
        assertEquals(URI.create("https://mirror.example/resnet-zoo/resnet50-0676ba61.pth"), cache.sourceFor(spec));
        FileSpec odd = new FileSpec(URI.create("https://h/x?y=1"), "name with space+ü.bin", "0".repeat(64), -1);
        assertEquals(URI.create("https://mirror.example/resnet-zoo/name%20with%20space%2B%C3%BC.bin"),
                cache.sourceFor(odd));
    }

    @Test
    void withoutMirrorTheOriginalUrlIsUsed() {
        FileSpec spec = FileSpec.of("https://download.pytorch.org/models/resnet18-f37072fd.pth", "0".repeat(64), -1);
        assertEquals(spec.url(), resolve().sourceFor(spec));
        assertEquals(spec.url(), resolve().withMirror(" ").sourceFor(spec));
    }

    @Test
    void badMirrorIsRejected() {
        ZooCache cache = ZooCache.at(Path.of("/tmp/x"));
        assertThrows(IllegalArgumentException.class, () -> cache.withMirror("ftp://host/dir"));
        assertThrows(IllegalArgumentException.class, () -> cache.withMirror("/local/dir"));
        assertThrows(IllegalArgumentException.class, () -> cache.withMirror("https://host/dir?x=1"));
    }

    @Test
    void kindMustBeAPlainName() {
        ZooCache cache = ZooCache.at(Path.of("/tmp/x"));
        assertThrows(IllegalArgumentException.class, () -> cache.directory("../etc"));
        assertThrows(IllegalArgumentException.class, () -> cache.directory(""));
    }
}
