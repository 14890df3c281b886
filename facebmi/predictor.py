"""Photo in, one result per face out: load -> detect -> crop -> model -> FaceResult objects."""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np
import torch

from .align import crop_faces, jittered_views, to_model_input
from .detect import Detection, FaceDetector, box_area
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

    @property
    def area(self) -> float:
        return box_area(self.box)

    def to_dict(self) -> dict:
        return asdict(self)


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

    def predict(self, image: ImageInput, n_views: int = 1) -> list[FaceResult]:
        """Every face in the photo, most confident first; an empty list when there is none. n_views > 1: each
        face's answers averaged over its crop and jittered views (align.jittered_views; config.pair_views)."""
        picture = load_image(image)
        return self.predict_detections(picture, self.detector.detect(picture), n_views)

    def predict_detections(self, picture, detections: list[Detection], n_views: int = 1) -> list[FaceResult]:
        if not detections:
            return []
        crops = crop_faces(picture, [d.landmarks for d in detections], self.config.crop)
        bmi, probs, age = self.infer_crops(crops, n_views)
        return [self.face_result(d, bmi[i], probs[i], age[i]) for i, d in enumerate(detections)]

    @torch.inference_mode()
    def infer_crops(self, crops: torch.Tensor, n_views: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """uint8 crops (N, 3, S, S) from crop_faces -> BMI (N,), bracket probabilities (N, 8), age (N,), each
        the mean over n_views views of every crop (1: the crop alone), all in one batch."""
        n = crops.shape[0]
        views = jittered_views(crops, n_views).flatten(0, 1) if n_views > 1 else crops
        x = to_model_input(views.to(self.device), self.config.crop).contiguous(memory_format=torch.channels_last)
        out = infer_outputs(self.model, x)
        probs = out.bracket_logits.float().softmax(1)
        return (out.bmi.float().view(-1, n).mean(0).cpu().numpy(), probs.view(-1, n, probs.shape[1]).mean(0).cpu().numpy(),
                out.age_years.float().view(-1, n).mean(0).cpu().numpy())

    def face_result(self, det: Detection, bmi: float, probs: np.ndarray, age: float) -> FaceResult:
        """The FaceResult for one detection and its network outputs (interval, WHO class, top bracket)."""
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
        )
