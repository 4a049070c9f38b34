"""Frozen configuration dataclasses for models and training (no TensorFlow needed)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Literal

Architecture = Literal["ann", "cnn"]
ARCHITECTURES: tuple[str, ...] = ("ann", "cnn")


@dataclass(frozen=True)
class ANNConfig:
    """A dense network: flatten, then ``units`` hidden layers with batch norm and dropout."""

    units: tuple[int, ...] = (512, 512)
    dropout: float = 0.25

    def __post_init__(self) -> None:
        if not self.units or any(u < 1 for u in self.units):
            raise ValueError(f"ANN units must be positive integers, got {self.units!r}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")

    def multiply_adds(self) -> int:
        """Multiply-adds of one image's forward pass (the dense layers' weights)."""
        sizes = (28 * 28, *self.units, 10)
        return sum(a * b for a, b in zip(sizes, sizes[1:]))


@dataclass(frozen=True)
class CNNConfig:
    """Conv blocks, then a dense head. A block is ``convs_per_block`` convolutions (each followed by
    batch norm and ReLU); the last one's output is max-pooled 2x2 *before* its batch norm and ReLU,
    which then touch a quarter of the values.

    The default is the fast design: a 5x5 then a 3x3 unpadded conv (28 -> 24 -> 12 -> 10 -> 5 px),
    one per block, about 1.2 M multiply-adds per image. The earlier design, 15x costlier, is
    ``CNNConfig(**LEGACY_CNN)``. The first block's kernel is ``first_kernel`` wide, the others 3.
    ``width`` multiplies the filters of every block, so 1.0 gives ``filters`` as written.
    """

    filters: tuple[int, ...] = (24, 32)
    first_kernel: int = 5
    convs_per_block: int = 1
    padding: Literal["valid", "same"] = "valid"
    width: float = 1.0
    dense_units: int = 256
    dropout: float = 0.0

    def __post_init__(self) -> None:
        if not self.filters or any(f < 1 for f in self.filters):
            raise ValueError(f"CNN filters must be positive integers, got {self.filters!r}")
        if self.first_kernel < 1:
            raise ValueError(f"first_kernel must be >= 1, got {self.first_kernel}")
        if self.convs_per_block < 1:
            raise ValueError(f"convs_per_block must be >= 1, got {self.convs_per_block}")
        if self.padding not in ("valid", "same"):
            raise ValueError(f"padding must be 'valid' or 'same', got {self.padding!r}")
        if self.feature_size() < 1:
            raise ValueError(
                f"{len(self.filters)} conv blocks with kernels {self.kernels()} and "
                f"{self.padding} padding do not fit a 28x28 input"
            )
        if not self.width > 0:  # also refuses NaN
            raise ValueError(f"width must be positive, got {self.width}")
        if self.dense_units < 1:
            raise ValueError(f"dense_units must be positive, got {self.dense_units}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")

    def block_filters(self) -> tuple[int, ...]:
        return tuple(max(1, round(f * self.width)) for f in self.filters)

    def kernels(self) -> tuple[int, ...]:
        return (self.first_kernel,) + (3,) * (len(self.filters) - 1)

    def multiply_adds(self) -> int:
        """Multiply-adds of one image's forward pass: the convolutions and the dense head."""
        total, size, channels = 0, 28, 1
        for filters, kernel in zip(self.block_filters(), self.kernels()):
            for _ in range(self.convs_per_block):
                if self.padding == "valid":
                    size -= kernel - 1
                total += size * size * kernel * kernel * channels * filters
                channels = filters
            size //= 2
        return total + size * size * channels * self.dense_units + self.dense_units * 10

    def feature_size(self) -> int:
        """Side in pixels of the last block's output for a 28x28 input (< 1: does not fit)."""
        size = 28
        for kernel in self.kernels():
            if self.padding == "valid":
                size -= self.convs_per_block * (kernel - 1)
            size //= 2
        return size


