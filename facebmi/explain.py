"""Where the model looked: an occlusion-sensitivity map of the BMI estimate over the aligned face crop.

Why occlusion and not Grad-CAM: MobileNetV2's last convolutional block is 4x4 on a 112 px crop, too coarse
to tell a cheek from a jaw; occlusion works at any resolution, for a single network or an ensemble alike,
and its number means something: how much the BMI estimate moves when that part of the face is hidden. The
patch is filled with the same plain colour as the outside of a photo (align.fill_outside), which the network
was trained to read as "nothing here", so hiding a region does not add a new pattern of its own.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image

from .align import crop_faces
from .predictor import FaceResult, Predictor

PATCH = 16  # occluder side in crop pixels (112 px crop: about a cheek, an eye or the chin)
STRIDE = 8  # 13 x 13 positions on 112 px: 170 model inputs a face, one batched call


@dataclass
class Explanation:
    face: FaceResult
    crop: np.ndarray  # (S, S, 3) uint8, the aligned crop the model read
    heat: np.ndarray  # (S, S) BMI units: estimate minus the estimate with that region hidden (+: raised it)

    def overlay(self, scale: float | None = None) -> Image.Image:
        """The crop with the map over it: red where a region raised the BMI estimate, blue where it lowered it;
        colour strength relative to `scale` BMI (default: the map's own largest value)."""
        return overlay(self.crop, self.heat, scale)


def occlusion_map(predictor: Predictor, crop: torch.Tensor, patch: int = PATCH, stride: int = STRIDE) -> np.ndarray:
    """uint8 crop (3, S, S) -> (S, S) map: BMI(crop) - BMI(crop with a patch hidden), averaged over the patches
    covering each pixel."""
    spec = predictor.config.crop
    size = crop.shape[-1]
    fill = (torch.tensor(spec.mean) * 255).round().to(torch.uint8).view(3, 1, 1)
    starts = list(range(0, size - patch + 1, stride))
    if starts[-1] != size - patch:
        starts.append(size - patch)
    positions = [(y, x) for y in starts for x in starts]
    batch = crop.unsqueeze(0).repeat(len(positions) + 1, 1, 1, 1)
    for k, (y, x) in enumerate(positions, start=1):
        batch[k, :, y:y + patch, x:x + patch] = fill
    bmi = np.concatenate([predictor.infer_crops(batch[i:i + 64])[0] for i in range(0, len(batch), 64)])
    total, count = np.zeros((size, size)), np.zeros((size, size))
    for k, (y, x) in enumerate(positions, start=1):
        total[y:y + patch, x:x + patch] += bmi[0] - bmi[k]
        count[y:y + patch, x:x + patch] += 1
    return total / np.maximum(count, 1)


def explain_faces(predictor: Predictor, picture: Image.Image, faces: list[FaceResult]) -> list[Explanation]:
    """An Explanation for each of the given faces (results of predictor.predict on this picture)."""
    if not faces:
        return []
    crops = crop_faces(picture, [np.asarray(f.landmarks) for f in faces], predictor.config.crop)
    return [Explanation(face, crop.permute(1, 2, 0).numpy(), occlusion_map(predictor, crop))
            for face, crop in zip(faces, crops)]


def overlay(crop: np.ndarray, heat: np.ndarray, scale: float | None = None) -> Image.Image:
    scale = scale or float(np.abs(heat).max()) or 1.0
    strength = np.clip(np.abs(heat) / scale, 0, 1)[..., None] * 0.75
    colour = np.where(heat[..., None] >= 0, np.array([230, 30, 30]), np.array([30, 90, 230]))
    gray = crop.astype(np.float64).mean(axis=2, keepdims=True).repeat(3, axis=2)  # the face in grey: colour = map
    mixed = gray * (1 - strength) + colour * strength
    return Image.fromarray(mixed.round().clip(0, 255).astype(np.uint8))


def region_shares(heat: np.ndarray) -> dict[str, float]:
    """Share of the map's total |value| in named parts of the aligned crop (the template puts the eyes at 47%
    and the mouth corners at 73% of the height): hair and forehead, eyes, cheeks and nose, mouth and jaw,
    chin and neck, and the sides (background, ears)."""
    size = heat.shape[0]
    magnitude = np.abs(heat)
    total = magnitude.sum() or 1.0
    rows = {"hair and forehead": (0.0, 0.38), "eyes": (0.38, 0.55), "cheeks and nose": (0.55, 0.68),
            "mouth and jaw": (0.68, 0.85), "chin and neck": (0.85, 1.0)}
    side = round(size * 0.17)  # left and right of the face (the template spans ~0.18-0.82 of the width)
    shares = {}
    for name, (top, bottom) in rows.items():
        part = magnitude[round(top * size):round(bottom * size), side:size - side]
        shares[name] = float(part.sum() / total)
    shares["sides (background, ears)"] = float((magnitude[:, :side].sum() + magnitude[:, size - side:].sum()) / total)
    return shares
