"""Training's re-framing augmentation and batch sampling (training/learn/augment.py, training/learn/sampling.py)."""
import numpy as np
import pytest
import torch

from facebmi.align import crop_context
from facebmi.config import CropSpec
from facebmi.detect import FaceDetector, main_face
from training.learn.augment import AugmentSpec, reframe_crops
from training.learn.sampling import all_pairs, balance_weights, draw_pairs, same_person_groups


@pytest.fixture(scope="module")
def views(astronaut):
    """The astronaut's cached wider view, whole and as a tight photo (part of the view outside it)."""
    spec = CropSpec()
    face = main_face(FaceDetector().detect(astronaut))
    tight = astronaut.crop((150, 40, 300, 200))
    whole = crop_context(astronaut, [face.landmarks], spec, 1.5)
    cut = crop_context(tight, [face.landmarks - np.array([150, 40])], spec, 1.5)
    return torch.cat([whole, cut]).repeat(16, 1, 1, 1)  # 32 views


def test_augmented_crops_have_the_model_shape_and_vary(views):
    spec = CropSpec()
    out = reframe_crops(views, spec, AugmentSpec(), torch.Generator().manual_seed(0))
    assert out.shape == (32, 3, spec.size, spec.size) and out.dtype == torch.uint8
    plain = reframe_crops(views, spec, None)
    assert (out.float() - plain.float()).abs().mean() > 5  # something changed
    again = reframe_crops(views, spec, AugmentSpec(), torch.Generator().manual_seed(0))
    assert torch.equal(out, again)  # seeded: a training run is reproducible


def test_reframing_fills_the_outside_with_the_inference_fill(views):
    """Cut every side hard and never use a canvas: much of the crop is then outside the photo, and it must
    hold exactly the colour crop_faces puts outside a photo (0 after normalisation), nothing else."""
    spec = CropSpec()
    hard = AugmentSpec(reframe=1.0, cut_side=1.0, cut_inner=(0.5, 0.5, 0.5, 0.5), cut_outer=0.8, frame_outer=0.8,
                       canvas=0.0, low_res=0.0,
                       jpeg=0.0, max_rotate_deg=0.0, max_scale=0.0, max_shift=0.0, cut_tilt_deg=0.0)
    out = reframe_crops(views, spec, hard, torch.Generator().manual_seed(1)).float()
    fill = torch.tensor(spec.mean).view(1, 3, 1, 1) * 255
    is_fill = ((out - fill).abs() <= 1).all(dim=1)
    assert is_fill[:, :5, :].float().mean() > 0.95  # the top rows: beyond every cut (0.5-0.8 half-widths out)
    centre = is_fill[:, 50:62, 50:62].float().mean()
    assert centre < 0.05  # the middle of the face is always kept


def test_canvas_views_have_no_outside(views):
    spec = CropSpec()
    canvas = AugmentSpec(reframe=1.0, cut_side=1.0, canvas=1.0, low_res=0.0, jpeg=0.0, brightness=0.0,
                         contrast=0.0, saturation=0.0, grayscale=0.0)
    out = reframe_crops(views, spec, canvas, torch.Generator().manual_seed(2)).float()
    fill = torch.tensor(spec.mean).view(1, 3, 1, 1) * 255
    assert ((out - fill).abs() <= 1).all(dim=1).float().mean() < 0.05


def test_balance_weights_lift_small_cells():
    source = np.array(["utk"] * 90 + ["utk"] * 10)
    bracket = np.array([4] * 90 + [0] * 10)
    race = np.array(["White"] * 100)
    w = balance_weights(source, bracket, race, power=0.5)
    assert w.sum() == pytest.approx(1)
    # Cell mass goes as sqrt(count): 90 -> 9.49, 10 -> 3.16, so the children get 25% instead of 10%.
    assert w[90:].sum() == pytest.approx(np.sqrt(10) / (np.sqrt(10) + np.sqrt(90)))
    assert balance_weights(source, bracket, race, power=0.0)[90:].sum() == pytest.approx(0.1)


def test_same_person_pairs():
    group = np.array(["a", "a", "a", "b", "b", "c"])
    bmi = np.array([30.0, 25.0, 30.2, 22.0, 22.1, 40.0])
    groups = same_person_groups(group, bmi, np.arange(6))
    assert [sorted(g.tolist()) for g in groups] == [[0, 1, 2]]  # b's photos barely differ; c has one
    pairs = all_pairs(groups, bmi)
    assert sorted(map(tuple, pairs.tolist())) == [(0, 1), (1, 2)]  # (0, 2) differ by 0.2 only
    drawn = draw_pairs(groups, 50, np.random.default_rng(0))
    assert drawn.shape == (50, 2) and (drawn[:, 0] != drawn[:, 1]).all()
    assert set(drawn.reshape(-1).tolist()) <= {0, 1, 2}


def test_same_person_groups_split_by_descriptor():
    # One group_id holding two posters (as bmi-reddit's same sex/age/height groups often do): with descriptors,
    # only photos of the same face pair up; a photo with no descriptor (NaN) is left out.
    group = np.array(["g"] * 5)
    bmi = np.array([35.0, 28.0, 24.0, 30.0, 33.0])
    d = np.zeros((5, 128))
    d[0, 0], d[1, 0] = 0.0, 0.3  # person A: distance 0.3
    d[2, 0], d[3, 0] = 2.0, 2.4  # person B: distance 0.4, 2 away from A
    d[4] = np.nan
    assert [sorted(g.tolist()) for g in same_person_groups(group, bmi, np.arange(5))] == [[0, 1, 2, 3, 4]]
    people = same_person_groups(group, bmi, np.arange(5), descriptors=d)
    assert sorted(sorted(g.tolist()) for g in people) == [[0, 1], [2, 3]]
    assert sorted(map(tuple, all_pairs(people, bmi).tolist())) == [(0, 1), (2, 3)]
    # Linked through a middle photo (single linkage): 0-5 and 5-1 are close though 0-1 are not.
    d2 = np.zeros((3, 128))
    d2[:, 0] = [0.0, 0.5, 1.0]
    assert [sorted(g.tolist()) for g in same_person_groups(np.array(["g"] * 3), np.array([30.0, 28.0, 26.0]),
                                                           np.arange(3), descriptors=d2)] == [[0, 1, 2]]


