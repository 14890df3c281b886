"""The crop is defined once and shared: training's cached crops equal what the app feeds the model."""
import io

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw, ImageFilter

from facebmi.align import (FLAT_TOLERANCE, backdrop_rectangle, crop_context, crop_faces, photo_mask,
                            similarity_transform, template_points, to_model_input)
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
    assert np.abs(again.landmarks[:2] - template_points(spec.size, spec.face_fraction)[:2]).max() < 4


def test_crop_is_rotation_and_scale_invariant(astronaut):
    """The same face, rotated and enlarged 3x, gives nearly the same crop (alignment + antialiasing)."""
    spec = CropSpec()
    detector = FaceDetector()
    upright = crop_faces(astronaut, [main_face(detector.detect(astronaut)).landmarks], spec)[0].float()
    big = astronaut.resize((1536, 1536), Image.BICUBIC).rotate(25, resample=Image.BICUBIC)
    turned = crop_faces(big, [main_face(detector.detect(big)).landmarks], spec)[0].float()
    centre = slice(20, 92)  # ignore the corners, where rotation brings in new background
    assert (upright[:, centre, centre] - turned[:, centre, centre]).abs().mean() < 12


def test_outside_the_photo_is_one_plain_colour(astronaut):
    """Where the crop reaches past the photo's edge it is filled with the normalisation mean (0 after
    to_model_input), the same in every photo: no stripes of repeated edge pixels that differ per source."""
    spec = CropSpec()
    face = main_face(FaceDetector().detect(astronaut))
    cut = astronaut.crop((int(face.box[0]) + 10, 0, 512, 512))  # the left of the face is cut off
    landmarks = face.landmarks - np.array([int(face.box[0]) + 10, 0])
    crop = crop_faces(cut, [landmarks], spec)[0]
    fill = torch.tensor(spec.mean) * 255
    assert torch.allclose(crop[:, :, :3].float().mean(dim=(1, 2)), fill, atol=1)
    assert to_model_input(crop[None, :, :, :3], spec).abs().max() < 0.03
    inside = crop[:, :, -20:].float()  # the right part lies inside the photo: real pixels, not the fill
    assert (inside - fill.view(3, 1, 1)).abs().mean() > 20


def test_format_1_models_keep_edge_padding(astronaut):
    """A config.json of format 1 (no crop.outside) is cropped the way it was trained: edges repeated."""
    config = ModelConfig.from_dict({**ModelConfig().to_dict(), "format_version": 1,
                                    "crop": {"size": 112, "face_fraction": 0.7}})
    assert config.crop.outside == "edge"
    face = main_face(FaceDetector().detect(astronaut))
    cut = astronaut.crop((int(face.box[0]) + 10, 0, 512, 512))
    crop = crop_faces(cut, [face.landmarks - np.array([int(face.box[0]) + 10, 0])], config.crop)[0]
    first_photo_column = crop[:, :, 30].float()
    assert (crop[:, :, 0].float() - first_photo_column).abs().mean() < 25  # repeats, not a flat fill


def test_context_view_centre_is_the_crop(astronaut):
    """Training re-frames the cached wider view; with no augmentation its centre is exactly the app's crop."""
    from training.learn.augment import reframe_crops

    spec = CropSpec()
    face = main_face(FaceDetector().detect(astronaut))
    cut = astronaut.crop((150, 40, 300, 200))  # a tight photo, so part of the view lies outside it
    points = face.landmarks - np.array([150, 40])
    crop = crop_faces(cut, [points], spec)
    context = crop_context(cut, [points], spec, 1.5)
    assert context.shape == (1, 4, 168, 168)
    inside = context[0, 3].float() / 255
    assert 0.2 < inside.mean() < 0.8 and inside[84, 84] == 1 and inside[0, 0] == 0
    assert (reframe_crops(context, spec, None).int() - crop.int()).abs().max() <= 1


