"""Augmentation for other writers: each distortion measured on small hand-made images.

Pen width, low resolution, black-and-white ink, elastic distortion and tight crops are each
switched on alone (probability 1, affine off) and checked for the change they promise, then the
whole: output shape and range, untouched share, seeds, config errors, and that training (and only
training) batches are augmented.
"""

import dataclasses

import numpy as np
import pytest
import tensorflow as tf

import digit_core.training as training
from digit_core.augment import augment_batch, vary_stroke
from digit_core.config import ANNConfig, AugmentConfig, TrainConfig
from digit_core.inference import predict
from digit_core.training import make_dataset, split_data, train

# Every distortion off: the starting point for switching on one at a time.
OFF = AugmentConfig(rotation=0, shift=0, zoom=0, shear=0, stroke=0, elastic=0, crop=0, low_res=0, binarize=0)
ALONE = {
    "stroke": {"stroke": 1.0},
    "elastic": {"elastic": 1.0},
    "crop": {"crop": 1.0},
    "low_res": {"low_res": 1.0},
    "binarize": {"binarize": 1.0},
}


def only(**changes) -> AugmentConfig:
    return dataclasses.replace(OFF, **changes)


def run(images: np.ndarray, config: AugmentConfig, seed: int | None = 0) -> np.ndarray:
    """Augment ``(N, 28, 28)`` float images; returns ``(N, 28, 28)``."""
    out = augment_batch(tf.constant(images[..., None], tf.float32), config, seed=seed).numpy()
    assert out.shape == (*images.shape, 1) and out.dtype == np.float32
    return out[..., 0]


# -- hand-made digits --------------------------------------------------------------------------

GRID_Y, GRID_X = np.mgrid[0:28, 0:28].astype(np.float32)


def ring(width: float = 2.0, ry: float = 9.0, rx: float = 6.0) -> np.ndarray:
    """A '0': an anti-aliased ellipse ring ``width`` px wide, 20 px tall, centred at (14, 14)."""
    radius = np.hypot((GRID_Y - 14) / ry, (GRID_X - 14) / rx)
    distance = np.abs(radius - 1) * min(ry, rx)  # roughly px from the centre line
    return np.clip(width / 2 + 0.5 - distance, 0, 1).astype(np.float32)


def bar(width: int = 2, top: int = 4, bottom: int = 24) -> np.ndarray:
    """A '1': a vertical bar ``width`` px wide, rows ``top:bottom``, centred on column 14."""
    image = np.zeros((28, 28), np.float32)
    left = 14 - width // 2
    image[top:bottom, left : left + width] = 1.0
    return image


def seven(width: float = 2.0) -> np.ndarray:
    """A '7': a top bar and a diagonal, anti-aliased."""
    top = np.clip(width / 2 + 0.5 - np.abs(GRID_Y - 5), 0, 1) * ((GRID_X >= 8) & (GRID_X <= 20))
    # The diagonal from (5, 20) to (24, 11).
    along = (GRID_Y - 5) / 19
    centre_x = 20 - 9 * along
    diagonal = np.clip(width / 2 + 0.5 - np.abs(GRID_X - centre_x) * 0.9, 0, 1) * (
        (along >= 0) & (along <= 1)
    )
    return np.maximum(top, diagonal).astype(np.float32)


def digits(n: int = 24) -> np.ndarray:
    shapes = [ring(1.5), ring(2.5), seven(1.5), seven(2.5), bar(2), bar(3)]
    return np.stack([shapes[i % len(shapes)] for i in range(n)])


# -- independent measurements ------------------------------------------------------------------


def stroke_width(image: np.ndarray) -> float:
    """Mean stroke width in px: ``2 area / perimeter``, the area as the ink's sum (anti-aliased
    edges count in part) and the perimeter that of the ink above 0.5."""
    mask = np.pad(image > 0.5, 1)
    area = image.sum()
    perimeter = np.count_nonzero(mask[1:] != mask[:-1]) + np.count_nonzero(mask[:, 1:] != mask[:, :-1])
    return 2.0 * area / max(perimeter, 1)


def row_widths(image: np.ndarray) -> np.ndarray:
    """Ink pixels (above 0.5) in each row that has any: the width of a vertical bar."""
    counts = (image > 0.5).sum(axis=1)
    return counts[counts > 0]


