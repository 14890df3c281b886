"""What a file's bytes say before and around decoding: the kind of image it is, and whether a JPEG can fill
the pixels it declares. Each check returns a message for the person (or None); images.py raises it."""
from __future__ import annotations

import io
import math
import struct
from pathlib import Path

FORMAT_NAMES = "JPEG, PNG, WebP, GIF, BMP or TIFF"

# What a file's first bytes say it is, to tell "not an image" from "an image of a kind we cannot decode".
MAGIC = ((b"\xff\xd8\xff", "JPEG"), (b"\x89PNG\r\n\x1a\n", "PNG"), (b"GIF87a", "GIF"), (b"GIF89a", "GIF"),
         (b"II*\x00", "TIFF"), (b"MM\x00*", "TIFF"), (b"II+\x00", "TIFF"), (b"MM\x00+", "TIFF"), (b"BM", "BMP"))


def unreadable_message(source, name: str) -> str:
    """Why Pillow could not identify the file: a kind of image it cannot decode, or not an image at all."""
    kind = _sniff(source)
    if kind == "TIFF" and _tiff_has_float_samples(source):
        return ("this TIFF stores floating-point pixels in a layout we cannot read (such as float colour, or 16- "
                "or 64-bit floats): save it as an 8- or 16-bit TIFF, or as a PNG or JPEG, and try again")
    if kind:
        return (f"this {kind} file is damaged or uses a variant we cannot read: open it and save it again as a "
                "JPEG or PNG, then try again")
    return f"{name} is not an image format we can read (use a {FORMAT_NAMES} photo)"


def _sniff(source) -> str | None:
    head = _read_at(source, 0, 16)
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WebP"
    return next((kind for magic, kind in MAGIC if head.startswith(magic)), None)


def _tiff_has_float_samples(source) -> bool:
    """Whether the TIFF's first image declares SampleFormat 3 (IEEE float). False when that cannot be read."""
    head = _read_at(source, 0, 8)
    order = {b"II": "<", b"MM": ">"}.get(head[:2])
    if order is None or len(head) < 8 or head[2:4] not in (b"*\x00", b"\x00*"):
        return False  # BigTIFF and broken headers: not looked into
    ifd = int.from_bytes(head[4:8], "little" if order == "<" else "big")
    count_bytes = _read_at(source, ifd, 2)
    if len(count_bytes) < 2:
        return False
    count = struct.unpack(order + "H", count_bytes)[0]
    entries = _read_at(source, ifd + 2, 12 * min(count, 4096))
    for i in range(0, len(entries) - 11, 12):
        tag, kind, n = struct.unpack(order + "HHI", entries[i:i + 8])
        if tag == 339 and kind == 3:  # SampleFormat, as SHORTs: inline when they fit in 4 bytes
            field = entries[i + 8:i + 12]
            values = field if n <= 2 else _read_at(source, struct.unpack(order + "I", field)[0], 2 * min(n, 64))
            shorts = struct.unpack(order + "H" * (len(values) // 2), values[:len(values) // 2 * 2])
            return 3 in shorts[:n]
    return False


def _read_at(source, offset: int, size: int) -> bytes:
    """Up to size bytes of a path or a seekable file object, from offset; the file object's position kept."""
    try:
        if isinstance(source, Path):
            with open(source, "rb") as file:
                file.seek(offset)
                return file.read(size)
        position = source.tell()
        source.seek(offset)
        data = source.read(size)
        source.seek(position)
        return data
    except (OSError, AttributeError, ValueError):
        return b""


def value_problem(err: ValueError) -> str:
    """What a ValueError from Pillow means: its guard on PNG metadata, or else a damaged file."""
    if "MAX_TEXT" in str(err):  # PngImagePlugin's limits on text chunks and compressed ICC profiles
        return ("the image carries more metadata (text or a colour profile) than we read safely: save the "
                "picture again without its metadata and try again")
    return f"the image file is damaged and cannot be read ({err})"


def jpeg_shortfall(image) -> str | None:
    """Why a JPEG's data cannot fill the pixels its header declares, or None when it can.

    libjpeg paints what a file lacks in flat grey without an error, so a header claiming 6000x6000 pixels
    over 60 KB of data decodes to a grey picture. With Huffman coding every 8x8 block of every component
    takes at least one bit; arithmetic-coded JPEGs (rare) can take less, and are not checked.
    """
    fp = image.fp
    start = fp.tell()  # Pillow stops reading the header at the first scan: the coded data starts here
    marker = _frame_marker(fp)
    size = fp.seek(0, io.SEEK_END)
    fp.seek(start)
    h_max = max((h for _, h, _, _ in image.layer), default=0)
    v_max = max((v for _, _, v, _ in image.layer), default=0)
    if marker is None or marker >= 0xC9 or not h_max or not v_max:  # 0xC9-0xCF: arithmetic coding
        return None  # (zero sampling factors: libjpeg refuses the file itself when decoding)
    w, h = image.size
    blocks = sum(math.ceil(math.ceil(w * hs / h_max) / 8) * math.ceil(math.ceil(h * vs / v_max) / 8)
                 for _, hs, vs, _ in image.layer)
    if (size - start) * 8 >= blocks:
        return None
    return f"the JPEG file is damaged: its header declares {w}x{h} pixels but the file holds far too little data"


def _frame_marker(fp) -> int | None:
    """The JPEG's start-of-frame marker (0xC0-0xCF, which says how it is coded), or None if not found."""
    fp.seek(2)
    while True:
        head = fp.read(4)
        if len(head) < 4 or head[0] != 0xFF:
            return None
        marker, length = head[1], int.from_bytes(head[2:4], "big")
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):  # C4 DHT, C8 reserved, CC DAC
            return marker
        if marker == 0xDA or length < 2:
            return None
        fp.seek(length - 2, io.SEEK_CUR)