def test_a_face_that_fills_the_photo_is_found_with_accurate_landmarks(astronaut):
    """An ID-photo framing (cut at the face's own box): MTCNN alone misplaces the landmarks; the bordered
    second pass puts them within a few hundredths of an eye distance of where they are in the full photo."""
    import dataclasses

    from facebmi.config import DetectSpec

    face = main_face(FaceDetector().detect(astronaut))
    x0, y0, x1, y1 = (int(round(v)) for v in face.box)
    tight = astronaut.crop((x0, y0, x1, y1))
    eye_distance = np.linalg.norm(face.landmarks[0] - face.landmarks[1])

    def error(detector):
        found = main_face(detector.detect(tight))
        return np.inf if found is None else np.abs(found.landmarks + [x0, y0] - face.landmarks).max() / eye_distance

    assert error(FaceDetector()) < 0.06
    assert error(FaceDetector(dataclasses.replace(DetectSpec(), edge_pad=0))) > 0.1  # what the second pass fixes


def test_a_face_at_the_edge_and_one_in_the_middle_are_both_found(astronaut):
    """The bordered pass (triggered by the face at the edge) must not lose the other face."""
    face = main_face(FaceDetector().detect(astronaut))
    x0, y0, x1, y1 = (int(round(v)) for v in face.box)
    big = astronaut.crop((x0, y0, x1, y1)).resize((300, 380))
    canvas = Image.new("RGB", (900, 380), (90, 120, 150))
    canvas.paste(big, (0, 0))  # a face filling the left edge: triggers the bordered pass
    canvas.paste(astronaut.resize((320, 320)), (480, 30))  # a whole photo in the middle, its face ~55 px wide
    boxes = sorted(d.box[0] for d in FaceDetector().detect(canvas))
    assert len(boxes) == 2 and boxes[0] < 50 and 480 < boxes[1] < 800


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


def test_shifted_views_are_the_crop_moved_by_whole_pixels(astronaut):
    from facebmi.align import shifted_views

    spec = ModelConfig().crop
    landmarks = [main_face(FaceDetector().detect(astronaut)).landmarks]
    crop = crop_faces(astronaut, landmarks, spec)
    for side in (spec.size + 2, 168):  # the app's narrow view and training's cached one give the same views
        views = shifted_views(crop_context(astronaut, landmarks, spec, side / spec.size), spec, 1)
        assert views.shape == (1, 9, 3, spec.size, spec.size) and views.dtype == torch.uint8
        assert (views[:, 0].int() - crop.int()).abs().max() <= 1  # the unmoved crop first (float rounding: 1)
        # Offsets in row order after it: (-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), ... (dy, dx).
        right = views[0, 5]  # cut 1 px to the right: its pixel x is the unmoved crop's pixel x + 1
        assert torch.equal(right[:, :, :-1], views[0, 0, :, :, 1:])
        down_left = views[0, 6]  # (1, -1)
        assert torch.equal(down_left[:, :-1, 1:], views[0, 0, :, 1:, :-1])
    with pytest.raises(ValueError, match="cannot give"):
        shifted_views(crop_context(astronaut, landmarks, spec, (spec.size + 2) / spec.size), spec, 2)
    with pytest.raises(ValueError, match="outside 'mean'"):
        shifted_views(crop_context(astronaut, landmarks, spec, 1.5), CropSpec(outside="edge"), 1)


def _pasted(photo: Image.Image, size: tuple[int, int], at: tuple[int, int], colour) -> Image.Image:
    canvas = Image.new("RGB", size, colour)
    canvas.paste(photo, at)
    return canvas


@pytest.mark.parametrize("box, size, at, colour", [
    ((150, 20, 330, 250), (819, 819), (153, 153), (200, 200, 200)),  # pasted on a plain canvas 1.6x its size
    ((110, 80, 370, 200), (260, 400), (0, 140), (0, 0, 0)),  # letterboxed: black bars above and below
    ((150, 20, 330, 250), (400, 230), (110, 0), (255, 255, 255)),  # pillarboxed in white
])
def test_a_flat_border_is_cropped_like_the_outside_of_the_photo(astronaut, box, size, at, colour):
    """The same photo on a plain canvas or between bars gives the crop of the photo alone: the border's pixels
    are outside the photo, filled like the outside, so how a photo was framed cannot move the estimate."""
    spec = CropSpec()
    face = main_face(FaceDetector().detect(astronaut))
    tight = astronaut.crop(box)  # the face fills it: the crop reaches past its edges
    points = face.landmarks - np.array(box[:2])
    alone = crop_faces(tight, [points], spec)[0].int()
    framed = _pasted(tight, size, at, colour)
    on_canvas = crop_faces(framed, [points + np.array(at)], spec)[0].int()
    assert (on_canvas - alone).abs().max() <= 1
    # Format 1-6 models read every pixel of the file as photo: there the border shows in the crop.
    old = CropSpec(flat_border_outside=False, backdrop_outside=False)
    assert (crop_faces(framed, [points + np.array(at)], old)[0].int() - alone).abs().float().mean() > 5
    context = crop_context(framed, [points + np.array(at)], spec, 1.5)[0]
    assert (context[:, 28:140, 28:140].int() - crop_context(tight, [points], spec, 1.5)[0, :, 28:140, 28:140].int()
            ).abs().max() <= 1


