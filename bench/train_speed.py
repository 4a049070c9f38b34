"""Training speed: seconds per epoch of digit_core.training.train, and the CNN's time to a target
MNIST test accuracy against the recipe typical Flask + Keras digit apps use.

Race: both models see the full training set (no augmentation, no validation split); every
``--eval-images`` training images (the same for both, whatever their batch sizes) the 10,000 test
images are scored with digit_core.inference.predict while the clock is paused, so the times count
training only. "Ours" is train() with the default CNNConfig and TrainConfig's batch size and
learning rate (the Train page's defaults); it takes no Keras callbacks, so the check runs from its
``on_batch`` hook, which train() calls from its own Keras callback at the same point
(on_train_batch_end), and stops it through ``cancel``. Whatever train() does at epoch ends (e.g.
batch-norm recalibration in short runs) counts as training. The peer is a plain Keras Sequential
model fitted on [0, 1] inputs.
"""

from __future__ import annotations

import argparse
import threading
import time

import keras
import numpy as np
from keras import layers

from bench import common
from digit_core.config import CNNConfig, TrainConfig, default_model_config
from digit_core.inference import predict
from digit_core.models import build_cnn
from digit_core.training import Watch, train
from digit_core.watching import strip_indices


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument(
        "--parts",
        nargs="+",
        choices=["speed", "overhead", "race"],
        default=["speed", "overhead", "race"],
        help="seconds per epoch, train()'s cost per batch over plain fit, and the race to --target",
    )
    parser.add_argument(
        "--archs",
        nargs="+",
        choices=["cnn", "ann"],
        default=["cnn", "ann"],
        help="architectures timed per epoch",
    )
    parser.add_argument(
        "--limit",
        type=int,
        default=None,
        help="training images per epoch for the speed part (None: all 55,000 left "
        "after the 5,000 validation images)",
    )
    parser.add_argument("--epochs", type=int, default=3, help="epochs per architecture, speed part")
    parser.add_argument(
        "--overhead-images", type=int, default=30720, help="training images per epoch, overhead part"
    )
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds, overhead part")
    parser.add_argument("--target", type=float, default=0.99, help="test accuracy to reach")
    parser.add_argument("--max-epochs", type=int, default=6, help="cap on epochs in the race")
    parser.add_argument(
        "--eval-images",
        type=int,
        default=5120,
        help="training images between test evaluations (40 peer batches, 20 of ours)",
    )
    parser.add_argument(
        "--ours-epochs",
        type=int,
        default=1,
        help="TrainConfig.epochs for ours (length of its one-cycle schedule; at most --max-epochs)",
    )
    parser.add_argument(
        "--ours-lr",
        type=float,
        default=TrainConfig().learning_rate,
        help="TrainConfig.learning_rate for ours",
    )
    parser.add_argument(
        "--ours-batch", type=int, default=TrainConfig().batch_size, help="TrainConfig.batch_size for ours"
    )
    parser.add_argument("--race-images", type=int, default=None, help="training images (None: all)")
    parser.add_argument("--test-images", type=int, default=10_000, help="test images evaluated")
    parser.add_argument("--seed", type=int, default=0, help="seeds the weights, shuffling and split")
    return common.parse_args(
        parser,
        {
            "limit": 2000,
            "epochs": 2,
            "race_images": 300,
            "overhead_images": 1024,
            "rounds": 1,
            "test_images": 1000,
            "target": 0.5,
            "max_epochs": 1,
            "ours_epochs": 1,
            "eval_images": 64,
        },
    )


