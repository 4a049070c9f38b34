"""Any drawing or image -> the model input, made the way MNIST was made.

Steps (see :func:`prepare`): find the ink (invert dark-on-light, read ink from alpha on a
transparent background, flatten uneven lighting in photos), crop to it, bring its stroke width
into MNIST's range, fit the longer side to 20 px with anti-aliasing, and put its centre of mass
at the centre of the 28x28 field. Uses numpy and Pillow only.

Awkward input is refused with a message in plain words, never a traceback: files that are not
images (and what they are instead: text, HTML, SVG, PDF, ...), damaged images, images outside the
limits set below, blank images, and ink that does not look like a digit (:func:`not_a_digit`).
"""

from __future__ import annotations

import io
import math
import os
import warnings
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageFilter, ImageOps

from .spec import DIGIT_BOX, IMAGE_SIZE

# Limits on what we agree to decode: the one place they are set, shared by the app and the
# command line. .streamlit/config.toml's server.maxUploadSize must equal MAX_UPLOAD_MB (Streamlit's
# server counts its "MB" as 2**20 bytes; browsers outside Windows count 10**6, so from a browser
# files over 20,000,000 bytes are refused before they reach us).
MAX_UPLOAD_MB = 20
MAX_IMAGE_BYTES = MAX_UPLOAD_MB * 2**20
MAX_IMAGE_PIXELS = 40_000_000  # e.g. 8000 x 5000; larger declared sizes are refused unread
MIN_IMAGE_SIDE = 8  # px; smaller images cannot show a digit (sklearn's digits are 8x8, MNIST's 28x28)
WORK_MAX_PIXELS = 1024 * 1024  # larger inputs are first shrunk to this many (a digit needs no more)
WORK_MAX_SIDE = 1024  # a big JPEG is decoded at a fraction of its size, down to about this side
WORK_SCALE = 4  # stroke width is adjusted at 4x the final 20 px box, i.e. an 80 px box

MIN_CONTRAST = 0.08  # weaker ink than this, on a 0..1 scale, counts as blank
# Stroke width in px at the 20 px box scale, as 2 * area / perimeter of the ink. MNIST's training
# digits measure 1.12 / 1.50 / 1.80 / 2.16 / 2.80 at the 5/25/50/75/95th percentiles by this
# estimator (bench/stroke_width.py). Widths outside the 5-95 range are moved to the 25-75 range.
STROKE_MIN, STROKE_MAX = 1.12, 2.8
STROKE_TARGET = (1.5, 2.16)

# What pen strokes look like, for telling a digit from noise, specks, text and solid shapes (see
# :func:`not_a_digit`; bench figures are in its docstring). Measured on the ink mask (> 0.5).
MAX_STROKE_LENGTH = 6.5  # perimeter / 2 in units of the ink box's longer side; digits reach 4.6
MAX_FILL = 0.75  # ink area / the ink box's longer side squared; digits reach 0.63, a disc 0.785
MAX_WIDE = 3.5  # ink box width / height; MNIST's widest digits reach 2.5, a line of text 10 or more
MIN_MAIN_PIECE = 0.3  # the largest connected piece's share of the ink; digits keep 0.45 or more
PIECE_GRID = 128  # pieces are seen on a grid of at most this many cells along the longer side


class ImageError(ValueError):
    """The input cannot be used as an image; the message says why in plain words."""


class BlankImageError(ImageError):
    """The image holds no ink: nothing to classify."""


NOT_A_DIGIT = "this does not look like a digit"


@dataclass(frozen=True)
class Prepared:
    """The model input and how it was made.

    ``image`` is ``(28, 28) float32`` in [0, 1], white digit on black (all zeros when ``blank``).
    ``box`` is the ink's bounding box ``(top, left, bottom, right)`` in the working image.
    """

    image: np.ndarray
    blank: bool
    inverted: bool
    flattened: bool
    stroke_scale: float  # stroke width seen, in 20 px box pixels, before adjustment
    box: tuple[int, int, int, int] | None
    not_a_digit: str | None = None  # why the ink is not one digit (see :func:`not_a_digit`)


