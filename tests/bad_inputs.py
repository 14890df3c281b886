"""A corpus of awkward and hostile image files, generated at test time from the public-domain astronaut.

Each case says what a correct answer is: a result (optionally with a number of faces), or an error whose
sentence matches a pattern naming the problem. Nothing here is read from disk or the network.
"""
from __future__ import annotations

import io
import struct
import zlib
from dataclasses import dataclass

import numpy as np
from PIL import Image

NOT_IMAGE = r"not an image format we can read"
DAMAGED = r"damaged|cut short|variant we cannot read|could not be read"
TOO_BIG = r"megapixel limit|too many pixels"
METADATA = r"more metadata .* than we read safely"
BAD_VALUES = r"not numbers|negative pixel values"
TIFF_VARIANT = r"this TIFF stores floating-point pixels in a layout we cannot read"


@dataclass(frozen=True)
class Case:
    name: str
    data: bytes
    error: str | None = None  # a pattern the error's sentence must match; None: a result is expected
    may_succeed: bool = False  # either a result or that error (a file cut near its end may still decode)
    faces: int | None = None  # faces the result must report (faces_found), when known


def corpus(astronaut: Image.Image) -> list[Case]:
    small = astronaut.resize((256, 256), Image.LANCZOS)  # one face ~50 px wide: found, and quick to search
    return [*_not_images(), *_truncated(small), *_formats_and_modes(small), *_orientations(astronaut),
            *_animations(small), *_sizes(astronaut), *_bombs(), *_metadata_bombs(small), *_faces(astronaut),
            *_pixel_values(small)]


