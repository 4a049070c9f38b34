"""A corpus of awkward upload files, made here from nothing (no downloads, nothing committed).

Each :class:`Case` is one file and what the app must do with it: read the digit it shows, or
refuse it with a message that contains ``message``. The tests build the corpus in a temporary
folder; to try the files in the app, write them to a folder of your own::

    python -m tests.support.awkward_files /tmp/awkward    # then upload /tmp/awkward/* on the Draw page

The valid digits are drawn by :mod:`tests.support.strokes` with fixed seeds, so every run writes the
same files. Two cases are large (one just under the upload limit, one just over); they are written
only when ``large=True``.
"""

from __future__ import annotations

import io
import struct
import sys
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from digit_core.preprocess import MAX_IMAGE_BYTES

from . import strokes

BROWSER_MB = 1_000_000  # browsers outside Windows count Streamlit's "MB" as 10^6 bytes


@dataclass(frozen=True)
class Case:
    """One awkward file: its name, what it is, and the outcome the app owes it.

    Exactly one of ``digit`` (the digit the image shows) and ``message`` (a fragment of the
    specific error message) is set.
    """

    name: str
    description: str
    digit: int | None = None
    message: str | None = None

    @property
    def expected(self) -> str:
        return f"digit {self.digit}" if self.digit is not None else f"message with {self.message!r}"


# -- drawing and encoding helpers ---------------------------------------------------------------

INK, PAPER = (0, 0, 0, 255), (255, 255, 255, 255)


def _digit(digit: int, size: int = 280, width: float = 18.0, **style) -> np.ndarray:
    """A plain ``digit`` as black ink on a transparent canvas, ``(size, size, 4) uint8``."""
    return strokes.draw_digit(digit, strokes.Style(size=size, width=width * size / 280, **style))


def _on_paper(digit: int, size: int = 280, width: float = 18.0, **style) -> np.ndarray:
    """Black ink on white paper, ``(size, size, 3) uint8``."""
    style = strokes.Style(size=size, width=width * size / 280, **style)
    return strokes.draw_digit(digit, style, ink=INK, paper=PAPER)[..., :3]


def _photo(digit: int, seed: int, size: int = 280) -> np.ndarray:
    """A phone-photo look: dark blue ink on off-white paper, uneven light, grain; RGB."""
    return strokes.photo(_digit(digit, size), np.random.default_rng(seed))


def _encode(image: np.ndarray | Image.Image, fmt: str = "PNG", **options) -> bytes:
    image = Image.fromarray(image) if isinstance(image, np.ndarray) else image
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def _png_with_ihdr(width: int, height: int) -> bytes:
    """A small valid PNG whose header then claims ``width x height`` (with a correct CRC)."""
    data = bytearray(_encode(np.zeros((8, 8), np.uint8)))
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    return bytes(data)


def _can_save(fmt: str) -> bool:
    Image.init()
    return fmt in Image.SAVE


def _noise(seed: int, shape) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)


# -- the files ----------------------------------------------------------------------------------


def empty() -> bytes:
    return b""


