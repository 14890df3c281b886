"""Any input picture -> an upright 8-bit RGB PIL image, or an ImageError that says what is wrong.

Accepts a path, bytes, a binary file object, a PIL image or a numpy array. Honours EXIF orientation,
takes the first frame of an animation, and converts grayscale, palette, RGBA, CMYK and 16-bit/float
images to RGB. Refuses non-images, truncated files and images over a pixel limit before decoding them.
"""
from __future__ import annotations

import io
import warnings
from pathlib import Path
from typing import BinaryIO, Union

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

ImageInput = Union[str, Path, bytes, BinaryIO, Image.Image, np.ndarray]

# 40 megapixels: above any phone camera, below what would exhaust memory in detection (a 40 MP RGB image
# is 120 MB decoded). Larger inputs are refused with a message rather than decoded.
MAX_PIXELS = 40_000_000


class ImageError(ValueError):
    """The input is not a usable picture; the message is meant for the person who supplied it."""


def load_image(source: ImageInput, max_pixels: int = MAX_PIXELS) -> Image.Image:
    if isinstance(source, np.ndarray):
        return _from_array(source, max_pixels)
    if isinstance(source, Image.Image):
        image = source
    else:
        image = _open(source)
    _check_pixels(*image.size, max_pixels)
    try:
        if getattr(image, "n_frames", 1) > 1:
            image.seek(0)  # animations: the first frame
        image.load()
    except (OSError, SyntaxError) as err:
        raise ImageError(f"the image file is damaged or cut short and cannot be read ({err})") from None
    try:
        image = ImageOps.exif_transpose(image)  # phone photos are stored sideways with an EXIF flag
    except Exception:  # a malformed EXIF block should not make a readable photo unusable
        pass
    return _to_rgb(image)


def _open(source) -> Image.Image:
    name = str(source) if isinstance(source, (str, Path)) else "the upload"
    if isinstance(source, (str, Path)):
        path = Path(source)
        if not path.exists():
            raise ImageError(f"no such file: {path}")
        if path.is_dir():
            raise ImageError(f"{path} is a folder, not an image")
        source = path
    elif isinstance(source, (bytes, bytearray)):
        source = io.BytesIO(source)
    try:
        with warnings.catch_warnings():
            # Pillow warns (then errors) on decompression bombs; our own limit gives the clearer message.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            return Image.open(source)
    except UnidentifiedImageError:
        raise ImageError(f"{name} is not an image format we can read (JPEG, PNG, WebP, GIF, BMP, TIFF)") from None
    except Image.DecompressionBombError:
        raise ImageError(f"{name} is too large to open safely") from None
    except OSError as err:
        raise ImageError(f"{name} could not be read: {err}") from None


def _check_pixels(w: int, h: int, max_pixels: int) -> None:
    if w * h > max_pixels:
        raise ImageError(f"the image is {w}x{h} ({w * h / 1e6:.0f} megapixels), over the "
                         f"{max_pixels / 1e6:.0f} megapixel limit: resize it and try again")
    if w < 1 or h < 1:
        raise ImageError("the image is empty (zero width or height)")


def _to_rgb(image: Image.Image) -> Image.Image:
    mode = image.mode
    if mode == "RGB":
        return image
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        return _from_array(np.asarray(image), MAX_PIXELS)
    if mode in ("RGBA", "LA", "PA") or (mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))  # transparent areas shown white
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB")  # L, P, CMYK, YCbCr, LAB, HSV, 1


def _from_array(array: np.ndarray, max_pixels: int) -> Image.Image:
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (3, 4)):
        raise ImageError(f"an image array must be HxW, HxWx3 or HxWx4, got shape {array.shape}")
    h, w = array.shape[:2]
    _check_pixels(w, h, max_pixels)
    if array.dtype == np.uint8:
        pass
    elif array.dtype == np.bool_:
        array = array.astype(np.uint8) * 255
    elif np.issubdtype(array.dtype, np.integer):
        # 16-bit and other integer data: scale by the type's range (a 16-bit photo uses all of it).
        top = 65535 if array.max(initial=0) > 255 else 255
        array = (array.astype(np.float64) * (255.0 / top)).round().clip(0, 255).astype(np.uint8)
    elif np.issubdtype(array.dtype, np.floating):
        finite = np.nan_to_num(array.astype(np.float64))
        top = 1.0 if finite.max(initial=0) <= 1.0 else 255.0  # float images are 0-1 by convention
        array = (finite * (255.0 / top)).round().clip(0, 255).astype(np.uint8)
    else:
        raise ImageError(f"cannot read an image array of dtype {array.dtype}")
    image = Image.fromarray(np.ascontiguousarray(array))
    return _to_rgb(image)

