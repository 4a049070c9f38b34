"""The UCI digits as upload files: what they are, how they look, and that the upload path reads them."""

import io
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from digit_core.other_writers import label_of, read_through_upload_path, render, uci_files, uci_labels
from digit_core.predictions import prepare_upload


@pytest.fixture(scope="module")
def files():
    return uci_files()


def decode(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def test_all_1797_digits_come_with_their_labels_in_file_order(files):
    labels = uci_labels()
    assert len(files) == len(labels) == 1797
    assert labels.dtype == np.uint8 and set(labels.tolist()) == set(range(10))
    assert np.bincount(labels).min() >= 170  # about 180 of each digit
    assert [label_of(name) for name, _ in files] == labels.tolist()
    assert files[0][0] == f"uci-0001-digit-{labels[0]}.png"
    assert files[-1][0] == f"uci-1797-digit-{labels[-1]}.png"
    assert len({name for name, _ in files}) == 1797


def test_each_file_is_a_160px_greyscale_png_of_dark_ink_on_white_paper(files):
    for _, data in files[:20]:
        image = decode(data)
        assert image.format == "PNG" and image.size == (160, 160) and image.mode == "L"
        grey = np.asarray(image)
        border = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
        assert np.median(border) > 200  # white paper around the digit
        assert grey.min() < 60  # with dark ink on it


def test_rendering_maps_ink_levels_to_grey_and_enlarges_bilinearly():
    digit = np.zeros((8, 8), np.uint8)
    digit[2:6, 3:5] = 16  # full ink
    digit[0, 0] = 8  # half ink
    grey = np.asarray(decode(render(digit, size=80)))
    assert grey.shape == (80, 80)
    assert grey[40, 40] == 0 and grey[79, 79] == 255  # a block's centre keeps its value
    assert grey[4, 4] == 128  # 255 - 8 * 255 / 16, rounded
    assert len(np.unique(grey)) > 3  # bilinear: edges in between, not blocky copies
    at_8px = np.asarray(decode(render(digit, size=8)))  # no enlargement: the greys themselves
    assert np.array_equal(at_8px, np.round(255 - digit.astype(np.float64) * 255 / 16))


def test_rendering_refuses_values_outside_0_to_16_and_sizes_below_the_digit():
    with pytest.raises(ValueError, match="values 0..16"):
        render(np.full((8, 8), 17))
    with pytest.raises(ValueError, match="at least 8 px"):
        render(np.zeros((8, 8)), size=4)


def test_a_few_files_come_through_the_upload_path_as_non_blank_mnist_inputs(files):
    sample = files[:12]
    images, labels, refused = read_through_upload_path(sample)
    assert images.dtype == np.float32 and images.shape == (len(sample) - len(refused), 28, 28)
    assert len(refused) <= 2  # a digit or two may be refused as dots, not all
    kept = [label_of(name) for name, _ in sample if name not in dict(refused)]
    assert labels.dtype == np.uint8 and labels.tolist() == kept
    assert (images.max(axis=(1, 2)) > 0.8).all() and images.min() >= 0  # white ink on black, as MNIST
    assert np.array_equal(images[0], prepare_upload(sample[0][1])[0].image)  # exactly the upload's input
    assert (images[:, 0, :] == 0).all() and (images[:, :, 0] == 0).all()  # margins stay black
    ink = images.astype(np.float32)
    rows, cols = np.mgrid[:28, :28]
    cy = (ink * rows).sum(axis=(1, 2)) / ink.sum(axis=(1, 2))
    cx = (ink * cols).sum(axis=(1, 2)) / ink.sum(axis=(1, 2))
    assert np.allclose(cy, 13.5, atol=1.5) and np.allclose(cx, 13.5, atol=1.5)  # centred by mass


def test_unreadable_and_blank_files_are_refused_with_the_upload_pages_reasons(files):
    blank = render(np.zeros((8, 8)))
    given = [files[0], ("uci-9998-digit-1.png", b"not an image"), ("uci-9999-digit-2.png", blank)]
    images, labels, refused = read_through_upload_path(given)
    assert len(images) == len(labels) == 1 and labels[0] == label_of(files[0][0])
    assert [name for name, _ in refused] == ["uci-9998-digit-1.png", "uci-9999-digit-2.png"]
    assert refused[1][1] == "the image is blank: no ink was found"
    assert "image" in refused[0][1] or "text" in refused[0][1]


def test_a_name_without_its_digit_fails_before_any_file_is_read():
    with pytest.raises(ValueError, match="does not say its digit"):
        read_through_upload_path([("scan.png", b"")])
    with pytest.raises(ValueError, match="does not say its digit"):
        label_of("uci-0001-digit-x.png")


def test_nothing_accepted_gives_empty_arrays_of_the_right_shape():
    images, labels, refused = read_through_upload_path([])
    assert images.shape == (0, 28, 28) and labels.shape == (0,) and refused == []


def test_importing_the_module_does_not_load_sklearn_or_tensorflow():
    code = (
        "import sys, digit_core.other_writers; "
        "print(any(m.split('.')[0] in ('sklearn', 'tensorflow', 'streamlit') for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
