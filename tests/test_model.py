"""The model folder (safetensors + config.json) round-trips and refuses what it cannot read."""
import json

import pytest
import torch

from facebmi.config import CONFIG_FORMAT_VERSION, ModelConfig
from facebmi.loading import DEFAULT_MODEL_DIR, ModelLoadError, load_model
from facebmi.model import WEIGHTS_NAME, FaceAttributeModel
from facebmi.pair import bmi_change


@pytest.fixture
def saved(tmp_path):
    model = FaceAttributeModel(ModelConfig(bmi_mean=28.0, bmi_interval_log_halfwidth=0.2)).eval()
    return model, model.save_pretrained(tmp_path / "m")


def test_round_trip_keeps_weights_config_and_outputs(saved):
    model, folder = saved
    loaded = load_model(folder)
    assert loaded.config == model.config
    x = torch.randn(2, 3, 112, 112)
    with torch.inference_mode():
        a, b = model(x), loaded(x)
    # Weights are stored as float16: every loaded tensor is exactly the original rounded to half precision,
    # and the outputs move by far less than the model's error.
    original = model.state_dict()
    for name, tensor in loaded.state_dict().items():
        expected = original[name].half().float() if original[name].is_floating_point() else original[name]
        assert torch.equal(tensor, expected), name
    assert torch.allclose(a.bmi, b.bmi, atol=0.05) and torch.allclose(a.bracket_logits, b.bracket_logits, atol=0.01)
    assert a.bracket_logits.shape == (2, 8) and a.embedding.shape == (2, 128)


def test_config_carries_the_preprocessing_contract(saved):
    _, folder = saved
    data = json.loads((folder / "config.json").read_text())
    assert data["crop"]["size"] == 112 and len(data["crop"]["mean"]) == 3
    assert data["age_brackets"] == ["0-2", "4-6", "8-13", "15-20", "25-32", "38-43", "48-53", "60+"]


def test_newer_config_format_is_refused_with_what_to_do(saved):
    _, folder = saved
    data = json.loads((folder / "config.json").read_text())
    data["format_version"] = CONFIG_FORMAT_VERSION + 1
    (folder / "config.json").write_text(json.dumps(data))
    with pytest.raises(ModelLoadError, match="upgrade facebmi"):
        load_model(folder)


def test_corrupt_weights_are_refused(saved):
    _, folder = saved
    blob = (folder / WEIGHTS_NAME).read_bytes()
    (folder / WEIGHTS_NAME).write_bytes(blob[: len(blob) // 2])
    with pytest.raises(ModelLoadError, match="corrupt"):
        load_model(folder)


def test_missing_folder_or_bad_id_is_refused(tmp_path):
    with pytest.raises(ModelLoadError, match="neither an existing folder nor a Hub repo id"):
        load_model(str(tmp_path / "no" / "such" / "model"))
    with pytest.raises(ModelLoadError, match="no config.json"):
        load_model(tmp_path)


def test_embedded_default_model_is_trained_and_calibrated():
    config = ModelConfig.load(DEFAULT_MODEL_DIR)
    assert config.bmi_interval_log_halfwidth > 0, "the shipped model must carry a calibrated BMI interval"
    assert config.training.get("validation"), "the shipped model records its validation metrics"
    assert config.bmi_change_halfwidth > 0 and config.bmi_change_halfwidth_slope >= 0, "and the change's interval"
    assert (DEFAULT_MODEL_DIR / WEIGHTS_NAME).stat().st_size <= 15_000_000  # issue 8: the default model stays small


def test_flip_averaging_gives_a_crop_and_its_mirror_the_same_answer():
    import dataclasses

    from facebmi.model import infer_outputs

    torch.manual_seed(0)
    x = torch.randn(3, 3, 112, 112)
    plain = load_model(None)  # the embedded model: trained weights, so not symmetric by construction
    plain.config = dataclasses.replace(plain.config, flip_average=False)
    with torch.inference_mode():
        one, mirrored = infer_outputs(plain, x), infer_outputs(plain, x.flip(3))
        plain.config = dataclasses.replace(plain.config, flip_average=True)
        a, b = infer_outputs(plain, x), infer_outputs(plain, x.flip(3))
    assert not torch.allclose(one.bmi, mirrored.bmi, atol=1e-3)  # the network alone differs for a mirror image
    assert torch.allclose(a.bmi, b.bmi, atol=1e-3) and torch.allclose(a.bracket_logits, b.bracket_logits, atol=1e-3)
    assert torch.allclose(a.bmi, (one.bmi + mirrored.bmi) / 2, atol=1e-3)


def test_format_1_configs_do_not_flip_average():
    old = {k: v for k, v in ModelConfig().to_dict().items() if k not in ("flip_average", "bmi_change_halfwidth")}
    config = ModelConfig.from_dict({**old, "format_version": 1})
    assert config.flip_average is False and ModelConfig().flip_average is True


def test_format_2_configs_take_the_plain_difference_as_the_change():
    old = {k: v for k, v in ModelConfig().to_dict().items() if k != "bmi_change_scale"}
    config = ModelConfig.from_dict({**old, "format_version": 2})
    assert config.bmi_change_scale == 1.0
    assert bmi_change(30.0, 26.0, config) == -4.0
    assert bmi_change(30.0, 26.0, ModelConfig(bmi_change_scale=1.5)) == pytest.approx(-6.0)


def test_format_1_to_4_configs_read_each_face_of_a_pair_once():
    old = {k: v for k, v in ModelConfig().to_dict().items() if not k.startswith("pair_read")}
    for version in (3, 4):
        config = ModelConfig.from_dict({**old, "format_version": version})
        assert config.pair_read_mirror is False and config.pair_read_shift == 0
    assert ModelConfig.from_dict({**old, "format_version": 4, "pair_views": 1}).pair_read_shift == 0
    with pytest.raises(ValueError, match="pair_views above 1"):  # format 4's jittered reads are no longer made
        ModelConfig.from_dict({**old, "format_version": 4, "pair_views": 5})
    assert ModelConfig().pair_read_mirror is True and ModelConfig().pair_read_shift == 1