"""Face detection: facenet-pytorch's MTCNN (run by mtcnn_stages.py) on a downscaled copy, coordinates returned in full-size pixels.

MTCNN was trained on faces with background around them. On a photo the face fills (an ID photo, an avatar,
a tight crop) it misses the face or puts the landmarks off by ~0.15 eye-distances, which scales and shifts
the aligned crop. So when a face comes near the photo's edge, or none is found, detection runs again on a
copy with a plain border around it and the points are mapped back: the landmarks then err by ~0.02.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from facenet_pytorch import MTCNN
from PIL import Image, ImageOps

from . import mtcnn_stages
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


def near_photo_edge(box: tuple[float, float, float, float], size: tuple[int, int], margin: float) -> bool:
    """The face's box, widened by `margin` of its size on every side, leaves a photo of `size` (width, height): the
    photo is cut close to the face on at least one side (an ID photo, an avatar, a tight selfie)."""
    x0, y0, x1, y1 = box
    mx, my = (x1 - x0) * margin, (y1 - y0) * margin
    return bool(x0 - mx < 0 or y0 - my < 0 or x1 + mx > size[0] or y1 + my > size[1])  # a bool, not numpy's


class FaceDetector:
    """Finds every face in an RGB PIL image. Build once: MTCNN's three networks load on construction."""

    def __init__(self, spec: DetectSpec = DetectSpec(), device: str | torch.device = "cpu"):
        self.spec = spec
        self.mtcnn = MTCNN(keep_all=True, select_largest=False, min_face_size=spec.min_face_size,
                           factor=spec.pyramid_factor, device=torch.device(device))
        mtcnn_stages.use_channels_last(self.mtcnn)  # same answers, ~1/3 faster on CPU (mtcnn_stages.py)

    def detect(self, image: Image.Image, max_side: int | None = None) -> list[Detection]:
        """All faces scoring at least spec.min_score, most confident first. No face: an empty list."""
        found = self._detect_once(image, max_side)
        if self.spec.edge_pad <= 0 or (found and not any(self._near_edge(d, image) for d in found)):
            return found
        bordered = self._detect_bordered(image, self.spec.max_side if max_side is None else max_side)
        # The bordered copy is the better view of faces near the edge; a small face far from every edge may
        # only be found in the unpadded copy (it shrinks when the bordered copy is downscaled): keep those too.
        kept = [d for d in found if not self._near_edge(d, image) and all(box_iou(d.box, b.box) < 0.3 for b in bordered)]
        return sorted(bordered + kept, key=lambda d: -d.score)

    def detect_mirrored(self, image: Image.Image) -> list[Detection]:
        """`detect` on the photo's mirror image, mapped back onto the photo (see `mirrored_back`). MTCNN is not
        mirror-symmetric: its landmarks for a face and for the same face mirrored differ by ~0.03 eye distances,
        enough to move a BMI read by ~0.7. A read that averages both sets of landmarks (the before/after path's,
        config.pair_read_mirror) is the same for a photo and its mirror image by construction."""
        return [mirrored_back(d, image.width) for d in self.detect(ImageOps.mirror(image))]

    def _detect_bordered(self, image: Image.Image, max_side: int) -> list[Detection]:
        """Detection on a copy with a plain border of spec.edge_pad x its longer side, in `image`'s pixels. The
        photo is shrunk before the border is added, so a large photo is never copied at full size."""
        scale = min(1.0, max_side / (max(image.size) * (1 + 2 * self.spec.edge_pad)))
        small = image if scale == 1.0 else image.resize(
            (max(1, round(image.width * scale)), max(1, round(image.height * scale))), Image.BILINEAR,
            reducing_gap=2.0)
        pad = round(self.spec.edge_pad * max(small.size))
        padded = Image.new("RGB", (small.width + 2 * pad, small.height + 2 * pad), self.spec.edge_pad_color)
        padded.paste(small, (pad, pad))
        sx, sy = image.width / small.width, image.height / small.height
        found = []
        for det in self._detect_once(padded, max(padded.size)):
            x0, y0, x1, y1 = det.box
            box = (max(0.0, (x0 - pad) * sx), max(0.0, (y0 - pad) * sy),
                   min(float(image.width), (x1 - pad) * sx), min(float(image.height), (y1 - pad) * sy))
            if box[2] > box[0] and box[3] > box[1]:  # a box wholly on the border is no face of the photo
                found.append(Detection(box, det.score, (det.landmarks - pad) * (sx, sy)))
        return found

    def _near_edge(self, det: Detection, image: Image.Image) -> bool:
        return near_photo_edge(det.box, image.size, self.spec.edge_margin)

    def _detect_once(self, image: Image.Image, max_side: int | None) -> list[Detection]:
        max_side = self.spec.max_side if max_side is None else max_side
        scale = min(1.0, max_side / max(image.size))
        small = image if scale == 1.0 else image.resize(
            (max(1, round(image.width * scale)), max(1, round(image.height * scale))), Image.BILINEAR,
            reducing_gap=2.0)
        # Rounding the size makes the true factor differ slightly per axis; map back with the exact ones.
        sx, sy = image.width / small.width, image.height / small.height
        if min(small.size) < self.spec.min_face_size:
            return []  # no face fits; MTCNN itself would fail on an empty scale pyramid
        boxes, scores, points = mtcnn_stages.detect(self.mtcnn, small)  # what self.mtcnn.detect finds, faster
        boxes, scores, points = (np.asarray(a, dtype=np.float64) for a in (boxes, scores, points))
        found = []
        for box, score, pts in zip(boxes, scores, points):
            if score < self.spec.min_score:
                continue
            x0, y0, x1, y1 = box * (sx, sy, sx, sy)
            x0, x1 = max(0.0, x0), min(float(image.width), x1)
            y0, y1 = max(0.0, y0), min(float(image.height), y1)
            if x1 <= x0 or y1 <= y0:
                continue  # clipped to nothing: a box wholly outside the image
            found.append(Detection((x0, y0, x1, y1), float(score), pts * (sx, sy)))
        found.sort(key=lambda d: -d.score)
        return found


def box_iou(a: tuple, b: tuple) -> float:
    """Intersection over union of two (x0, y0, x1, y1) boxes: 0 apart, 1 the same box."""
    inter = box_area((max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])))
    union = box_area(a) + box_area(b) - inter
    return inter / union if union > 0 else 0.0


# The 5 landmarks of a mirrored face, in our order: left eye <-> right eye, left <-> right mouth corner.
MIRROR_ORDER = [1, 0, 2, 4, 3]


def mirrored_back(det: Detection, width: float) -> Detection:
    """A detection on the mirror image of a photo `width` pixels wide, in the photo's own coordinates: x -> width
    - x, and the person's left and right points swapped back, so landmark k means the same point as in `detect`."""
    x0, y0, x1, y1 = det.box
    points = det.landmarks[MIRROR_ORDER].copy()
    points[:, 0] = width - points[:, 0]
    return Detection((width - x1, y0, width - x0, y1), det.score, points)


def mirror_match(det: Detection, mirrored: list[Detection], min_iou: float = 0.5) -> Detection | None:
    """The face of `mirrored` (detect_mirrored's) that is `det`'s own face: the best-overlapping box, if it
    overlaps by at least min_iou (a face found in only one of the two images has no match)."""
    best = max(mirrored, key=lambda m: box_iou(m.box, det.box), default=None)
    return best if best is not None and box_iou(best.box, det.box) >= min_iou else None


def main_face(detections: list[Detection]) -> Detection | None:
    """The face a single-subject photo is about: the largest one (None if there is no face)."""
    return max(detections, key=lambda d: d.area, default=None)