def load_image(source) -> np.ndarray:
    """Decode an image into ``(H, W, 4) uint8`` RGBA.

    ``source``: bytes, a binary file object, a path, a PIL image, or a numpy array (returned as
    RGBA). Applies EXIF orientation, takes the first frame of animations, and converts palette,
    greyscale(+alpha), 16-bit, float, CMYK and RGB(A) images. Raises :class:`ImageError` for
    anything that is not a decodable image within the size limits, with a message that says what
    the file is when it is something else (text, a web page, SVG, PDF, an archive, HEIC).
    """
    if isinstance(source, np.ndarray):
        return as_rgba(source)
    if isinstance(source, Image.Image):
        return _pil_to_rgba(source)
    if isinstance(source, (str, os.PathLike)):
        source = read_file(source)
    if hasattr(source, "read"):
        source = source.read(MAX_IMAGE_BYTES + 1)
    if not isinstance(source, (bytes, bytearray, memoryview)):
        raise ImageError(f"unsupported image source of type {type(source).__name__}")
    data = bytes(source)
    if not data:
        raise ImageError("the file is empty")
    if len(data) > MAX_IMAGE_BYTES:
        raise ImageError(f"the file is larger than the {MAX_UPLOAD_MB} MB limit")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            try:
                opened = Image.open(io.BytesIO(data))
            except (Image.DecompressionBombError, Image.DecompressionBombWarning):
                raise
            except Exception as exc:  # noqa: BLE001 - no format took it (some plugins raise OSError)
                raise ImageError(what_file_is(data)) from exc
            with opened as image:
                _check_size(image.size)
                if image.format == "JPEG" and max(image.size) > 2 * WORK_MAX_SIDE:
                    # Let the decoder scale a big photo down (by 2, 4 or 8) instead of inflating it.
                    image.draft(image.mode, (WORK_MAX_SIDE, WORK_MAX_SIDE))
                image.load()
                return _pil_to_rgba(image)
    except ImageError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageError(f"the image declares too many pixels to decode safely (the limit is "
                         f"{MAX_IMAGE_PIXELS // 1_000_000} million pixels)") from exc
    except MemoryError as exc:
        raise ImageError("the image is too large to decode in the memory available") from exc
    except Exception as exc:  # noqa: BLE001 - a decoder fed a hostile file may raise anything
        raise ImageError(f"the image is damaged or truncated ({exc or type(exc).__name__})") from exc


def read_file(path) -> bytes:
    """The bytes of the file at ``path``, no more than one byte past the size limit (so that
    :func:`load_image` can refuse it); :class:`ImageError` when it cannot be read."""
    try:
        with open(path, "rb") as f:
            return f.read(MAX_IMAGE_BYTES + 1)
    except OSError as exc:
        raise ImageError(f"cannot read file: {exc.strerror or exc}") from exc


# Signatures of the image formats Pillow reads: such a file that Pillow cannot open is damaged.
# (BMP's two letters are looked for only once the file is known not to be text.)
_IMAGE_SIGNATURES = {
    b"\x89PNG\r\n\x1a\n": "PNG", b"\xff\xd8\xff": "JPEG", b"GIF87a": "GIF", b"GIF89a": "GIF",
    b"II*\x00": "TIFF", b"MM\x00*": "TIFF",
}


def what_file_is(data: bytes) -> str:
    """A plain-words message for bytes that Pillow cannot open: what the file seems to be.

    Looks at the first 2 KB only: a damaged PNG, JPEG, GIF, TIFF, WebP or BMP, or a PDF, SVG, HTML
    page, other XML, ZIP archive (Office documents are ZIP), HEIC/HEIF photo, or other text.
    """
    head = data[:2048]
    for signature, kind in _IMAGE_SIGNATURES.items():
        if head.startswith(signature):
            return f"the file starts like a {kind} image but is damaged: its header cannot be read"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "the file starts like a WebP image but is damaged: its header cannot be read"
    if head.startswith(b"%PDF"):
        return "this is a PDF document, not an image: export the page as PNG or JPEG"
    if head.startswith(b"PK\x03\x04"):
        return "this is a ZIP archive (or an Office document), not an image"
    if head[4:8] == b"ftyp" and head[8:12] in (b"heic", b"heix", b"heim", b"heis", b"hevc", b"mif1", b"msf1"):
        return "this is a HEIC/HEIF photo, which is not supported: save it as JPEG or PNG"
    text = _as_text(head)
    if text is not None:
        lowered = text.lstrip("\ufeff \t\r\n").lower()
        html = "this is an HTML web page, not an image (perhaps the page around an image was saved)"
        if lowered.startswith(("<!doctype html", "<html")):
            return html
        if "<svg" in lowered:
            return "this is an SVG (vector) drawing, which is not supported: export it as PNG"
        if "<html" in lowered[:512]:
            return html
        if lowered.startswith("<?xml"):
            return "this is an XML text file, not an image"
        return "this is a text file, not an image"
    if head.startswith(b"BM"):
        return "the file starts like a BMP image but is damaged: its header cannot be read"
    return "not an image file, or an image format that is not supported"


