"""The crop: the one place a detected face becomes model input. Training, evaluation, the CLI and the app
all call `crop_faces` then `to_model_input`; nothing else resizes, pads or normalises a face.

A face is aligned by the similarity transform (rotation, uniform scale, shift) that best maps its 5 MTCNN
landmarks onto a fixed template, so eyes and mouth land at the same place in every crop. Pixels outside
the photo repeat the nearest edge (the Reddit training crops were padded the same way).
"""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from .config import CropSpec

# Where the 5 landmarks sit in a tight face crop, as fractions of its side (the widely used 112x112
# ArcFace template divided by 112): left eye, right eye, nose tip, left and right mouth corners.
TEMPLATE = np.array([
    [38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366], [41.5493, 92.3655], [70.7299, 92.2041],
]) / 112.0


def template_points(spec: CropSpec) -> np.ndarray:
    """The template in output pixels, shrunk about the centre so the face spans `face_fraction`."""
    return ((TEMPLATE - 0.5) * spec.face_fraction + 0.5) * spec.size


def similarity_transform(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """2x3 matrix M with dst ~ M @ [src, 1], least squares over rotation, uniform scale and shift (Umeyama)."""
    src_mean, dst_mean = src.mean(0), dst.mean(0)
    src_c, dst_c = src - src_mean, dst - dst_mean
    cov = dst_c.T @ src_c / len(src)
    u, s, vt = np.linalg.svd(cov)
    d = np.array([1.0, 1.0 if np.linalg.det(u) * np.linalg.det(vt) > 0 else -1.0])
    rotation = u @ np.diag(d) @ vt
    scale = (s * d).sum() / (src_c ** 2).sum(1).mean()
    matrix = np.zeros((2, 3))
    matrix[:, :2] = scale * rotation
    matrix[:, 2] = dst_mean - matrix[:, :2] @ src_mean
    return matrix


def crop_faces(image: Image.Image, landmarks: list[np.ndarray] | np.ndarray, spec: CropSpec) -> torch.Tensor:
    """Aligned face crops as a uint8 tensor (N, 3, size, size), RGB; one per (5, 2) landmark array."""
    crops = [_crop_one(image, np.asarray(points, dtype=np.float64).reshape(5, 2), spec) for points in landmarks]
    if not crops:
        return torch.empty((0, 3, spec.size, spec.size), dtype=torch.uint8)
    return torch.stack(crops)


def to_model_input(crops: torch.Tensor, spec: CropSpec) -> torch.Tensor:
    """uint8 crops (N, 3, H, W) -> float tensor normalised as the backbone expects."""
    mean = torch.tensor(spec.mean, device=crops.device).view(1, 3, 1, 1)
    std = torch.tensor(spec.std, device=crops.device).view(1, 3, 1, 1)
    return (crops.float() / 255.0 - mean) / std


def _crop_one(image: Image.Image, points: np.ndarray, spec: CropSpec) -> torch.Tensor:
    size = spec.size
    # Output pixel -> source pixel (continuous coordinates, pixel i covers [i, i+1)).
    to_source = similarity_transform(template_points(spec), points)
    scale = math.hypot(*to_source[:, 0])  # source pixels per output pixel

    # Work on the part of the photo the crop can reach, not the whole (possibly huge) image.
    corners = np.array([[0, 0, 1], [size, 0, 1], [0, size, 1], [size, size, 1]], dtype=np.float64)
    reach = corners @ to_source.T
    x0 = int(max(0, math.floor(reach[:, 0].min()) - 2))
    y0 = int(max(0, math.floor(reach[:, 1].min()) - 2))
    x1 = int(min(image.width, math.ceil(reach[:, 0].max()) + 2))
    y1 = int(min(image.height, math.ceil(reach[:, 1].max()) + 2))
    if x1 - x0 < 2 or y1 - y0 < 2:  # landmarks far outside the photo: nothing sensible to crop
        x0, y0 = min(max(0, x0), image.width - 1), min(max(0, y0), image.height - 1)
        x1, y1 = x0 + 1, y0 + 1
    region = image.crop((x0, y0, x1, y1))

    # Shrinking by more than 2x with bilinear sampling aliases; pre-shrink with a box filter first.
    shrink = max(1, int(scale / 1.5))
    if shrink > 1:
        region = region.reduce(shrink)
    pixels = torch.from_numpy(np.asarray(region, dtype=np.uint8).copy()).permute(2, 0, 1).float()
    region_w, region_h = pixels.shape[2], pixels.shape[1]

    # Source coordinates of each output pixel centre, in the (reduced) region's frame.
    ys, xs = torch.meshgrid(torch.arange(size, dtype=torch.float64) + 0.5,
                            torch.arange(size, dtype=torch.float64) + 0.5, indexing="ij")
    m = torch.from_numpy(to_source)
    src_x = (m[0, 0] * xs + m[0, 1] * ys + m[0, 2] - x0) * (region.width / (x1 - x0))
    src_y = (m[1, 0] * xs + m[1, 1] * ys + m[1, 2] - y0) * (region.height / (y1 - y0))
    # grid_sample with align_corners=False: -1 and 1 are the outer edges of the border pixels.
    grid = torch.stack([src_x / region_w * 2 - 1, src_y / region_h * 2 - 1], dim=-1).float().unsqueeze(0)
    out = F.grid_sample(pixels.unsqueeze(0), grid, mode="bilinear", padding_mode="border", align_corners=False)
    return out[0].round().clamp(0, 255).to(torch.uint8)