def save(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_chunks(data: bytes) -> list[bytes]:
    chunks, i = [], 8
    while i < len(data):
        n = struct.unpack(">I", data[i:i + 4])[0]
        chunks.append(data[i:i + 12 + n])
        i += 12 + n
    return chunks


def _not_images() -> list[Case]:
    files = {
        "empty file": b"",
        "plain text": b"hello, I am a text file with a .jpg name",
        "HTML page": b"<!doctype html><html><body><img src=x onerror=alert(1)></body></html>",
        "PDF": b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF",
        "ZIP archive": b"PK\x03\x04" + bytes(26) + b"PK\x05\x06" + bytes(18),
        "ELF binary": b"\x7fELF\x02\x01\x01" + bytes(57),
        "random bytes": np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes(),
        "SVG": b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>',
        "JSON": b'{"path": "/etc/passwd"}',
        "EPS (would run Ghostscript)": b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\nshowpage\n",
        "Photoshop PSD": b"8BPS\x00\x01" + bytes(6) + b"\x00\x03\x00\x00\x00\x10\x00\x00\x00\x10\x00\x08\x00\x03",
        "PPM (not a named format)": b"P6\n2 2\n255\n" + bytes(12),
        "ICO (not a named format)": save(Image.new("RGB", (16, 16), "red"), "ICO"),
        "null bytes": bytes(1000),
    }
    return [Case(name, data, NOT_IMAGE) for name, data in files.items()]


def _truncated(small: Image.Image) -> list[Case]:
    files = {"JPEG": save(small, "JPEG", quality=90), "progressive JPEG": save(small, "JPEG", progressive=True),
             "PNG": save(small, "PNG"), "WebP": save(small, "WEBP"), "GIF": save(small, "GIF"),
             "BMP": save(small, "BMP"), "TIFF": save(small, "TIFF"),
             "deflate TIFF": save(small, "TIFF", compression="tiff_adobe_deflate")}
    cases = []
    for fmt, data in files.items():
        for cut in (12, 0.1, 0.5, 0.9, 0.999):
            end = cut if isinstance(cut, int) else int(len(data) * cut)
            # Only a file cut inside its last bytes can legitimately decode; earlier cuts must be refused.
            cases.append(Case(f"{fmt} cut at {cut}", data[:end], DAMAGED, may_succeed=cut == 0.999))
    return cases


def _formats_and_modes(small: Image.Image) -> list[Case]:
    gray = small.convert("L")
    rgba = small.convert("RGBA")
    rgba.putalpha(Image.fromarray(np.where(np.arange(256)[:, None] > 200, 0, 255).astype(np.uint8)
                                  .repeat(256, axis=1)))
    gray16 = Image.fromarray(np.asarray(gray, dtype=np.uint16) * 257)
    int32 = Image.fromarray(np.asarray(gray, dtype=np.int32) * 65793, mode="I")
    floats = Image.fromarray(np.asarray(gray, dtype=np.float32) / 255, mode="F")
    palette = small.convert("P", palette=Image.Palette.ADAPTIVE)
    transparent = palette.copy()
    transparent.info["transparency"] = 0
    one_face = {
        "PNG RGB": save(small, "PNG"), "PNG RGBA": save(rgba, "PNG"), "PNG L": save(gray, "PNG"),
        "PNG LA": save(rgba.convert("LA"), "PNG"), "PNG P": save(palette, "PNG"),
        "PNG P with transparency": save(transparent, "PNG"), "PNG 16-bit": save(gray16, "PNG"),
        "PNG interlaced": save(small, "PNG", interlace=1),
        "JPEG RGB": save(small, "JPEG", quality=90), "JPEG L": save(gray, "JPEG"),
        "JPEG CMYK": save(small.convert("CMYK"), "JPEG"), "JPEG 4:4:4": save(small, "JPEG", subsampling=0),
        "JPEG progressive": save(small, "JPEG", progressive=True), "JPEG quality 5": save(small, "JPEG", quality=5),
        "MPO (two frames)": save(small, "MPO", save_all=True, append_images=[gray.convert("RGB")]),
        "WebP lossy": save(small, "WEBP"), "WebP lossless": save(small, "WEBP", lossless=True),
        "WebP RGBA": save(rgba, "WEBP"), "GIF P": save(palette, "GIF"), "GIF L": save(gray, "GIF"),
        "BMP RGB": save(small, "BMP"), "BMP L": save(gray, "BMP"), "BMP P": save(palette, "BMP"),
        "TIFF RGB": save(small, "TIFF"), "TIFF RGBA": save(rgba, "TIFF"),
        "TIFF CMYK": save(small.convert("CMYK"), "TIFF"), "TIFF L": save(gray, "TIFF"),
        "TIFF 16-bit": save(gray16, "TIFF"), "TIFF 32-bit integer": save(int32, "TIFF"),
        "TIFF float": save(floats, "TIFF"), "TIFF JPEG-compressed": save(small, "TIFF", compression="jpeg"),
        "TIFF LZW": save(small, "TIFF", compression="tiff_lzw"),
        "TIFF PackBits": save(small, "TIFF", compression="packbits"), "TIFF LAB": save(small.convert("LAB"), "TIFF"),
    }
    cases = [Case(name, data, faces=1) for name, data in one_face.items()]
    # Modes without enough tones for a detector: any result is right, an error is not.
    cases += [Case("PNG 1-bit", save(small.convert("1"), "PNG")), Case("BMP 1-bit", save(small.convert("1"), "BMP")),
              Case("TIFF 1-bit (fax G4)", save(small.convert("1"), "TIFF", compression="group4"))]
    tifffile = _tifffile()
    if tifffile is not None:  # float layouts Pillow has no mode for
        for name, array in {"TIFF float RGB": np.asarray(small, np.float32) / 255,
                            "TIFF float16": np.asarray(gray, np.float16) / 255,
                            "TIFF float64": np.asarray(gray, np.float64) / 255}.items():
            buffer = io.BytesIO()
            tifffile.imwrite(buffer, array)
            cases.append(Case(name, buffer.getvalue(), TIFF_VARIANT))
    return cases


def _tifffile():
    try:
        import tifffile
    except ImportError:  # scikit-image depends on it; without it the float-TIFF cases are skipped
        return None
    return tifffile


def _orientations(astronaut: Image.Image) -> list[Case]:
    # Stored so that applying its EXIF orientation shows the astronaut upright: the face must be found in all.
    stored_as = {1: None, 2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180,
                 4: Image.Transpose.FLIP_TOP_BOTTOM, 5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_90,
                 7: Image.Transpose.TRANSVERSE, 8: Image.Transpose.ROTATE_270}
    upright = astronaut.crop((0, 0, 512, 384))  # not square, so a turn also changes the shape
    cases = []
    for orientation, turn in stored_as.items():
        exif = Image.Exif()
        exif[0x0112] = orientation
        stored = upright if turn is None else upright.transpose(turn)
        cases.append(Case(f"EXIF orientation {orientation}", save(stored, "JPEG", quality=90, exif=exif.tobytes()),
                          faces=1))
    exif = Image.Exif()
    exif[0x0112] = 9  # not a valid orientation: ignored
    cases.append(Case("EXIF orientation 9 (invalid)", save(upright, "JPEG", exif=exif.tobytes()), faces=1))
    broken = save(upright, "JPEG", quality=90, exif=b"Exif\x00\x00II*\x00\xff\xff\xff\x7f" + bytes(8))
    cases.append(Case("EXIF block pointing past its end", broken, faces=1))
    return cases


def _animations(small: Image.Image) -> list[Case]:
    blank = Image.new("RGB", small.size)
    frames = [blank.copy() for _ in range(200)]
    return [
        Case("GIF, face in the first of 2 frames", save(small, "GIF", save_all=True, append_images=[blank]), faces=1),
        Case("GIF, 201 frames", save(small, "GIF", save_all=True, append_images=frames, duration=10), faces=1),
        Case("animated PNG", save(small, "PNG", save_all=True, append_images=[blank]), faces=1),
        Case("animated WebP", save(small, "WEBP", save_all=True, append_images=[blank]), faces=1),
        Case("multi-page TIFF", save(small, "TIFF", save_all=True, append_images=[blank]), faces=1),
        Case("GIF, blank first frame", save(blank, "GIF", save_all=True, append_images=[small]), faces=0),
    ]


def _sizes(astronaut: Image.Image) -> list[Case]:
    return [
        Case("1x1 PNG", save(Image.new("RGB", (1, 1), "white"), "PNG"), faces=0),
        Case("2x2 JPEG", save(Image.new("RGB", (2, 2)), "JPEG"), faces=0),
        Case("1x5000 PNG", save(Image.new("L", (1, 5000), 128), "PNG"), faces=0),
        Case("5000x1 PNG", save(Image.new("L", (5000, 1), 128), "PNG"), faces=0),
        Case("16x16 astronaut", save(astronaut.resize((16, 16)), "PNG"), faces=0),
        Case("40x40 astronaut", save(astronaut.resize((40, 40)), "PNG")),
        Case("4000x3000 JPEG, face in a corner", save(_placed(astronaut, (4000, 3000)), "JPEG", quality=80)),
        Case("39.9 megapixel flat PNG", save(Image.new("L", (6320, 6320), 90), "PNG"), faces=0),
        Case("40.1 megapixel PNG header", png_header(6333, 6333), TOO_BIG),
        Case("GIF declaring a 65535x65535 screen", _patched_gif(65535, 65535), TOO_BIG),
    ]


def _placed(face: Image.Image, size: tuple[int, int]) -> Image.Image:
    canvas = Image.new("RGB", size, (40, 60, 80))
    canvas.paste(face, (size[0] - 600, 100))
    return canvas


def png_header(width: int, height: int, mode: int = 2, depth: int = 8) -> bytes:
    """A PNG claiming width x height with no pixel data: limits are tested without the memory."""
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, depth, mode, 0, 0, 0))
            + chunk(b"IEND", b""))


