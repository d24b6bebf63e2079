package dev.resnetzoo.examples.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.resnetzoo.core.ResNets;
import dev.resnetzoo.examples.cli.ImportCommandTest;
import dev.resnetzoo.examples.data.FashionMnist;
import dev.resnetzoo.examples.data.FashionMnistIterator;
import dev.resnetzoo.examples.data.LabeledImages;
import dev.resnetzoo.zoo.Npy;
import dev.resnetzoo.zoo.SavedModel;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;

/** A model written by {@code ./resnet train} predicts an image file, prepared as its training images were. */
class TrainedModelPredictTest {

    @TempDir
    Path tmp;

    @Test
    void aTrainedModelClassifiesAPngOfATestImageAsItsArray() throws IOException {
        Path data = TrainFixtures.sampleData(tmp.resolve("data"));
        Path run = tmp.resolve("run");
        List<String> train = new ArrayList<>(List.of("train"));
        train.addAll(TrainFixtures.args(TrainFixtures.tiny(1, 256)));
        train.addAll(List.of("--data", data.toString(), "--out", run.toString()));
        ImportCommandTest.Run t = ImportCommandTest.run(train.toArray(String[]::new));
        assertEquals(0, t.code(), t.err());

        Path model = run.resolve(RunFolder.MODEL);
        try (SavedModel saved = SavedModel.read(model)) {
            assertEquals(FashionMnist.CLASS_NAMES, saved.labels());
            assertEquals(1, saved.preprocessing().channels());
            assertEquals(28, saved.preprocessing().cropSize());

            // The first test image as a grey PNG, and as the training iterator presents it.
            LabeledImages test = FashionMnist.locate(data).load(FashionMnist.Split.TEST);
            BufferedImage img = new BufferedImage(28, 28, BufferedImage.TYPE_BYTE_GRAY);
            for (int r = 0; r < 28; r++) {
                for (int c = 0; c < 28; c++) {
                    int v = test.pixel(0, r, c);
                    img.getRaster().setSample(c, r, 0, v);
                }
            }
            Path png = tmp.resolve("item.png");
            ImageIO.write(img, "png", png.toFile());
            INDArray x = FashionMnistIterator.builder(test).batchSize(1).normalize(true).build().next().getFeatures();
            INDArray expected = saved.graph().feedForward(x, false).get(ResNets.CLASSIFIER);

            Path logits = tmp.resolve("logits.npy");
            ImportCommandTest.Run p = ImportCommandTest.run("predict", "--model", model.toString(), "--output-npy",
                    logits.toString(), png.toString());
            assertEquals(0, p.code(), p.err());
            INDArray got = Npy.read(logits);
            assertTrue(expected.equalsWithEps(got, 1e-4), "predict on the PNG " + got + " vs the graph on the array "
                    + expected);
            String best = FashionMnist.CLASS_NAMES.get(expected.argMax(1).getInt(0));
            assertTrue(p.out().lines().anyMatch(l -> l.startsWith("   1  ") && l.contains(best)), p.out());
        }
    }
}