def truncated_png() -> bytes:
    data = _encode(_on_paper(4))
    return data[: len(data) // 2]


def truncated_jpeg() -> bytes:
    data = _encode(_photo(5, seed=1), "JPEG", quality=90)
    return data[: len(data) // 3]


def png_signature_only() -> bytes:
    return b"\x89PNG\r\n\x1a\n"


def png_bad_crc() -> bytes:
    data = bytearray(_encode(_on_paper(2)))
    data[29] ^= 0xFF  # the IHDR chunk's checksum
    return bytes(data)


def png_zero_height() -> bytes:
    return _png_with_ihdr(280, 0)


def text_file() -> bytes:
    return b"Shopping list\n- milk\n- 7 eggs\n- bread\n"


def html_page() -> bytes:
    return (
        b"<!DOCTYPE html>\n<html><head><title>digit.png (280\xc3\x97280)</title></head>\n"
        b'<body><img src="https://example.org/digit.png"></body></html>\n'
    )


def svg_drawing() -> bytes:
    return (
        b'<?xml version="1.0" encoding="UTF-8"?>\n<!-- drawn in a vector editor -->\n'
        b'<svg xmlns="http://www.w3.org/2000/svg" width="280" height="280">\n'
        b'  <path d="M40 30 H240 L120 260" stroke="black" stroke-width="18" fill="none"/>\n</svg>\n'
    )


def pdf_document() -> bytes:
    return _encode(Image.fromarray(_on_paper(3)), "PDF")


def zip_archive() -> bytes:
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


def heic_photo() -> bytes:
    # The start of an iPhone HEIC photo: an ISO media "ftyp" box with the heic brand.
    return struct.pack(">I", 24) + b"ftypheic" + bytes(4) + b"mif1heic" + bytes(200)


def random_bytes() -> bytes:
    return bytes(_noise(9, 4096))


def bomb() -> bytes:
    return _png_with_ihdr(30_000, 30_000)  # 900 million pixels declared, 80 bytes on disk


def gif_bomb() -> bytes:
    data = bytearray(_encode(Image.fromarray(_on_paper(1)).convert("P"), "GIF"))
    data[6:10] = struct.pack("<HH", 65535, 65535)  # logical screen of 4.3 billion pixels
    return bytes(data)


def over_the_limit() -> bytes:
    # A real PNG followed by padding, one byte over the limit: refused before any decoding.
    data = _encode(_on_paper(6))
    return data + bytes(MAX_IMAGE_BYTES + 1 - len(data))


def near_the_limit() -> bytes:
    # An uncompressed BMP scan just under 20 * 10^6 bytes (under the limit however MB is counted).
    width = 2800
    height = (20 * BROWSER_MB - 54) // (width * 3)
    scan = Image.fromarray(_photo(8, seed=3, size=700)).resize((width, height), Image.Resampling.BILINEAR)
    return _encode(scan, "BMP")


def one_pixel() -> bytes:
    return _encode(np.zeros((1, 1, 3), np.uint8))


def long_strip() -> bytes:
    # 10000 x 50: a strip of paper with a small 7 near its left end.
    strip = np.full((50, 10_000, 3), 255, np.uint8)
    strip[:, 200:250] = _on_paper(7, size=50, width=20)
    return _encode(strip)


def mnist_sized() -> bytes:
    return _encode(_on_paper(2, size=28, width=24))


def animated_gif() -> bytes:
    frames = [Image.fromarray(_on_paper(d)) for d in (3, 8, 1)]
    return _encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=200, loop=0)


def animated_png() -> bytes:
    frames = [Image.fromarray(_on_paper(d)) for d in (6, 0)]
    return _encode(frames[0], "PNG", save_all=True, append_images=frames[1:], duration=200)


def grey16_png() -> bytes:
    grey = _on_paper(9)[..., 0].astype(np.uint16) * 257
    return _encode(Image.fromarray(grey))


def float_tiff() -> bytes:
    return _encode(Image.fromarray(_on_paper(4)[..., 0].astype(np.float32) / 255.0), "TIFF")


def cmyk_jpeg() -> bytes:
    return _encode(Image.fromarray(_on_paper(2)).convert("CMYK"), "JPEG", quality=95)


def palette_transparent_png() -> bytes:
    palette = Image.fromarray(_digit(1, width=20)).quantize(colors=4)
    transparent = int(palette.getpixel((0, 0)))
    return _encode(palette, "PNG", transparency=transparent)


def canvas_png() -> bytes:
    return _encode(_digit(5))  # what the drawing canvas sends: ink only in the alpha channel


def fully_transparent() -> bytes:
    return _encode(np.zeros((280, 280, 4), np.uint8))


def all_white() -> bytes:
    return _encode(np.full((280, 280, 3), 255, np.uint8))


def all_black() -> bytes:
    return _encode(np.zeros((280, 280, 3), np.uint8))


def huge_white() -> bytes:
    # 6000 x 6000 white pixels: 36 million pixels (under the limit) in a few tens of kilobytes.
    return _encode(Image.new("1", (6000, 6000), 1), optimize=True)


def faint() -> bytes:
    paper = _on_paper(3).astype(np.int16)
    return _encode((200 + paper * 10 // 255).astype(np.uint8))  # 200 on 210: 4% contrast


def shadow_only() -> bytes:
    yy, xx = np.mgrid[0:300, 0:400] / 400
    light = 0.95 - 0.35 * (xx + yy) / 2
    return _encode((np.repeat(light[..., None], 3, axis=2) * 255).astype(np.uint8), "JPEG", quality=85)


def noise_rgb() -> bytes:
    return _encode(_noise(1, (280, 280, 3)))


def noise_grey_small() -> bytes:
    return _encode(_noise(2, (64, 64)))


def dust_specks() -> bytes:
    specks = np.random.default_rng(3).random((300, 300)) < 0.02
    return _encode(np.where(specks, 0, 255).astype(np.uint8))


def solid_square() -> bytes:
    square = np.full((280, 280), 255, np.uint8)
    square[60:220, 60:220] = 0
    return _encode(square)


def exif_rotated_photo() -> bytes:
    # Stored on its side, with EXIF orientation 6 ("rotate 90 degrees clockwise to display").
    stored = Image.fromarray(_photo(7, seed=4)).transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6
    return _encode(stored, "JPEG", quality=90, exif=exif.tobytes())


def photo_jpeg() -> bytes:
    return _encode(_photo(3, seed=5), "JPEG", quality=85)


def progressive_jpeg() -> bytes:
    return _encode(_on_paper(9), "JPEG", quality=85, progressive=True)


def low_quality_jpeg() -> bytes:
    return _encode(_on_paper(4), "JPEG", quality=8)


def greyscale_jpeg() -> bytes:
    return _encode(Image.fromarray(_on_paper(6)).convert("L"), "JPEG", quality=90)


def lined_paper_jpeg() -> bytes:
    paper = np.full((280, 280, 3), (250, 248, 240), np.uint8)
    for y in range(20, 280, 28):  # pale blue rules every 28 px and a red margin
        paper[y : y + 2] = (170, 200, 235)
    paper[:, 30:32] = (235, 160, 160)
    ink = _digit(8, width=14)[..., 3:].astype(np.float32) / 255.0
    written = paper * (1 - ink) + np.array([30, 35, 90]) * ink
    return _encode(written.astype(np.uint8), "JPEG", quality=88)


def inverted_photo() -> bytes:
    return _encode(255 - _photo(2, seed=6), "JPEG", quality=88)  # chalk on a blackboard


def low_contrast() -> bytes:
    paper = _on_paper(0).astype(np.int16)
    return _encode((100 + paper * 50 // 255).astype(np.uint8))  # grey 100 on grey 150


def thin_stroke() -> bytes:
    return _encode(_on_paper(1, width=2.5, variant=0.5))


def thick_stroke() -> bytes:
    return _encode(_on_paper(7, width=45))


def in_a_corner() -> bytes:
    return _encode(_on_paper(4, size=600, width=5, height=0.15, centre=(0.1, 0.12)))


def webp_digit() -> bytes:
    return _encode(_photo(6, seed=7), "WEBP", quality=80)


def avif_digit() -> bytes:
    return _encode(_on_paper(5), "AVIF", quality=80)


def bmp_digit() -> bytes:
    return _encode(_on_paper(8), "BMP")


def tiff_named_png() -> bytes:
    return _encode(_on_paper(0), "TIFF")


def jpeg_named_gif() -> bytes:
    return _encode(_photo(9, seed=8), "JPEG", quality=90)


def text_line() -> bytes:
    page = Image.new("L", (600, 120), 255)
    ImageDraw.Draw(page).text((10, 30), "The quick brown fox jumps over 13 lazy dogs", fill=0, font_size=28)
    return _encode(page)


# name, what it is, expected digit or message fragment, how to make it
CORPUS: list[tuple[str, str, int | str, Callable[[], bytes]]] = [
    # Not an image at all
    ("empty.png", "an empty file", "empty", empty),
    ("notes.png", "a text file renamed .png", "a text file, not an image", text_file),
    ("page.png", "an HTML page saved under an image's name", "HTML web page, not an image", html_page),
    (
        "drawing.svg",
        "an SVG vector drawing of a 7",
        "SVG (vector) drawing, which is not supported",
        svg_drawing,
    ),
    ("vector.png", "the same SVG saved under a .png name", "SVG (vector) drawing", svg_drawing),
    ("scan.pdf", "a one-page PDF of a scanned 3", "PDF document, not an image", pdf_document),
    ("document.png", "a ZIP archive (a Word document) renamed .png", "ZIP archive", zip_archive),
    (
        "iphone.heic",
        "the start of an iPhone HEIC photo",
        "HEIC/HEIF photo, which is not supported",
        heic_photo,
    ),
    ("random.png", "4 KB of random bytes", "not an image file", random_bytes),
    # Damaged images
    ("truncated.png", "the first half of a PNG", "damaged or truncated", truncated_png),
    ("truncated.jpg", "the first third of a JPEG photo", "damaged or truncated", truncated_jpeg),
    (
        "signature_only.png",
        "a PNG signature and nothing else",
        "starts like a PNG image but is damaged",
        png_signature_only,
    ),
    (
        "bad_crc.png",
        "a PNG whose header checksum is wrong",
        "starts like a PNG image but is damaged",
        png_bad_crc,
    ),
    (
        "zero_height.png",
        "a PNG that declares a height of 0",
        "starts like a PNG image but is damaged",
        png_zero_height,
    ),
    # Sizes
    ("bomb.png", "a decompression bomb: 30000x30000 declared in 80 bytes", "too many pixels", bomb),
    ("bomb.gif", "a GIF whose screen is 65535x65535", "too many pixels", gif_bomb),
    ("tiny_1x1.png", "a 1x1 image", "1x1 pixels: too small", one_pixel),
    ("strip_10000x50.png", "a 10000x50 strip with a small 7 near its end", 7, long_strip),
    ("mnist_28x28.png", "a 2 at MNIST's own 28x28 size", 2, mnist_sized),
    ("huge_white.png", "36 million white pixels that compress to a few KB", "blank: no ink", huge_white),
    # Formats and colour modes
    ("animated.gif", "an animated GIF: 3, then 8, then 1 (the first frame counts)", 3, animated_gif),
    ("animated.png", "an animated PNG: 6, then 0", 6, animated_png),
    ("grey16.png", "a 16-bit greyscale PNG of a 9", 9, grey16_png),
    ("float.tiff", "a 32-bit float TIFF of a 4", 4, float_tiff),
    ("cmyk.jpg", "a CMYK JPEG of a 2", 2, cmyk_jpeg),
    (
        "palette_transparent.png",
        "a 4-colour palette PNG with a transparent background (a 1)",
        1,
        palette_transparent_png,
    ),
    ("canvas.png", "black ink on a transparent background, as the drawing canvas sends", 5, canvas_png),
    ("progressive.jpg", "a progressive JPEG of a 9", 9, progressive_jpeg),
    ("blocky.jpg", "a JPEG of a 4 at quality 8", 4, low_quality_jpeg),
    ("greyscale.jpg", "a greyscale JPEG of a 6", 6, greyscale_jpeg),
    ("photo.webp", "a WebP photo of a 6", 6, webp_digit),
    *([("digit.avif", "an AVIF image of a 5", 5, avif_digit)] if _can_save("AVIF") else []),  # Pillow >= 11.3
    ("digit.bmp", "a BMP of an 8", 8, bmp_digit),
    ("tiff_inside.png", "a TIFF of a 0 named .png", 0, tiff_named_png),
    ("photo_really_jpeg.gif", "a JPEG photo of a 9 named .gif", 9, jpeg_named_gif),
    # No ink, or ink that is no digit
    ("transparent.png", "a fully transparent canvas", "blank: no ink", fully_transparent),
    ("white.png", "all white", "blank: no ink", all_white),
    ("black.png", "all black", "blank: no ink", all_black),
    ("faint.png", "a 3 at 4% contrast, too faint to be ink", "blank: no ink", faint),
    ("shadow.jpg", "blank paper in uneven light", "blank: no ink", shadow_only),
    ("noise.png", "pure colour noise", "not look like a digit: its strokes are far longer", noise_rgb),
    (
        "noise_small.png",
        "64x64 greyscale noise",
        "not look like a digit: its strokes are far longer",
        noise_grey_small,
    ),
    ("dust.png", "white paper with dust specks", "not look like a digit: the ink is scattered", dust_specks),
    ("square.png", "a solid black square", "not look like a digit: the ink is one solid block", solid_square),
    ("text_line.png", "a line of typed text", "not look like a digit: the ink is a long row", text_line),
    # Real digits in awkward conditions
    ("exif_rotated.jpg", "a photo of a 7 stored on its side with EXIF orientation 6", 7, exif_rotated_photo),
    ("photo.jpg", "a phone photo of a 3", 3, photo_jpeg),
    ("lined_paper.jpg", "an 8 written on lined paper with a margin", 8, lined_paper_jpeg),
    ("chalkboard.jpg", "an inverted photo: a light 2 on a dark board", 2, inverted_photo),
    ("low_contrast.png", "a 0 in grey 100 on grey 150", 0, low_contrast),
    ("thin_stroke.png", "a 1 drawn with a 2.5 px pen", 1, thin_stroke),
    ("thick_stroke.png", "a 7 drawn with a 45 px marker", 7, thick_stroke),
    ("corner.png", "a small 4 in the top-left corner of a 600x600 page", 4, in_a_corner),
]

LARGE: list[tuple[str, str, int | str, Callable[[], bytes]]] = [
    ("large_scan.bmp", "a 2800x2380 BMP scan of an 8, just under 20 MB", 8, near_the_limit),
    (
        "too_big.png",
        "a PNG padded to one byte over the size limit",
        "larger than the 20 MB limit",
        over_the_limit,
    ),
]


def make_corpus(folder: Path, large: bool = True) -> list[Case]:
    """Write every awkward file into ``folder`` (created if needed) and return their cases.

    ``large=False`` leaves out the two files of about 20 MB.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    cases = []
    for name, description, expected, make in CORPUS + (LARGE if large else []):
        (folder / name).write_bytes(make())
        if isinstance(expected, int):
            cases.append(Case(name, description, digit=expected))
        else:
            cases.append(Case(name, description, message=expected))
    return cases


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description="Write the awkward-upload corpus to a folder.")
    parser.add_argument("folder", type=Path, help="where to write the files (created if needed)")
    parser.add_argument("--no-large", action="store_true", help="leave out the two files of about 20 MB")
    args = parser.parse_args(argv)
    for case in make_corpus(args.folder, large=not args.no_large):
        print(f"{case.name:<26} {case.description}  ->  {case.expected}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