def epoch_speed(arch: str, mnist, limit: int | None, epochs: int, seed: int) -> dict:
    """Seconds per epoch from EpochProgress.elapsed, which include train()'s end-of-epoch work."""
    config = TrainConfig(epochs=epochs, limit=limit, seed=seed)  # default augmentation and validation
    elapsed: list[float] = []
    train(
        default_model_config(arch),
        config,
        mnist.train_images,
        mnist.train_labels,
        on_epoch=lambda p: elapsed.append(p.elapsed),
    )
    seconds = np.diff([0.0] + elapsed)
    n_val = min(config.validation_size, len(mnist.train_images) // 5)
    images = min(len(mnist.train_images) - n_val, limit or len(mnist.train_images))
    # The first epoch also pays for building the model and tracing its functions.
    steady = float(seconds[1:].mean()) if len(seconds) > 1 else float(seconds[0])
    return {
        "images": images,
        "validation_images": n_val,
        "epoch_seconds": seconds.tolist(),
        "first_epoch_s": float(seconds[0]),
        "later_epochs_s": steady,
        "images_per_s": images / steady,
    }


def _now() -> tuple[float, float]:
    """Wall-clock seconds, and CPU seconds of every thread of this process (which time stolen by
    other work on the machine does not inflate)."""
    return time.perf_counter(), time.process_time()


class EpochClock(keras.callbacks.Callback):
    """:func:`_now` at the start of fit and at each epoch's end."""

    def __init__(self):
        super().__init__()
        self.marks = [_now()]

    def on_epoch_end(self, epoch, logs=None):
        self.marks.append(_now())


def _second_epoch_ms(marks: list[tuple[float, float]], batches: int) -> tuple[float, float]:
    """Wall and CPU milliseconds per batch of the second epoch, from marks at each epoch's end."""
    (wall_1, cpu_1), (wall_2, cpu_2) = marks[-2], marks[-1]
    return 1000 * (wall_2 - wall_1) / batches, 1000 * (cpu_2 - cpu_1) / batches


def overhead(mnist, images: int, rounds: int, seed: int) -> dict:
    """train() against plain ``fit`` on the same default CNN, data and batch size: milliseconds per
    batch in each run's second epoch (the first pays for tracing), wall clock and CPU time. Plain
    fit gets float arrays scaled in advance, Adam at the same rate and no callbacks; train() pays
    for everything it does (its data pipeline, schedule, progress, stop checks, epoch ends). A
    third arm is train() as the Train page runs it: a callback after every batch and the strip of
    20 test digits read about every second.

    Each round runs the three arms back to back, in an order that rotates from round to round, and
    the overhead is the median over rounds of each round's own ratio: on a shared virtual machine
    the load drifts over minutes, which a ratio of two medians taken at different times picks up."""
    config = TrainConfig(epochs=2, augment=None, validation_size=0, seed=seed)
    x, y = mnist.train_images[:images], mnist.train_labels[:images]
    batches = -(-len(x) // config.batch_size)
    scaled = x[..., np.newaxis].astype(np.float32) / 255.0
    strip = mnist.test_images[strip_indices(mnist.test_labels)]

    def fit() -> list[tuple[float, float]]:
        keras.utils.set_random_seed(seed)
        model = build_cnn(CNNConfig())
        model.compile(
            optimizer=keras.optimizers.Adam(config.learning_rate),
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy"],
        )
        clock = EpochClock()
        model.fit(scaled, y, batch_size=config.batch_size, epochs=2, callbacks=[clock], verbose=0)
        return clock.marks

    def plain_train() -> list[tuple[float, float]]:
        marks: list[tuple[float, float]] = []
        train(CNNConfig(), config, x, y, on_epoch=lambda p: marks.append(_now()))
        return marks

    def watched() -> list[tuple[float, float]]:
        marks: list[tuple[float, float]] = []
        train(
            CNNConfig(),
            config,
            x,
            y,
            on_batch=lambda p: None,
            on_epoch=lambda p: marks.append(_now()),
            watch=Watch(strip, lambda epoch, step, p: None),
        )
        return marks

    runners = {"fit": fit, "train": plain_train, "watched": watched}
    names = list(runners)
    arms: dict[str, list[tuple[float, float]]] = {name: [] for name in names}
    for round_ in range(rounds):
        for name in names[round_ % 3 :] + names[: round_ % 3]:
            arms[name].append(_second_epoch_ms(runners[name](), batches))
    out: dict = {"images": len(x), "batches": batches}
    for clock_name, index in (("wall", 0), ("cpu", 1)):
        ms = {arm: np.array([m[index] for m in runs]) for arm, runs in arms.items()}
        out[clock_name] = {
            **{f"{arm}_ms": [round(float(v), 1) for v in values] for arm, values in ms.items()},
            **{f"{arm}_ms_median": float(np.median(values)) for arm, values in ms.items()},
            "overhead_by_round": [round(float(v), 3) for v in ms["train"] / ms["fit"] - 1],
            "overhead": float(np.median(ms["train"] / ms["fit"])) - 1,
            "watched_overhead": float(np.median(ms["watched"] / ms["fit"])) - 1,
        }
    return out


class Race:
    """Scores the test set every ``every`` training images; ``seconds`` counts training time only."""

    def __init__(self, model, test_x, test_y, every: int, target: float, total_images: int):
        self.model, self.test_x, self.test_y = model, test_x, test_y
        self.every, self.target, self.total = every, target, total_images
        self.batches, self.images, self.seconds, self.best = 0, 0, 0.0, 0.0
        self.next_check = every
        self.curve: list[dict] = []
        self.reached: dict | None = None
        self.resumed = 0.0

    def start(self) -> None:
        self.resumed = time.perf_counter()

    def after_batch(self, images: int) -> bool:
        """Call after every training batch of ``images`` images; True means the target is reached: stop."""
        self.batches += 1
        self.images += images
        if self.images < self.next_check and self.images < self.total:
            return False
        while self.next_check <= self.images:
            self.next_check += self.every
        self.seconds += time.perf_counter() - self.resumed  # pause the clock
        accuracy = float((predict(self.model, self.test_x).argmax(axis=1) == self.test_y).mean())
        self.curve.append(
            {"batches": self.batches, "images": self.images, "seconds": self.seconds, "accuracy": accuracy}
        )
        self.best = max(self.best, accuracy)
        if accuracy >= self.target and self.reached is None:
            self.reached = self.curve[-1]
        self.resumed = time.perf_counter()  # resume
        return self.reached is not None

    def summary(self, images_per_epoch: int) -> dict:
        return {
            "reached": self.reached,
            "best_accuracy": self.best,
            "batches": self.batches,
            "epochs": self.images / images_per_epoch,
            "train_seconds": self.seconds,
            "ms_per_batch": 1000 * self.seconds / max(self.batches, 1),
            "curve": self.curve,
        }


class StopAtTarget(keras.callbacks.Callback):
    def __init__(self, race: Race, batch_size: int, images: int):
        super().__init__()
        self.race, self.batch_size, self.images = race, batch_size, images

    def on_train_batch_end(self, batch, logs=None):
        if self.race.after_batch(min(self.batch_size, self.images - batch * self.batch_size)):
            self.model.stop_training = True


def peer_model() -> keras.Model:
    return keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            layers.Conv2D(32, 3, activation="relu"),
            layers.MaxPooling2D(),
            layers.Conv2D(64, 3, activation="relu"),
            layers.MaxPooling2D(),
            layers.Flatten(),
            layers.Dense(128, activation="relu"),
            layers.Dropout(0.5),
            layers.Dense(10, activation="softmax"),
        ],
        name="peer",
    )


