"""The crop: the one place a detected face becomes model input. Training, evaluation, the CLI and the app
all call `crop_faces` then `to_model_input`; nothing else resizes, pads or normalises a face.

A face is aligned by the similarity transform (rotation, uniform scale, shift) that best maps its 5 MTCNN
landmarks onto a fixed template, so eyes and mouth land at the same place in every crop. Where the crop
reaches past the photo's edge, it is filled with one plain colour (`CropSpec.outside`, see config.py), the
same in every source and at inference, so how a photo is framed is not something the network can read.

Training caches a wider view of each face (`crop_context`: the same alignment, more around it, plus which
pixels lie inside the photo) and re-frames it at random (training/learn/augment.py); `fill_outside` is the one
rule for what fills the outside, applied here and there.
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


def template_points(size: int, face_fraction: float) -> np.ndarray:
    """The template in output pixels of a size x size crop, shrunk about the centre so the face spans
    `face_fraction` of it (CropSpec.size and CropSpec.face_fraction for the model's input)."""
    return ((TEMPLATE - 0.5) * face_fraction + 0.5) * size


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
    crops = []
    for points in landmarks:
        rgb, inside = _sample(image, _points(points), spec.size, spec.face_fraction, edge=spec.outside == "edge")
        crops.append(fill_outside(rgb.unsqueeze(0), inside.unsqueeze(0), spec)[0])
    if not crops:
        return torch.empty((0, 3, spec.size, spec.size), dtype=torch.uint8)
    return torch.stack(crops).round().clamp(0, 255).to(torch.uint8)


def crop_context(image: Image.Image, landmarks: list[np.ndarray] | np.ndarray, spec: CropSpec,
                 context: float) -> torch.Tensor:
    """A wider view with the same alignment, for training: uint8 (N, 4, S, S) with S = size * context, whose
    central size x size pixels are the crop_faces crop. Channels: RGB, then 255 where the pixel lies inside
    the photo and 0 outside (RGB is 0 there)."""
    side = round(spec.size * context)
    if (side - spec.size) % 2:
        raise ValueError(f"context {context} must widen the {spec.size} px crop by an even number of pixels")
    views = []
    for points in landmarks:
        rgb, inside = _sample(image, _points(points), side, spec.face_fraction * spec.size / side, edge=False)
        views.append(torch.cat([rgb, inside * 255]))
    if not views:
        return torch.empty((0, 4, side, side), dtype=torch.uint8)
    return torch.stack(views).round().clamp(0, 255).to(torch.uint8)


def fill_outside(rgb: torch.Tensor, inside: torch.Tensor, spec: CropSpec) -> torch.Tensor:
    """Float (N, 3, S, S) pixels premultiplied by `inside` (N, 1, S, S; 1 in the photo, 0 outside, between at
    the edge) -> the crop with the outside filled per spec.outside. "edge" crops come already filled."""
    if spec.outside == "edge":
        return rgb
    if spec.outside != "mean":
        raise ValueError(f"unknown crop.outside {spec.outside!r}: this facebmi knows 'mean' and 'edge'")
    fill = torch.tensor(spec.mean, device=rgb.device).view(1, 3, 1, 1) * 255
    return rgb + fill * (1 - inside)


def shifted_views(context: torch.Tensor, spec: CropSpec, shift: int) -> torch.Tensor:
    """Wider views from crop_context (uint8 (N, 4, C, C), C >= spec.size + 2 * shift) -> uint8 crops (N, V, 3,
    size, size): the crop_faces crop moved by every whole-pixel offset in [-shift, shift] on each axis, V = (2 *
    shift + 1) ** 2, the unmoved crop first. Whole pixels, so each view is cut from the view's own pixels (no
    resampling): a view made from training's cached context equals the one the app makes from the photo. The
    careful read (Predictor.predict_careful) averages a network's answers over them: a CNN's answer moves with a
    1 px shift of its input more than a face's BMI should."""
    if spec.outside != "mean":
        raise ValueError(f"shifted views need crop.outside 'mean', not {spec.outside!r}: edge-filled crops cannot "
                         "be cut from a wider view")
    n, side, size = context.shape[0], context.shape[-1], spec.size
    lo = (side - size) // 2
    if (side - size) % 2 or lo < shift:
        raise ValueError(f"a {side} px context cannot give {size} px crops shifted by {shift} px around its centre")
    offsets = [(0, 0)] + [(dy, dx) for dy in range(-shift, shift + 1) for dx in range(-shift, shift + 1)
                          if (dy, dx) != (0, 0)]
    views = torch.stack([context[:, :, lo + dy:lo + dy + size, lo + dx:lo + dx + size] for dy, dx in offsets], 1)
    views = views.flatten(0, 1).float()
    crops = fill_outside(views[:, :3], views[:, 3:] / 255, spec)
    return crops.round().clamp(0, 255).to(torch.uint8).view(n, len(offsets), 3, size, size)


def to_model_input(crops: torch.Tensor, spec: CropSpec) -> torch.Tensor:
    """uint8 crops (N, 3, H, W) -> float tensor normalised as the backbone expects."""
    mean = torch.tensor(spec.mean, device=crops.device).view(1, 3, 1, 1)
    std = torch.tensor(spec.std, device=crops.device).view(1, 3, 1, 1)
    return (crops.float() / 255.0 - mean) / std


def _points(points) -> np.ndarray:
    return np.asarray(points, dtype=np.float64).reshape(5, 2)


def _sample(image: Image.Image, points: np.ndarray, size: int, face_fraction: float,
            edge: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """The aligned size x size view: float RGB (3, S, S), premultiplied by the inside-the-photo weight, and
    that weight (1, S, S). With edge=True the outside repeats the edge pixels instead (weight still 0 there)."""
    # Output pixel -> source pixel (continuous coordinates, pixel i covers [i, i+1)).
    to_source = similarity_transform(template_points(size, face_fraction), points)
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
    # Which region pixels belong to the photo: all of them, except where a partial last column or row of
    # the box-filter reduce was made from fewer source pixels (still photo pixels, so still 1).
    pixels = torch.cat([pixels, torch.ones(1, region_h, region_w)])

    # Source coordinates of each output pixel centre, in the (reduced) region's frame.
    ys, xs = torch.meshgrid(torch.arange(size, dtype=torch.float64) + 0.5,
                            torch.arange(size, dtype=torch.float64) + 0.5, indexing="ij")
    m = torch.from_numpy(to_source)
    src_x = (m[0, 0] * xs + m[0, 1] * ys + m[0, 2] - x0) * (region.width / (x1 - x0))
    src_y = (m[1, 0] * xs + m[1, 1] * ys + m[1, 2] - y0) * (region.height / (y1 - y0))
    # grid_sample with align_corners=False: -1 and 1 are the outer edges of the border pixels.
    grid = torch.stack([src_x / region_w * 2 - 1, src_y / region_h * 2 - 1], dim=-1).float().unsqueeze(0)
    out = F.grid_sample(pixels.unsqueeze(0), grid, mode="bilinear", padding_mode="border" if edge else "zeros",
                        align_corners=False)[0]
    if edge:  # format 1 models: edge pixels everywhere outside; report the photo's extent all the same
        inside = F.grid_sample(pixels[3:].unsqueeze(0), grid, mode="bilinear", padding_mode="zeros",
                               align_corners=False)[0]
        return out[:3], inside
    return out[:3], out[3:]