def _as_text(head: bytes) -> str | None:
    """``head`` decoded as UTF-8 (or Latin-1) when it looks like text, else None."""
    if b"\x00" in head:
        return None
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A character cut off at the end of ``head`` is still UTF-8; anything else may be Latin-1.
        cut = exc.start >= len(head) - 4
        text = head[:exc.start].decode("utf-8") if cut else head.decode("latin-1")
    printable = sum(ch.isprintable() or ch in "\t\r\n" for ch in text)
    return text if text and printable >= 0.95 * len(text) else None


def _check_size(size: tuple[int, int]) -> None:
    width, height = size
    if width < 1 or height < 1:
        raise ImageError("the image has no pixels")
    if width * height > MAX_IMAGE_PIXELS:
        raise ImageError(f"the image is {width}x{height} pixels; the limit is "
                         f"{MAX_IMAGE_PIXELS // 1_000_000} million pixels")
    if min(width, height) < MIN_IMAGE_SIDE:
        raise ImageError(f"the image is only {width}x{height} pixels: too small to show a digit "
                         f"(at least {MIN_IMAGE_SIDE}x{MIN_IMAGE_SIDE} is needed)")


def _pil_to_rgba(image: Image.Image) -> np.ndarray:
    _check_size(image.size)
    image.seek(0) if getattr(image, "is_animated", False) else None
    image = ImageOps.exif_transpose(image)
    if image.mode in ("I", "I;16", "I;16B", "I;16L", "I;16N", "F"):
        # Pillow's convert("L") clips 16-bit values at 255 instead of scaling them.
        values = np.asarray(image, dtype=np.float64)
        top = 65535.0 if values.max(initial=0) > 255 or image.mode.startswith("I;16") else 255.0
        if image.mode == "F":
            top = 1.0 if values.max(initial=0) <= 1.0 else 255.0
        grey = np.clip(values / top * 255.0, 0, 255).astype(np.uint8)
        return as_rgba(grey)
    if image.mode != "RGBA":
        # Palette transparency and LA/PA alpha survive this; CMYK and YCbCr become RGB.
        image = image.convert("RGBA")
    return np.asarray(image, dtype=np.uint8).copy()


def as_rgba(array: np.ndarray) -> np.ndarray:
    """An ``(H, W)``, ``(H, W, 1|2|3|4)`` uint8 or [0, 1] float array -> ``(H, W, 4) uint8``."""
    array = np.asarray(array)
    if array.ndim == 2:
        array = array[..., np.newaxis]
    if array.ndim != 3 or array.shape[2] not in (1, 2, 3, 4) or 0 in array.shape[:2]:
        raise ImageError(f"expected an image array of shape (H, W[, 1-4]), got {array.shape}")
    _check_size((array.shape[1], array.shape[0]))
    if array.dtype != np.uint8:
        if not np.issubdtype(array.dtype, np.floating) and not np.issubdtype(array.dtype, np.integer):
            raise ImageError(f"unsupported pixel type {array.dtype}")
        values = array.astype(np.float64)
        if not np.isfinite(values).all():
            raise ImageError("the image contains NaN or infinite values")
        scale = 255.0 if np.issubdtype(array.dtype, np.floating) and values.max(initial=0) <= 1.0 else 1.0
        array = np.clip(values * scale, 0, 255).astype(np.uint8)
    channels = array.shape[2]
    if channels in (1, 2):
        grey = np.repeat(array[..., :1], 3, axis=2)
        alpha = array[..., 1:2] if channels == 2 else np.full_like(array[..., :1], 255)
        return np.concatenate([grey, alpha], axis=2)
    if channels == 3:
        return np.concatenate([array, np.full_like(array[..., :1], 255)], axis=2)
    return np.ascontiguousarray(array)


def _shrink(rgba: np.ndarray) -> np.ndarray:
    # Bounded by pixel count, not by side: a 10000x50 strip keeps its digit's 50 px of height.
    height, width = rgba.shape[:2]
    if height * width <= WORK_MAX_PIXELS:
        return rgba
    scale = (WORK_MAX_PIXELS / (height * width)) ** 0.5
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return np.asarray(Image.fromarray(rgba).resize(size, Image.Resampling.BOX))