def ink_box(image: np.ndarray, level: float = 0.1) -> tuple[int, int, int, int]:
    rows, cols = np.flatnonzero(image.max(axis=1) > level), np.flatnonzero(image.max(axis=0) > level)
    return int(rows[0]), int(rows[-1]), int(cols[0]), int(cols[-1])


def centre_of_mass(image: np.ndarray) -> tuple[float, float]:
    return float((image * GRID_Y).sum() / image.sum()), float((image * GRID_X).sum() / image.sum())


def high_frequency_share(image: np.ndarray) -> float:
    """The share of the image's (mean-removed) spectral energy above 1/4 cycle per pixel."""
    power = np.abs(np.fft.fft2(image - image.mean())) ** 2
    freq = np.fft.fftfreq(28)
    radius = np.hypot(freq[:, None], freq[None, :])
    return float(power[radius > 0.25].sum() / power.sum())


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a.ravel(), b.ravel())[0, 1])


def blurred(image: np.ndarray) -> np.ndarray:
    """A 3x3 box blur, so a one-pixel shift of a thin stroke does not read as another shape."""
    padded = np.pad(image, 1)
    return sum(padded[dy : dy + 28, dx : dx + 28] for dy in range(3) for dx in range(3)) / 9


# -- the whole pipeline ------------------------------------------------------------------------


def test_output_keeps_shape_dtype_and_range_and_a_blank_stays_blank():
    rng = np.random.default_rng(0)
    images = np.concatenate(
        [digits(40), rng.random((8, 28, 28), np.float32), np.zeros((2, 28, 28), np.float32)]
    )
    out = run(images, AugmentConfig())
    assert out.min() >= 0.0 and out.max() <= 1.0 and np.isfinite(out).all()
    assert not out[-2:].any(), "a blank image must stay blank"
    assert not np.allclose(out[:40], images[:40])


def test_everything_off_returns_the_images_unchanged_even_with_large_magnitudes():
    images = digits(12)
    off = dataclasses.replace(
        OFF, dilate_max=4, elastic_alpha=5.0, crop_cut=0.4, crop_aspect=0.5, low_res_min=2
    )
    np.testing.assert_array_equal(run(images, off), images)


@pytest.mark.parametrize("feature", sorted(ALONE))
def test_each_distortion_changes_images_at_probability_one_and_none_at_zero(feature):
    images = digits(12)
    on = run(images, only(**ALONE[feature]))
    changed = [not np.allclose(a, b, atol=1e-3) for a, b in zip(on, images)]
    assert sum(changed) >= 10, f"{feature} at probability 1 changed only {sum(changed)} of 12"
    zero = only(**{name: 0.0 for name in ALONE[feature]})
    np.testing.assert_array_equal(run(images, zero), images)
    many = np.repeat(images, 8, axis=0)
    half = run(many, only(**{name: 0.5 for name in ALONE[feature]}), seed=1)
    share = np.mean([not np.allclose(a, b, atol=1e-3) for a, b in zip(half, many)])
    assert 0.3 < share < 0.7, f"{feature} at probability 0.5 changed {share:.0%} of the images"


def test_a_share_of_images_keeps_every_new_distortion_off():
    images = np.repeat(digits(6), 50, axis=0)
    config = dataclasses.replace(AugmentConfig(), rotation=0, shift=0, zoom=0, shear=0)
    out = run(images, config, seed=3)
    untouched = np.mean([np.array_equal(a, b) for a, b in zip(out, images)])
    c = config
    expected = (1 - c.stroke) * (1 - c.elastic) * (1 - c.crop) * (1 - c.low_res) * (1 - c.binarize)
    assert abs(untouched - expected) < 0.08, (untouched, expected)
    assert 0.2 < untouched < 0.5


def test_a_seed_repeats_the_result_and_different_seeds_differ():
    images = digits(16)
    config = AugmentConfig()
    np.testing.assert_array_equal(run(images, config, seed=5), run(images, config, seed=5))
    assert not np.allclose(run(images, config, seed=5), run(images, config, seed=6))
    assert not np.allclose(run(images, config, seed=None), run(images, config, seed=None))


