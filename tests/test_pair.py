"""Before and after (facebmi/pair.py, `python -m facebmi --pair`): the change between two photos of one
person, with the real detector and the embedded model."""
import json

import numpy as np
import pytest
from PIL import Image, ImageOps

from facebmi.__main__ import main
from facebmi.config import ModelConfig
from facebmi.loading import load_model
from facebmi.pair import PairError, change_halfwidth, predict_pair, side_by_side


@pytest.fixture(scope="module")
def pair_picture(astronaut):
    """A side-by-side progress picture: the astronaut (left) beside a darker copy of herself (right)."""
    picture = Image.new("RGB", (1024, 512))
    picture.paste(astronaut, (0, 0))
    picture.paste(astronaut.point(lambda v: int(v * 0.8)), (512, 0))
    return picture


def test_the_same_photo_twice_is_no_change(predictor, astronaut):
    pair, _, _ = predict_pair(predictor, astronaut, astronaut.copy())
    assert pair.bmi_delta == pytest.approx(0, abs=1e-4)
    if pair.bmi_delta_interval is not None:  # a model calibrated on same-person pairs
        low, high = pair.bmi_delta_interval
        assert low < 0 < high and pair.level == predictor.config.bmi_interval_level
        assert "interval" in pair.change_text()


def test_a_photo_and_its_mirror_differ_by_under_one_bmi(predictor, astronaut):
    pair, _, _ = predict_pair(predictor, astronaut, ImageOps.mirror(astronaut))
    assert abs(pair.bmi_delta) < 1.0


def test_one_side_by_side_picture_is_split_left_before_right_after(predictor, pair_picture):
    pair, faces, again = predict_pair(predictor, pair_picture)
    assert faces is again and len(faces) == 2
    assert pair.before.box[2] <= 512 <= pair.after.box[0]
    # The model's change scale times the difference of the two estimates (config.bmi_change_scale says why).
    scale = predictor.config.bmi_change_scale
    assert scale > 1 and pair.bmi_delta == pytest.approx(scale * (pair.after.bmi - pair.before.bmi))
    # The interval is centred on the change and as wide as pair.change_halfwidth says for it.
    low, high = pair.bmi_delta_interval
    assert (low + high) / 2 == pytest.approx(pair.bmi_delta)
    assert (high - low) / 2 == pytest.approx(float(change_halfwidth(pair.bmi_delta, predictor.config)))


def test_the_change_interval_widens_with_the_change():
    config = ModelConfig(bmi_change_halfwidth=6.0, bmi_change_halfwidth_slope=0.5)
    widths = change_halfwidth(np.array([0.0, 8.0, -8.0, 20.0]), config)
    assert widths == pytest.approx([6.0, (36 + 16) ** 0.5, (36 + 16) ** 0.5, (36 + 100) ** 0.5])
    # Format 1-5 models have no slope: one width for every change.
    assert change_halfwidth(np.array([0.0, 20.0]), ModelConfig(bmi_change_halfwidth=6.0)) == pytest.approx([6.0, 6.0])


def test_pictures_that_are_not_one_pair_say_what_to_do(predictor, astronaut, blank_image):
    with pytest.raises(PairError, match="found 1 face"):
        predict_pair(predictor, astronaut)
    with pytest.raises(PairError, match="no face found in the after photo"):
        predict_pair(predictor, astronaut, blank_image)
    crowd = Image.new("RGB", (1536, 512))
    for i in range(3):
        crowd.paste(astronaut, (512 * i, 0))
    with pytest.raises(PairError, match="found 3 faces.*choose"):
        predict_pair(predictor, crowd)
    pair, faces, _ = predict_pair(predictor, crowd, before_face=1, after_face=3)  # chosen by number
    assert pair.before is faces[0] and pair.after is faces[2]
    with pytest.raises(PairError, match="no face #4"):
        predict_pair(predictor, crowd, before_face=1, after_face=4)


def test_side_by_side_rule_needs_two_faces_apart():
    from facebmi.predictor import FaceResult

    def face(x0, x1):
        return FaceResult((x0, 0, x1, x1 - x0), 0.99, 25.0, None, "Normal", "25-32", 0.5, {}, 30.0, [])

    assert side_by_side([face(600, 700), face(100, 200)]) == (1, 0)
    with pytest.raises(PairError, match="not side by side"):
        side_by_side([face(100, 300), face(200, 400)])
    with pytest.raises(PairError, match="far smaller"):
        side_by_side([face(0, 400), face(500, 520)])


def test_cli_pair_prints_both_faces_and_the_change(pair_picture, astronaut_file, tmp_path, capsys):
    path = tmp_path / "progress.jpg"
    pair_picture.save(path, quality=92)
    assert main(["--pair", str(path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["before"]["face"] != out["after"]["face"]
    scale = load_model(None).config.bmi_change_scale
    assert out["change"]["bmi_delta"] == pytest.approx(scale * (out["after"]["bmi"] - out["before"]["bmi"]))
    assert set(out["change"]) == {"bmi_delta", "bmi_delta_interval", "level"}
    assert main(["--pair", str(astronaut_file), str(astronaut_file)]) == 0
    text = capsys.readouterr().out
    assert "before" in text and "after" in text and "change  BMI +0.0" in text and "same person assumed" in text
    assert main(["--pair", str(astronaut_file)]) == 1
    assert "needs two" in capsys.readouterr().err