def test_the_dataset_build_caches_exactly_the_crop_and_views_the_app_makes(astronaut):
    """prepare.face_fields finds the photo's mask once for the crop and both wider views: on a framed photo
    (where the mask matters) its cached PNGs hold exactly what crop_faces and crop_context make, mask found by
    each on its own."""
    from facebmi.detect import mirror_match
    from training.prepare import CONTEXT, face_fields

    spec, detector = CropSpec(), FaceDetector()
    framed = _pasted(astronaut.crop((150, 20, 330, 250)), (819, 819), (153, 153), (200, 200, 200))
    face = main_face(detector.detect(framed))
    mirror = mirror_match(face, detector.detect_mirrored(framed))
    assert face is not None and mirror is not None
    fields = face_fields(framed, face, spec, mirror=mirror)

    def decoded(png):
        return torch.from_numpy(np.array(Image.open(io.BytesIO(png["bytes"])))).permute(2, 0, 1)

    assert torch.equal(decoded(fields["image"]), crop_faces(framed, [face.landmarks], spec)[0])
    views = crop_context(framed, [face.landmarks, mirror.landmarks], spec, CONTEXT)
    assert torch.equal(decoded(fields["context"]), views[0])
    assert torch.equal(decoded(fields["mirror_context"]), views[1])
    # The mask mattered: read as all photo, the canvas would show in the crop.
    unmasked = crop_faces(framed, [face.landmarks], spec, mask=None)[0]
    assert (unmasked.int() - decoded(fields["image"]).int()).abs().float().mean() > 5


def test_the_corners_a_rotation_leaves_are_outside_and_the_photo_keeps_its_own_black(astronaut):
    """Rotated with black corners: the corners are border, the photo's own black (the astronaut's bottom
    right, which meets them) is not, because it lies inside the photo's convex outline."""
    turned = astronaut.rotate(15, Image.BICUBIC, expand=True)
    mask = np.asarray(photo_mask(turned)) > 0
    assert abs((1 - mask.mean()) - (1 - 512 ** 2 / turned.width ** 2)) < 0.01  # the corners' share of the file
    own_black = (np.asarray(turned.rotate(0)) <= FLAT_TOLERANCE).all(axis=2)
    photo = np.asarray(Image.new("L", astronaut.size, 255).rotate(15, Image.NEAREST, expand=True)) > 0
    assert (own_black & photo).sum() > 2000  # the photo has black of its own that touches the corners
    assert mask[own_black & photo].mean() > 0.99


def test_a_photo_without_a_flat_border_has_no_mask(astronaut):
    assert photo_mask(astronaut) is None  # its black corner is the photo's own (< 1% and within its outline)
    noise = Image.fromarray(np.random.default_rng(0).integers(0, 256, (300, 400, 3), dtype=np.uint8))
    assert photo_mask(noise) is None
    assert photo_mask(Image.new("RGB", (300, 200), (10, 20, 30))) is None  # blank: nothing to tell apart
    with pytest.raises(ValueError, match="RGB"):
        photo_mask(astronaut.convert("L"))


def test_a_huge_photo_gets_its_border_from_a_smaller_copy(astronaut):
    framed = _pasted(astronaut.resize((2048, 2048)), (3000, 2048), (476, 0), (255, 255, 255))
    mask = np.asarray(photo_mask(framed)) > 0
    assert mask.shape == (2048, 3000)
    assert not mask[:, :470].any() and not mask[:, -470:].any() and mask[:, 480:2520].all()


def _jpeg(photo: Image.Image, quality: int) -> Image.Image:
    buffer = io.BytesIO()
    photo.save(buffer, "JPEG", quality=quality)
    return Image.open(buffer).convert("RGB")


