"""Training-time augmentation: the cached wider view of each face (prepare.CONTEXT) -> a model-size crop, re-framed
and perturbed at random, batched in torch. The result is what crop_faces would give for a photo framed, lit
and compressed differently; the outside of the photo is filled by align.fill_outside, the same rule as at
inference, so the network cannot tell a source by its framing.

With augmentation off (`reframe_crops(..., None)`) the output equals crop_faces' crop exactly.
"""
from __future__ import annotations

import io
import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from facebmi.align import fill_outside
from facebmi.config import CropSpec


@dataclass(frozen=True)
class AugmentSpec:
    flip: float = 0.5  # probability of a horizontal flip (faces are near-symmetric; labels do not change)
    max_rotate_deg: float = 8.0  # residual roll after alignment is small; a little more teaches robustness
    max_scale: float = 0.08  # +-8% zoom: detector boxes and landmarks jitter by about this much
    max_shift: float = 0.04  # fraction of the side
    # Re-framing: with this probability the photo's edges move in: each side, with probability `cut_side`, is
    # cut at a random place between `cut_inner` and `cut_outer` crop half-widths from the centre (the eyes sit at about
    # -0.05 and the mouth at +0.45 vertically, the face spans about +-0.7; 1 is the crop's edge). So tight
    # headshots, ID photos and UTKFace-style chips are made from every source: the amount of outside is no clue.
    reframe: float = 0.6
    cut_side: float = 0.75
    # Of the re-framed faces, this share is framed tightly on all four sides at once (each side between
    # `cut_inner` and `frame_outer`): the ID photo, avatar and UTKFace framing, which independent cuts of
    # single sides almost never make. Without it a Reddit face cut at its box still read ~2 BMI higher.
    frame_share: float = 0.5
    frame_outer: float = 0.95
    # Measured (median over validation photos): the detector's box falls at left -0.51, top -0.54, right +0.44,
    # bottom +0.74 of the crop, and the benchmark's tight cut (chin and forehead off) at -0.46, -0.35, +0.40,
    # +0.61. Up to v4 the tightest cut was (0.55, 0.5, 0.55, 0.6): no training face was ever cut at its own box
    # on the sides, nor at the forehead, so those framings were new to the network.
    cut_inner: tuple[float, float, float, float] = (0.35, 0.25, 0.35, 0.5)  # left, top, right, bottom
    cut_outer: float = 1.1
    cut_tilt_deg: float = 20.0  # the cut lines tilt up to this much in a third of cuts (rotated photos)
    # Of the re-framed faces, this share sits on a canvas inside the photo (a flat colour, black included, or a
    # blurred copy of itself) rather than at the photo's edge: photos pasted on a larger background, and
    # rotated photos with filled corners.
    canvas: float = 0.35
    low_res: float = 0.15  # probability of passing through a face only 20-60 px wide (small faces in a photo)
    jpeg: float = 0.15  # probability of JPEG compression at quality 10-60
    brightness: float = 0.25  # multiplicative, +-25%
    contrast: float = 0.25
    saturation: float = 0.3
    grayscale: float = 0.1  # some test photos are black and white
    # Light and camera, as the robustness benchmark's variants of those names make them (training/learn/
    # robustness.py): each the probability that a face gets it. v12, trained without them, read a photo with
    # sensor noise (12 levels) +2.3 BMI heavier and UTKFace faces 4.5 years older, a defocused one (blur radius
    # 1/50 of the face) 5.5 years younger, and kept UTKFace brackets for only 84% of overexposed faces
    # (docs/measurements/2026-12-07i). 0 (v1-v12): off, and the random stream is the same as theirs.
    white_balance: float = 0.0  # warm or cool light left uncorrected: red x1.3**t, blue x1.4**-t, t in [-1, 1]
    exposure: float = 0.0  # light x2**e in linear light, e in [-1.5, 1] stops, highlights clipped like a sensor's
    blur: float = 0.0  # out of focus: Gaussian blur of sd 0.3-2 crop pixels (the face spans ~75 of them)
    noise: float = 0.0  # a small sensor in dim light: Gaussian noise of sd 2-16 levels per pixel and channel


