package dev.resnetzoo.zoo.registry;

import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * How images must be prepared for a set of weights: the evaluation transform they were measured
 * with. It is torchvision's {@code ImageClassification} preset (and timm's default evaluation
 * transform, which is the same for these models):
 * <ol>
 *   <li>resize so that the shorter side is {@link #resizeSize()} pixels, keeping the aspect ratio
 *       (the longer side is {@code floor(resizeSize * long / short)}), with {@link #interpolation()}
 *       as PIL does it (antialiased when shrinking);</li>
 *   <li>crop the central {@link #cropSize()} x {@link #cropSize()} pixels;</li>
 *   <li>scale to {@code [0, 1]} and normalise each channel: {@code (x - mean[c]) / std[c]}.</li>
 * </ol>
 * {@link dev.resnetzoo.zoo.preprocess.ImagePreprocessor} implements it.
 *
 * <p>The number of mean values is the number of input channels: three for RGB models (ImageNet),
 * one for grey-scale models (Fashion-MNIST), whose images are converted to grey as PIL's
 * {@code convert("L")} before the resize ({@link #grey}).
 *
 * <p>The record is plain data that Jackson writes and reads as it is, e.g. in a saved model's
 * metadata: {@code {"resizeSize":32,"cropSize":28,"interpolation":"BILINEAR","mean":[0.286],
 * "std":[0.353]}} (the interpolation by its name); reading runs the same validation.
 *
 * @param resizeSize    target length of the shorter image side, in pixels
 * @param cropSize      side of the square central crop, in pixels (the network's input size)
 * @param interpolation resampling filter of the resize
 * @param mean          per-channel mean (R, G, B, or the one grey value) subtracted after scaling to
 *                      {@code [0, 1]}
 * @param std           per-channel standard deviation (R, G, B, or grey) divided by after
 *                      subtracting the mean
 */
public record Preprocessing(int resizeSize, int cropSize, Interpolation interpolation, List<Double> mean,
                            List<Double> std) {

    /** ImageNet channel means (R, G, B), as used by torchvision and timm. */
    public static final List<Double> IMAGENET_MEAN = List.of(0.485, 0.456, 0.406);
    /** ImageNet channel standard deviations (R, G, B), as used by torchvision and timm. */
    public static final List<Double> IMAGENET_STD = List.of(0.229, 0.224, 0.225);

    /**
     * The resampling filter of the resize step. Both are PIL's filters: when shrinking, the filter
     * is stretched by the scale factor, so every source pixel contributes (antialiasing).
     */
    public enum Interpolation {
        /** Triangle filter, support 1 (PIL's {@code BILINEAR}; torchvision's default). */
        BILINEAR,
        /** Keys cubic filter with {@code a = -0.5}, support 2 (PIL's {@code BICUBIC}; timm's default). */
        BICUBIC;

        /**
         * Parses a name case-insensitively.
         *
         * @param name {@code bilinear} or {@code bicubic}
         * @return the interpolation
         * @throws IllegalArgumentException for any other name, listing the valid ones
         */
        public static Interpolation of(String name) {
            String key = Objects.requireNonNull(name, "interpolation").trim().toUpperCase(Locale.ROOT);
            for (Interpolation i : values()) {
                if (i.name().equals(key)) {
                    return i;
                }
            }
            throw new IllegalArgumentException("unknown interpolation '" + name + "'; expected BILINEAR or BICUBIC");
        }
    }

    /**
     * Validates the values and copies the lists.
     *
     * @param resizeSize    shorter side after resizing, at least 1
     * @param cropSize      crop side, at least 1
     * @param interpolation resampling filter
     * @param mean          channel means: three (RGB) or one (grey)
     * @param std           positive channel standard deviations, as many as means
     * @throws IllegalArgumentException if a size is not positive, mean does not have 1 or 3 values,
     *                                  std does not have as many, or a value is not finite or a std
     *                                  not positive
     */
    public Preprocessing {
        Objects.requireNonNull(interpolation, "interpolation");
        mean = List.copyOf(Objects.requireNonNull(mean, "mean"));
        std = List.copyOf(Objects.requireNonNull(std, "std"));
        if (resizeSize < 1 || cropSize < 1) {
            throw new IllegalArgumentException("resize size and crop size must be >= 1, got resize " + resizeSize
                    + ", crop " + cropSize);
        }
        if (mean.size() != 1 && mean.size() != 3) {
            throw new IllegalArgumentException("mean needs one value per input channel: 3 (RGB) or 1 (grey), got "
                    + mean);
        }
        if (std.size() != mean.size()) {
            throw new IllegalArgumentException("std needs one value per channel, as mean: expected " + mean.size()
                    + " values, got " + std);
        }
        for (double s : std) {
            if (!(s > 0) || Double.isInfinite(s)) {
                throw new IllegalArgumentException("std values must be positive and finite, got " + std);
            }
        }
        for (double m : mean) {
            if (!Double.isFinite(m)) {
                throw new IllegalArgumentException("mean values must be finite, got " + mean);
            }
        }
    }

    /**
     * The usual ImageNet transform with ImageNet mean and std.
     *
     * @param resizeSize    shorter side after resizing, e.g. 256 (torchvision V1) or 232 (V2)
     * @param cropSize      crop side, e.g. 224
     * @param interpolation resampling filter
     * @return the preprocessing
     */
    public static Preprocessing imagenet(int resizeSize, int cropSize, Interpolation interpolation) {
        return new Preprocessing(resizeSize, cropSize, interpolation, IMAGENET_MEAN, IMAGENET_STD);
    }

    /**
     * A grey-scale transform (one input channel), e.g. for a model trained on Fashion-MNIST:
     * images are converted to grey as PIL's {@code convert("L")}, then resized, cropped and
     * normalised with one mean and std.
     *
     * @param resizeSize    shorter side after resizing, e.g. 28
     * @param cropSize      crop side, e.g. 28
     * @param interpolation resampling filter
     * @param mean          mean grey level after scaling to {@code [0, 1]}, e.g. 0.2860 (Fashion-MNIST)
     * @param std           standard deviation of the grey level, e.g. 0.3530 (Fashion-MNIST)
     * @return the preprocessing
     * @throws IllegalArgumentException as the constructor
     */
    public static Preprocessing grey(int resizeSize, int cropSize, Interpolation interpolation, double mean, double std) {
        return new Preprocessing(resizeSize, cropSize, interpolation, List.of(mean), List.of(std));
    }

    /**
     * Number of input channels: 3 (RGB) or 1 (grey), the number of mean values.
     *
     * @return 1 or 3
     */
    public int channels() {
        return mean.size();
    }

    /**
     * Describes the transform, e.g. {@code RGB, resize 256 (bilinear), crop 224, mean [0.485, 0.456,
     * 0.406], std [0.229, 0.224, 0.225]} or {@code grey, resize 28 (bilinear), crop 28, mean 0.286,
     * std 0.353}.
     */
    @Override
    public String toString() {
        boolean grey = channels() == 1;
        return (grey ? "grey" : "RGB") + ", resize " + resizeSize + " (" + interpolation.name().toLowerCase(Locale.ROOT)
                + "), crop " + cropSize + ", mean " + (grey ? mean.get(0) : mean) + ", std " + (grey ? std.get(0) : std);
    }
}
