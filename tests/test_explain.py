"""Where the model looked (facebmi/explain.py): occlusion sensitivity of the BMI estimate."""
import numpy as np
import torch

from facebmi.explain import explain_faces, overlay, region_shares


def test_map_measures_what_hiding_a_region_does(predictor, astronaut):
    faces = predictor.predict(astronaut)
    [explanation] = explain_faces(predictor, astronaut, faces[:1])
    size = predictor.config.crop.size
    assert explanation.crop.shape == (size, size, 3) and explanation.heat.shape == (size, size)
    assert np.isfinite(explanation.heat).all() and np.abs(explanation.heat).max() > 0.01
    # Check one patch by hand: hiding the top-left 16 px changes the estimate by what the map says there
    # (the corner pixel is covered by that patch alone).
    crop = torch.from_numpy(explanation.crop).permute(2, 0, 1).contiguous()
    hidden = crop.clone()
    hidden[:, :16, :16] = (torch.tensor(predictor.config.crop.mean) * 255).round().to(torch.uint8).view(3, 1, 1)
    bmi = predictor.infer_crops(torch.stack([crop, hidden]))[0]
    assert abs(explanation.heat[0, 0] - (bmi[0] - bmi[1])) < 1e-3
    image = explanation.overlay()
    assert image.size == (size, size) and image.mode == "RGB"


def test_overlay_colours_follow_the_sign():
    crop = np.full((8, 8, 3), 128, np.uint8)
    heat = np.zeros((8, 8))
    heat[:4] = 2.0  # raised the estimate
    heat[4:] = -2.0  # lowered it
    pixels = np.asarray(overlay(crop, heat)).astype(int)
    assert pixels[0, 0, 0] > pixels[0, 0, 2] and pixels[7, 7, 2] > pixels[7, 7, 0]


def test_region_shares_sum_to_one():
    heat = np.zeros((112, 112))
    heat[96:, 30:80] = 1.0  # only the chin and neck (from 85% of the height down) matter
    shares = region_shares(heat)
    assert abs(sum(shares.values()) - 1) < 1e-9
    assert shares["chin and neck"] > 0.9
