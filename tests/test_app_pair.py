"""The before/after endpoint (/analyze_pair) and the occlusion map (/explain), served for real and called
with gradio_client as users' code would."""
from __future__ import annotations

import pytest
from PIL import Image, ImageOps

from facebmi.loading import load_model

gradio_client = pytest.importorskip("gradio_client")
from gradio_client import Client, handle_file  # noqa: E402
from gradio_client.exceptions import AppError  # noqa: E402


@pytest.fixture(scope="module")
def client(app_url):
    return Client(app_url, verbose=False, download_files=True)


@pytest.fixture(scope="module")
def photos(tmp_path_factory, astronaut):
    folder = tmp_path_factory.mktemp("pair")
    astronaut.save(folder / "a.jpg", quality=92)
    ImageOps.mirror(astronaut).save(folder / "mirror.jpg", quality=92)
    side = Image.new("RGB", (1024, 512))
    side.paste(astronaut, (0, 0))
    side.paste(astronaut.point(lambda v: int(v * 0.8)), (512, 0))
    side.save(folder / "side.jpg", quality=92)
    (folder / "notes.txt").write_text("not a photo")
    return folder


def pair(client, before, after=None, before_face=None, after_face=None):
    return client.predict(handle_file(str(before)), handle_file(str(after)) if after else None, before_face,
                          after_face, api_name="/analyze_pair")


def test_the_same_photo_twice_is_a_change_of_zero_with_an_interval_holding_it(client, photos):
    image_path, result, words = pair(client, photos / "a.jpg", photos / "a.jpg")
    change = result["change"]
    assert change["bmi_delta"] == pytest.approx(0, abs=1e-3)
    assert result["before"]["bmi"] == pytest.approx(result["after"]["bmi"], abs=1e-3)
    if change["bmi_delta_interval"] is not None:
        low, high = change["bmi_delta_interval"]
        assert low < 0 < high and 0 < change["level"] < 1
    assert "Same person assumed" in words and "Same person assumed" in result["message"]
    assert Image.open(image_path).width > Image.open(photos / "a.jpg").width  # both photos, side by side


def test_a_photo_and_its_mirror_change_by_under_one_bmi(client, photos):
    _, result, _ = pair(client, photos / "a.jpg", photos / "mirror.jpg")
    assert abs(result["change"]["bmi_delta"]) < 1.0


def test_one_side_by_side_picture_is_split(client, photos):
    image_path, result, _ = pair(client, photos / "side.jpg")
    assert result["before"]["box"][2] <= 512 <= result["after"]["box"][0]
    scale = load_model(None).config.bmi_change_scale  # the served (embedded) model's: see facebmi/pair.py
    assert result["change"]["bmi_delta"] == pytest.approx(scale * (result["after"]["bmi"] - result["before"]["bmi"]),
                                                          abs=1e-4)
    assert Image.open(image_path).size == (1024, 512)


def test_a_pair_photo_cut_close_to_the_face_gets_the_caution(client, photos, astronaut, tmp_path):
    """The after photo an ID-photo framing: its face is flagged and the words say so, naming it; the before is not."""
    astronaut.crop((170, 50, 280, 185)).save(tmp_path / "tight.png")
    _, result, words = pair(client, photos / "a.jpg", tmp_path / "tight.png")
    assert result["before"]["cut_close"] is False and result["after"]["cut_close"] is True
    assert "The after face is near the edge of the photo" in words and "before face" not in words
    assert "The after face is near the edge of the photo" in result["message"]


def test_bad_input_to_either_photo_gets_the_same_clear_messages(client, photos):
    with pytest.raises(AppError, match="not an image|cannot be read|not a picture"):
        pair(client, photos / "notes.txt", photos / "a.jpg")
    with pytest.raises(AppError, match="not an image|cannot be read|not a picture"):
        pair(client, photos / "a.jpg", photos / "notes.txt")
    with pytest.raises(AppError, match="(?i)found 1 face"):
        pair(client, photos / "a.jpg")
    with pytest.raises(AppError, match="same face was chosen"):
        pair(client, photos / "side.jpg", None, 2, 2)
    with pytest.raises(AppError, match="no face #3"):
        pair(client, photos / "side.jpg", None, 1, 3)


def test_explain_returns_the_map_and_its_parts(client, photos):
    image_path, result = client.predict(handle_file(str(photos / "a.jpg")), None, api_name="/explain")
    assert Image.open(image_path).size == (336, 336)
    assert result["face"] == 1 and result["largest_effect_bmi"] > 0
    assert abs(sum(result["regions"].values()) - 1) < 1e-6
    with pytest.raises(AppError, match="no face #3"):
        client.predict(handle_file(str(photos / "a.jpg")), 3, api_name="/explain")