def _border(values: np.ndarray) -> np.ndarray:
    ring = max(1, min(values.shape) // 50)
    return np.concatenate([values[:ring].ravel(), values[-ring:].ravel(),
                           values[:, :ring].ravel(), values[:, -ring:].ravel()])


def _otsu(values: np.ndarray) -> float:
    """The threshold that best splits ``values`` in [0, 1] into two classes."""
    bins = np.clip((values * 256).astype(np.int32), 0, 255)
    hist = np.bincount(bins.ravel(), minlength=256).astype(np.float64)
    edges = np.linspace(0.0, 1.0, 257)
    weight0 = np.cumsum(hist)
    weight1 = weight0[-1] - weight0
    centres = (edges[:-1] + edges[1:]) / 2
    mass0 = np.cumsum(hist * centres)
    mean0 = np.divide(mass0, weight0, out=np.zeros_like(mass0), where=weight0 > 0)
    mean1 = np.divide(mass0[-1] - mass0, weight1, out=np.zeros_like(mass0), where=weight1 > 0)
    between = weight0 * weight1 * (mean0 - mean1) ** 2
    # Two clean levels give a flat maximum over the whole gap between them: take its middle.
    best = np.flatnonzero(between >= between.max() * (1 - 1e-6))
    return float(edges[(best[0] + best[-1]) // 2 + 1])


def _float_image(values: np.ndarray) -> Image.Image:
    return Image.fromarray(np.ascontiguousarray(values, dtype=np.float32))


def _background(ink: np.ndarray) -> np.ndarray:
    """A smooth estimate of the paper's own ink level (shadows, uneven light), same shape."""
    height, width = ink.shape
    scale = 64 / max(height, width)
    small = _float_image(ink).resize((max(1, round(width * scale)), max(1, round(height * scale))),
                                     Image.Resampling.BOX)
    # An opening wider than any pen stroke keeps the lighting and drops the writing.
    opened = small.filter(ImageFilter.MinFilter(9)).filter(ImageFilter.MaxFilter(9))
    # Smooth by shrinking to 16 px and enlarging bilinearly (Pillow cannot blur float images).
    smooth = opened.resize((max(1, small.width // 4), max(1, small.height // 4)), Image.Resampling.BOX)
    return np.asarray(smooth.resize((width, height), Image.Resampling.BILINEAR), dtype=np.float32)


def ink_map(rgba: np.ndarray) -> tuple[np.ndarray, bool, bool]:
    """``(H, W, 4) uint8`` -> ``(ink, inverted, flattened)``.

    ``ink`` is ``(H, W) float32`` in [0, 1], 1 where the pen left the most ink, 0 for background.
    """
    # Pillow's "L" is the ITU-R 601 luma (0.299 R + 0.587 G + 0.114 B), computed in C.
    lum = np.asarray(Image.fromarray(rgba).convert("RGB").convert("L"), dtype=np.float32) / 255.0
    alpha_u8 = rgba[..., 3]
    if alpha_u8.min() < 250 and alpha_u8.max() > 0:
        alpha = alpha_u8.astype(np.float32) / 255.0
        # Transparent background: composite onto whichever of black or white the ink is not.
        ink_lum = float((lum * alpha).sum() / alpha.sum())
        paper = 1.0 if ink_lum < 0.5 else 0.0
        lum = lum * alpha + paper * (1.0 - alpha)
    border = _border(lum)
    inverted = bool(np.median(border) > 0.5)
    ink = 1.0 - lum if inverted else lum
    # A canvas has a uniform background; a photo's border varies with the light. Only then
    # subtract the estimated background, which would otherwise eat into very thick strokes.
    flattened = bool(np.percentile(_border(ink), 90) - np.percentile(_border(ink), 10) > 0.04)
    if flattened:
        ink = ink - _background(ink)
    ink = np.clip(ink - np.median(_border(ink)), 0.0, 1.0)
    return ink.astype(np.float32), inverted, flattened


def _normalise_contrast(ink: np.ndarray) -> np.ndarray | None:
    """Stretch so stroke cores reach 1 and paper noise goes to 0; None when there is no ink."""
    peak = float(ink.max())
    if peak < MIN_CONTRAST:
        return None
    threshold = _otsu(ink / peak) * peak
    strokes = ink[ink >= threshold]
    high = float(np.percentile(strokes, 90)) if strokes.size else peak
    low = threshold * 0.5
    if high - low < MIN_CONTRAST / 2:
        return None
    return np.clip((ink - low) / (high - low), 0.0, 1.0)


def stroke_width(mask: np.ndarray) -> float:
    """Mean stroke width in pixels of a boolean ink mask, as ``2 * area / perimeter``."""
    area = int(mask.sum())
    if area == 0:
        return 0.0
    padded = np.pad(mask, 1)
    perimeter = int(np.count_nonzero(padded[1:] != padded[:-1]) +
                    np.count_nonzero(padded[:, 1:] != padded[:, :-1]))
    return 2.0 * area / max(perimeter, 1)


def _adjust_stroke(work: np.ndarray) -> tuple[np.ndarray, float]:
    """Dilate or erode the 80 px-box image so its stroke width falls in MNIST's range."""
    width = stroke_width(work > 0.5) / WORK_SCALE
    if STROKE_MIN <= width <= STROKE_MAX or width == 0:
        return work, width
    target = STROKE_TARGET[0] if width < STROKE_MIN else STROKE_TARGET[1]
    # A (2r+1) max/min filter changes the width by about 2r pixels.
    radius = int(round(abs(target - width) * WORK_SCALE / 2))
    if radius == 0:
        return work, width
    rank = ImageFilter.MaxFilter if width < STROKE_MIN else ImageFilter.MinFilter
    adjusted = np.asarray(_float_image(work).filter(rank(2 * radius + 1)), dtype=np.float32)
    if not (adjusted > 0.5).any():
        return work, width  # thinning would erase the digit: keep it as drawn
    return adjusted, width


def _centre_by_mass(digit: np.ndarray) -> np.ndarray:
    """Place an ``(h, w)`` digit (h, w <= 20) in 28x28 with its centre of mass at (14, 14)."""
    height, width = digit.shape
    total = float(digit.sum())
    rows, cols = np.arange(height), np.arange(width)
    cy = float(digit.sum(axis=1) @ rows) / total
    cx = float(digit.sum(axis=0) @ cols) / total
    centre = IMAGE_SIZE / 2  # MNIST's digits have their mean centre of mass at (14.0, 14.0)
    top = int(np.clip(round(centre - cy), 0, IMAGE_SIZE - height))
    left = int(np.clip(round(centre - cx), 0, IMAGE_SIZE - width))
    out = np.zeros((IMAGE_SIZE, IMAGE_SIZE), dtype=np.float32)
    out[top:top + height, left:left + width] = digit
    return out


def prepare(image) -> Prepared:
    """Turn a drawing or image (anything :func:`load_image` takes) into the model input.

    Never raises for a blank image: returns ``Prepared(blank=True)`` with an all-zero image.
    """
    ink, inverted, flattened = ink_map(_shrink(load_image(image)))
    return from_ink(ink, inverted, flattened)


def from_ink(ink: np.ndarray, inverted: bool = False, flattened: bool = False) -> Prepared:
    """The model input from an ink map, ``(H, W) float32`` in [0, 1] with 1 for the strongest ink
    (what :func:`ink_map` gives): contrast, crop, stroke width, 20 px box, centre of mass."""
    ink = _normalise_contrast(np.asarray(ink, dtype=np.float32))
    empty = np.zeros((IMAGE_SIZE, IMAGE_SIZE), np.float32)
    if ink is None or not (ink > 0).any():
        return Prepared(empty, True, inverted, flattened, 0.0, None)
    rows, cols = np.flatnonzero(ink.max(axis=1) > 0), np.flatnonzero(ink.max(axis=0) > 0)
    box = (int(rows[0]), int(cols[0]), int(rows[-1]) + 1, int(cols[-1]) + 1)
    crop = ink[box[0]:box[2], box[1]:box[3]]
    height, width = crop.shape
    scale = DIGIT_BOX / max(height, width)
    size20 = (max(1, round(width * scale)), max(1, round(height * scale)))
    size80 = (size20[0] * WORK_SCALE, size20[1] * WORK_SCALE)
    shrinking = max(height, width) > DIGIT_BOX * WORK_SCALE
    work = _float_image(crop).resize(size80, Image.Resampling.BOX if shrinking else Image.Resampling.BILINEAR)
    work, seen_width = _adjust_stroke(np.clip(np.asarray(work, dtype=np.float32), 0, 1))
    # Area-averaging down to the 20 px box is the anti-aliasing MNIST's digits have.
    digit = np.asarray(_float_image(work).resize(size20, Image.Resampling.BOX), dtype=np.float32)
    digit = np.clip(digit, 0.0, 1.0)
    if digit.sum() <= 0:
        return Prepared(empty, True, inverted, flattened, seen_width, box)
    return Prepared(_centre_by_mass(digit), False, inverted, flattened, seen_width, box, not_a_digit(crop))


def not_a_digit(ink: np.ndarray) -> str | None:
    """Why the ink cannot be one handwritten digit, or None when it can.

    ``ink``: ``(H, W) float32`` in [0, 1] after contrast normalisation (stroke cores at 1), as
    :func:`from_ink` sees it. Four cheap measures of the ink mask (> 0.5), each against a limit
    well outside what digits reach. Measured on 5000 MNIST test digits upscaled to 280 px, 5000
    MNIST training digits at 28 px, and 5000 drawn digits of :mod:`digit_core.strokes` (canvas,
    on paper, white on black, photos as JPEG, inverted photos), none of which is refused:

    - stroke length, ``perimeter / 2`` in units of the ink box's longer side: a 1 is about 1, an
      8 about 3, no digit reached 4.6; noise and grain give 8 to 200 (many tiny specks);
    - fill, the ink's area over the square on the box's longer side: digits stay below 0.63; a
      solid square gives 1;
    - width over height of the ink box: MNIST's widest digits reach 2.5, a line of text 10 or more;
    - the largest 8-connected piece's share of the ink, on a grid whose cells are about one
      stroke wide (which closes small gaps in a stroke): digits keep at least 0.45 of their ink
      in one piece; scattered dust and dots spread it over many.
    """
    mask = np.asarray(ink) > 0.5
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if rows.size == 0:
        return None
    mask = mask[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    side = max(mask.shape)
    area = int(mask.sum())
    padded = np.pad(mask, 1)
    perimeter = int(np.count_nonzero(padded[1:] != padded[:-1]) +
                    np.count_nonzero(padded[:, 1:] != padded[:, :-1]))
    if perimeter / (2 * side) > MAX_STROKE_LENGTH:
        return f"{NOT_A_DIGIT}: the ink is scattered in many tiny specks, like noise or texture"
    if area / side**2 > MAX_FILL:
        return f"{NOT_A_DIGIT}: the ink is one solid block, not pen strokes"
    if mask.shape[1] > MAX_WIDE * mask.shape[0]:
        return f"{NOT_A_DIGIT}: the ink is a long row, like a line of text or several digits"
    cell = max(2, math.ceil(2 * area / perimeter), math.ceil(side / PIECE_GRID))
    if _main_piece_share(mask, cell) < MIN_MAIN_PIECE:
        return f"{NOT_A_DIGIT}: the ink is in many separate dots or specks, not the strokes of a digit"
    return None


def _main_piece_share(mask: np.ndarray, cell: int) -> float:
    """The largest 8-connected piece's share of a boolean mask, seen on a grid of ``cell`` px
    cells (a cell is ink when any of its pixels is). Union-find over each row's runs of ink."""
    height, width = -(-mask.shape[0] // cell), -(-mask.shape[1] // cell)
    padded = np.zeros((height * cell, width * cell), dtype=bool)
    padded[:mask.shape[0], :mask.shape[1]] = mask
    coarse = padded.reshape(height, cell, width, cell).any(axis=(1, 3))
    edges = np.diff(np.pad(coarse, ((0, 0), (1, 1))).astype(np.int8), axis=1)
    parent: list[int] = []
    size: list[int] = []

    def root(k: int) -> int:
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    above: list[tuple[int, int, int]] = []  # (start, end, run) of the previous row's runs
    for row in edges:
        starts, ends = np.flatnonzero(row == 1).tolist(), np.flatnonzero(row == -1).tolist()
        runs, first = [], 0
        for start, end in zip(starts, ends):
            run = len(parent)
            parent.append(run)
            size.append(end - start)
            while first < len(above) and above[first][1] < start:
                first += 1  # ends before this run's left diagonal: touches no later run either
            for other_start, _, other in above[first:]:
                if other_start > end:
                    break
                a, b = root(run), root(other)
                if a != b:
                    parent[b] = a
                    size[a] += size[b]
            runs.append((start, end, run))
        above = runs
    return max(size[k] for k in range(len(parent)) if parent[k] == k) / int(coarse.sum())


def to_mnist(image) -> np.ndarray:
    """``(28, 28) float32`` model input for ``image``; raises :class:`BlankImageError` if blank.

    It does not judge whether the ink is a digit: :attr:`Prepared.not_a_digit` says so."""
    prepared = prepare(image)
    if prepared.blank:
        raise BlankImageError("the image is blank: no ink was found")
    return prepared.image
