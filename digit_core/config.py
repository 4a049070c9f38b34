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


@dataclass(frozen=True)
class CNNConfig:
    """Conv blocks (two 3x3 convs + batch norm each, then 2x2 pooling), then a dense head.

    ``width`` multiplies the filters of every block, so 1.0 gives ``filters`` as written.
    """

    filters: tuple[int, ...] = (32, 64)
    width: float = 1.0
    dense_units: int = 256
    dropout: float = 0.4

    def __post_init__(self) -> None:
        if not self.filters or any(f < 1 for f in self.filters):
            raise ValueError(f"CNN filters must be positive integers, got {self.filters!r}")
        if len(self.filters) > 3:
            raise ValueError("at most 3 conv blocks fit a 28x28 input")
        if not self.width > 0:  # also refuses NaN
            raise ValueError(f"width must be positive, got {self.width}")
        if self.dense_units < 1:
            raise ValueError(f"dense_units must be positive, got {self.dense_units}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")

    def block_filters(self) -> tuple[int, ...]:
        return tuple(max(1, round(f * self.width)) for f in self.filters)


@dataclass(frozen=True)
class AugmentConfig:
    """Random distortions applied to training images only, to look like real handwriting.

    Angles in degrees, shifts in pixels, zoom and shear as fractions. ``stroke`` is the
    probability of thickening or thinning the strokes (half each), since people draw with
    pens of every width.
    """

    rotation: float = 12.0
    shift: float = 2.5
    zoom: float = 0.12
    shear: float = 0.2
    stroke: float = 0.35

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):
            if getattr(self, field.name) < 0:
                raise ValueError(f"augment {field.name} must be >= 0")
        if self.stroke > 1:
            raise ValueError("augment stroke is a probability in [0, 1]")


@dataclass(frozen=True)
class TrainConfig:
    """How to train: everything that, with the data, decides the resulting weights."""

    epochs: int = 15
    batch_size: int = 128
    learning_rate: float = 3e-3
    optimizer: Literal["adam", "sgd", "rmsprop"] = "adam"
    augment: AugmentConfig | None = AugmentConfig()
    validation_size: int = 5000
    limit: int | None = None
    patience: int = 5
    warmup_epochs: float = 1.0
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
    kwargs = {k: tuple(v) if isinstance(v, list) else v for k, v in values.items() if k in names}
    return cls(**kwargs)
