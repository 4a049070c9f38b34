"""Decoding an image file or array, within the limits set here (no TensorFlow).

Awkward input is refused with a message in plain words, never a traceback: files that are not
images (and what they are instead: text, HTML, SVG, PDF, ...), damaged images, and images outside
the limits below. Everything happens in memory.
"""

from __future__ import annotations

import io
import os
import warnings

import numpy as np
from PIL import Image, ImageOps

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


class ImageError(ValueError):
    """The input cannot be used as an image; the message says why in plain words."""


class BlankImageError(ImageError):
    """The image holds no ink: nothing to classify."""


def load_image(source: object) -> np.ndarray:
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
        raise ImageError(
            f"the image declares too many pixels to decode safely (the limit is "
            f"{MAX_IMAGE_PIXELS // 1_000_000} million pixels)"
        ) from exc
    except MemoryError as exc:
        raise ImageError("the image is too large to decode in the memory available") from exc
    except Exception as exc:  # noqa: BLE001 - a decoder fed a hostile file may raise anything
        raise ImageError(f"the image is damaged or truncated ({exc or type(exc).__name__})") from exc


def read_file(path: str | os.PathLike[str]) -> bytes:
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
    b"\x89PNG\r\n\x1a\n": "PNG",
    b"\xff\xd8\xff": "JPEG",
    b"GIF87a": "GIF",
    b"GIF89a": "GIF",
    b"II*\x00": "TIFF",
    b"MM\x00*": "TIFF",
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
        text = head[: exc.start].decode("utf-8") if cut else head.decode("latin-1")
    printable = sum(ch.isprintable() or ch in "\t\r\n" for ch in text)
    return text if text and printable >= 0.95 * len(text) else None


def _check_size(size: tuple[int, int]) -> None:
    width, height = size
    if width < 1 or height < 1:
        raise ImageError("the image has no pixels")
    if width * height > MAX_IMAGE_PIXELS:
        raise ImageError(
            f"the image is {width}x{height} pixels; the limit is "
            f"{MAX_IMAGE_PIXELS // 1_000_000} million pixels"
        )
    if min(width, height) < MIN_IMAGE_SIDE:
        raise ImageError(
            f"the image is only {width}x{height} pixels: too small to show a digit "
            f"(at least {MIN_IMAGE_SIDE}x{MIN_IMAGE_SIDE} is needed)"
        )


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


def shrink(rgba: np.ndarray) -> np.ndarray:
    """``rgba`` shrunk to at most ``WORK_MAX_PIXELS`` pixels (area-averaged); small images as they are."""
    # Bounded by pixel count, not by side: a 10000x50 strip keeps its digit's 50 px of height.
    height, width = rgba.shape[:2]
    if height * width <= WORK_MAX_PIXELS:
        return rgba
    scale = (WORK_MAX_PIXELS / (height * width)) ** 0.5
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return np.asarray(Image.fromarray(rgba).resize(size, Image.Resampling.BOX))
