"""Drawing boxes and labels: a new image, every face marked, labels inside the frame at any size."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from facebmi.draw import BOX_COLOUR, annotate
from facebmi.predictor import FaceResult
from facebmi.report import face_label
from facebmi.labels import AGE_BRACKETS


def fake_face(box, bmi=27.3, interval=(24.0, 31.0)) -> FaceResult:
    """A hand-made result: drawing must not depend on a model's output."""
    probs = {name: 1 / 8 for name in AGE_BRACKETS}
    return FaceResult(box=box, score=0.99, bmi=bmi, bmi_interval=interval, who_category="overweight",
                      age_bracket="25-32", age_bracket_prob=0.125, age_probs=probs, age_years=30.0,
                      landmarks=[[0.0, 0.0]] * 5)


def test_label_text():
    assert face_label(fake_face((0, 0, 1, 1)), 1) == "#1 BMI 27.3 (24-31) · 25-32"
    assert face_label(fake_face((0, 0, 1, 1), interval=None), 2) == "#2 BMI 27.3 · 25-32"


def test_annotate_returns_a_new_image_and_leaves_the_input_alone(astronaut):
    before = np.asarray(astronaut).copy()
    out = annotate(astronaut, [fake_face((180, 60, 270, 175))])
    assert out is not astronaut and out.size == astronaut.size and out.mode == "RGB"
    assert np.array_equal(np.asarray(astronaut), before)
    changed = np.any(np.asarray(out) != before, axis=2)
    assert changed[60:175, 180].any() and changed[60:175, 270].any(), "no box edge drawn"
    assert changed[:60, 180:270].any(), "no label above the box"
    assert np.all(np.asarray(out)[120, 185:265] == before[120, 185:265]), "the face itself was painted over"


@pytest.mark.parametrize("background", [0, 255])
def test_box_and_label_visible_on_dark_and_light_backgrounds(background):
    image = Image.new("RGB", (400, 300), (background,) * 3)
    out = np.asarray(annotate(image, [fake_face((100, 100, 200, 200))])).astype(int)
    # The label plate is dark and its text light, whatever the background: both extremes appear.
    label = out[:100, 100:]
    assert label.max() > 200 and label.min() < 60
    assert (np.abs(out[150, 95:106] - BOX_COLOUR).sum(axis=1) < 30).any(), "box colour missing"


def _plate_pixels(image: Image.Image, box) -> int:
    """How many pixels show the label plate over white (the plate's colour on a white photo)."""
    out = np.asarray(annotate(image, [fake_face(box)]))
    return int(np.all(np.abs(out.astype(int) - 50) <= 1, axis=2).sum())


@pytest.mark.parametrize("box", [(560, 0, 640, 80), (0, 0, 60, 60), (600, 420, 640, 480), (-50, -50, 700, 10)])
def test_labels_near_the_edges_stay_whole_inside_the_image(box):
    white = Image.new("RGB", (640, 480), (255, 255, 255))
    in_the_middle = _plate_pixels(white, (280, 200, 360, 280))
    assert in_the_middle > 500
    assert abs(_plate_pixels(white, box) - in_the_middle) < 0.1 * in_the_middle, "label clipped by the frame"


def test_tiny_image_still_gets_a_box_and_a_label():
    out = np.asarray(annotate(Image.new("RGB", (64, 48), (255, 255, 255)), [fake_face((2, 2, 30, 30))]))
    assert out.shape == (48, 64, 3) and (out.min(axis=2) < 100).sum() > 50


def test_label_text_scales_with_the_image():
    def label_height(side):
        image = Image.new("RGB", (side, side), (255, 255, 255))
        out = np.asarray(annotate(image, [fake_face((side * 0.4, side * 0.4, side * 0.6, side * 0.6))]))
        above = out[: int(side * 0.4) - 3, int(side * 0.4): int(side * 0.6)]  # the plate, not the box
        return int((above.min(axis=2) < 100).any(axis=1).sum())
    assert label_height(2000) > 2.5 * label_height(500)


def test_max_side_shrinks_the_copy_and_scales_the_boxes():
    image = Image.new("RGB", (4000, 2000), (255, 255, 255))
    out = annotate(image, [fake_face((2000, 1000, 2400, 1400))], max_side=1000)
    assert out.size == (1000, 500)
    pixels = np.asarray(out)
    assert (np.abs(pixels[300, 498:503].astype(int) - BOX_COLOUR).sum(axis=1) < 30).any()


def test_no_faces_gives_an_unchanged_copy(blank_image):
    out = annotate(blank_image, [])
    assert out is not blank_image and np.array_equal(np.asarray(out), np.asarray(blank_image))