def reframe_crops(context: torch.Tensor, spec: CropSpec, aug: AugmentSpec | None,
                  generator: torch.Generator | None = None) -> torch.Tensor:
    """uint8 context views (N, 4, C, C) from prepare (RGB premultiplied by inside-the-photo, then inside x 255)
    -> uint8 crops (N, 3, spec.size, spec.size). aug=None: the plain centre crop, equal to crop_faces'."""
    n, side = context.shape[0], context.shape[-1]
    size = spec.size
    if aug is None:
        lo = (side - size) // 2
        view = context[:, :, lo:lo + size, lo:lo + size].float()
        return _to_uint8(fill_outside(view[:, :3], view[:, 3:] / 255, spec))
    x = context.float()
    rgb, inside = x[:, :3], x[:, 3:] / 255
    scale_ctx = side / size  # the context's half-width in crop half-widths

    def uniform(low, high, shape=(n,)):
        return torch.rand(shape, generator=generator) * (high - low) + low

    def chance(p, shape=(n,)):
        return torch.rand(shape, generator=generator) < p

    # 1. Re-frame: where the photo ends, in crop half-width units about the centre of the context.
    coords = (torch.arange(side, dtype=torch.float32) + 0.5) / side * 2 - 1
    gy, gx = torch.meshgrid(coords * scale_ctx, coords * scale_ctx, indexing="ij")
    tilt = torch.where(chance(1 / 3), uniform(-aug.cut_tilt_deg, aug.cut_tilt_deg), torch.zeros(n)) * math.pi / 180
    cos, sin = torch.cos(tilt).view(n, 1, 1), torch.sin(tilt).view(n, 1, 1)
    u, v = cos * gx + sin * gy, -sin * gx + cos * gy
    reframed = chance(aug.reframe)
    framed = reframed & chance(aug.frame_share)
    limits = []
    for inner in aug.cut_inner:  # left, top, right, bottom: distance of the photo's edge from the centre
        cut = reframed & (framed | chance(aug.cut_side))
        edge = torch.where(framed, uniform(inner, aug.frame_outer), uniform(inner, aug.cut_outer))
        limits.append(torch.where(cut, edge, torch.full((n,), 2 * scale_ctx)).view(n, 1, 1))
    kept = ((u > -limits[0]) & (v > -limits[1]) & (u < limits[2]) & (v < limits[3])).float().unsqueeze(1)
    on_canvas = (reframed & chance(aug.canvas)).view(n, 1, 1, 1).float()
    photo = inside * kept  # weight of real photo pixels
    flat = torch.where(chance(0.3, (n, 1, 1, 1)), torch.zeros(n, 3, 1, 1), torch.rand((n, 3, 1, 1), generator=generator) * 255)
    # A heavy blur, cheaply: average down to 1/8 of the side and back up.
    coarse = F.interpolate(torch.cat([rgb, inside], 1), scale_factor=1 / 8, mode="area")
    coarse = coarse[:, :3] / coarse[:, 3:].clamp_min(1e-3)
    blurred = F.interpolate(coarse, size=(side, side), mode="bilinear", align_corners=False)
    canvas = torch.where(chance(0.5, (n, 1, 1, 1)), flat.expand_as(rgb), blurred)
    # Premultiplied colour and the inside weight after re-framing: on a canvas the whole view is "photo".
    rgb = rgb * kept + on_canvas * canvas * (1 - photo)
    inside = photo + on_canvas * (1 - photo)

    # 2. Geometry: landmark jitter, roll, zoom, flip; sample the model-size crop from the context.
    angle = uniform(-aug.max_rotate_deg, aug.max_rotate_deg) * math.pi / 180
    zoom = 1 + uniform(-aug.max_scale, aug.max_scale)
    flip = torch.where(chance(aug.flip), -1.0, 1.0)
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0] = torch.cos(angle) / zoom * flip / scale_ctx
    theta[:, 0, 1] = -torch.sin(angle) / zoom / scale_ctx
    theta[:, 1, 0] = torch.sin(angle) / zoom * flip / scale_ctx
    theta[:, 1, 1] = torch.cos(angle) / zoom / scale_ctx
    theta[:, :, 2] = torch.stack([uniform(-1, 1), uniform(-1, 1)], 1) * aug.max_shift * 2 / scale_ctx
    grid = F.affine_grid(theta, [n, 4, size, size], align_corners=False)
    out = F.grid_sample(torch.cat([rgb, inside], 1), grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    rgb, inside = out[:, :3], out[:, 3:]

    # 3. Resolution: a small face in the photo, upsampled by the crop.
    small = chance(aug.low_res)
    if small.any():
        width = int(uniform(20, 60, (1,)).item() / 0.7)  # the face spans ~0.7 of the crop
        lo = F.interpolate(out[small], size=(width, width), mode="area")
        out_small = F.interpolate(lo, size=(size, size), mode="bilinear", align_corners=False)
        rgb[small], inside[small] = out_small[:, :3], out_small[:, 3:].clamp(0, 1)

    # 4. Colour, on the photo's own colours (un-premultiplied); the fill outside is never perturbed.
    colour = rgb / inside.clamp_min(1e-3)
    gray = (0.299 * colour[:, 0] + 0.587 * colour[:, 1] + 0.114 * colour[:, 2]).unsqueeze(1)
    sat = uniform(1 - aug.saturation, 1 + aug.saturation).view(n, 1, 1, 1)
    sat = torch.where(chance(aug.grayscale, (n, 1, 1, 1)), torch.zeros_like(sat), sat)
    colour = gray + (colour - gray) * sat
    weight = inside.sum(dim=(2, 3), keepdim=True).clamp_min(1.0)
    mean = (colour * inside).sum(dim=(1, 2, 3), keepdim=True) / (3 * weight)
    colour = mean + (colour - mean) * uniform(1 - aug.contrast, 1 + aug.contrast).view(n, 1, 1, 1)
    colour = (colour * uniform(1 - aug.brightness, 1 + aug.brightness).view(n, 1, 1, 1)).clamp(0, 255)

    # 4b. Light and camera: white balance, exposure, defocus, sensor noise (off unless the spec asks).
    colour = _camera(colour, inside, aug, generator)

    # 5. JPEG artefacts (PIL, a face at a time: cheap at this size).
    for i in np.flatnonzero(chance(aug.jpeg).numpy()):
        quality = int(uniform(10, 60, (1,)).item())
        buffer = io.BytesIO()
        Image.fromarray(colour[i].round().byte().permute(1, 2, 0).numpy()).save(buffer, "JPEG", quality=quality)
        colour[i] = torch.from_numpy(np.array(Image.open(buffer).convert("RGB"))).permute(2, 0, 1).float()
    return _to_uint8(fill_outside(colour * inside, inside, spec))


def relit(colour, gain):
    """Colour (sRGB in [0, 1]; a numpy array or a tensor) with its light multiplied by `gain` in linear light, as
    a camera's exposure, white balance or a shadow acts, then back to sRGB (gamma 2.2), clipped like a sensor's
    highlights. Training's augmentation (_camera) and the robustness benchmark's light variants share it."""
    return (colour ** 2.2 * gain).clip(0, 1) ** (1 / 2.2)


def _camera(colour: torch.Tensor, inside: torch.Tensor, aug: AugmentSpec,
            generator: torch.Generator | None) -> torch.Tensor:
    """White balance and exposure (in linear light), then defocus and sensor noise, each on a share of the faces
    (AugmentSpec); colour: (N, 3, S, S) sRGB levels of the photo's own pixels, inside: their weight. Nothing is
    drawn for a setting at 0, so a spec without them keeps the earlier random stream."""
    n = len(colour)

    def drawn(p, low, high):  # per face: a value in [low, high) with probability p, else nan (left alone)
        value = torch.rand(n, generator=generator) * (high - low) + low
        return torch.where(torch.rand(n, generator=generator) < p, value, torch.full((n,), float("nan")))

    if aug.white_balance > 0 or aug.exposure > 0:
        gain = torch.ones(n, 3)
        if aug.white_balance > 0:
            t = drawn(aug.white_balance, -1.0, 1.0).nan_to_num(0.0)
            gain[:, 0], gain[:, 2] = 1.3 ** t, 1.4 ** -t
        if aug.exposure > 0:
            gain = gain * (2.0 ** drawn(aug.exposure, -1.5, 1.0).nan_to_num(0.0)).unsqueeze(1)
        colour = relit((colour / 255).clamp(0, 1), gain.view(n, 3, 1, 1)) * 255
    if aug.blur > 0:
        sigma = drawn(aug.blur, 0.3, 2.0)
        for i in torch.nonzero(~sigma.isnan()).flatten().tolist():
            # Normalised convolution: blur the photo's weighted pixels and the weight alike, so that the outside
            # of the photo (no colour) does not bleed into its edge.
            both = _gaussian_blur(torch.cat([colour[i] * inside[i], inside[i]]), float(sigma[i]))
            colour[i] = both[:3] / both[3:].clamp_min(1e-3)
    if aug.noise > 0:
        sd = drawn(aug.noise, 2.0, 16.0).nan_to_num(0.0).view(n, 1, 1, 1)
        colour = (colour + sd * torch.randn(colour.shape, generator=generator)).clamp(0, 255)
    return colour


def _gaussian_blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """(C, H, W) blurred by a Gaussian of standard deviation `sigma` pixels (separable, edges replicated)."""
    radius = max(1, math.ceil(3 * sigma))
    kernel = torch.exp(-0.5 * (torch.arange(-radius, radius + 1, dtype=torch.float32) / sigma) ** 2)
    kernel = kernel / kernel.sum()
    c = x.shape[0]
    padded = F.pad(x.unsqueeze(0), (radius, radius, radius, radius), mode="replicate")
    across = F.conv2d(padded, kernel.view(1, 1, 1, -1).expand(c, 1, 1, -1).contiguous(), groups=c)
    return F.conv2d(across, kernel.view(1, 1, -1, 1).expand(c, 1, -1, 1).contiguous(), groups=c)[0]


def _to_uint8(x: torch.Tensor) -> torch.Tensor:
    return x.round().clamp(0, 255).to(torch.uint8)
