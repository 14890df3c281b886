"""Training-time augmentation of aligned uint8 crops, batched in torch. Runs after crop_faces and before
to_model_input, so it perturbs exactly the input the app sees, nothing else."""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class AugmentSpec:
    flip: float = 0.5  # probability of a horizontal flip (faces are near-symmetric; labels do not change)
    max_rotate_deg: float = 8.0  # residual roll after alignment is small; a little more teaches robustness
    max_scale: float = 0.08  # +-8% zoom: detector boxes and landmarks jitter by about this much
    max_shift: float = 0.04  # fraction of the side
    brightness: float = 0.25  # multiplicative, +-25%
    contrast: float = 0.25
    saturation: float = 0.3
    grayscale: float = 0.05  # some test photos are black and white


def augment(crops: torch.Tensor, spec: AugmentSpec, generator: torch.Generator | None = None) -> torch.Tensor:
    """uint8 (N, 3, S, S) -> uint8 (N, 3, S, S), independently perturbed per image."""
    n = crops.shape[0]
    x = crops.float()

    def uniform(low, high):
        return torch.rand(n, generator=generator) * (high - low) + low

    angle = uniform(-spec.max_rotate_deg, spec.max_rotate_deg) * math.pi / 180
    scale = 1 + uniform(-spec.max_scale, spec.max_scale)
    flip = torch.where(torch.rand(n, generator=generator) < spec.flip, -1.0, 1.0)
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0] = torch.cos(angle) / scale * flip
    theta[:, 0, 1] = -torch.sin(angle) / scale
    theta[:, 1, 0] = torch.sin(angle) / scale * flip
    theta[:, 1, 1] = torch.cos(angle) / scale
    theta[:, :, 2] = torch.stack([uniform(-1, 1), uniform(-1, 1)], 1) * spec.max_shift * 2
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    x = F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)

    gray = (0.299 * x[:, 0] + 0.587 * x[:, 1] + 0.114 * x[:, 2]).unsqueeze(1)
    sat = uniform(1 - spec.saturation, 1 + spec.saturation).view(n, 1, 1, 1)
    sat = torch.where(torch.rand(n, 1, 1, 1, generator=generator) < spec.grayscale, torch.zeros_like(sat), sat)
    x = gray + (x - gray) * sat
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    x = mean + (x - mean) * uniform(1 - spec.contrast, 1 + spec.contrast).view(n, 1, 1, 1)
    x = x * uniform(1 - spec.brightness, 1 + spec.brightness).view(n, 1, 1, 1)
    return x.round().clamp(0, 255).to(torch.uint8)