def test_works_inside_a_traced_function_like_tf_data():
    images = tf.constant(digits(8)[..., None])
    traced = tf.function(lambda x: augment_batch(x, AugmentConfig()))
    out = traced(images).numpy()
    assert out.shape == (8, 28, 28, 1) and out.min() >= 0 and out.max() <= 1


# -- pen width ---------------------------------------------------------------------------------


def test_dilation_widens_strokes_by_one_to_dilate_max_pixels():
    bars = tf.constant(np.repeat(bar(2)[None, ..., None], 60, axis=0))
    out = vary_stroke(bars, 1.0, seed=1, thin_share=0.0, dilate_max=3, max_width=99).numpy()[..., 0]
    gains = {round(float(np.median(row_widths(image)))) - 2 for image in out}
    assert gains == {1, 2, 3}


def test_dilation_aims_at_stroke_max_width_and_a_broad_pen_gets_less():
    broad = tf.constant(np.repeat(bar(4)[None, ..., None], 40, axis=0))  # 2A/P width about 3.6
    out = vary_stroke(broad, 1.0, seed=2, thin_share=0.0, dilate_max=3, max_width=5.0).numpy()[..., 0]
    assert {round(float(np.median(row_widths(image)))) for image in out} == {5}


def test_thick_pen_through_the_pipeline_stays_wider_after_the_box_is_refitted():
    images = digits(24)
    out = run(images, only(stroke=1.0, stroke_thin=0.0))
    before = np.array([stroke_width(i) for i in images])
    after = np.array([stroke_width(i) for i in out])
    gain = after - before
    assert gain.min() > 0.3 and gain.mean() > 0.9, (before, after)
    assert after.max() > 3.6, "the thickest pens should reach about 4-5 px"
    for image in out:  # refitted: longer side of the box back to about 20 px
        y0, y1, x0, x1 = ink_box(image)
        assert 19 <= max(y1 - y0 + 1, x1 - x0 + 1) <= 22


def test_erosion_thins_a_broad_stroke_by_about_a_pixel():
    broad = tf.constant(np.repeat(bar(4)[None, ..., None], 8, axis=0))
    out = vary_stroke(broad, 1.0, seed=0, thin_share=1.0).numpy()[..., 0]
    for image in out:
        assert np.median(row_widths(image)) == 3


def test_erosion_never_erases_a_one_pixel_stroke():
    thin = bar(1)
    mixed = np.maximum(ring(3.0), bar(1, top=2, bottom=26))  # thin line through a broad ring
    images = tf.constant(np.stack([thin, mixed])[..., None])
    out = vary_stroke(images, 1.0, seed=0, thin_share=1.0).numpy()[..., 0]
    assert out[0].max() == pytest.approx(1.0)
    assert (out[0][4:24, 14] > 0.99).all(), "a lone 1 px stroke keeps its full ink"
    # Where the line runs alone (above and below the ring) it stays visible.
    assert (out[1][2:4, 14] >= 0.39).all() and (out[1][25:26, 14] >= 0.39).all()
    assert stroke_width(out[1]) < stroke_width(mixed)


# -- low resolution and black-and-white ink ----------------------------------------------------


def test_low_resolution_removes_fine_detail_but_keeps_the_shape():
    # Fine detail: two 2 px strokes with a 1 px gap, which a coarse scan cannot resolve.
    pair = np.zeros((28, 28), np.float32)
    pair[4:24, 11:13] = pair[4:24, 14:16] = 1.0
    out = run(np.repeat(pair[None], 32, axis=0), only(low_res=1.0, low_res_blocky=0.0))
    gap = out[:, 8:20, 13].mean(axis=1)
    assert gap.min() > 0.05 and gap.mean() > 0.5, "the gap fills in (at 16 px only partly)"
    coarsest = run(pair[None], only(low_res=1.0, low_res_min=8, low_res_max=8, low_res_blocky=0.0))[0]
    assert coarsest[8:20, 13].mean() > 0.9, "at 8 px the two strokes are one"

    images = digits(12)
    out = run(images, only(low_res=1.0, low_res_blocky=0.0))
    ratios = [
        high_frequency_share(after) / high_frequency_share(before) for before, after in zip(images, out)
    ]
    assert np.mean(ratios) < 0.7, "less of the image's energy is in fine detail"
    for before, after in zip(images, out):
        assert correlation(blurred(before), blurred(after)) > 0.8, "the same digit"
        assert after.max() == pytest.approx(1.0), "stroke cores are full ink again"


