"""The face-assignment rules on hand-placed detections: which layouts get a weight and which are skipped."""
from __future__ import annotations

import json

import numpy as np
import pytest

from facebmi.detect import Detection
from training.collect.assign_faces import ImageFaces, TitleLabels, assign, read_manifest, title_labels
from training.collect.titles import parse_title

BOTH = title_labels(parse_title("F/28/5'4\" [180lbs > 140lbs]"))
CURRENT_ONLY = title_labels(parse_title("F/24/5'5\" (CW 160)"))
THREE = title_labels(parse_title("M/35/6'0\" [250 > 220 > 200]"))


def face(cx: float, cy: float, side: float = 80.0) -> Detection:
    return Detection((cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2), 0.99, np.zeros((5, 2)))


def image(*faces: Detection, index: int = 0, size=(1000, 500), file="", error=None) -> ImageFaces:
    return ImageFaces(index, f"http://x/{index}", f"{index}.jpg" if file == "" else file, list(faces), size, error)


def outcome(decisions):
    return [(d.image.index if d.image else None, d.face_index, d.photo, d.reason) for d in decisions]


def test_title_labels_keep_only_the_weights_the_title_gives():
    assert isinstance(BOTH, TitleLabels) and set(BOTH.weight_kg) == {"start", "current"}
    assert BOTH.bmi == {"start": 30.9, "current": 24.03} and BOTH.sex == "F" and BOTH.age == 28
    assert set(CURRENT_ONLY.weight_kg) == {"current"}
    assert THREE.n_weights == 3
    assert title_labels(parse_title("my progress")).startswith("title refused: ")


def test_two_faces_side_by_side_left_is_start_right_is_current():
    # Detections come most-confident first, so the right face may be listed first.
    decisions = assign([image(face(750, 250), face(250, 260))], BOTH)
    assert outcome(decisions) == [(0, 1, "start", None), (0, 0, "current", None)]


@pytest.mark.parametrize("faces, labels, reason", [
    ((face(200, 250), face(400, 250)), BOTH, "two faces in one image, not one in each half"),
    ((face(480, 100), face(530, 400)), BOTH, "two faces in one image, placed above each other rather than side by side"),
    ((face(250, 250, 200), face(750, 250, 40)), BOTH, "two faces in one image of very different sizes (40 and 200 px)"),
    ((face(250, 250), face(750, 250)), CURRENT_ONLY, "two faces but the title gives one weight"),
    ((face(250, 250), face(750, 250)), THREE, "two faces but the title gives 3 weights"),
    ((face(200, 250), face(500, 250), face(800, 250)), BOTH, "3 faces in one image"),
    ((face(500, 250),), BOTH, "one face in a single image: start or current cannot be told"),
])
def test_unclear_single_images_are_skipped_with_a_reason(faces, labels, reason):
    decisions = assign([image(*faces)], labels)
    assert len(decisions) == len(faces)  # one decision per face
    assert all(d.photo is None and d.reason == reason for d in decisions)


def test_one_face_gets_the_titles_only_weight_and_no_face_is_recorded():
    assert outcome(assign([image(face(500, 250))], CURRENT_ONLY)) == [(0, 0, "current", None)]
    assert outcome(assign([image()], BOTH)) == [(0, None, None, "no face found")]
    assert outcome(assign([], BOTH)) == [(None, None, None, "post has no image URLs")]


def test_gallery_first_is_start_last_is_current_middle_skipped():
    gallery = [image(face(300, 200), index=i) for i in range(3)]
    assert outcome(assign(gallery, THREE)) == [
        (0, 0, "start", None), (1, 0, None, "between the first and last image: its weight is not in the title"),
        (2, 0, "current", None)]


@pytest.mark.parametrize("gallery, labels, reason", [
    ([image(face(300, 200)), image(face(250, 200), face(750, 200), index=1)], BOTH,
     "image 2 of 2 has 2 faces, expected one face per image"),
    ([image(face(300, 200)), image(index=1)], BOTH, "image 2 of 2 has 0 faces, expected one face per image"),
    ([image(face(300, 200)), image(face(300, 200), index=1)], CURRENT_ONLY,
     "several images but the title gives one weight"),
    ([image(face(300, 200)), image(face(300, 200), index=1, file="0.jpg")], BOTH,
     "the same image appears twice in the post"),
    ([image(face(300, 200)), image(index=1, file=None, error="download failed: HTTP 404")], BOTH,
     "image 2 of 2 unusable (download failed: HTTP 404)"),
])
def test_unclear_galleries_skip_every_face(gallery, labels, reason):
    decisions = assign(gallery, labels)
    assert decisions and all(d.photo is None and d.reason == reason for d in decisions)
    faces = sum(len(im.faces) for im in gallery)
    assert sum(d.face_index is not None for d in decisions) == faces


def test_read_manifest_keeps_complete_posts_and_the_latest_redo(tmp_path):
    def rec(post, n, photo=None):
        return json.dumps({"post_id": post, "post_records": n, "photo": photo})

    path = tmp_path / "m.jsonl"
    path.write_text("\n".join([rec("a", 2, "start"), rec("a", 2, "current"),  # complete
                               rec("b", 2, "start"),  # cut short: its second record never came
                               rec("c", 1), rec("a", 1, "current"),  # a redone later: replaces the first
                               rec("d", 2)[:20]]) + "\n")
    records = read_manifest(path)
    assert [(r["post_id"], r["photo"]) for r in records] == [("c", None), ("a", "current")]
