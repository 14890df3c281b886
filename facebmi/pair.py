"""Before and after: the BMI change between two photos of one person, with its calibrated interval.

Two photos (the largest face of each, or the faces chosen), or one side-by-side progress picture holding both
(left = before, right = after). The person is assumed to be the same in both; nothing checks it.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .config import ModelConfig
from .images import ImageInput, load_image
from .predictor import FaceResult, Predictor
from .report import interval_level, largest_face_index


class PairError(ValueError):
    """The photos do not give one before face and one after face; the message says what to do."""


@dataclass
class PairResult:
    before: FaceResult
    after: FaceResult
    bmi_delta: float  # after - before, kg/m^2
    bmi_delta_interval: tuple[float, float] | None  # calibrated on same-person pairs; None if uncalibrated
    level: float | None  # the interval's coverage (0.8 = 80%)

    def change_dict(self) -> dict:
        return {"bmi_delta": self.bmi_delta, "bmi_delta_interval": self.bmi_delta_interval, "level": self.level}

    def change_text(self) -> str:
        """'BMI -6.1 (-9.0 to -3.2, 80% interval)'."""
        interval = self.bmi_delta_interval
        detail = f" ({interval[0]:+.1f} to {interval[1]:+.1f}, {self.level:.0%} interval)" if interval else ""
        return f"BMI {self.bmi_delta:+.1f}{detail}"


def bmi_change(before_bmi, after_bmi, config: ModelConfig):
    """The estimated BMI change from two BMI estimates of one person (floats or arrays): the one formula the app,
    the evaluation and the interval's calibration share (config.bmi_change_scale says why it is scaled)."""
    return config.bmi_change_scale * (after_bmi - before_bmi)


def change_halfwidth(delta, config: ModelConfig):
    """The change interval's half-width for an estimated change `delta` (float or array), in BMI units: the
    formula the app, the evaluation and the calibration share (config.bmi_change_halfwidth_slope says why it
    grows with the change). 0 where the model is not calibrated on pairs."""
    return np.hypot(config.bmi_change_halfwidth, config.bmi_change_halfwidth_slope * np.asarray(delta, dtype=float))


def change_of(before: FaceResult, after: FaceResult, predictor: Predictor) -> PairResult:
    delta = float(bmi_change(before.bmi, after.bmi, predictor.config))
    w = float(change_halfwidth(delta, predictor.config))
    level = interval_level(predictor.config) if w > 0 else None
    return PairResult(before, after, delta, (delta - w, delta + w) if w > 0 else None, level)


def side_by_side(results: list[FaceResult]) -> tuple[int, int]:
    """In one progress picture, the indices of the before (left) and after (right) faces: the two largest faces,
    which must sit side by side (their boxes not overlapping left to right) and be of comparable size."""
    if len(results) < 2:
        raise PairError(f"found {len(results)} face{'s' if len(results) != 1 else ''} in the picture; a "
                        "before/after picture needs two, side by side (or give two photos)")
    if len(results) > 2:
        raise PairError(f"found {len(results)} faces in the picture: choose which face is before and which is "
                        "after")
    left, right = sorted(range(2), key=lambda i: results[i].box[0])
    a, b = results[left].box, results[right].box
    if a[2] > b[0]:
        raise PairError("the two faces are not side by side: choose which face is before and which is after")
    if max(results[0].area, results[1].area) > 9 * min(results[0].area, results[1].area):
        raise PairError("one face is far smaller than the other: choose which face is before and which is after")
    return left, right


def predict_pair(predictor: Predictor, before: ImageInput, after: ImageInput | None = None,
                 before_face: int | None = None, after_face: int | None = None) -> tuple[PairResult, list, list]:
    """The change from `before` to `after`. With after=None, `before` is one picture holding both faces.
    before_face / after_face: 1-based face numbers (most confident first, as the app numbers them) to use
    instead of the largest face (two photos) or the side-by-side rule (one picture).
    Returns the PairResult and every face found in each photo (the same list twice for one picture); the two
    faces of the change are read carefully (Predictor.predict_careful, as the change was calibrated), the
    others once, as /analyze reads them."""
    first_picture = load_image(before)
    first = predictor.predict(first_picture)
    if after is None:
        if before_face is not None and after_face is not None:
            i, j = _chosen(first, before_face, "picture"), _chosen(first, after_face, "picture")
            if i == j:
                raise PairError("the same face was chosen as before and after: choose two different faces")
        else:
            i, j = side_by_side(first)
        first = _read_carefully(predictor, first_picture, first, [i, j])
        return change_of(first[i], first[j], predictor), first, first
    second_picture = load_image(after)
    second = predictor.predict(second_picture)
    for results, name in ((first, "before"), (second, "after")):
        if not results:
            raise PairError(f"no face found in the {name} photo: use a frontal, well-lit photo of the face")
    i = _chosen(first, before_face, "before photo") if before_face is not None else largest_face_index(first)
    j = _chosen(second, after_face, "after photo") if after_face is not None else largest_face_index(second)
    first = _read_carefully(predictor, first_picture, first, [i])
    second = _read_carefully(predictor, second_picture, second, [j])
    return change_of(first[i], second[j], predictor), first, second


def _read_carefully(predictor: Predictor, picture, results: list[FaceResult], which: list[int]) -> list[FaceResult]:
    """`results` with the faces at `which` read again carefully (only those: a careful read costs ~20 single ones)."""
    careful = predictor.predict_careful(picture, [results[k].detection() for k in which])
    out = list(results)
    for k, face in zip(which, careful):
        out[k] = face
    return out


def _chosen(results: list[FaceResult], number: int, where: str) -> int:
    if not 1 <= number <= len(results):
        raise PairError(f"there is no face #{number} in the {where} (it has {len(results)})")
    return number - 1