def test_low_resolution_stretches_contrast_as_the_app_does():
    images = digits(12)
    out = run(images, only(low_res=1.0, low_res_min=8, low_res_max=8, low_res_blocky=0.0))
    # The same scan with only the peak restored, made independently with tf.image.resize.
    small = tf.image.resize(tf.constant(images[..., None]), [11, 11], method="area")
    plain = tf.image.resize(small, [28, 28], method="bilinear").numpy()[..., 0]
    plain /= plain.max(axis=(1, 2), keepdims=True)
    for stretched, peak_only in zip(out, plain):
        halo = lambda image: ((image > 1e-3) & (image < 0.12)).sum()  # noqa: E731
        assert halo(stretched) < 0.3 * halo(peak_only), "faint blur becomes paper"
        assert (stretched >= 0.999).sum() >= (peak_only >= 0.999).sum()
        assert correlation(stretched, peak_only) > 0.9
    assert (out >= 0.999).sum() > 1.5 * (plain >= 0.999).sum(), "stroke cores become full ink"


def test_the_lowest_resolution_loses_more_detail_than_the_highest():
    images = digits(12)
    low = run(images, only(low_res=1.0, low_res_min=8, low_res_max=8, low_res_blocky=0.0))
    high = run(images, only(low_res=1.0, low_res_min=16, low_res_max=16, low_res_blocky=0.0))
    assert np.mean([high_frequency_share(i) for i in low]) < np.mean([high_frequency_share(i) for i in high])


def blocks_are_constant(image: np.ndarray, cells: int) -> bool:
    """Whether ``image`` is constant on each block of a ``cells`` x ``cells`` grid enlarged to 28
    by nearest neighbour (pixel i shows cell floor((i + 0.5) cells / 28))."""
    cell = np.floor((np.arange(28) + 0.5) * cells / 28).astype(int)
    for row in range(cells):
        for col in range(cells):
            block = image[np.ix_(cell == row, cell == col)]
            if block.max() - block.min() > 1e-4:
                return False
    return True


def test_low_resolution_varies_per_image_over_the_configured_range():
    images = np.repeat(ring(1.5)[None], 64, axis=0)
    out = run(images, only(low_res=1.0, low_res_blocky=0.0, low_res_full_ink=1.0))
    seen = {round(high_frequency_share(image), 4) for image in out}
    # Each box size alone, 8..16 px: the batch shows most of them and nothing else.
    single = {
        round(
            high_frequency_share(
                run(
                    images[:1],
                    only(low_res=1.0, low_res_min=n, low_res_max=n, low_res_blocky=0.0, low_res_full_ink=1.0),
                )[0]
            ),
            4,
        )
        for n in range(8, 17)
    }
    assert len(seen) >= 7 and seen <= single
    assert min(seen) == min(single), "the 8 px box, the coarsest, is drawn"


def test_blocky_low_resolution_is_made_of_blocks_and_smooth_is_not():
    images = np.stack([ring(1.5), ring(2.5), seven(1.5), seven(2.5)])
    # A digit box of 8 px is a field of 28 * 8 / 20 = 11 px.
    blocky = run(images, only(low_res=1.0, low_res_min=8, low_res_max=8, low_res_blocky=1.0))
    smooth = run(images, only(low_res=1.0, low_res_min=8, low_res_max=8, low_res_blocky=0.0))
    for before, block, soft in zip(images, blocky, smooth):
        assert blocks_are_constant(block, 11) and not blocks_are_constant(before, 11)
        assert not blocks_are_constant(soft, 11)
        assert correlation(before, block) > 0.6


def test_black_and_white_ink_is_one_threshold_lightly_anti_aliased():
    images = digits(12)
    out = run(images, only(binarize=1.0))
    for before, after in zip(images, out):
        ink = after > 0.5
        # One threshold, drawn from [0.2, 0.5], separates ink from paper.
        paper_max, ink_min = before[~ink].max(), before[ink].min()
        assert paper_max < ink_min and paper_max <= 0.5 and ink_min > 0.2
        assert ink.sum() > 0.5 * (before > 0.5).sum()
        # Grey only along the edge: pixels with ink and paper both in their 3x3 neighbourhood.
        padded = np.pad(ink, 1)
        window = np.stack([padded[dy : dy + 28, dx : dx + 28] for dy in range(3) for dx in range(3)])
        edge = window.any(axis=0) & ~window.all(axis=0)
        grey = (after > 1e-6) & (after < 1 - 1e-6)
        assert grey.any() and not (grey & ~edge).any()


