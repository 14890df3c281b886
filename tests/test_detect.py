"""Our MTCNN path (facebmi/mtcnn_stages.py: channels-last networks, windows resized from one summed-area table)
finds what facenet-pytorch's own MTCNN.detect finds, on real photo content: same faces, same boxes, scores and
landmarks to a thousandth of a pixel. And the BatchNorm-folded inference copy gives the network's outputs."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from facenet_pytorch import MTCNN
from PIL import Image, ImageOps

from facebmi import mtcnn_stages
from facebmi.loading import load_model
from facebmi.model import fold_batchnorm, infer_outputs


@pytest.fixture(scope="module")
def stock_and_ours():
    stock = MTCNN(keep_all=True, select_largest=False, device="cpu")
    ours = mtcnn_stages.use_channels_last(MTCNN(keep_all=True, select_largest=False, device="cpu"))
    return stock, ours


def photos(astronaut: Image.Image) -> dict[str, Image.Image]:
    face = astronaut.resize((400, 400))
    four = Image.new("RGB", (640, 480), (30, 60, 90))
    for i in range(4):  # four faces, one cut by the photo's edge: boxes reaching outside the photo are clipped
        four.paste(astronaut.resize((260, 260)), ((i % 2) * 320 + (60 if i < 3 else 200), (i // 2) * 240))
    return {
        "one face": face,
        "four faces": four,
        "face filling the photo": astronaut.crop((140, 20, 330, 230)),
        "grey, rotated": ImageOps.grayscale(face).convert("RGB").rotate(15, expand=True),
        "tiny": astronaut.resize((48, 48)),
        "flat": Image.new("RGB", (300, 200), (127, 127, 127)),
    }


def test_same_faces_as_facenet_pytorch(stock_and_ours, astronaut):
    stock, ours = stock_and_ours
    found_any = 0
    for name, photo in photos(astronaut).items():
        boxes, scores, points = stock.detect(photo, landmarks=True)
        got_boxes, got_scores, got_points = mtcnn_stages.detect(ours, photo)
        if boxes is None:
            assert len(got_boxes) == 0, name
            continue
        found_any += 1
        boxes, scores, points = (np.asarray(a, dtype=np.float64) for a in (boxes, scores, points))
        assert got_boxes.shape == boxes.shape and got_points.shape == points.shape, name
        np.testing.assert_allclose(got_boxes, boxes, atol=1e-3, err_msg=name)
        np.testing.assert_allclose(got_points, points, atol=1e-3, err_msg=name)
        np.testing.assert_allclose(got_scores, scores, atol=1e-5, err_msg=name)
    assert found_any >= 4  # the comparison covered real detections, not only empty answers


def test_stages_two_and_three_from_no_candidates(stock_and_ours, astronaut):
    _, ours = stock_and_ours
    pixels = mtcnn_stages.photo_tensor(ours, astronaut)
    boxes, scores, points = mtcnn_stages.refine(ours, pixels, torch.zeros((0, 4)))
    assert boxes.shape == (0, 4) and scores.shape == (0,) and points.shape == (0, 5, 2)
    # a candidate wholly outside the photo has no pixels to read: no face, no error
    outside = torch.tensor([[astronaut.width + 10.0, 5.0, astronaut.width + 60.0, 55.0]])
    assert len(mtcnn_stages.refine(ours, pixels, outside)[0]) == 0


def test_windows_are_area_interpolation(astronaut):
    """Each window is what torch's area interpolation of the box's pixels gives (facenet-pytorch's imresample),
    also for boxes smaller than the window (upsampling) and boxes clipped by the photo's edge."""
    from facenet_pytorch.models.utils.detect_face import imresample, pad

    pixels = torch.as_tensor(np.array(astronaut.resize((200, 150)))).permute(2, 0, 1)[None].float()
    boxes = torch.tensor([[10.0, 20.0, 90.0, 100.0, 1], [50.3, 7.8, 60.1, 17.6, 1], [-20.0, 100.0, 40.0, 160.0, 1],
                          [150.0, 30.0, 230.0, 110.0, 1]])
    kept, windows = mtcnn_stages._windows(mtcnn_stages.summed_area_table(pixels), (150, 200), boxes.clone(), 24,
                                          torch.float32)
    y, ey, x, ex = pad(boxes.clone(), 200, 150)
    want = torch.cat([imresample(pixels[:, :, y[k] - 1:ey[k], x[k] - 1:ex[k]], (24, 24)) for k in range(len(boxes))])
    assert len(kept) == len(boxes)
    torch.testing.assert_close(windows, (want - 127.5) * 0.0078125, atol=1e-5, rtol=0)


def test_folded_batchnorm_gives_the_same_outputs():
    model = load_model(None, device=torch.device("cpu")).eval()
    folded = fold_batchnorm(model)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in folded.modules())
    assert any(isinstance(m, torch.nn.BatchNorm2d) for m in model.modules())  # the caller's model is untouched
    x = torch.randn(3, 3, model.config.crop.size, model.config.crop.size, generator=torch.Generator().manual_seed(0))
    with torch.inference_mode():
        want, got = infer_outputs(model, x), infer_outputs(folded, x)
    for name in ("bmi", "age_years", "bracket_logits", "embedding"):
        torch.testing.assert_close(getattr(got, name), getattr(want, name), atol=1e-4, rtol=1e-4)
