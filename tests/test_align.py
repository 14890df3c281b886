"""The crop is defined once and shared: training's cached crops equal what the app feeds the model."""
import numpy as np
import torch
from PIL import Image

from facebmi.align import crop_faces, similarity_transform, template_points, to_model_input
from facebmi.config import CropSpec, ModelConfig
from facebmi.detect import FaceDetector, main_face


def test_similarity_transform_recovers_a_known_rotation_scale_shift():
    src = np.array([[0, 0], [10, 0], [5, 5], [2, 9], [8, 9]], dtype=float)
    angle, scale, shift = 0.3, 2.5, np.array([7.0, -3.0])
    rot = scale * np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    m = similarity_transform(src, src @ rot.T + shift)
    assert np.allclose(m[:, :2], rot) and np.allclose(m[:, 2], shift)


def test_landmarks_land_on_the_template(astronaut):
    spec = CropSpec()
    face = main_face(FaceDetector().detect(astronaut))
    crop = crop_faces(astronaut, [face.landmarks], spec)
    assert crop.shape == (1, 3, spec.size, spec.size) and crop.dtype == torch.uint8
    # Re-detect in the crop: the eyes must sit where the template puts them (within a few pixels).
    again = main_face(FaceDetector().detect(Image.fromarray(crop[0].permute(1, 2, 0).numpy()), max_side=10_000))
    assert again is not None
    assert np.abs(again.landmarks[:2] - template_points(spec)[:2]).max() < 4


def test_crop_is_rotation_and_scale_invariant(astronaut):
    """The same face, rotated and enlarged 3x, gives nearly the same crop (alignment + antialiasing)."""
    spec = CropSpec()
    detector = FaceDetector()
    upright = crop_faces(astronaut, [main_face(detector.detect(astronaut)).landmarks], spec)[0].float()
    big = astronaut.resize((1536, 1536), Image.BICUBIC).rotate(25, resample=Image.BICUBIC)
    turned = crop_faces(big, [main_face(detector.detect(big)).landmarks], spec)[0].float()
    centre = slice(20, 92)  # ignore the corners, where rotation brings in new background
    assert (upright[:, centre, centre] - turned[:, centre, centre]).abs().mean() < 12


def test_faces_at_the_border_are_padded_by_repeating_edges(astronaut):
    spec = CropSpec()
    face = main_face(FaceDetector().detect(astronaut))
    cut = astronaut.crop((int(face.box[0]) + 10, 0, 512, 512))  # the left of the face is cut off
    landmarks = face.landmarks - np.array([int(face.box[0]) + 10, 0])
    crop = crop_faces(cut, [landmarks], spec)[0]
    left_column = crop[:, :, 0].float()
    # Edge replication: the columns left of the photo edge repeat its first column, no black fill.
    assert left_column.mean() > 40


def test_model_input_normalisation_matches_the_config():
    spec = CropSpec()
    crops = torch.full((2, 3, spec.size, spec.size), 255, dtype=torch.uint8)
    x = to_model_input(crops, spec)
    expected = (1 - torch.tensor(spec.mean)) / torch.tensor(spec.std)
    assert torch.allclose(x[0, :, 0, 0], expected)


def test_training_cache_uses_the_same_crop(tmp_path, astronaut):
    """training.prepare stores exactly crop_faces' output for the main face."""
    import csv

    from training.prepare import prepare

    folder = tmp_path / "mini"
    (folder / "images").mkdir(parents=True)
    astronaut.save(folder / "images" / "a.png")
    with open(folder / "labels.csv", "w", newline="") as f:
        csv.writer(f).writerows([["file", "bmi", "age", "sex"], ["images/a.png", "22.5", "40", "F"]])
    data = prepare([folder], tmp_path / "faces", workers=1, with_teacher=False)
    row = data[0]
    cached = torch.from_numpy(np.array(row["image"])).permute(2, 0, 1)
    spec = ModelConfig().crop
    direct = crop_faces(astronaut, [main_face(FaceDetector().detect(astronaut)).landmarks], spec)[0]
    assert torch.equal(cached, direct)
    assert row["bmi"] == 22.5 and row["bracket"] == "38-43" and row["sex"] == "F"
