"""Photo in, one result per face out: load -> detect -> crop -> model -> FaceResult objects."""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np
import torch

from .align import crop_context, crop_faces, to_model_input
from .careful import read_contexts
from .detect import Detection, FaceDetector, box_area, mirror_match, near_photo_edge
from .images import ImageInput, load_image
from .labels import who_category
from .model import FaceAttributeModel, fold_batchnorm, infer_outputs


@dataclass
class FaceResult:
    box: tuple[float, float, float, float]  # x0, y0, x1, y1 in pixels of the (EXIF-upright) photo
    score: float  # detection confidence, 0-1
    bmi: float  # estimated BMI, kg/m^2
    bmi_interval: tuple[float, float] | None  # calibrated interval (level in the model config); None if uncalibrated
    who_category: str  # WHO adult class of the estimate
    age_bracket: str  # most probable of the 8 Adience brackets
    age_bracket_prob: float
    age_probs: dict[str, float]  # all 8 brackets, youngest first
    age_years: float  # the age head's point estimate in years
    landmarks: list[list[float]] = field(repr=False)  # 5 (x, y) points
    # The photo ends close to this face (its box widened by config.detect.edge_margin leaves it): the framing
    # where estimates move most (the model card's robustness table: the cuts at and inside the face's box).
    cut_close: bool = False

    @property
    def area(self) -> float:
        return box_area(self.box)

    def to_dict(self) -> dict:
        return asdict(self)

    def detection(self) -> Detection:
        """The detection this result was read from (to read the same face again)."""
        return Detection(self.box, self.score, np.asarray(self.landmarks, dtype=np.float64))


def choose_device(device: str | torch.device | None = None) -> torch.device:
    if device is not None:
        return torch.device(device)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


class Predictor:
    def __init__(self, model: FaceAttributeModel, device: str | torch.device | None = None):
        self.device = choose_device(device)
        # Inference only: BatchNorm folded into the convolutions (a copy; the caller's model is left as it was).
        self.model = fold_batchnorm(model.to(self.device)).to(memory_format=torch.channels_last)
        self.config = model.config
        self.detector = FaceDetector(self.config.detect, device=self.device)

    @classmethod
    def from_pretrained(cls, source: str | None = None, revision: str | None = None,
                        device: str | torch.device | None = None) -> "Predictor":
        """source: None (embedded default), a local folder, or a Hub repo id. See loading.py."""
        from .loading import load_model

        return cls(load_model(source, revision=revision, device=choose_device(device)), device=device)

    def predict(self, image: ImageInput, careful: bool = False) -> list[FaceResult]:
        """Every face in the photo, most confident first; an empty list when there is none. careful: each face
        read as the before/after change reads it (`predict_careful`), slower."""
        picture = load_image(image)
        detections = self.detector.detect(picture)
        return self.predict_careful(picture, detections) if careful else self.predict_detections(picture, detections)

    def predict_detections(self, picture, detections: list[Detection]) -> list[FaceResult]:
        if not detections:
            return []
        crops = crop_faces(picture, [d.landmarks for d in detections], self.config.crop)
        bmi, probs, age = self.infer_crops(crops)
        return [self.face_result(d, bmi[i], probs[i], age[i], picture.size) for i, d in enumerate(detections)]

    def predict_careful(self, picture, detections: list[Detection]) -> list[FaceResult]:
        """predict_detections' results, each face's answers averaged over its careful read (careful.py): its crops
        from its own landmarks and, with config.pair_read_mirror, from those found on the photo's mirror image
        (one more detection), each at every shift up to config.pair_read_shift pixels. All in one batch."""
        c = self.config
        if not detections or not (c.pair_read_mirror or c.pair_read_shift):
            return self.predict_detections(picture, detections)  # format 1-4 models: read once
        mirrored = self.detector.detect_mirrored(picture) if c.pair_read_mirror else []
        landmarks, owner = [], []
        for i, det in enumerate(detections):
            match = mirror_match(det, mirrored)
            for points in [det.landmarks] + ([match.landmarks] if match is not None else []):
                landmarks.append(points)
                owner.append(i)
        contexts = crop_context(picture, landmarks, c.crop, (c.crop.size + 2 * c.pair_read_shift) / c.crop.size)
        bmi, probs, age = read_contexts(self.model, contexts, np.array(owner), len(detections), c, self.device)
        return [self.face_result(d, bmi[i], probs[i], age[i], picture.size) for i, d in enumerate(detections)]

    @torch.inference_mode()
    def infer_crops(self, crops: torch.Tensor) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """uint8 crops (N, 3, S, S) from crop_faces -> BMI (N,), bracket probabilities (N, 8), age (N,), in one
        batch."""
        x = to_model_input(crops.to(self.device), self.config.crop).contiguous(memory_format=torch.channels_last)
        out = infer_outputs(self.model, x)
        return (out.bmi.float().cpu().numpy(), out.bracket_logits.float().softmax(1).cpu().numpy(),
                out.age_years.float().cpu().numpy())

    def face_result(self, det: Detection, bmi: float, probs: np.ndarray, age: float,
                    photo_size: tuple[int, int]) -> FaceResult:
        """The FaceResult for one detection in a photo of photo_size (width, height) and its network outputs
        (interval, WHO class, top bracket, whether the photo is cut close to the face)."""
        c = self.config
        w = c.bmi_interval_log_halfwidth
        interval = (float(bmi * math.exp(-w)), float(bmi * math.exp(w))) if w > 0 else None
        top = int(np.argmax(probs))
        return FaceResult(
            box=tuple(float(v) for v in det.box), score=det.score, bmi=float(bmi), bmi_interval=interval,
            who_category=who_category(float(bmi)), age_bracket=c.age_brackets[top],
            age_bracket_prob=float(probs[top]),
            age_probs={name: float(p) for name, p in zip(c.age_brackets, probs)},
            age_years=float(max(0.0, age)), landmarks=det.landmarks.tolist(),
            cut_close=near_photo_edge(det.box, photo_size, c.detect.edge_margin),
        )
