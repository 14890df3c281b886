"""Find a known face again, fast: MTCNN's last two stages started from where the face was.

MTCNN finds faces in three stages: P-net scans an image pyramid for candidate boxes (most of its cost), R-net
refines and filters the candidates, O-net refines them again and places the 5 landmarks. When we already know
roughly where a face is (its box in the previous video frame), that box and a few shifted copies of it can stand
in for P-net's candidates: the same R-net and O-net code path then gives the face's box, score and landmarks
in a few ms instead of a full detection of the 640x480 frame, with the landmarks on average 0.03 eye distances
(at most 0.06) from where the full detector puts them on the same frame (benchmarks/live.py). Stages 2 and 3
are `mtcnn_stages.refine`, the very code the full detector runs after P-net.
"""
from __future__ import annotations

import numpy as np
import torch
from facenet_pytorch import MTCNN
from facenet_pytorch.models.utils.detect_face import rerec
from PIL import Image

from . import mtcnn_stages
from .detect import Detection

# Candidate boxes around a known box: itself, shifted by 15% of its side each way, and 15% smaller and larger.
# R-net's box regression recovers a face from a candidate off by about this much, so between frames a face may
# move ~a fifth of its width and still be found.
SHIFTS = ((0.0, 0.0, 1.0), (0.15, 0.0, 1.0), (-0.15, 0.0, 1.0), (0.0, 0.15, 1.0), (0.0, -0.15, 1.0),
          (0.0, 0.0, 0.85), (0.0, 0.0, 1.15))


def candidate_boxes(box: tuple[float, float, float, float]) -> np.ndarray:
    """(len(SHIFTS), 4) boxes around `box`: shifted and rescaled copies about its centre."""
    x0, y0, x1, y1 = box
    cx, cy, w, h = (x0 + x1) / 2, (y0 + y1) / 2, x1 - x0, y1 - y0
    side = max(w, h)
    return np.array([(cx + dx * side - w * s / 2, cy + dy * side - h * s / 2,
                      cx + dx * side + w * s / 2, cy + dy * side + h * s / 2) for dx, dy, s in SHIFTS])


def refine_candidates(mtcnn: MTCNN, image: Image.Image, candidates: np.ndarray,
                      min_score: float) -> list[Detection]:
    """Faces found by R-net and O-net from candidate boxes (K, 4) in `image`'s pixels, most confident first;
    boxes and landmarks in `image`'s pixels, scores at least min_score."""
    pixels = mtcnn_stages.photo_tensor(mtcnn, image)
    boxes = torch.as_tensor(np.asarray(candidates).reshape(-1, 4), dtype=pixels.dtype, device=pixels.device)
    boxes, scores, points = mtcnn_stages.refine(mtcnn, pixels, rerec(boxes.clone()))
    found = [Detection(tuple(float(v) for v in box), float(score), pts.astype(np.float64))
             for box, score, pts in zip(boxes, scores, points) if score >= min_score]
    return sorted(found, key=lambda d: -d.score)