# -- elastic distortion ------------------------------------------------------------------------


def test_elastic_moves_pixels_by_a_smooth_field():
    # On a ramp whose value is the column, the sampled value reads off each pixel's displacement.
    columns = np.arange(28, dtype=np.float32)
    ramp = np.broadcast_to((columns[None, :] + 2) / 32, (28, 28))
    out = run(np.repeat(ramp[None], 32, axis=0), only(elastic=1.0, elastic_alpha=1.0, elastic_sigma=10.0))
    shift = (out * 32 - 2 - columns)[:, 4:-4, 4:-4]  # away from the borders
    assert np.abs(shift).mean() > 0.3, "pixels must move"
    assert np.abs(shift).max() < 6.0
    # Smooth: neighbours move alike (pixel noise of the same size would differ by about 1.1x).
    roughness = np.abs(np.diff(shift, axis=1)).mean() + np.abs(np.diff(shift, axis=2)).mean()
    assert roughness < 0.6 * np.abs(shift).mean()


def test_elastic_keeps_the_ink_and_the_shape():
    images = digits(24)
    out = run(images, only(elastic=1.0))
    ratio = out.sum(axis=(1, 2)) / images.sum(axis=(1, 2))
    assert (ratio > 0.7).all() and (ratio < 1.4).all(), "the ink is moved, not lost or multiplied"
    assert all(correlation(a, b) > 0.3 for a, b in zip(images, out))
    assert not np.allclose(out, images, atol=1e-2)


# -- tight crops -------------------------------------------------------------------------------


def test_tight_crop_changes_the_box_then_refits_it_to_20_px_centred_by_mass():
    images = np.repeat(digits(6), 8, axis=0)
    out = run(images, only(crop=1.0, crop_cut=0.15, crop_aspect=0.15))
    changed = 0
    for before, after in zip(images, out):
        by0, by1, bx0, bx1 = ink_box(before)
        ay0, ay1, ax0, ax1 = ink_box(after)
        height, width = ay1 - ay0 + 1, ax1 - ax0 + 1
        assert 19 <= max(height, width) <= 21, "the longer side is fitted to 20 px again"
        cy, cx = centre_of_mass(after)
        assert abs(cy - 14) < 0.6 and abs(cx - 14) < 0.6, "the centre of mass goes back to (14, 14)"
        assert correlation(blurred(before), blurred(after)) > 0.4, "still the same digit"
        ratio_before = (by1 - by0 + 1) / (bx1 - bx0 + 1)
        changed += abs(height / width / ratio_before - 1) > 0.04 or not np.allclose(before, after, atol=0.1)
    assert changed >= 0.75 * len(images)


def test_tight_crop_cuts_ink_off_one_side():
    # A '7' cut from above loses its top bar's share of ink relative to the diagonal.
    image = seven(2.0)
    images = np.repeat(image[None], 64, axis=0)
    out = run(images, only(crop=1.0, crop_cut=0.3, crop_aspect=0.0))
    top_share = [a[:8].sum() / a.sum() for a in out]
    assert min(top_share) < 0.85 * image[:8].sum() / image.sum()


