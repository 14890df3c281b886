"""Face detection: facenet-pytorch's MTCNN on a downscaled copy, coordinates returned in full-size pixels."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from facenet_pytorch import MTCNN
from PIL import Image

from .config import DetectSpec


def box_area(box: tuple[float, float, float, float]) -> float:
    """Area of an (x0, y0, x1, y1) box; the one measure of "largest face" for detections and results."""
    return max(0.0, box[2] - box[0]) * max(0.0, box[3] - box[1])


@dataclass(frozen=True)
class Detection:
    box: tuple[float, float, float, float]  # x0, y0, x1, y1 in pixels of the full-size image
    score: float  # MTCNN's face probability
    landmarks: np.ndarray  # (5, 2) x, y: left eye, right eye, nose, left mouth corner, right mouth corner

    @property
    def area(self) -> float:
        return box_area(self.box)


class FaceDetector:
    """Finds every face in an RGB PIL image. Build once: MTCNN's three networks load on construction."""

    def __init__(self, spec: DetectSpec = DetectSpec(), device: str | torch.device = "cpu"):
        self.spec = spec
        self.mtcnn = MTCNN(keep_all=True, select_largest=False, min_face_size=spec.min_face_size,
                           factor=spec.pyramid_factor, device=torch.device(device))

    def detect(self, image: Image.Image, max_side: int | None = None) -> list[Detection]:
        """All faces scoring at least spec.min_score, most confident first. No face: an empty list."""
        max_side = self.spec.max_side if max_side is None else max_side
        scale = min(1.0, max_side / max(image.size))
        small = image if scale == 1.0 else image.resize(
            (max(1, round(image.width * scale)), max(1, round(image.height * scale))), Image.BILINEAR,
            reducing_gap=2.0)
        # Rounding the size makes the true factor differ slightly per axis; map back with the exact ones.
        sx, sy = image.width / small.width, image.height / small.height
        if min(small.size) < self.spec.min_face_size:
            return []  # no face fits; MTCNN itself would fail on an empty scale pyramid
        boxes, scores, points = self.mtcnn.detect(small, landmarks=True)
        if boxes is None:
            return []
        # Under numpy 2 facenet-pytorch 2.5.3 returns object arrays: cast before arithmetic.
        boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
        points = np.asarray(points, dtype=np.float64).reshape(-1, 5, 2)
        scores = np.asarray(scores, dtype=np.float64).reshape(-1)
        found = []
        for box, score, pts in zip(boxes, scores, points):
            if score < self.spec.min_score:
                continue
            x0, y0, x1, y1 = box * (sx, sy, sx, sy)
            x0, x1 = max(0.0, x0), min(float(image.width), x1)
            y0, y1 = max(0.0, y0), min(float(image.height), y1)
            found.append(Detection((x0, y0, x1, y1), float(score), pts * (sx, sy)))
        found.sort(key=lambda d: -d.score)
        return found


def main_face(detections: list[Detection]) -> Detection | None:
    """The face a single-subject photo is about: the largest one (None if there is no face)."""
    return max(detections, key=lambda d: d.area, default=None)
