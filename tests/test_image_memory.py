"""load_image's memory is bounded by the pixel count, whatever the file: at most ~8 bytes a pixel at once.

A 6000x6000 float TIFF compresses to ~240 KB and a 16-bit PNG of that size to ~80 KB, yet loading them once
took 0.7-1.1 GB (whole-image float64 copies). Each case runs in a fresh interpreter, which reports how far
loading raised its peak resident memory.
"""
from __future__ import annotations

import subprocess
import sys

import pytest
from PIL import Image

from conftest import ROOT

SIDE = 6000  # 36 megapixels, within the 40 MP limit
# Pillow keeps any multi-band pixel in 4 bytes: the decoded picture (up to 4) + its RGB copy (4).
BYTES_PER_PIXEL = 8
OVERHEAD_MB = 40  # strips in flight, allocator slack

MEASURE = """
import resource, sys
from facebmi.images import load_image
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
picture = load_image(sys.argv[1])
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(picture.mode, picture.width, picture.height, (after - before) / 1024)
"""


def _upright_flag() -> bytes:
    exif = Image.Exif()
    exif[0x0112] = 6  # stored sideways: loading makes a turned copy
    return exif.tobytes()


CASES = {  # name: (mode, fill, file name, save options)
    "float TIFF": ("F", 0.25, "float.tif", {"compression": "tiff_adobe_deflate"}),
    "32-bit integer TIFF": ("I", 1 << 20, "int32.tif", {"compression": "tiff_adobe_deflate"}),
    "16-bit PNG": ("I;16", 1000, "gray16.png", {}),
    "RGBA PNG": ("RGBA", (10, 20, 30, 128), "rgba.png", {}),
    "CMYK JPEG": ("CMYK", (10, 20, 30, 40), "cmyk.jpg", {}),
    "sideways JPEG": ("RGB", (10, 20, 30), "sideways.jpg", {"exif": _upright_flag()}),
}


@pytest.mark.parametrize("case", list(CASES))
def test_loading_any_large_image_takes_at_most_8_bytes_a_pixel(tmp_path, case):
    mode, fill, name, options = CASES[case]
    path = tmp_path / name
    Image.new(mode, (SIDE, SIDE), fill).save(path, **options)
    assert path.stat().st_size < 2_000_000, "the test files are small: the pixels are what costs"

    proc = subprocess.run([sys.executable, "-c", MEASURE, str(path)], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out_mode, width, height, grown_mb = proc.stdout.split()
    assert (out_mode, int(width), int(height)) == ("RGB", SIDE, SIDE)
    bound_mb = BYTES_PER_PIXEL * SIDE * SIDE / 2**20 + OVERHEAD_MB
    assert float(grown_mb) < bound_mb, f"{case}: loading took {float(grown_mb):.0f} MB, over {bound_mb:.0f} MB"