# The CNN shipped before the fast design; cards written then lack the fields it adds.
LEGACY_CNN = {
    "filters": (32, 64),
    "first_kernel": 3,
    "convs_per_block": 2,
    "padding": "same",
    "dense_units": 256,
    "dropout": 0.4,
}
LEGACY_CARD_KEYS = {"filters", "width", "dense_units", "dropout"}


@dataclass(frozen=True)
class AugmentConfig:
    """Random distortions applied to training images only, so MNIST covers other writers.

    Every probability is the chance that one image gets that distortion, drawn independently per
    image, so a share of each batch keeps all of them off. Sizes are in pixels of the 28x28 field
    unless a name says otherwise; the digit's box is MNIST's 20 px (``spec.DIGIT_BOX``).

    Affine, applied to every image (people write slanted, off-centre, big and small):
    ``rotation`` in degrees, ``shear`` and ``zoom`` as fractions, ``shift`` in pixels.

    Pen width: ``stroke`` is the probability of a different pen; ``stroke_thin`` the share of
    those that are thinner (a 2x2 erosion that keeps a faint core, so no stroke disappears); the
    rest are thicker (a thick marker: stroke 1/8 to 1/4 of the height) by 1 to ``dilate_max`` px,
    and by no more than brings the stroke width to ``stroke_max_width`` px, though always by 1 px
    at least (width as the app measures it, 2 area / perimeter of the ink; MNIST's median is
    about 2 px, so most digits can get 1-3 px, broad ones 1).

    Elastic distortion (unsteady hands): ``elastic`` is its probability, ``elastic_alpha`` the
    standard deviation in pixels of the random displacement at control points about
    ``elastic_sigma`` px apart (larger sigma, broader and smoother bends).

    Tight crops (a scan or photo cropped into the digit, or its box judged differently): ``crop``
    is the probability; up to ``crop_cut`` (a fraction of the box) is cut off one side and the
    box's height-to-width ratio changes by up to ``crop_aspect`` (a fraction), then the digit is
    fitted to the 20 px box and centred by mass again, as the app's preprocessing does. A pen
    change refits the box the same way.

    Low resolution (an enlarged low-resolution scan): ``low_res`` is the probability; the digit's
    box is brought down to ``low_res_min`` .. ``low_res_max`` px (area averaging) and back up,
    bilinearly or, for a ``low_res_blocky`` share of those, as blocks; then its contrast is
    stretched as the app stretches an upload's: grey from a share of the peak drawn between
    ``low_res_full_ink`` and 1 becomes full ink, and grey under a quarter of that share, paper.

    ``binarize`` is the probability of pure black-and-white ink (thresholded, then lightly
    anti-aliased).
    """

    rotation: float = 12.0
    shift: float = 2.5
    zoom: float = 0.12
    shear: float = 0.2
    stroke: float = 0.3
    stroke_thin: float = 0.35
    dilate_max: int = 3
    stroke_max_width: float = 5.0
    elastic: float = 0.25
    elastic_alpha: float = 1.0
    elastic_sigma: float = 10.0
    crop: float = 0.2
    crop_cut: float = 0.1
    crop_aspect: float = 0.12
    low_res: float = 0.3
    low_res_min: int = 8
    low_res_max: int = 16
    low_res_blocky: float = 0.4
    low_res_full_ink: float = 0.6
    binarize: float = 0.1

    # Not a field (no annotation): the fields that are probabilities, checked to be <= 1.
    PROBABILITIES = ("stroke", "stroke_thin", "elastic", "crop", "low_res", "low_res_blocky", "binarize")

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if not value >= 0:  # also refuses NaN
                raise ValueError(f"augment {field.name} must be >= 0, got {value}")
        for name in self.PROBABILITIES:
            if getattr(self, name) > 1:
                raise ValueError(f"augment {name} is a probability in [0, 1], got {getattr(self, name)}")
        if not 0 < self.low_res_full_ink <= 1:
            raise ValueError(f"augment low_res_full_ink must be in (0, 1], got {self.low_res_full_ink}")
        if self.dilate_max not in (1, 2, 3, 4):
            raise ValueError(f"augment dilate_max must be 1, 2, 3 or 4 px, got {self.dilate_max}")
        if self.crop_cut >= 0.5:
            raise ValueError(f"augment crop_cut must be < 0.5 (a fraction of the box), got {self.crop_cut}")
        if not self.stroke_max_width > 0:
            raise ValueError(f"augment stroke_max_width must be > 0 px, got {self.stroke_max_width}")
        if not self.elastic_sigma >= 2:
            raise ValueError(f"augment elastic_sigma must be >= 2 px, got {self.elastic_sigma}")
        if not 2 <= self.low_res_min <= self.low_res_max <= 20:
            raise ValueError(
                "augment low_res_min and low_res_max must satisfy "
                f"2 <= low_res_min <= low_res_max <= 20 px, got {self.low_res_min}, "
                f"{self.low_res_max}"
            )


