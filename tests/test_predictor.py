"""The predictor on real photos with the embedded default model."""
import dataclasses

import numpy as np
from PIL import Image, ImageOps

from facebmi.loading import load_model
from facebmi.predictor import Predictor

from facebmi.labels import AGE_BRACKETS


def test_one_real_face(predictor, astronaut):
    faces = predictor.predict(astronaut)
    assert len(faces) == 1
    face = faces[0]
    x0, y0, x1, y1 = face.box
    assert 150 < x0 < x1 < 300 and 30 < y0 < y1 < 220  # the astronaut's face, not her suit
    assert 0.9 <= face.score <= 1.0
    assert 12 < face.bmi < 60
    low, high = face.bmi_interval
    assert low < face.bmi < high
    assert list(face.age_probs) == list(AGE_BRACKETS)
    assert abs(sum(face.age_probs.values()) - 1) < 1e-4
    assert face.age_bracket == max(face.age_probs, key=face.age_probs.get)
    assert face.age_bracket_prob == face.age_probs[face.age_bracket]
    # An adult woman: the model must not call her a child.
    assert face.age_bracket not in ("0-2", "4-6", "8-13")


def test_blank_image_gives_an_empty_list(predictor, blank_image):
    assert predictor.predict(blank_image) == []


def test_all_input_kinds_agree(predictor, astronaut, tmp_path):
    path = tmp_path / "a.png"
    astronaut.save(path)
    results = [predictor.predict(x) for x in (astronaut, np.asarray(astronaut), path, str(path), path.read_bytes())]
    bmis = [r[0].bmi for r in results]
    assert max(bmis) - min(bmis) < 1e-3


def test_several_faces_are_batched_and_each_gets_a_result(predictor, astronaut):
    canvas = Image.new("RGB", (1024, 512), (40, 40, 40))
    canvas.paste(astronaut, (0, 0))
    canvas.paste(astronaut.transpose(Image.FLIP_LEFT_RIGHT), (512, 0))
    faces = predictor.predict(canvas)
    assert len(faces) == 2
    # A mirrored face is the same face: the estimates agree closely.
    assert abs(faces[0].bmi - faces[1].bmi) < 2.5
    # Batching is invisible: each face alone gets the same numbers as in the batch.
    detections = predictor.detector.detect(canvas)
    for det, batched in zip(detections, predictor.predict_detections(canvas, detections)):
        alone = predictor.predict_detections(canvas, [det])[0]
        assert abs(alone.bmi - batched.bmi) < 1e-3 and alone.age_bracket == batched.age_bracket


def test_a_careful_read_averages_views_and_reads_a_photo_and_its_mirror_image_alike(astronaut):
    """predict(careful=True), the before/after change's read: each face's answers averaged over its crops from
    its own and its mirror image's landmarks, each at 9 whole-pixel shifts. The boxes are the same; a photo and
    its mirror image, which a single read tells apart through MTCNN's landmarks, read closely alike."""
    model = load_model(None)
    model.config = dataclasses.replace(model.config, pair_read_mirror=True, pair_read_shift=1)
    predictor = Predictor(model, device="cpu")
    once, careful = predictor.predict(astronaut), predictor.predict(astronaut, careful=True)
    assert [f.box for f in once] == [f.box for f in careful]
    assert careful[0].bmi != once[0].bmi and abs(careful[0].bmi - once[0].bmi) < 2.0
    assert abs(sum(careful[0].age_probs.values()) - 1) < 1e-4
    assert careful[0].age_bracket == max(careful[0].age_probs, key=careful[0].age_probs.get)
    mirror = ImageOps.mirror(astronaut)
    gap_once = abs(predictor.predict(mirror)[0].bmi - once[0].bmi)
    gap_careful = abs(predictor.predict(mirror, careful=True)[0].bmi - careful[0].bmi)
    assert gap_careful < 0.25 and gap_careful < gap_once


def test_a_format_3_model_reads_a_pair_face_once(predictor, astronaut):
    model = load_model(None)
    model.config = dataclasses.replace(model.config, pair_read_mirror=False, pair_read_shift=0)
    old = Predictor(model, device="cpu")
    assert old.predict(astronaut, careful=True)[0].bmi == old.predict(astronaut)[0].bmi


def test_a_photo_cut_close_to_the_face_is_flagged(predictor, astronaut):
    """FaceResult.cut_close: the photo ends within config.detect.edge_margin of the face's box on some side (the
    framing where estimates move most), a plain bool for JSON; not for the portrait as it is, nor for a looser cut."""
    (whole,) = predictor.predict(astronaut)
    assert whole.cut_close is False
    x0, y0, x1, y1 = (round(v) for v in whole.box)
    w, h = x1 - x0, y1 - y0
    (at_box,) = predictor.predict(astronaut.crop((x0, y0, x1, y1)))
    (chin_only,) = predictor.predict(astronaut.crop((0, 0, astronaut.width, y1 + 5)))  # the neck cut away
    (loose,) = predictor.predict(astronaut.crop((max(0, x0 - w // 2), max(0, y0 - h // 2), x1 + w // 2, y1 + h // 2)))
    assert at_box.cut_close is True and chin_only.cut_close is True and loose.cut_close is False