def _on_blurred_copy(photo: Image.Image, size: tuple[int, int], radius: float) -> tuple[Image.Image, tuple[int, int]]:
    """The photo centred on a blurred copy of itself stretched to size (as phone apps fit a photo to a frame)."""
    backdrop = photo.resize(size, Image.BILINEAR).filter(ImageFilter.GaussianBlur(radius))
    at = ((size[0] - photo.width) // 2, (size[1] - photo.height) // 2)
    backdrop.paste(photo, at)
    return backdrop, at


@pytest.mark.parametrize("size, radius, quality", [
    ((288, 368), 20, None),  # on a blurred copy of itself 1.6x its size
    ((288, 368), 20, 85),  # the same saved as JPEG: rings beside the seam
    ((409, 230), 15, None),  # a portrait fitted to a 16:9 frame between blurred bars
    ((225, 288), 25, None),  # 1.25x, blurred harder
])
def test_a_blurred_backdrop_is_cropped_like_the_outside_of_the_photo(astronaut, size, radius, quality):
    """A face that fills its photo, pasted on a blurred copy of itself: the backdrop is found (the photo's rectangle
    within a pixel or two) and the crop is that of the photo alone, as for a flat canvas. Without the rule
    (format 1-7) the blurred face around the face shows in the crop."""
    photo = astronaut.crop((150, 20, 330, 250))  # 180 x 230, the face fills it
    framed, at = _on_blurred_copy(photo, size, radius)
    expected = (at[0], at[1], at[0] + photo.width, at[1] + photo.height)
    if quality:
        framed = _jpeg(framed, quality)
        photo = framed.crop(expected)  # the photo as JPEG left it
    found = backdrop_rectangle(framed)
    assert found is not None
    # JPEG's rings beside the seam are sharp: the rectangle may take in a few of their pixels
    assert np.abs(np.array(found) - np.array(expected)).max() <= (6 if quality else 2)
    points = main_face(FaceDetector().detect(framed)).landmarks
    spec = CropSpec()
    alone = crop_faces(photo, [points - np.array(at)], spec)[0].float()
    on_backdrop = crop_faces(framed, [points], spec)[0].float()
    unmasked = crop_faces(framed, [points], CropSpec(backdrop_outside=False))[0].float()
    assert (on_backdrop - alone).abs().mean() < 1  # only where the rectangle is a pixel or a ring off
    assert (unmasked - alone).abs().mean() > 3 * (on_backdrop - alone).abs().mean()


def test_a_sharp_subject_before_a_blurred_background_is_photo(astronaut):
    """Shallow depth of field is not a backdrop: the subject ends in a silhouette, not in straight seams, so the
    blurred background stays photo. Nor is a photo sharp to its edges."""
    background = astronaut.filter(ImageFilter.GaussianBlur(12))
    subject = Image.new("L", astronaut.size, 0)
    ImageDraw.Draw(subject).ellipse((120, 10, 400, 470), fill=255)
    portrait = Image.composite(astronaut, background, subject.filter(ImageFilter.GaussianBlur(2)))
    assert backdrop_rectangle(portrait) is None
    assert photo_mask(portrait) is None
    assert backdrop_rectangle(astronaut) is None
    assert backdrop_rectangle(Image.new("RGB", (300, 200), (90, 90, 90))) is None  # no detail at all: no photo


def test_format_7_configs_see_no_backdrop():
    old = ModelConfig.from_dict({**ModelConfig().to_dict(), "format_version": 7,
                                 "crop": {"size": 112, "face_fraction": 0.7, "outside": "mean",
                                          "flat_border_outside": True}})
    assert old.crop.backdrop_outside is False and old.crop.flat_border_outside is True
    assert ModelConfig().crop.backdrop_outside is True
    assert ModelConfig.from_dict(ModelConfig().to_dict()).crop.backdrop_outside is True


def test_format_6_configs_read_every_pixel_as_photo():
    old = ModelConfig.from_dict({**ModelConfig().to_dict(), "format_version": 6,
                                 "crop": {"size": 112, "face_fraction": 0.7, "outside": "mean"}})
    assert old.crop.flat_border_outside is False
    assert ModelConfig().crop.flat_border_outside is True
    assert ModelConfig.from_dict(ModelConfig().to_dict()).crop.flat_border_outside is True