def race_ours(args, x, y, test_x, test_y) -> dict:
    config = TrainConfig(
        epochs=min(args.ours_epochs, args.max_epochs),
        batch_size=args.ours_batch,
        learning_rate=args.ours_lr,
        augment=None,
        validation_size=0,
        seed=args.seed,
    )
    keras.utils.set_random_seed(args.seed)
    model = build_cnn(CNNConfig())
    race = Race(model, test_x, test_y, args.eval_images, args.target, config.epochs * len(x))
    cancel = threading.Event()

    def on_batch(progress):
        images = min(config.batch_size, len(x) - (progress.batch - 1) * config.batch_size)
        if race.after_batch(images):
            cancel.set()  # train() stops after this batch

    race.start()  # from here on: compile, data pipeline and fit count, as for the peer
    train(CNNConfig(), config, x, y, model=model, on_batch=on_batch, cancel=cancel)
    return {"parameters": model.count_params(), "epochs_planned": config.epochs, **race.summary(len(x))}


def race_peer(args, x, y, test_x, test_y) -> dict:
    keras.utils.set_random_seed(args.seed)
    model = peer_model()
    race = Race(model, test_x, test_y, args.eval_images, args.target, args.max_epochs * len(x))
    race.start()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    inputs = x[..., np.newaxis].astype(np.float32) / 255.0
    model.fit(
        inputs,
        y,
        batch_size=128,
        epochs=args.max_epochs,
        callbacks=[StopAtTarget(race, 128, len(x))],
        verbose=0,
    )
    return {"parameters": model.count_params(), "epochs_planned": args.max_epochs, **race.summary(len(x))}


