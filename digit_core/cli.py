"""``python -m digit_core``: train, predict and evaluate from the command line."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

from .config import ARCHITECTURES, ANNConfig, AugmentConfig, CNNConfig, ModelConfig, TrainConfig

_DEFAULTS = TrainConfig()


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def _parser() -> argparse.ArgumentParser:
    fmt = argparse.ArgumentDefaultsHelpFormatter
    parser = argparse.ArgumentParser(prog="python -m digit_core", description=__doc__, formatter_class=fmt)
    parser.add_argument(
        "--models-dir",
        type=Path,
        default=None,
        help="registry folder; when not given, $DIGIT_MODELS_DIR or the project's models/",
    )
    parser.add_argument(
        "--log-level",
        choices=("debug", "info", "warning", "error"),
        default="error",
        help="what the library logs to stderr (saves, imports, failures); errors are printed anyway",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    t = sub.add_parser("train", help="train a model on MNIST and save it", formatter_class=fmt)
    t.add_argument("--arch", choices=ARCHITECTURES, required=True, help="dense (ann) or convolutional (cnn)")
    t.add_argument("--name", required=True, help="registry name to save under")
    t.add_argument("--epochs", type=_positive_int, default=_DEFAULTS.epochs, help="passes over the data")
    t.add_argument(
        "--batch-size",
        type=_positive_int,
        default=_DEFAULTS.batch_size,
        help="images per step, across all devices",
    )
    t.add_argument("--lr", type=float, default=_DEFAULTS.learning_rate, help="peak learning rate")
    t.add_argument(
        "--optimizer",
        choices=("adam", "sgd", "rmsprop"),
        default=_DEFAULTS.optimizer,
        help="with warm-up and cosine decay of the learning rate",
    )
    t.add_argument(
        "--augment",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="random shifts, rotations, zoom, shear and stroke width",
    )
    t.add_argument(
        "--dropout", type=float, default=None, help="dropout rate; when not given, the architecture's"
    )
    t.add_argument("--width", type=float, default=CNNConfig().width, help="CNN filter multiplier")
    t.add_argument(
        "--units",
        type=_positive_int,
        nargs="+",
        default=list(ANNConfig().units),
        help="ANN hidden layer sizes",
    )
    t.add_argument(
        "--validation-size",
        type=int,
        default=_DEFAULTS.validation_size,
        help="training images held out to pick the best epoch and stop early",
    )
    t.add_argument(
        "--patience",
        type=_positive_int,
        default=_DEFAULTS.patience,
        help="epochs without validation gain before stopping early (counted in the second half only)",
    )
    t.add_argument("--limit", type=_positive_int, default=None, help="train on only N images (quick runs)")
    t.add_argument(
        "--seed",
        type=int,
        default=_DEFAULTS.seed,
        help="seeds the weights, the split, shuffling and augmentation",
    )
    t.add_argument("--overwrite", action="store_true", help="replace an existing model of that name")

    p = sub.add_parser(
        "predict",
        help="predict the digit in image files",
        formatter_class=fmt,
        description="Prints one JSON line per file: its digit, confidence and "
        "probabilities, or the reason it has none. Exits with 1 when any "
        "file failed (unreadable, not an image, blank, not a digit).",
    )
    p.add_argument("--model", default="cnn", help="registry name or path to a .keras file")
    p.add_argument("images", nargs="+", help="image files (PNG, JPEG, BMP, GIF, WebP, ...)")

    e = sub.add_parser(
        "evaluate", help="accuracy and per-class table on the MNIST test set", formatter_class=fmt
    )
    e.add_argument("--model", default="cnn", help="registry name or path to a .keras file")

    sub.add_parser("list", help="list the models in the registry", formatter_class=fmt)

    for name, text in (
        ("collect-export", "write the handwriting set to a .npz or a .zip of PNGs"),
        ("collect-import", "add the samples of .npz or .zip exports to the handwriting set"),
    ):
        c = sub.add_parser(name, help=text, description=text, formatter_class=fmt)
        c.add_argument(
            "--db",
            type=Path,
            default=None,
            help="handwriting database file (default: $DIGIT_HANDWRITING_DB, else the "
            "project's data/handwriting.sqlite)",
        )
        if name == "collect-export":
            c.add_argument("out", type=Path, help="the file to write: its suffix (.npz or .zip) says how")
        else:
            c.add_argument("files", type=Path, nargs="+", help="exports to import (each all or nothing)")
    return parser


def _train(args: argparse.Namespace) -> int:
    from . import registry
    from .data import load_mnist
    from .pipeline import train_on_mnist
    from .progress_bar import ProgressBar

    registry.validate_name(args.name)
    target = registry.model_path(args.name, args.models_dir)
    if target.exists() and not args.overwrite:
        raise registry.ModelError(f"{target} exists; pass --overwrite to replace it")
    dropout = {"dropout": args.dropout} if args.dropout is not None else {}
    model_config: ModelConfig
    if args.arch == "cnn":
        model_config = CNNConfig(width=args.width, **dropout)
    else:
        model_config = ANNConfig(units=tuple(args.units), **dropout)
    train_config = TrainConfig(
        epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.lr,
        optimizer=args.optimizer,
        augment=AugmentConfig() if args.augment else None,
        validation_size=args.validation_size,
        limit=args.limit,
        patience=args.patience,
        seed=args.seed,
    )
    mnist = load_mnist()
    print(f"MNIST from {mnist.source}; training {args.arch} '{args.name}'", file=sys.stderr)
    bar = ProgressBar()
    command = ["python", "-m", "digit_core", *sys.argv[1:]]
    run = train_on_mnist(
        model_config, train_config, mnist, command, on_batch=bar.on_batch, on_epoch=bar.on_epoch
    )
    # Checked again under the registry's lock: the name may have been taken while we trained.
    path = registry.save_model(
        run.result.model, args.name, run.card, args.models_dir, overwrite=args.overwrite
    )
    print(f"saved {path} ({run.card['parameters']:,} parameters, {run.result.seconds:.0f}s)", file=sys.stderr)
    print(f"test accuracy {run.evaluation.accuracy:.4%}")
    return 0


def _predict(args: argparse.Namespace) -> int:
    from .predictions import UploadResult, predict_uploads, result_record
    from .preprocess import ImageError, read_file
    from .registry import load_model

    model = load_model(args.model, args.models_dir)
    failed = 0
    for name in args.images:
        # Each file alone through the upload page's own path, so that it is printed as soon as read.
        try:
            result = predict_uploads(model, [(name, read_file(name))])[0]
        except ImageError as exc:  # the file cannot be read at all
            result = UploadResult(name, error=str(exc))
        failed += result.error is not None
        print(json.dumps(result_record(result)), flush=True)
    return 1 if failed else 0


def _evaluate(args: argparse.Namespace) -> int:
    from .data import load_mnist
    from .evaluation import evaluate, format_report
    from .inference import predict
    from .registry import load_model

    model = load_model(args.model, args.models_dir)
    mnist = load_mnist()
    print(format_report(evaluate(predict(model, mnist.test_images), mnist.test_labels)))
    return 0


def _list(args: argparse.Namespace) -> int:
    from .registry import list_models

    for entry in list_models(args.models_dir):
        card = entry.card or {}
        acc = f"{card['test_accuracy']:.2%}" if isinstance(card.get("test_accuracy"), float) else "?"
        status = "ok" if entry.ok else f"BROKEN: {entry.error}"
        print(f"{entry.name:<20} {card.get('architecture', '?'):<4} {acc:>7}  {status}")
    return 0


def _collect_export(args: argparse.Namespace) -> int:
    from .handwriting import HandwritingStore

    store = HandwritingStore(args.db)
    suffix = args.out.suffix.lower()
    if suffix not in (".npz", ".zip"):
        raise ValueError(f"{args.out}: the file must end in .npz or .zip")
    data = store.export_npz() if suffix == ".npz" else store.export_zip()
    args.out.write_bytes(data)
    print(f"wrote {sum(store.counts()):,} samples to {args.out}", file=sys.stderr)
    return 0


def _collect_import(args: argparse.Namespace) -> int:
    from .handwriting import HandwritingError, HandwritingStore

    store = HandwritingStore(args.db)
    failed = 0
    for path in args.files:
        try:
            result = store.import_file(path.name, path.read_bytes())
            print(f"{path}: {result}", file=sys.stderr)
        except (HandwritingError, OSError) as exc:
            failed += 1
            print(f"{path}: nothing imported: {exc}", file=sys.stderr)
    print(f"the set now holds {sum(store.counts()):,} samples", file=sys.stderr)
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's start-up chatter out
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=getattr(logging, args.log_level.upper()), format="%(levelname)s %(name)s: %(message)s"
    )
    from .data import DataError, MnistNotFoundError
    from .handwriting import HandwritingError
    from .registry import ModelError

    commands = {
        "train": _train,
        "predict": _predict,
        "evaluate": _evaluate,
        "list": _list,
        "collect-export": _collect_export,
        "collect-import": _collect_import,
    }
    try:
        return commands[args.command](args)
    except (ModelError, DataError, MnistNotFoundError, HandwritingError, ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