def test_twins_can_be_framed_on_all_four_sides(views):
    """TrainConfig.twin_framed: the consistency term's re-framed views cut on every side (the photo ending there,
    filled with the inference fill); at 0 the twins are made exactly as before the option (same random stream)."""
    import dataclasses

    from training.learn.train import twin_views
    from training.learn.train_config import TrainConfig

    spec = CropSpec()
    fill = (torch.tensor(spec.mean) * 255).round().view(1, 3, 1, 1)

    def framed_on_four_sides(crops):
        outside = ((crops.float() - fill).abs() <= 1).all(1)
        band = 16
        return torch.stack([outside[:, :, :band].any((1, 2)), outside[:, :band].any((1, 2)),
                            outside[:, :, -band:].any((1, 2)), outside[:, -band:].any((1, 2))], 1).all(1)

    usual = twin_views(views, spec, TrainConfig(twin_framed=0.0), torch.Generator().manual_seed(0))
    before = reframe_crops(views, spec, dataclasses.replace(AugmentSpec(), low_res=0.0, jpeg=0.0),
                           torch.Generator().manual_seed(0))
    assert torch.equal(usual, before)
    framed = twin_views(views, spec, TrainConfig(twin_framed=1.0), torch.Generator().manual_seed(0))
    assert framed_on_four_sides(framed).all()
    assert framed_on_four_sides(usual).float().mean() < 0.7  # usually some side is left as it was


def test_twins_can_be_kept_free_of_the_camera_effects(views):
    """TrainConfig.twin_camera off: with noise and blur on in the augmentation, the twins are made exactly as
    if both were off (same random stream); on (the default), the twins get them too."""
    import dataclasses

    from training.learn.train import twin_views
    from training.learn.train_config import TrainConfig

    spec = CropSpec()
    camera = TrainConfig(augment=dataclasses.replace(AugmentSpec(), noise=1.0, blur=1.0), twin_framed=0.5)
    assert camera.twin_camera

    def twins(cfg):
        return twin_views(views, spec, cfg, torch.Generator().manual_seed(5))

    free = twins(dataclasses.replace(camera, twin_camera=False))
    assert torch.equal(free, twins(dataclasses.replace(camera, augment=AugmentSpec())))
    with_camera = twins(camera).float()
    assert (with_camera - free.float()).abs().mean() > 1.0  # noise of sd up to 12 levels and a blur: not subtle


def test_light_and_camera_augmentation_acts_only_where_asked(views):
    """AugmentSpec's white balance, exposure, blur and noise come after every other random draw but JPEG's: with
    JPEG off, a spec with one of them on differs from the same spec without it by that effect alone, on the
    photo's own pixels; the fill outside the photo stays the inference fill."""
    import dataclasses

    spec = CropSpec()
    base = AugmentSpec(jpeg=0.0)
    plain = reframe_crops(views, spec, base, torch.Generator().manual_seed(3)).float()

    def made(**on):
        return reframe_crops(views, spec, dataclasses.replace(base, **on), torch.Generator().manual_seed(3)).float()

    fill = (torch.tensor(spec.mean) * 255).round().view(1, 3, 1, 1)
    # The outside: the fill, away (2 px) from the photo's edge, where pixels are part photo, part fill.
    not_fill = (~((plain - fill).abs() <= 1).all(1, keepdim=True)).float()
    outside = torch.nn.functional.max_pool2d(not_fill, 5, stride=1, padding=2) == 0
    assert outside.float().mean() > 0.05  # the views' re-framing leaves some outside to check
    photo = ~outside.expand_as(plain)

    noisy = made(noise=1.0)
    difference = (noisy - plain)[photo]
    assert abs(difference.mean()) < 0.5 and 4 < difference.std() < 12  # sd drawn in 2-16 levels per face
    for name, out in [("noise", noisy), ("blur", made(blur=1.0)), ("exposure", made(exposure=1.0)),
                      ("white_balance", made(white_balance=1.0))]:
        assert torch.equal(out[~photo], plain[~photo]), name  # the outside is never perturbed

    def detail(x):
        return (x[:, :, :, 1:] - x[:, :, :, :-1]).abs()[:, :, 40:72, 40:72].mean()

    assert detail(made(blur=1.0)) < 0.85 * detail(plain) and detail(noisy) > 1.5 * detail(plain)

    def per_face(x, channel=None):  # mean level of each face's centre
        centre = x[:, :, 40:72, 40:72]
        return (centre.mean((1, 2, 3)) if channel is None else centre[:, channel].mean((1, 2)))

    ratio = per_face(made(exposure=1.0)) / per_face(plain)
    assert ratio.min() < 0.85 and ratio.max() > 1.15  # darker and brighter faces, 1.5 stops down to 1 up
    warmth = (per_face(made(white_balance=1.0), 0) / per_face(made(white_balance=1.0), 2)) / \
        (per_face(plain, 0) / per_face(plain, 2))
    assert warmth.min() < 0.9 and warmth.max() > 1.1  # cool and warm light
    assert torch.equal(made(noise=0.0), plain)  # off: nothing drawn, nothing changed
