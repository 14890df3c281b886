"""Draw a box and a label on every face of a photo; returns a new image, the input is left untouched.

Labels are white text on a dark plate and boxes are a bright line over a dark one, so both read on light and
dark photos alike. Text size follows the image size; a label never leaves the image.
"""
from __future__ import annotations

from PIL import Image, ImageDraw, ImageFont

from .predictor import FaceResult
from .report import face_label, interval_text

BOX_COLOUR = (255, 200, 0)  # amber: stands out from skin, sky and foliage
HIGHLIGHT_COLOUR = (0, 220, 255)  # the selected face
SHADOW_COLOUR = (0, 0, 0)
TEXT_COLOUR = (255, 255, 255)
PLATE_COLOUR = (0, 0, 0, 205)  # label background: dark on any photo, a hint of it shows through
MIN_FONT_PX = 10  # smallest legible size; labels on tiny images shrink to this, no further


def annotate(image: Image.Image, results: list[FaceResult], highlight: int | None = None,
             max_side: int | None = None, texts: list[str] | None = None) -> Image.Image:
    """A copy of `image` (RGB) with each face boxed and labelled '#n BMI b (lo-hi) · bracket'.

    highlight: index of a face to draw in a different colour. max_side: shrink the copy first so its longer
    side is at most this (boxes are scaled to match); None keeps the full size. texts: other label text per face.
    """
    canvas = image if image.mode == "RGB" else image.convert("RGB")
    # Shrunk straight from the input: a full-size copy first would cost 4 bytes a pixel (160 MB at 40 MP).
    canvas, scale = shrink_to(canvas, max_side, reducing_gap=3.0)
    if canvas is image:
        canvas = image.copy()  # never draw on the caller's image
    w, h = canvas.size
    font_px = max(MIN_FONT_PX, round(max(w, h) * 0.032))
    line = max(2, round(max(w, h) / 300))

    overlay = Image.new("RGBA", canvas.size, (0, 0, 0, 0))  # label plates, blended once at the end
    plates = ImageDraw.Draw(overlay)
    draw = ImageDraw.Draw(canvas)
    labels = []
    for i, result in enumerate(results):
        x0, y0, x1, y1 = (v * scale for v in result.box)
        x0, x1 = sorted((min(max(x0, 0), w - 1), min(max(x1, 0), w - 1)))
        y0, y1 = sorted((min(max(y0, 0), h - 1), min(max(y1, 0), h - 1)))
        colour = HIGHLIGHT_COLOUR if i == highlight else BOX_COLOUR
        draw.rectangle((x0, y0, x1, y1), outline=SHADOW_COLOUR, width=line + 2)
        draw.rectangle((x0 + 1, y0 + 1, x1 - 1, y1 - 1) if x1 - x0 > 2 and y1 - y0 > 2 else (x0, y0, x1, y1),
                       outline=colour, width=line)
        text = texts[i] if texts is not None else face_label(result, i + 1)
        font = _fitting_font(draw, text, font_px, w)
        left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
        pad = max(2, font.size // 4)
        tw, th = right - left + 2 * pad, bottom - top + 2 * pad
        # Above the box when there is room, else below it (over the neck, not the face), else inside its top
        # edge; shifted sideways to stay in frame.
        lx = min(max(0, x0), max(0, w - tw))
        if y0 - th - line >= 0:
            ly = y0 - th - line
        elif y1 + line + th <= h:
            ly = y1 + line + 1
        else:
            ly = min(y0 + line + 1, max(0, h - th))
        plates.rectangle((lx, ly, lx + tw, ly + th), fill=PLATE_COLOUR)
        labels.append((lx + pad - left, ly + pad - top, text, font, colour))

    canvas = Image.alpha_composite(canvas.convert("RGBA"), overlay).convert("RGB")
    draw = ImageDraw.Draw(canvas)
    for x, y, text, font, colour in labels:
        draw.text((x, y), text, font=font, fill=TEXT_COLOUR)
    return canvas


def _fitting_font(draw: ImageDraw.ImageDraw, text: str, size: int, max_width: int) -> ImageFont.FreeTypeFont:
    """The default font at `size`, shrunk until the text (plus padding) fits the image width."""
    while True:
        font = ImageFont.load_default(size=size)
        left, _, right, _ = draw.textbbox((0, 0), text, font=font)
        if right - left + size // 2 + 4 <= max_width or size <= MIN_FONT_PX:
            return font
        size = max(MIN_FONT_PX, int(size * 0.85))


def pair_image(before: Image.Image, after: Image.Image | None, pair, max_side: int | None = None) -> Image.Image:
    """The before/after picture with both faces labelled 'before · BMI 31.2 (27-36)' and 'after · ...': one
    side-by-side picture annotated in place, or two photos annotated and set side by side at one height."""
    def label(name, face):
        interval = interval_text(face)
        return f"{name} · BMI {face.bmi:.1f}" + (f" ({interval})" if interval else "")

    if after is None:
        return annotate(before, [pair.before, pair.after], max_side=max_side,
                        texts=[label("before", pair.before), label("after", pair.after)])
    height = min(before.height, after.height, max_side or 10**9)
    halves = []
    for picture, face, name in ((before, pair.before, "before"), (after, pair.after, "after")):
        drawn = annotate(picture, [face], texts=[label(name, face)])
        halves.append(drawn.resize((max(1, round(drawn.width * height / drawn.height)), height), Image.LANCZOS))
    gap = max(4, height // 100)
    canvas = Image.new("RGB", (halves[0].width + gap + halves[1].width, height), (255, 255, 255))
    canvas.paste(halves[0], (0, 0))
    canvas.paste(halves[1], (halves[0].width + gap, 0))
    return shrink_to(canvas, max_side)[0]


def shrink_to(image: Image.Image, max_side: int | None, resample=Image.LANCZOS,
              reducing_gap: float | None = None) -> tuple[Image.Image, float]:
    """(image shrunk so its longer side is at most max_side, the scale applied); the image itself and 1.0 when
    it already fits or max_side is None."""
    if max_side is None or max(image.size) <= max_side:
        return image, 1.0
    scale = max_side / max(image.size)
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    return image.resize(size, resample, reducing_gap=reducing_gap), scale
