"""The model config: architecture, preprocessing contract and labels, saved as config.json beside the weights.

A weights folder (or Hub repo) is fully described by this file: anyone loading it knows how to crop and
normalise a face, what the outputs mean and how wide the BMI interval is, without reading our code.
"""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path

from .labels import AGE_BRACKETS

# Bumped when the meaning of a field changes; loading refuses a config from a newer format.
# 2: crop.outside (format 1 models padded with edge pixels) and the detector's bordered second pass.
# 3: bmi_change_scale (format 1-2 models: a plain difference of the two estimates).
# 4: pair_views (format 1-3 models: 1, each photo of a pair read once).
# 5: pair_read_mirror and pair_read_shift replace pair_views (its jittered views helped one network, not another).
# 6: bmi_change_halfwidth_slope (format 1-5 models: 0, a change interval of one width for every change).
# 7: crop.flat_border_outside (format 1-6 models: False, every pixel of the file is photo).
# 8: crop.backdrop_outside (format 1-7 models: False, only a flat border is not photo).
CONFIG_FORMAT_VERSION = 8


@dataclass(frozen=True)
class CropSpec:
    """How a detected face becomes a model input (see align.py, the only code that applies it)."""

    size: int = 112  # output side in pixels; 112 keeps MobileNetV2 near 5 ms a face on 2 CPU cores
    # Fraction of the crop the 5-landmark template spans. Below 1 leaves room around the face: at 0.7 the
    # crop shows hairline to upper neck, where cheek, jaw and neck width carry most of the BMI signal.
    face_fraction: float = 0.7
    # ImageNet statistics, because the backbone starts from ImageNet weights. RGB order, 0-1 scale.
    mean: tuple[float, float, float] = (0.485, 0.456, 0.406)
    std: tuple[float, float, float] = (0.229, 0.224, 0.225)
    # What fills the part of a crop that lies outside the photo. "mean": the `mean` colour, i.e. exactly 0
    # after normalisation, the same in every source and at inference, so the network learns it as "no
    # picture here". "edge" (format 1 models): repeat the edge pixels; stripes whose amount told the network
    # which source a face came from (73% of a UTKFace crop, 14% of a Reddit one) instead of what it shows.
    outside: str = "mean"
    # Treat a flat border as outside the photo too: a region of one colour (within FLAT_TOLERANCE, align.py)
    # that holds a corner of the file and at least 1% of it: the black corners of a rotated photo, letterbox
    # bars, a plain canvas a photo was pasted on. Filled like the outside, they cannot tell the network how a
    # photo was framed: a tight UTKFace chip rotated 15 degrees had its bracket changed for 1 face in 3 by its
    # black corners, 1 in 8 with them grey (docs/measurements/2026-12-02d/rotation_fill_v8_validation.txt).
    # Format 1-6 models: False.
    flat_border_outside: bool = True
    # Treat a backdrop without detail as outside the photo too (align.backdrop_rectangle): a photo pasted on a
    # blurred, enlarged copy of itself (phone apps fit portraits to square or wide frames so), blurred or streaked
    # bars beside it, a near-white border JPEG has left uneven. The flat rule misses these, and a tight UTKFace chip
    # on a blurred copy of itself changed its bracket for 1 face in 4 (docs/measurements/2026-12-06). Format 1-7
    # models: False.
    backdrop_outside: bool = True


@dataclass(frozen=True)
class DetectSpec:
    """Face detection settings (detect.py)."""

    # The photo is downscaled so its longer side is at most this before MTCNN runs: detection cost grows
    # with pixels. At 400 a face must be about 5% of the photo's longer side to be found (20 px below).
    max_side: int = 400
    min_face_size: int = 20  # MTCNN's smallest face, in pixels of the downscaled copy
    # Ratio between MTCNN's image-pyramid levels (facenet-pytorch's 0.709). 0.6 would detect ~30% faster, but
    # its landmarks differ slightly from those the training crops were made with, and that alone cost 0.01 in
    # BMI Pearson r on our test split: detection must match training, so it stays at 0.709.
    pyramid_factor: float = 0.709
    # MTCNN's own last stage keeps faces from 0.7; below 0.9 most hits are texture, not faces.
    min_score: float = 0.9
    # When no face is found, or a face's box widened by edge_margin of its size on any side leaves the photo,
    # detect again on a copy with a plain border of edge_pad x the longer side on every side (see detect.py).
    # 0.3 gives a face that fills the photo the context MTCNN expects; 0 disables the second pass.
    edge_pad: float = 0.3
    edge_margin: float = 0.15
    edge_pad_color: tuple[int, int, int] = (127, 127, 127)  # plain mid grey: no edges for MTCNN to find