def _bombs() -> list[Case]:
    # Each a real small file whose header is made to declare far more pixels than it holds.
    jpeg = bytearray(save(Image.new("RGB", (64, 64)), "JPEG"))
    sof = jpeg.find(b"\xff\xc0")
    jpeg[sof + 5:sof + 9] = struct.pack(">HH", 65000, 65000)
    webp = bytearray(save(Image.new("RGB", (1, 1)), "WEBP", lossless=True))
    vp8l = webp.find(b"VP8L") + 9  # after the chunk header and the 0x2f signature: 14 bits of width-1, then height-1
    bits = struct.unpack("<I", webp[vp8l:vp8l + 4])[0] & ~((1 << 28) - 1) | 0x3FFF | (0x3FFF << 14)
    webp[vp8l:vp8l + 4] = struct.pack("<I", bits)
    return [
        Case("PNG header 100000x100000", png_header(100_000, 100_000), TOO_BIG),
        Case("PNG header 10000x10000", png_header(10_000, 10_000), TOO_BIG),
        Case("PNG of zeros, 49 MP in 48 KB", _zero_png(7000, 7000), TOO_BIG),
        Case("TIFF declaring 100000x100000", _patched_tiff(100_000, 100_000), TOO_BIG),
        Case("TIFF declaring 7000x7000", _patched_tiff(7000, 7000), TOO_BIG),
        Case("JPEG header 65000x65000", bytes(jpeg), TOO_BIG),
        Case("WebP declaring 16384x16384", bytes(webp), TOO_BIG),
        Case("BMP header 50000x50000", b"BM" + struct.pack("<IHHI", 62, 0, 0, 54)
             + struct.pack("<IiiHHIIiiII", 40, 50_000, 50_000, 1, 24, 0, 0, 0, 0, 0, 0) + bytes(8), TOO_BIG),
        Case("PNG of zeros, 36 MP in 40 KB (in the limit)", _zero_png(6000, 6000), faces=0),
    ]


def _patched_gif(width: int, height: int) -> bytes:
    gif = bytearray(save(Image.new("L", (1, 1)), "GIF"))
    gif[6:10] = struct.pack("<HH", width, height)  # the logical screen, which Pillow takes as the image size
    return bytes(gif)


