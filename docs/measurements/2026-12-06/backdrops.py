"""How often the backdrop rule (facebmi.align.backdrop_rectangle) fires: on the sources' own photos (where it should
find only what is not photo), and on the same photos pasted on blurred copies of themselves (where it should find
the photo). 300 photos a source that are not test photos, drawn with a fixed seed; the thresholds were set on these.

    PYTHONPATH=. python docs/measurements/2026-12-06/backdrops.py ../shared/datasets/bmi-reddit \
        ../shared/datasets/age-utkface ../shared/datasets/age-adience-subset
"""
import io
import random
import sys
import time

import numpy as np
from PIL import Image, ImageFilter

from facebmi.align import backdrop_rectangle, photo_mask
from facebmi.images import load_image
from training.sources import read_folder
from training.splits import split_of


# (canvas size as a multiple of the photo's, Gaussian blur radius): the robustness benchmark's canvas_blur is (1.6, 12)
BACKDROPS = [(1.6, 12), (1.6, 4), (1.6, 25), (1.25, 12), (1.78, 20)]


def on_blurred_copy(photo: Image.Image, scale: float, radius: float) -> Image.Image:
    size = (round(photo.width * scale), round(photo.height * scale))
    backdrop = photo.resize(size).filter(ImageFilter.GaussianBlur(radius))
    backdrop.paste(photo, ((size[0] - photo.width) // 2, (size[1] - photo.height) // 2))
    return backdrop


def between_bars(photo: Image.Image) -> Image.Image | None:
    """A portrait fitted to a 16:9 frame between blurred bars; None for a photo already that wide."""
    width = round(photo.height * 16 / 9)
    if width <= photo.width:
        return None
    backdrop = photo.resize((width, photo.height)).filter(ImageFilter.GaussianBlur(15))
    backdrop.paste(photo, ((width - photo.width) // 2, 0))
    return backdrop


def jpeg(photo: Image.Image, quality: int) -> Image.Image:
    buffer = io.BytesIO()
    photo.save(buffer, "JPEG", quality=quality)
    return Image.open(buffer).convert("RGB")


for folder in sys.argv[1:]:
    rows = [r for r in read_folder(folder) if split_of(r.group) != "test"]
    random.Random(2).shuffle(rows)
    rows = rows[:300]
    fires, flat_too, found, bars, seconds = 0, 0, {b: 0 for b in BACKDROPS}, [0, 0], []
    found_jpeg = 0
    for row in rows:
        photo = load_image(row.path)
        start = time.perf_counter()
        rectangle = backdrop_rectangle(photo)
        seconds.append(time.perf_counter() - start)
        if rectangle is not None:
            fires += 1
            flat_too += photo_mask(photo, backdrop=False) is not None
        for scale, radius in BACKDROPS:
            found[(scale, radius)] += backdrop_rectangle(on_blurred_copy(photo, scale, radius)) is not None
        found_jpeg += backdrop_rectangle(jpeg(on_blurred_copy(photo, 1.6, 12), 85)) is not None
        barred = between_bars(photo)
        if barred is not None:
            bars[0] += 1
            bars[1] += backdrop_rectangle(barred) is not None
    n = len(rows)
    print(f"{folder}: {n} photos; the rule fires on {fires} of them as they are ({flat_too} of those also have a "
          f"flat border); {np.median(seconds) * 1000:.1f} ms a photo (median)")
    for (scale, radius), k in found.items():
        print(f"  on a blurred copy {scale}x its size, blur radius {radius}: found on {k} of {n} ({k / n:.0%})")
    print(f"  the same at 1.6x, radius 12, saved as JPEG quality 85: found on {found_jpeg} of {n} ({found_jpeg / n:.0%})")
    print(f"  between blurred 16:9 bars: found on {bars[1]} of {bars[0]} narrower photos")
