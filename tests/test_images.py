"""Every awkward input a user can hand us, through the real loader and the real predictor (MTCNN + model).

Files are written at test time from the public-domain astronaut; no dataset image is used.
"""
from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from facebmi.images import MAX_PIXELS, ImageError, load_image
from tests.bad_inputs import chunk, png_chunks


def _jpeg_bytes(image: Image.Image, **kwargs) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=92, **kwargs)
    return buffer.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height but carries no pixel data: tests limits without the memory."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b"")


def _assert_one_face(predictor, source, size):
    picture = load_image(source)
    assert picture.mode == "RGB" and picture.size == size
    faces = predictor.predict(picture)
    assert len(faces) == 1, f"expected the astronaut's face, found {len(faces)}"
    face = faces[0]
    assert 0 <= face.box[0] < face.box[2] <= size[0] and 0 <= face.box[1] < face.box[3] <= size[1]
    assert 10 < face.bmi < 80
    return face


@pytest.fixture(scope="module")
def upright_face(predictor, astronaut):
    return predictor.predict(astronaut)[0]


def test_non_image_bytes_are_refused_with_a_message():
    with pytest.raises(ImageError, match="not an image"):
        load_image(b"%PDF-1.4 this is a document, not a photo")


def test_truncated_jpeg_is_refused_with_a_message(astronaut):
    data = _jpeg_bytes(astronaut)
    with pytest.raises(ImageError, match="damaged or cut short"):
        load_image(data[: len(data) // 2])


def test_image_over_the_pixel_limit_is_refused_before_decoding():
    with pytest.raises(ImageError, match="megapixel limit"):
        load_image(png_header_only(10_000, 10_000))
    assert 10_000 * 10_000 > MAX_PIXELS


def test_exif_rotated_jpeg_is_read_upright_and_its_face_boxed_in_upright_pixels(predictor, astronaut,
                                                                               upright_face):
    # Stored sideways (as phones do) with EXIF Orientation 6, "rotate 90 degrees clockwise to display".
    sideways = astronaut.transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6
    data = _jpeg_bytes(sideways, exif=exif.tobytes())
    assert Image.open(io.BytesIO(data)).size == (512, 512) and Image.open(io.BytesIO(data)).getexif()[0x0112] == 6

    picture = load_image(data)
    diff = np.abs(np.asarray(picture, dtype=np.int16) - np.asarray(astronaut, dtype=np.int16)).mean()
    assert diff < 6, f"the loaded photo is not the upright original (mean abs difference {diff:.1f})"
    face = _assert_one_face(predictor, data, astronaut.size)
    assert np.allclose(face.box, upright_face.box, atol=8), (face.box, upright_face.box)


def test_wide_sideways_photo_gets_upright_size():
    wide = Image.new("RGB", (300, 100), (10, 20, 30))
    exif = Image.Exif()
    exif[0x0112] = 8  # rotate 90 degrees counter-clockwise to display
    assert load_image(_jpeg_bytes(wide, exif=exif.tobytes())).size == (100, 300)


def test_grayscale_photo(predictor, astronaut):
    _assert_one_face(predictor, _png(astronaut.convert("L")), astronaut.size)


def test_rgba_photo_with_transparency(predictor, astronaut):
    rgba = astronaut.convert("RGBA")
    alpha = np.full((512, 512), 255, dtype=np.uint8)
    alpha[400:, :] = 0  # transparent lower part: shown on white
    rgba.putalpha(Image.fromarray(alpha))
    _assert_one_face(predictor, _png(rgba), astronaut.size)
    assert load_image(_png(rgba)).getpixel((5, 500)) == (255, 255, 255)


def test_cmyk_jpeg(predictor, astronaut):
    data = _jpeg_bytes(astronaut.convert("CMYK"))
    assert Image.open(io.BytesIO(data)).mode == "CMYK"
    _assert_one_face(predictor, data, astronaut.size)


def test_16_bit_png(predictor, astronaut):
    gray16 = (np.asarray(astronaut.convert("L"), dtype=np.uint16) * 257).astype(np.uint16)
    data = _png(Image.fromarray(gray16))
    assert Image.open(io.BytesIO(data)).mode.startswith("I")
    picture = load_image(data)
    assert np.asarray(picture).max() > 200, "16-bit values were not scaled down to 8 bits"
    _assert_one_face(predictor, data, astronaut.size)


def test_animated_gif_uses_the_first_frame(predictor, astronaut):
    blank = Image.new("RGB", astronaut.size, (0, 0, 0))
    buffer = io.BytesIO()
    astronaut.save(buffer, format="GIF", save_all=True, append_images=[blank], duration=100, loop=0)
    assert Image.open(io.BytesIO(buffer.getvalue())).n_frames == 2
    _assert_one_face(predictor, buffer.getvalue(), astronaut.size)


def test_tiny_face_is_not_found_and_nothing_breaks(predictor, astronaut):
    tiny = astronaut.resize((48, 48))  # the face is about 9 px across: below the detector's minimum
    assert predictor.predict(tiny) == []
    for size in [(1, 1), (19, 300), (4000, 12)]:  # smaller than any detectable face
        assert predictor.predict(Image.new("RGB", size)) == []


def test_many_faces_are_all_found_each_in_its_own_place(predictor, astronaut, upright_face):
    grid = Image.new("RGB", (512 * 3, 512 * 2))
    for col in range(3):
        for row in range(2):
            grid.paste(astronaut, (col * 512, row * 512))
    faces = predictor.predict(grid)
    assert len(faces) == 6
    cells = set()
    for face in faces:
        col, row = int(face.box[0] // 512), int(face.box[1] // 512)
        cells.add((col, row))
        expected = np.array(upright_face.box) + [col * 512, row * 512] * 2
        assert np.allclose(face.box, expected, atol=15), (face.box, expected)
    assert len(cells) == 6


def _png(image: Image.Image, **kwargs) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", **kwargs)
    return buffer.getvalue()


# --- hostile and unusual files (issue 12) ---

BIG_TEXT = zlib.compress(b"a" * (2 << 20), 9)  # 2 KB that inflate to 2 MB: over Pillow's 1 MB per chunk
TEXT_BOMBS = {
    "zTXt": chunk(b"zTXt", b"Comment\x00\x00" + BIG_TEXT),
    "iTXt": chunk(b"iTXt", b"Comment\x00\x01\x00\x00\x00" + BIG_TEXT),
    "70 MB of tEXt": b"".join(chunk(b"tEXt", b"k%d\x00" % i + b"x" * (1 << 20)) for i in range(70)),
}


@pytest.mark.parametrize("where", ["before the image data", "after the image data"])
@pytest.mark.parametrize("bomb", list(TEXT_BOMBS))
def test_png_text_metadata_bomb_is_refused_as_metadata(astronaut, bomb, where):
    head, *rest, end = png_chunks(_png(astronaut))
    middle = [TEXT_BOMBS[bomb], *rest] if where.startswith("before") else [*rest, TEXT_BOMBS[bomb]]
    data = b"\x89PNG\r\n\x1a\n" + head + b"".join(middle) + end
    with pytest.raises(ImageError, match="more metadata .* than we read safely"):
        load_image(data)


@pytest.mark.parametrize("progressive", [False, True])
def test_jpeg_declaring_more_pixels_than_its_data_holds_is_damaged(astronaut, progressive):
    data = bytearray(_jpeg_bytes(astronaut, progressive=progressive))
    sof = data.find(b"\xff\xc2" if progressive else b"\xff\xc0")
    data[sof + 5:sof + 9] = struct.pack(">HH", 6000, 6000)  # height, width: the data fills 512x512
    with pytest.raises(ImageError, match="damaged: its header declares 6000x6000 pixels"):
        load_image(bytes(data))


def test_float_image_with_nan_or_infinity_is_refused(astronaut):
    values = np.asarray(astronaut, dtype=np.float32) / 255
    for bad in (np.nan, np.inf, -np.inf):
        spoilt = values.copy()
        spoilt[100, 100, 0] = bad
        with pytest.raises(ImageError, match="not numbers"):
            load_image(spoilt)
    with pytest.raises(ImageError, match="negative pixel values"):
        load_image(values - 0.5)


@pytest.mark.parametrize("top", [1.6, 255.0, 4000.0])
def test_float_image_above_1_is_scaled_by_its_maximum(predictor, astronaut, top):
    values = np.asarray(astronaut, dtype=np.float32) / 255 * top  # HDR highlights, 0-255 data, raw sensor
    buffer = io.BytesIO()
    Image.fromarray(values[..., 1], mode="F").save(buffer, format="TIFF")  # a float TIFF, as cameras' tools write
    for source in (values, buffer.getvalue()):
        picture = load_image(source)
        assert np.asarray(picture).max() == 255, "the brightest value is not white"
        _assert_one_face(predictor, source, astronaut.size)


def test_32_bit_integer_image_beyond_16_bits_is_scaled_by_its_maximum(predictor, astronaut):
    gray = np.asarray(astronaut.convert("L"), dtype=np.int32) * 65793  # 24-bit values in int32
    buffer = io.BytesIO()
    Image.fromarray(gray, mode="I").save(buffer, format="TIFF")
    assert Image.open(io.BytesIO(buffer.getvalue())).mode == "I"
    for source in (gray, buffer.getvalue()):
        assert np.asarray(load_image(source)).max() == 255
        _assert_one_face(predictor, source, astronaut.size)


def test_tiff_that_pillow_cannot_decode_is_named_as_such(astronaut):
    tifffile = pytest.importorskip("tifffile")
    buffer = io.BytesIO()
    tifffile.imwrite(buffer, np.asarray(astronaut, dtype=np.float32) / 255)  # float RGB: Pillow has no mode for it
    with pytest.raises(ImageError, match="this TIFF stores floating-point pixels in a layout we cannot read"):
        load_image(buffer.getvalue())


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_exif_orientation_is_shown_upright(astronaut, orientation):
    from PIL import ImageOps

    exif = Image.Exif()
    exif[0x0112] = orientation
    data = _png(astronaut.crop((0, 0, 512, 300)), exif=exif.tobytes())  # not square: turns change the size
    expected = ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert("RGB")
    picture = load_image(data)
    assert picture.size == expected.size and np.array_equal(np.asarray(picture), np.asarray(expected))
    assert load_image(picture) is picture, "loading the upright picture again turned it again"