@dataclass(frozen=True)
class TrainConfig:
    """How to train: everything that, with the data, decides the resulting weights."""

    epochs: int = 15
    batch_size: int = 256
    learning_rate: float = 1e-2
    optimizer: Literal["adam", "sgd", "rmsprop"] = "adam"
    augment: AugmentConfig | None = AugmentConfig()
    validation_size: int = 5000
    limit: int | None = None
    patience: int = 5
    warmup_epochs: float = 0.2
    label_smoothing: float = 0.1
    seed: int = 0

    def __post_init__(self) -> None:
        if self.epochs < 1:
            raise ValueError(f"epochs must be >= 1, got {self.epochs}")
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {self.batch_size}")
        if not self.learning_rate > 0:
            raise ValueError(f"learning_rate must be > 0, got {self.learning_rate}")
        if self.optimizer not in ("adam", "sgd", "rmsprop"):
            raise ValueError(f"unknown optimizer {self.optimizer!r}")
        if self.validation_size < 0:
            raise ValueError("validation_size must be >= 0")
        if self.limit is not None and self.limit < 1:
            raise ValueError(f"limit must be >= 1, got {self.limit}")
        if self.patience < 1:
            raise ValueError("patience must be >= 1")
        if not 0.0 <= self.label_smoothing < 1.0:
            raise ValueError(f"label_smoothing must be in [0, 1), got {self.label_smoothing}")


ModelConfig = ANNConfig | CNNConfig


def default_model_config(arch: str) -> ModelConfig:
    """The default config of architecture ``"ann"`` or ``"cnn"``."""
    if arch == "ann":
        return ANNConfig()
    if arch == "cnn":
        return CNNConfig()
    raise ValueError(f"unknown architecture {arch!r}; expected one of {ARCHITECTURES}")


def arch_of(config: ModelConfig) -> str:
    return "cnn" if isinstance(config, CNNConfig) else "ann"


def to_dict(config: Any) -> dict[str, Any]:
    """A JSON-ready dict of a config dataclass (tuples become lists)."""
    return dataclasses.asdict(config)


def model_config_from_dict(arch: str, values: dict[str, Any]) -> ModelConfig:
    """Rebuild a model config from :func:`to_dict` output, ignoring unknown keys."""
    cls = {"ann": ANNConfig, "cnn": CNNConfig}.get(arch)
    if cls is None:
        raise ValueError(f"unknown architecture {arch!r}")
    names = {f.name for f in dataclasses.fields(cls)}
    if cls is CNNConfig and values.keys() >= LEGACY_CARD_KEYS and "first_kernel" not in values:
        values = {**LEGACY_CNN, **values}  # a whole card from before the fast design
    kwargs = {k: tuple(v) if isinstance(v, list) else v for k, v in values.items() if k in names}
    return cls(**kwargs)
