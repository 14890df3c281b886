"""16-bit, 32-bit and float pixel data -> 8 bits, a strip of rows at a time.

A whole-image float64 copy of a 36-megapixel picture is 290 MB, and a naive scale-round-clip makes four of
them; a tiny compressed file can declare that many pixels. Converting about a megapixel at a time keeps the
temporaries near 10 MB, so the only large buffers are the decoded input and the 8-bit output.

Scaling rules (the brightest value maps to white unless the data uses a standard range):
  integers: 0-255 as is, up to 65535 as 16-bit, beyond that by the image's own maximum; negatives refused.
  floats:   0-1 by convention; above 1 by the image's own maximum (0-255 data, HDR highlights); NaN, infinity
            and negatives refused: they carry no brightness we could show.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

STRIP_PIXELS = 1 << 20  # pixels per strip: the float64 temporaries stay about 8 MB per channel

RowReader = Callable[[int, int], np.ndarray]  # (first row, end row) -> those rows as an array


class PixelValueError(ValueError):
    """The pixel values cannot be shown as a picture; the message says why, for the person."""


def to_8_bit(read_rows: RowReader, height: int, width: int, dtype: np.dtype) -> np.ndarray:
    """The image read through read_rows, scaled to uint8 of the same shape, in strips of rows."""
    step = max(1, STRIP_PIXELS // max(width, 1))
    spans = [(y, min(y + step, height)) for y in range(0, height, step)]
    scale = _scale(read_rows, spans, dtype)
    first = read_rows(0, min(1, height))
    out = np.empty((height,) + first.shape[1:], dtype=np.uint8)
    for y0, y1 in spans:
        part = read_rows(y0, y1).astype(np.float64)  # float64: float32 would overflow on huge values
        part *= scale
        np.rint(part, out=part)
        np.clip(part, 0, 255, out=part)
        out[y0:y1] = part
    return out


def _scale(read_rows: RowReader, spans: list[tuple[int, int]], dtype: np.dtype) -> float:
    floating = np.issubdtype(dtype, np.floating)
    low, high = np.inf, -np.inf
    for y0, y1 in spans:
        part = read_rows(y0, y1)
        if floating and not np.isfinite(part).all():
            raise PixelValueError("the image has pixel values that are not numbers (NaN or infinity), so it "
                                  "cannot be shown: save it again from the program that made it")
        if part.size:
            low, high = min(low, part.min()), max(high, part.max())
    if not np.isfinite(high):  # no pixels at all
        return 1.0
    low, high = float(low), float(high)
    if floating:
        top = 1.0 if high <= 1.0 else high
        if low < -0.01 * top:  # rounding noise just below zero is black; real negative data is not a photo
            raise PixelValueError(f"the image has negative pixel values (down to {low:.3g}); a float image must "
                                  "hold brightness from 0 (black) to 1 (white)")
        return 255.0 / top
    if low < 0:
        raise PixelValueError(f"the image has negative pixel values (down to {low:.0f}); save it as an ordinary "
                              "8- or 16-bit image")
    top = 255.0 if high <= 255 else 65535.0 if high <= 65535 else high
    return 255.0 / top