# -- config ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"rotation": -1}, "rotation must be >= 0"),
        ({"elastic_alpha": float("nan")}, "elastic_alpha must be >= 0"),
        ({"stroke": 1.5}, "stroke is a probability"),
        ({"stroke_thin": 2.0}, "stroke_thin is a probability"),
        ({"elastic": 1.01}, "elastic is a probability"),
        ({"crop": 3.0}, "crop is a probability"),
        ({"low_res": 1.5}, "low_res is a probability"),
        ({"low_res_blocky": 1.5}, "low_res_blocky is a probability"),
        ({"binarize": -0.1}, "binarize must be >= 0"),
        ({"dilate_max": 0}, "dilate_max must be 1, 2, 3 or 4"),
        ({"dilate_max": 5}, "dilate_max must be 1, 2, 3 or 4"),
        ({"stroke_max_width": 0.0}, "stroke_max_width must be > 0"),
        ({"crop_cut": 0.5}, "crop_cut must be < 0.5"),
        ({"elastic_sigma": 1.0}, "elastic_sigma must be >= 2"),
        ({"low_res_min": 12, "low_res_max": 10}, "low_res_min and low_res_max"),
        ({"low_res_max": 21}, "low_res_min and low_res_max"),
        ({"low_res_min": 1}, "low_res_min and low_res_max"),
        ({"low_res_full_ink": 0.0}, r"low_res_full_ink must be in \(0, 1\]"),
        ({"low_res_full_ink": 1.5}, r"low_res_full_ink must be in \(0, 1\]"),
    ],
)
def test_invalid_augment_config_names_the_field(kwargs, message):
    with pytest.raises(ValueError, match=message):
        AugmentConfig(**kwargs)


def test_default_probabilities_are_moderate_and_documented_fields_exist():
    config = AugmentConfig()
    for name in AugmentConfig.PROBABILITIES:
        assert 0 <= getattr(config, name) <= 1
    for name in ("stroke", "elastic", "crop", "low_res", "binarize"):
        assert 0.05 <= getattr(config, name) <= 0.35, name


# -- training uses it, and only for training ---------------------------------------------------


def test_make_dataset_augments_batches_only_when_asked():
    images = (digits(64) * 255).astype(np.uint8)
    labels = np.arange(64) % 10
    plain = next(iter(make_dataset(images, labels, 64)))
    augmented = next(iter(make_dataset(images, labels, 64, augment=AugmentConfig())))
    np.testing.assert_array_equal(plain[1].numpy(), augmented[1].numpy())
    np.testing.assert_allclose(plain[0].numpy()[..., 0], images / 255.0, atol=1e-6)
    assert not np.allclose(plain[0].numpy(), augmented[0].numpy())


def _numbered_images(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Learnable images whose corner pixels spell their index, so a batch tells where it came from."""
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 10, n).astype(np.uint8)
    images = np.zeros((n, 28, 28), np.uint8)
    for i, label in enumerate(labels):
        images[i, 4 + label * 2 : 6 + label * 2, 6:22] = 255
        images[i, 0, 0], images[i, 0, 1] = i % 256, i // 256
    return images, labels


def test_train_augments_every_training_batch_and_never_validation_or_test_images(monkeypatch):
    seen_in, seen_out = [], []
    real = training.augment_batch

    def spy(x, config, seed=None):
        out = real(x, config, seed)

        def record(before, after):
            seen_in.append(before.numpy())
            seen_out.append(after.numpy())
            return after

        recorded = tf.py_function(record, [x, out], tf.float32)
        recorded.set_shape(x.shape)
        return recorded

    monkeypatch.setattr(training, "augment_batch", spy)
    images, labels = _numbered_images(300)
    config = TrainConfig(epochs=2, batch_size=50, validation_size=60, patience=5)
    train(ANNConfig(units=(8,)), config, images, labels)

    train_x, _, val_x, _ = split_data(images, labels, config)

    def ids(batch):  # the index spelt by the corner pixels of each (N, 28, 28, 1) float image
        return set((np.rint(batch[:, 0, 0, 0] * 255) + 256 * np.rint(batch[:, 0, 1, 0] * 255)).astype(int))

    train_ids = ids(train_x[..., None] / 255.0)
    val_ids = ids(val_x[..., None] / 255.0)
    assert sum(len(b) for b in seen_in) == 2 * len(train_x), "every training image, every epoch"
    augmented_ids = set().union(*(ids(b) for b in seen_in))
    assert augmented_ids == train_ids and not augmented_ids & val_ids
    assert any(not np.allclose(a, b) for a, b in zip(seen_in, seen_out)), "batches really change"

    # Without augmentation nothing is augmented, and predicting (validation, test) never is.
    seen_in.clear()
    model = train(
        ANNConfig(units=(8,)), dataclasses.replace(config, augment=None, epochs=1), images, labels
    ).model
    predict(model, images[:50])
    assert seen_in == []