def describe(name: str, result: dict) -> str:
    hit = result["reached"]
    if hit:
        return (
            f"  {name}: {hit['seconds']:8.1f} s to {hit['accuracy']:.2%}, {hit['batches']} batches, "
            f"{hit['images']:,} images ({result['epochs']:.2f} epochs), "
            f"{result['ms_per_batch']:.1f} ms/batch"
        )
    return (
        f"  {name}: not reached in {result['epochs']:.2f} epochs ({result['batches']} batches, "
        f"{result['train_seconds']:.1f} s); best accuracy {result['best_accuracy']:.2%}"
    )


def main() -> None:
    args = parse_args()
    info = common.print_machine()
    mnist = common.mnist()
    out = {"benchmark": "train_speed", "machine": info, "args": vars(args)}
    if "speed" in args.parts:
        print(
            f"seconds per epoch: train() with default configs (augmentation on), {args.epochs} epochs; an "
            "epoch includes validating 5,000 held-out images (and batch-norm recalibration early on)"
        )
        print(f"  {'arch':<6}{'images':>8}{'epoch 1 s':>11}{'later s':>10}{'images/s':>10}")
        out["speed"] = {}
        for arch in args.archs:
            r = out["speed"][arch] = epoch_speed(arch, mnist, args.limit, args.epochs, args.seed)
            print(
                f"  {arch:<6}{r['images']:>8}{r['first_epoch_s']:11.1f}{r['later_epochs_s']:10.1f}"
                f"{r['images_per_s']:10.0f}",
                flush=True,
            )
        print()
    if "overhead" in args.parts:
        r = out["overhead"] = overhead(mnist, args.overhead_images, args.rounds, args.seed)
        print(
            f"train() against plain fit, default CNN, {r['images']:,} images ({r['batches']} batches), "
            f"second epoch, {args.rounds} rounds (arms back to back, order rotating), ms per batch:"
        )
        for clock_name in ("wall", "cpu"):
            c = r[clock_name]
            print(f"  {clock_name} clock:")
            for arm, label in (
                ("fit", "plain fit"),
                ("train", "train()"),
                ("watched", "train() as the page runs it"),
            ):
                print(f"    {label:<28}{c[arm + '_ms_median']:7.1f}  (all: {c[arm + '_ms']})")
            print(
                f"    overhead of train(), median of the rounds' own ratios: {c['overhead']:+.1%} "
                f"(rounds: {', '.join(f'{v:+.1%}' for v in c['overhead_by_round'])}); "
                f"as the page runs it: {c['watched_overhead']:+.1%}"
            )
        print()
    if "race" in args.parts:
        x, y = mnist.train_images[: args.race_images], mnist.train_labels[: args.race_images]
        test_x, test_y = mnist.test_images[: args.test_images], mnist.test_labels[: args.test_images]
        print(
            f"race to {args.target:.1%} test accuracy: {len(x)} training images, {len(test_x)} test images "
            f"checked every {args.eval_images:,} training images (clock paused while checking), "
            f"at most {args.max_epochs} epochs"
        )
        ours = race_ours(args, x, y, test_x, test_y)
        print(
            describe(
                f"ours (default CNN, train(), batch {args.ours_batch}, lr {args.ours_lr:g} one-cycle "
                f"over {ours['epochs_planned']} epochs, {ours['parameters']:,} params)",
                ours,
            ),
            flush=True,
        )
        peer = race_peer(args, x, y, test_x, test_y)
        print(
            describe(
                f"peer (Sequential conv32-conv64-dense128, Adam 1e-3, {peer['parameters']:,} params)", peer
            )
        )
        if ours["reached"] and peer["reached"]:
            ratio = peer["reached"]["seconds"] / ours["reached"]["seconds"]
            print(f"  ratio peer/ours: {ratio:.2f}x")
        elif ours["reached"]:
            ratio = peer["train_seconds"] / ours["reached"]["seconds"]
            print(f"  ratio peer/ours: > {ratio:.2f}x (peer did not reach the target)")
        else:
            ratio = None
            print("  ratio peer/ours: n/a (ours did not reach the target)")
        out["race"] = {"ours": ours, "peer": peer, "ratio_peer_over_ours": ratio}
    common.write_json(args.json, out)


if __name__ == "__main__":
    main()