def _patched_tiff(width: int, height: int) -> bytes:
    tiff = bytearray(save(Image.new("L", (1, 1)), "TIFF"))
    ifd = struct.unpack("<I", tiff[4:8])[0]
    for i in range(struct.unpack("<H", tiff[ifd:ifd + 2])[0]):
        entry = ifd + 2 + 12 * i
        tag = struct.unpack("<H", tiff[entry:entry + 2])[0]
        if tag in (256, 257):  # ImageWidth, ImageLength: made LONGs
            tiff[entry + 2:entry + 12] = struct.pack("<HII", 4, 1, width if tag == 256 else height)
    return bytes(tiff)


def _zero_png(width: int, height: int) -> bytes:
    rows = zlib.compress(bytes((1 + width) * height), 9)
    return png_header(width, height, mode=0)[:33] + chunk(b"IDAT", rows) + chunk(b"IEND", b"")


def _metadata_bombs(small: Image.Image) -> list[Case]:
    big_text = zlib.compress(b"a" * (2 << 20), 9)
    bombs = {"zTXt": chunk(b"zTXt", b"Comment\x00\x00" + big_text),
             "iTXt": chunk(b"iTXt", b"Comment\x00\x01\x00\x00\x00" + big_text),
             "70 MB of tEXt": b"".join(chunk(b"tEXt", b"k%d\x00" % i + b"x" * (1 << 20)) for i in range(70)),
             "ICC profile": chunk(b"iCCP", b"icc\x00\x00" + big_text)}
    head, *rest, end = png_chunks(save(small, "PNG"))
    cases = []
    for name, bomb in bombs.items():
        cases.append(Case(f"PNG, {name} before the image data",
                          b"\x89PNG\r\n\x1a\n" + head + bomb + b"".join(rest) + end, METADATA))
        cases.append(Case(f"PNG, {name} after the image data",
                          b"\x89PNG\r\n\x1a\n" + head + b"".join(rest) + bomb + end, METADATA, may_succeed=True))
    jpeg = save(small, "JPEG", quality=90)
    app_segments = b"".join(b"\xff\xe9" + struct.pack(">H", 60_002) + bytes(60_000) for _ in range(300))
    cases.append(Case("JPEG with 18 MB of APP segments", jpeg[:2] + app_segments + jpeg[2:], faces=1))
    exif = b"Exif\x00\x00II*\x00\x08\x00\x00\x00" + struct.pack("<H", 65535) + bytes(12) * 200
    cases.append(Case("JPEG with an EXIF block claiming 65535 tags", save(small, "JPEG", exif=exif), faces=1))
    comments = {f"k{i}": "v" * 1000 for i in range(500)}
    info = _png_info(comments)
    cases.append(Case("PNG with 500 small text chunks", save(small, "PNG", pnginfo=info), faces=1))
    cases.append(Case("JPEG with a 1 MB ICC profile", save(small, "JPEG", icc_profile=bytes(1 << 20)), faces=1))
    return cases


def _png_info(texts: dict[str, str]):
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    for key, value in texts.items():
        info.add_text(key, value)
    return info


def _faces(astronaut: Image.Image) -> list[Case]:
    cases = [Case("0 faces: grey", save(Image.new("RGB", (640, 480), (127, 127, 127)), "JPEG"), faces=0),
             Case("1 face", save(astronaut, "JPEG", quality=90), faces=1)]
    for per_side, cell in ((2, 512), (4, 256), (6, 200), (10, 160)):
        grid = Image.new("RGB", (per_side * cell, per_side * cell))
        tile = astronaut.resize((cell, cell), Image.LANCZOS)
        for i in range(per_side * per_side):
            grid.paste(tile, ((i % per_side) * cell, (i // per_side) * cell))
        # Small faces in a big grid shrink below what the detector sees: any count is a result, not an error.
        cases.append(Case(f"{per_side * per_side} faces in a grid", save(grid, "JPEG", quality=85),
                          faces=4 if per_side == 2 else None))
    return cases


def _pixel_values(small: Image.Image) -> list[Case]:
    gray = np.asarray(small.convert("L"), dtype=np.float32) / 255
    cases = []
    for name, values in {"float TIFF with NaN": np.where(gray > 0.5, np.nan, gray),
                         "float TIFF with infinity": np.where(gray > 0.5, np.inf, gray),
                         "float TIFF, negative values": gray - 0.5}.items():
        cases.append(Case(name, save(Image.fromarray(values.astype(np.float32), mode="F"), "TIFF"), BAD_VALUES))
    cases.append(Case("float TIFF, values up to 3", save(Image.fromarray(gray * 3, mode="F"), "TIFF"), faces=1))
    return cases
