"""Any input picture -> an upright 8-bit RGB PIL image, or an ImageError that says what is wrong.

Accepts a path, bytes, a binary file object, a PIL image or a numpy array. Honours EXIF orientation,
takes the first frame of an animation, and converts grayscale, palette, RGBA, CMYK and 16-bit/float
images to RGB. Refuses non-images, damaged files and images over a pixel limit before decoding them.

Memory: loading holds at most about 8 bytes per pixel at once, whatever the file's size or pixel format: the
decoded picture (up to 4 bytes a pixel; Pillow keeps any colour pixel in 4) and its RGB copy (4), 320 MB at
the 40-megapixel limit. 16-bit and float data are scaled a strip of rows at a time (facebmi/pixels.py).
"""
from __future__ import annotations

import io
import warnings
from pathlib import Path
from typing import BinaryIO, Union

import numpy as np
from PIL import Image, UnidentifiedImageError

from .filechecks import jpeg_shortfall, unreadable_message, value_problem
from .pixels import STRIP_PIXELS, PixelValueError, to_8_bit

ImageInput = Union[str, Path, bytes, BinaryIO, Image.Image, np.ndarray]

# 40 megapixels: above any phone camera, below what would exhaust memory in detection (Pillow holds a 40 MP
# RGB image in 160 MB). Larger inputs are refused with a message rather than decoded.
MAX_PIXELS = 40_000_000

# Only the photo formats we name. Pillow would also open EPS (through Ghostscript), PSD, ICO and a dozen
# more: each is a decoder an attacker can aim at and none of them is a photo format.
FORMATS = ("JPEG", "PNG", "WEBP", "GIF", "BMP", "TIFF")  # "JPEG" includes MPO, how many phones store one

HIGH_DEPTH_MODES = ("I;16", "I;16B", "I;16L", "I;16N", "I", "F")
ALPHA_MODES = ("RGBA", "LA", "PA", "La", "RGBa")
ORIENTATION_TAG = 0x0112
UPRIGHT = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180, 4: Image.Transpose.FLIP_TOP_BOTTOM,
           5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
           8: Image.Transpose.ROTATE_90}  # EXIF orientation -> the turn that shows the photo upright


class ImageError(ValueError):
    """The input is not a usable picture; the message is meant for the person who supplied it."""


def load_image(source: ImageInput, max_pixels: int = MAX_PIXELS) -> Image.Image:
    if isinstance(source, np.ndarray):
        return _from_array(source, max_pixels)
    opened = not isinstance(source, Image.Image)
    image = _open(source) if opened else source
    try:
        _check_pixels(*image.size, max_pixels)
        if opened and image.format in ("JPEG", "MPO") and (problem := jpeg_shortfall(image)):
            raise ImageError(problem)
        _decode(image)
        orientation = _orientation(image)
        picture = _to_8_bit(image)
    except BaseException:
        if opened:
            image.close()
        raise
    if opened and picture is not image:
        image.close()  # frees the decoded pixels before any further full-size copy
    picture = picture if picture.mode == "RGB" else picture.convert("RGB")
    turn = UPRIGHT.get(orientation)  # phone photos are stored sideways with an EXIF flag
    if turn is None:
        return picture
    upright = picture.transpose(turn)
    # The flag no longer applies: without it, loading the result again (predict does) keeps it upright.
    upright.info = {k: v for k, v in upright.info.items() if k not in ("exif", "xmp", "XML:com.adobe.xmp")}
    return upright


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
            return Image.open(source, formats=FORMATS)
    except UnidentifiedImageError:
        raise ImageError(unreadable_message(source, name)) from None
    except Image.DecompressionBombError:
        raise ImageError(f"{name} has too many pixels to open safely: resize it and try again") from None
    except ValueError as err:  # Pillow's guards on metadata (e.g. a PNG text chunk) fire while it reads the header
        raise ImageError(value_problem(err)) from None
    except (OSError, SyntaxError, EOFError) as err:
        raise ImageError(f"{name} could not be read: {err}") from None


def _check_pixels(w: int, h: int, max_pixels: int) -> None:
    if w * h > max_pixels:
        raise ImageError(f"the image is {w}x{h} ({w * h / 1e6:.0f} megapixels), over the "
                         f"{max_pixels / 1e6:.0f} megapixel limit: resize it and try again")
    if w < 1 or h < 1:
        raise ImageError("the image is empty (zero width or height)")


def _decode(image: Image.Image) -> None:
    try:
        if image.tell() != 0:
            image.seek(0)  # animations: the first frame
        image.load()
    except MemoryError:
        raise
    except ValueError as err:
        raise ImageError(value_problem(err)) from None
    except Exception as err:  # Pillow's decoders report a bad file as OSError, SyntaxError, EOFError, struct.error...
        raise ImageError(f"the image file is damaged or cut short and cannot be read ({err})") from None


def _orientation(image: Image.Image) -> int | None:
    try:
        return image.getexif().get(ORIENTATION_TAG)
    except Exception:  # a malformed EXIF block should not make a readable photo unusable
        return None


def _to_8_bit(image: Image.Image) -> Image.Image:
    """RGB, or L for 16-bit and float data (its RGB copy is made once the decoded pixels are freed)."""
    mode = image.mode
    if mode == "RGB":
        return image
    if mode in HIGH_DEPTH_MODES:
        w, h = image.size
        gray = _scaled(lambda y0, y1: np.asarray(image.crop((0, y0, w, y1))), h, w, np.dtype(_dtype(mode)))
        return Image.fromarray(gray)
    try:
        if mode in ALPHA_MODES or (mode == "P" and "transparency" in image.info):
            return _on_white(image)
        return image.convert("RGB")  # L, P, CMYK, YCbCr, LAB, HSV, 1
    except ValueError:
        raise ImageError(f"the image's colour mode ({mode}) cannot be converted to RGB: save it as an "
                         "ordinary RGB image and try again") from None


def _on_white(image: Image.Image) -> Image.Image:
    """Transparent areas shown white; composed a strip at a time so no full-size RGBA copy is made."""
    w, h = image.size
    canvas = Image.new("RGB", image.size, (255, 255, 255))
    step = max(1, STRIP_PIXELS // w)
    for y in range(0, h, step):
        strip = image.crop((0, y, w, min(h, y + step))).convert("RGBA")
        canvas.paste(strip, (0, y), strip)
    return canvas


def _dtype(mode: str) -> str:
    return {"F": "float32", "I": "int32"}.get(mode, "uint16")


def _scaled(read_rows, h: int, w: int, dtype: np.dtype) -> np.ndarray:
    try:
        return to_8_bit(read_rows, h, w, dtype)
    except PixelValueError as err:
        raise ImageError(str(err)) from None


def _from_array(array: np.ndarray, max_pixels: int) -> Image.Image:
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (3, 4)):
        raise ImageError(f"an image array must be HxW, HxWx3 or HxWx4, got shape {array.shape}")
    h, w = array.shape[:2]
    _check_pixels(w, h, max_pixels)
    if array.dtype == np.bool_:
        array = array.astype(np.uint8) * 255
    elif array.dtype != np.uint8:
        if not (np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.floating)):
            raise ImageError(f"cannot read an image array of dtype {array.dtype}")
        array = _scaled(lambda y0, y1: array[y0:y1], h, w, array.dtype)
    picture = _to_8_bit(Image.fromarray(np.ascontiguousarray(array)))
    return picture if picture.mode == "RGB" else picture.convert("RGB")
