package dev.resnetzoo.zoo.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.resnetzoo.zoo.registry.Preprocessing.Interpolation;

import java.util.List;

import org.junit.jupiter.api.Test;

class PreprocessingTest {

    private final ObjectMapper json = new ObjectMapper();

    @Test
    void holdsOneOrThreeChannels() {
        Preprocessing rgb = Preprocessing.imagenet(256, 224, Interpolation.BILINEAR);
        assertEquals(3, rgb.channels());
        Preprocessing grey = Preprocessing.grey(32, 28, Interpolation.BICUBIC, 0.2860, 0.3530);
        assertEquals(1, grey.channels());
        assertEquals(List.of(0.2860), grey.mean());
        assertEquals(List.of(0.3530), grey.std());

        IllegalArgumentException two = assertThrows(IllegalArgumentException.class,
                () -> new Preprocessing(28, 28, Interpolation.BILINEAR, List.of(0.5, 0.5), List.of(1.0, 1.0)));
        assertEquals("mean needs one value per input channel: 3 (RGB) or 1 (grey), got [0.5, 0.5]", two.getMessage());
        IllegalArgumentException mismatch = assertThrows(IllegalArgumentException.class,
                () -> new Preprocessing(28, 28, Interpolation.BILINEAR, List.of(0.5), List.of(1.0, 1.0, 1.0)));
        assertEquals("std needs one value per channel, as mean: expected 1 values, got [1.0, 1.0, 1.0]",
                mismatch.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Preprocessing.grey(28, 28, Interpolation.BILINEAR, 0.5, 0));
        assertThrows(IllegalArgumentException.class,
                () -> Preprocessing.grey(28, 28, Interpolation.BILINEAR, Double.NaN, 1));
    }

    @Test
    void toStringSaysWhatItDoes() {
        assertEquals("RGB, resize 232 (bilinear), crop 224, mean [0.485, 0.456, 0.406], std [0.229, 0.224, 0.225]",
                Preprocessing.imagenet(232, 224, Interpolation.BILINEAR).toString());
        assertEquals("grey, resize 32 (bicubic), crop 28, mean 0.286, std 0.353",
                Preprocessing.grey(32, 28, Interpolation.BICUBIC, 0.286, 0.353).toString());
    }

    @Test
    void jacksonWritesAndReadsIt() throws Exception {
        for (Preprocessing p : List.of(Preprocessing.imagenet(256, 224, Interpolation.BICUBIC),
                Preprocessing.grey(32, 28, Interpolation.BILINEAR, 0.2860, 0.3530))) {
            String text = json.writeValueAsString(p);
            assertEquals(p, json.readValue(text, Preprocessing.class), text);
        }
        assertEquals("{\"resizeSize\":32,\"cropSize\":28,\"interpolation\":\"BILINEAR\",\"mean\":[0.286],\"std\":[0.353]}",
                json.writeValueAsString(Preprocessing.grey(32, 28, Interpolation.BILINEAR, 0.286, 0.353)));
    }

    @Test
    void jacksonReadingValidatesAsTheConstructor() {
        JsonMappingException e = assertThrows(JsonMappingException.class, () -> json.readValue(
                "{\"resizeSize\":32,\"cropSize\":28,\"interpolation\":\"BILINEAR\",\"mean\":[0.5,0.5],\"std\":[1,1]}",
                Preprocessing.class));
        assertTrue(e.getMessage().contains("mean needs one value per input channel"), e.getMessage());
        assertThrows(JsonMappingException.class, () -> json.readValue(
                "{\"resizeSize\":32,\"cropSize\":28,\"interpolation\":\"NEAREST\",\"mean\":[0.5],\"std\":[1]}",
                Preprocessing.class));
    }
}