@dataclass(frozen=True)
class ModelConfig:
    format_version: int = CONFIG_FORMAT_VERSION
    backbone: str = "mobilenet_v2"  # torchvision architecture name; only this one is built today
    members: int = 1  # independently trained networks averaged at inference (1: a single network)
    feature_dim: int = 1280  # width of the backbone's pooled features
    embedding_dim: int = 128  # the distilled face-descriptor head (dlib's descriptor is 128-d)
    dropout: float = 0.2  # before every head, during training only
    crop: CropSpec = field(default_factory=CropSpec)
    detect: DetectSpec = field(default_factory=DetectSpec)
    age_brackets: tuple[str, ...] = AGE_BRACKETS  # class order of the bracket head
    # The BMI head predicts (bmi - bmi_mean) / bmi_scale, so its output starts near a sensible value.
    bmi_mean: float = 30.0
    bmi_scale: float = 10.0
    age_scale: float = 30.0  # the age-in-years head predicts age / age_scale
    # At inference, average the outputs for the crop and its mirror image: a face and its mirror image get
    # the same answer (one network alone differed by up to ~1.6 BMI), at twice the network's cost.
    flip_average: bool = True
    # Split-conformal interval on log BMI: [bmi * exp(-w), bmi * exp(w)], w calibrated on held-out faces
    # so that `bmi_interval_level` of them fall inside. 0 means "not calibrated" (no interval shown).
    bmi_interval_level: float = 0.8
    bmi_interval_log_halfwidth: float = 0.0
    # Split-conformal interval for the BMI change between two photos of one person: [delta - w, delta + w]
    # in BMI units, w = sqrt(halfwidth^2 + (halfwidth_slope * delta)^2) (pair.change_halfwidth), calibrated on
    # held-out same-person pairs at bmi_interval_level. 0: not calibrated. The width grows with the estimated
    # change because the error does: a change is the difference of two reads times bmi_change_scale, and how
    # much of a real change a person's two photos show varies from person to person (on the validation pairs,
    # one width for all covered 90% of the smaller half of changes and 70% of the larger).
    bmi_change_halfwidth: float = 0.0  # the half-width for an estimated change of 0
    bmi_change_halfwidth_slope: float = 0.0  # BMI of half-width per BMI of estimated change, in quadrature
    # The change between two photos is this times the difference of their two BMI estimates. Each estimate is
    # pulled toward the training mean (estimate on true BMI has a slope of ~0.6), so a plain difference shows
    # about 0.6 of a person's real change; the scale, fitted on held-out same-person pairs, gives the estimated
    # changes the spread of the true ones, at the cost of a wider interval. Format 1-2: 1.0.
    bmi_change_scale: float = 1.0
    # The before/after change reads each face carefully (Predictor.predict_careful) and averages: one read moves
    # by ~0.5-1 BMI with where exactly MTCNN put the landmarks, a 1 px shift of the crop, or which of a photo and its
    # mirror image was read, and a change is the difference of two reads. pair_read_mirror: also read the face from
    # the landmarks found on the photo's mirror image (mapped back), so a photo and its mirror image get the same
    # read (issue 9: their change within 1 BMI). pair_read_shift: each crop also shifted by up to this many pixels
    # each way, a (2s+1)^2 grid. The change scale and interval are calibrated on reads made this way. One photo's
    # own estimate is always read once (the speed bar). Format 1-4 models: False and 0 (each face read once).
    pair_read_mirror: bool = True
    pair_read_shift: int = 1
    # Free-form provenance (data, split, metrics); shown in the model card, never read by code.
    training: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "ModelConfig":
        version = data.get("format_version")
        if not isinstance(version, int):
            raise ValueError("config.json has no integer 'format_version': is this a facebmi model?")
        if version > CONFIG_FORMAT_VERSION:
            raise ValueError(
                f"config.json is format {version}, this facebmi reads up to {CONFIG_FORMAT_VERSION}: "
                "upgrade facebmi or pick an older model revision"
            )
        known = {f.name for f in dataclasses.fields(cls)} | ({"pair_views"} if version == 4 else set())
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"config.json has fields this facebmi does not know: {', '.join(unknown)}")
        values = dict(data)
        if version < 5:
            values.setdefault("pair_read_mirror", False)  # format 1-4: each face of a pair read once
            values.setdefault("pair_read_shift", 0)
            if values.pop("pair_views", 1) != 1:
                raise ValueError("config.json is format 4 with pair_views above 1, a pair read this facebmi no "
                                 "longer makes: recalibrate it (python -m training.learn.train --calibrate-only)")
        crop = _tuples(data.get("crop", {}))
        if version < 7:
            crop.setdefault("flat_border_outside", False)  # format 1-6: every pixel of the file is photo
        if version < 8:
            crop.setdefault("backdrop_outside", False)  # format 1-7: only a flat border is not photo
        if version < 2:
            crop.setdefault("outside", "edge")  # how format 1 models were trained
            values.setdefault("flip_average", False)
        values["crop"] = CropSpec(**crop)
        values["detect"] = DetectSpec(**_tuples(data.get("detect", {})))
        values["age_brackets"] = tuple(data.get("age_brackets", AGE_BRACKETS))
        if values["age_brackets"] != AGE_BRACKETS:
            raise ValueError(f"config.json age_brackets {values['age_brackets']} differ from {AGE_BRACKETS}")
        return cls(**values)

    def save(self, folder: str | Path) -> Path:
        path = Path(folder) / "config.json"
        path.write_text(json.dumps(self.to_dict(), indent=2) + "\n")
        return path

    @classmethod
    def load(cls, folder: str | Path) -> "ModelConfig":
        path = Path(folder) / "config.json"
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError:
            raise FileNotFoundError(f"no config.json in {folder}: a facebmi model folder holds config.json "
                                    "and model.safetensors") from None
        except json.JSONDecodeError as err:
            raise ValueError(f"{path} is not valid JSON ({err}): the file is corrupt, download it again") from None
        return cls.from_dict(data)


def _tuples(d: dict) -> dict:
    """JSON turns tuples into lists; the frozen dataclasses want tuples back."""
    return {k: tuple(v) if isinstance(v, list) else v for k, v in d.items()}
