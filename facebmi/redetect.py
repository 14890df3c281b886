"""Find a known face again, fast: MTCNN's last two stages started from where the face was.

MTCNN finds faces in three stages: P-net scans an image pyramid for candidate boxes (most of its cost), R-net
refines and filters the candidates, O-net refines them again and places the 5 landmarks. When we already know
roughly where a face is (its box in the previous video frame), that box and a few shifted copies of it can stand
in for P-net's candidates: the same R-net and O-net code path then gives the face's box, score and landmarks
in ~4 ms instead of ~24 ms for the whole 640x480 frame on 2 CPU cores, with the landmarks on average 0.03
eye distances (at most 0.06) from where the full detector puts them on the same frame (benchmarks/live.py). Stages 2 and 3 below follow facenet-pytorch 2.5.3's
detect_face step for step (that version is pinned in requirements.txt), reusing its helpers.
"""
from __future__ import annotations

import numpy as np
import torch
from facenet_pytorch import MTCNN
from facenet_pytorch.models.utils.detect_face import batched_nms_numpy, bbreg, imresample, pad, rerec
from PIL import Image
from torchvision.ops.boxes import batched_nms

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


@torch.inference_mode()
def refine_candidates(mtcnn: MTCNN, image: Image.Image, candidates: np.ndarray,
                      min_score: float) -> list[Detection]:
    """Faces found by R-net and O-net from candidate boxes (K, 4) in `image`'s pixels, most confident first;
    boxes and landmarks in `image`'s pixels, scores at least min_score."""
    param = next(mtcnn.rnet.parameters())
    pixels = torch.as_tensor(np.array(image, dtype=np.uint8), device=param.device)
    pixels = pixels.permute(2, 0, 1).unsqueeze(0).to(param.dtype)
    boxes = torch.cat([torch.as_tensor(candidates, dtype=torch.float32, device=param.device).reshape(-1, 4),
                       torch.ones(len(candidates), 1, device=param.device)], dim=1)

    # Stage 2 (R-net): score and refine each candidate, as detect_face does with P-net's boxes.
    boxes, windows = _windows(pixels, rerec(boxes), 24)
    if windows is None:
        return []
    offsets, probs = mtcnn.rnet(windows)
    keep = probs[:, 1] > mtcnn.thresholds[1]
    boxes = torch.cat((boxes[keep, :4], probs[keep, 1:2]), dim=1)
    offsets = offsets[keep]
    if not len(boxes):
        return []
    pick = batched_nms(boxes[:, :4], boxes[:, 4], torch.zeros(len(boxes), dtype=torch.long, device=boxes.device),
                       0.7)
    boxes = rerec(bbreg(boxes[pick], offsets[pick]))

    # Stage 3 (O-net): final score, box and the 5 landmarks.
    boxes, windows = _windows(pixels, boxes, 48)
    if windows is None:
        return []
    offsets, points, probs = mtcnn.onet(windows)
    keep = probs[:, 1] > mtcnn.thresholds[2]
    points = points[keep].T
    boxes = torch.cat((boxes[keep, :4], probs[keep, 1:2]), dim=1)
    offsets = offsets[keep]
    if not len(boxes):
        return []
    box_w = boxes[:, 2] - boxes[:, 0] + 1
    box_h = boxes[:, 3] - boxes[:, 1] + 1
    points_x = box_w.repeat(5, 1) * points[:5, :] + boxes[:, 0].repeat(5, 1) - 1
    points_y = box_h.repeat(5, 1) * points[5:10, :] + boxes[:, 1].repeat(5, 1) - 1
    points = torch.stack((points_x, points_y)).permute(2, 1, 0)
    boxes = bbreg(boxes, offsets)
    pick = batched_nms_numpy(boxes[:, :4], boxes[:, 4], torch.zeros(len(boxes), dtype=torch.long), 0.7, "Min")
    boxes, points = boxes[pick].float().cpu().numpy(), points[pick].float().cpu().numpy()

    found = [Detection(tuple(float(v) for v in box[:4]), float(box[4]), pts.astype(np.float64))
             for box, pts in zip(boxes, points) if box[4] >= min_score]
    return sorted(found, key=lambda d: -d.score)


def _windows(pixels: torch.Tensor, boxes: torch.Tensor, size: int) -> tuple[torch.Tensor, torch.Tensor | None]:
    """(the boxes with pixels inside the image, their pixels resized to size x size and normalised as MTCNN's
    nets expect), cropped as detect_face crops: 1-based, clipped to the image. None when no box is inside."""
    y, ey, x, ex = pad(boxes, pixels.shape[3], pixels.shape[2])
    inside = np.flatnonzero((ey > y - 1) & (ex > x - 1))
    if not len(inside):
        return boxes[:0], None
    windows = [imresample(pixels[:, :, y[k] - 1:ey[k], x[k] - 1:ex[k]], (size, size)) for k in inside]
    return boxes[torch.as_tensor(inside, device=boxes.device)], (torch.cat(windows) - 127.5) * 0.0078125
