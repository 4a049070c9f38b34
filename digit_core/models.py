"""Keras model builders: one small function per architecture, each from a frozen config."""

from __future__ import annotations

import keras
from keras import layers

from .config import ANNConfig, CNNConfig, ModelConfig
from .spec import INPUT_SHAPE, NUM_CLASSES

# Faster-moving batch-norm statistics than Keras' 0.99, so short runs also predict well.
BN_MOMENTUM = 0.9


def build_ann(config: ANNConfig = ANNConfig()) -> keras.Model:
    """Dense network: ``(N, 28, 28, 1)`` float32 in [0, 1] -> ``(N, 10)`` probabilities."""
    inputs = keras.Input(shape=INPUT_SHAPE, name="image")
    x = layers.Flatten()(inputs)
    for i, units in enumerate(config.units):
        # Bias is redundant before batch norm, which has its own shift.
        x = layers.Dense(units, use_bias=False, name=f"dense_{i}")(x)
        x = layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"bn_{i}")(x)
        x = layers.Activation("relu")(x)
        x = layers.Dropout(config.dropout)(x)
    outputs = layers.Dense(NUM_CLASSES, activation="softmax", name="probabilities")(x)
    return keras.Model(inputs, outputs, name="ann")


def build_cnn(config: CNNConfig = CNNConfig()) -> keras.Model:
    """Convolutional network: ``(N, 28, 28, 1)`` float32 in [0, 1] -> ``(N, 10)`` probabilities."""
    inputs = keras.Input(shape=INPUT_SHAPE, name="image")
    x = inputs
    for b, (filters, kernel) in enumerate(zip(config.block_filters(), config.kernels())):
        for c in range(config.convs_per_block):
            x = layers.Conv2D(filters, kernel, padding=config.padding, use_bias=False, name=f"conv{b}_{c}")(x)
            if c == config.convs_per_block - 1:
                # Pool before batch norm and ReLU: they then work on a quarter of the values.
                x = layers.MaxPooling2D(2, name=f"pool{b}")(x)
            x = layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"bn{b}_{c}")(x)
            x = layers.Activation("relu")(x)
        if config.dropout:
            x = layers.Dropout(config.dropout / 2)(x)
    x = layers.Flatten()(x)
    x = layers.Dense(config.dense_units, use_bias=False, name="dense")(x)
    x = layers.BatchNormalization(momentum=BN_MOMENTUM, name="bn_dense")(x)
    x = layers.Activation("relu")(x)
    if config.dropout:
        x = layers.Dropout(config.dropout)(x)
    outputs = layers.Dense(NUM_CLASSES, activation="softmax", name="probabilities")(x)
    return keras.Model(inputs, outputs, name="cnn")


def build_model(config: ModelConfig) -> keras.Model:
    """Build the architecture that ``config`` describes."""
    if isinstance(config, CNNConfig):
        return build_cnn(config)
    if isinstance(config, ANNConfig):
        return build_ann(config)
    raise TypeError(f"expected ANNConfig or CNNConfig, got {type(config).__name__}")
