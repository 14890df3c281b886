"""The crop: the one place a detected face becomes model input. Training, evaluation, the CLI and the app
all call `crop_faces` then `to_model_input`; nothing else resizes, pads or normalises a face.

A face is aligned by the similarity transform (rotation, uniform scale, shift) that best maps its 5 MTCNN
landmarks onto a fixed template, so eyes and mouth land at the same place in every crop. Where the crop
reaches past the photo's edge, it is filled with one plain colour (`CropSpec.outside`, see config.py), the
same in every source and at inference, so how a photo is framed is not something the network can read. A flat
border (black corners of a rotated photo, letterbox bars, a plain canvas) and a backdrop without detail (a blurred
copy of the photo behind it, blurred bars beside a portrait) count as outside too: `photo_mask`.

Training caches a wider view of each face (`crop_context`: the same alignment, more around it, plus which
pixels lie inside the photo) and re-frames it at random (training/learn/augment.py); `fill_outside` is the one
rule for what fills the outside, applied here and there.
"""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageDraw
from scipy import ndimage
from scipy.spatial import ConvexHull, QhullError

from .config import CropSpec

# Where the 5 landmarks sit in a tight face crop, as fractions of its side (the widely used 112x112
# ArcFace template divided by 112): left eye, right eye, nose tip, left and right mouth corners.
TEMPLATE = np.array([
    [38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366], [41.5493, 92.3655], [70.7299, 92.2041],
]) / 112.0


# A flat border's pixels differ from its corner's colour by at most this much in each channel: JPEG leaves a
# flat area within a few levels of its colour, while skin, hair and real backgrounds vary by more.
FLAT_TOLERANCE = 8
FLAT_MIN_SHARE = 0.01  # a flat corner region smaller than this share of the photo is left as photo
# Added borders are one exact colour (JPEG keeps ~95% of a black corner within 2 levels, at quality 20 too); a
# photo's own smooth wall or sky drifts (on the training sources' flat-looking corners, a median of ~25% lies that
# close): at least this share of the region within FLAT_EXACT levels of the region's median colour.
FLAT_EXACT = 2
FLAT_EXACT_SHARE = 0.9
FLAT_MAX_SIDE = 1024  # the border is found on a copy at most this large (box-filtered), then scaled back
FLAT_STEP = 4  # a corner's region is first measured on every 4th pixel: on a 640x480 photo ~0.3 ms instead of 2.5

# A backdrop: the photo is a rectangle with detail in it, pasted on something with none (a blurred, enlarged copy of
# itself, blurred bars beside a portrait, a soft gradient). Found on a copy at most BACKDROP_MAX_SIDE large, where a
# pixel is "sharp" when its grey level differs from a neighbour's by BACKDROP_SHARP or more: a Gaussian blur of radius
# 12 leaves even a black-to-white edge below ~9 levels a pixel, while a photo's own edges, hair and texture pass it.
BACKDROP_MAX_SIDE = 512
BACKDROP_SHARP = 10
BACKDROP_LINE = 0.02  # the photo's rectangle: the rows and columns with at least this share of sharp pixels
BACKDROP_MARGIN = 0.03  # a side of the file counts as backdrop when at least this share of it lies outside the rectangle
BACKDROP_MIN_SHARE = 0.08  # and the backdrop is at least this share of the file
# Outside the rectangle at most this share of pixels is sharp, not counting a band BACKDROP_BAND px wide around it
# (JPEG rings beside the seam).
BACKDROP_STRAY = 0.002
BACKDROP_BAND = 4
# Each side that meets the backdrop is a straight seam: a line BACKDROP_SEAM_WIDTH px wide, within BACKDROP_SEAM_REACH
# px of the rectangle's edge (past JPEG's rings), holds a sharp pixel along at least BACKDROP_SEAM of its length. A
# sharp subject before a blurred background (a portrait's bokeh) ends in a silhouette, not a line. On 300 photos a
# source that are not test photos (where these values were set), the rule found only what is not photo: in 34 Reddit
# photos bars (21 also flat; 13 near-white or streaked, which the flat rule misses), in 3 UTKFace chips their
# out-of-photo padding, in the Adience subset nothing (docs/measurements/2026-12-06).
BACKDROP_SEAM = 0.5
BACKDROP_SEAM_REACH = 8
BACKDROP_SEAM_WIDTH = 3


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


# The default of crop_faces' and crop_context's `mask`: find it here. None is a mask too (no pixel of the file is
# outside the photo: format 1-6 models), so "not given" needs its own marker.
FIND_MASK = object()


def crop_faces(image: Image.Image, landmarks: list[np.ndarray] | np.ndarray, spec: CropSpec,
               mask: Image.Image | None | object = FIND_MASK) -> torch.Tensor:
    """Aligned face crops as a uint8 tensor (N, 3, size, size), RGB; one per (5, 2) landmark array.
    mask: `photo_mask_for(image, spec)` when the caller has it already (it is the slow part of a crop on a big
    photo, and the same for every view of it); found here when not given."""
    crops = []
    if mask is FIND_MASK:
        mask = photo_mask_for(image, spec) if len(landmarks) else None
    for points in landmarks:
        rgb, inside = _sample(image, _points(points), spec.size, spec.face_fraction, edge=spec.outside == "edge",
                              mask=mask)
        crops.append(fill_outside(rgb.unsqueeze(0), inside.unsqueeze(0), spec)[0])
    if not crops:
        return torch.empty((0, 3, spec.size, spec.size), dtype=torch.uint8)
    return torch.stack(crops).round().clamp(0, 255).to(torch.uint8)


def crop_context(image: Image.Image, landmarks: list[np.ndarray] | np.ndarray, spec: CropSpec,
                 context: float, mask: Image.Image | None | object = FIND_MASK) -> torch.Tensor:
    """A wider view with the same alignment, for training: uint8 (N, 4, S, S) with S = size * context, whose
    central size x size pixels are the crop_faces crop. Channels: RGB, then 255 where the pixel lies inside
    the photo and 0 outside (RGB is 0 there)."""
    side = round(spec.size * context)
    if (side - spec.size) % 2:
        raise ValueError(f"context {context} must widen the {spec.size} px crop by an even number of pixels")
    views = []
    if mask is FIND_MASK:
        mask = photo_mask_for(image, spec) if len(landmarks) else None
    for points in landmarks:
        rgb, inside = _sample(image, _points(points), side, spec.face_fraction * spec.size / side, edge=False,
                              mask=mask)
        views.append(torch.cat([rgb, inside * 255]))
    if not views:
        return torch.empty((0, 4, side, side), dtype=torch.uint8)
    return torch.stack(views).round().clamp(0, 255).to(torch.uint8)


def photo_mask(image: Image.Image, flat: bool = True, backdrop: bool = True) -> Image.Image | None:
    """Which pixels of the file are photo: an "L" image of the file's size, 255 on the photo and 0 on what was added
    around it, or None when nothing was (most photos). flat: a flat border (`_flat_border`) is not photo; backdrop:
    outside the photo's rectangle on a backdrop without detail (`backdrop_rectangle`) is not photo."""
    if image.mode != "RGB":
        raise ValueError(f"photo_mask takes an RGB image (load_image makes one), not {image.mode}")
    factor = max(1, math.ceil(max(image.size) / FLAT_MAX_SIDE))
    small = np.asarray(image.reduce(factor) if factor > 1 else image)
    h, w = small.shape[:2]
    border = _flat_border(small) if flat else np.zeros((h, w), dtype=bool)
    rectangle = backdrop_rectangle(image) if backdrop else None
    if rectangle is not None:
        x0, y0, x1, y1 = (round(v / factor) for v in rectangle)
        outside = np.ones((h, w), dtype=bool)
        outside[y0:y1, x0:x1] = False
        border |= outside
    if not border.any():
        return None
    mask = Image.fromarray(np.where(border, 0, 255).astype(np.uint8))
    return mask.resize(image.size, Image.NEAREST) if factor > 1 else mask


def _flat_border(small: np.ndarray) -> np.ndarray:
    """uint8 (H, W, 3) -> boolean (H, W), True on a flat border: a 4-connected region of one colour (every channel
    within FLAT_TOLERANCE of a corner pixel's, FLAT_EXACT_SHARE of it within FLAT_EXACT of its median) that holds
    that corner and at least FLAT_MIN_SHARE of the file, less the convex hull of the rest: the corners a rotation
    leaves, letterbox bars, the canvas a photo was pasted on. The hull keeps a photo's own flat areas that meet the
    border (a black jacket touching black corners) as photo: a photo is convex, and what was added around it is not
    inside it. All False for a blank file: nothing to tell apart."""
    h, w = small.shape[:2]
    border = np.zeros((h, w), dtype=bool)
    # A first look at every FLAT_STEP-th pixel (and the last row and column, so the corners are in it): most
    # corners' regions are found too small here, and a large one is labelled again only within its box.
    grid_y, grid_x = np.unique(np.r_[0:h:FLAT_STEP, h - 1]), np.unique(np.r_[0:w:FLAT_STEP, w - 1])
    coarse = small[np.ix_(grid_y, grid_x)]
    for y, x in sorted({(0, 0), (0, w - 1), (h - 1, 0), (h - 1, w - 1)}):
        colour = small[y, x]
        if border[y, x] or not _like(small[max(0, y - 1):y + 2, max(0, x - 1):x + 2], colour).all():
            continue  # already found, or a corner whose neighbours differ: no flat region holds it
        labels, _ = ndimage.label(_like(coarse, colour))
        found = labels == labels[0 if y == 0 else -1, 0 if x == 0 else -1]
        if found.sum() * FLAT_STEP ** 2 < FLAT_MIN_SHARE * h * w / 2:
            continue
        rows, cols = np.flatnonzero(found.any(axis=1)), np.flatnonzero(found.any(axis=0))
        box = (grid_y[max(0, rows[0] - 1)], grid_x[max(0, cols[0] - 1)],
               grid_y[min(len(grid_y) - 1, rows[-1] + 1)] + 1, grid_x[min(len(grid_x) - 1, cols[-1] + 1)] + 1)
        region = _region(small, (y, x), box)
        if region is None:  # it reaches the box's edge inside the photo: label the whole photo
            region = _region(small, (y, x), (0, 0, h, w))
        if region.sum() < FLAT_MIN_SHARE * h * w:
            continue
        colours = small[region]
        if _like(colours, np.median(colours, axis=0), FLAT_EXACT).mean() >= FLAT_EXACT_SHARE:
            border |= region
    if not border.any() or border.all():
        return np.zeros((h, w), dtype=bool)
    return border & ~_convex_hull(~border)


def backdrop_rectangle(image: Image.Image) -> tuple[int, int, int, int] | None:
    """The photo's rectangle (x0, y0, x1, y1 in the file's pixels) when the photo was pasted on a backdrop without
    detail, else None: the rectangle that holds the sharp pixels (BACKDROP_* above), when at least one side of the
    file lies outside it, nothing sharp lies outside it, and each side that meets the backdrop is a straight seam.
    A flat canvas is such a backdrop too; a blurred one is what the flat rule cannot see."""
    factor = max(1, math.ceil(max(image.size) / BACKDROP_MAX_SIDE))
    grey = np.asarray((image.reduce(factor) if factor > 1 else image).convert("L"), dtype=np.int16)
    h, w = grey.shape
    across, down = np.abs(np.diff(grey, axis=1)) >= BACKDROP_SHARP, np.abs(np.diff(grey, axis=0)) >= BACKDROP_SHARP
    sharp = np.zeros((h, w), dtype=bool)  # both pixels of a step count
    sharp[:, 1:] |= across
    sharp[:, :-1] |= across
    sharp[1:] |= down
    sharp[:-1] |= down
    rows = np.flatnonzero(sharp.mean(axis=1) >= BACKDROP_LINE)
    cols = np.flatnonzero(sharp.mean(axis=0) >= BACKDROP_LINE)
    if len(rows) < 2 or len(cols) < 2:
        return None  # no detail anywhere: no photo to tell from a backdrop
    y0, y1, x0, x1 = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
    meets = {"top": y0 >= BACKDROP_MARGIN * h, "bottom": h - y1 >= BACKDROP_MARGIN * h,
             "left": x0 >= BACKDROP_MARGIN * w, "right": w - x1 >= BACKDROP_MARGIN * w}
    if not any(meets.values()) or (y1 - y0) * (x1 - x0) > (1 - BACKDROP_MIN_SHARE) * h * w:
        return None
    far = np.ones((h, w), dtype=bool)
    b = BACKDROP_BAND
    far[max(0, y0 - b):y1 + b, max(0, x0 - b):x1 + b] = False
    if far.any() and sharp[far].mean() > BACKDROP_STRAY:
        return None  # detail outside: a photo's own background, not a backdrop
    # Each side's seam: the coverage of the line at each offset from the rectangle's edge inwards; the rectangle's
    # side moves to the best line (past JPEG's rings, which are sharp too but fainter along the seam). Each side is
    # read from the rectangle turned so that the side is its first row.
    inside = sharp[y0:y1, x0:x1]
    turned = {"top": inside, "bottom": inside[::-1], "left": inside.T, "right": inside.T[::-1]}
    at = {}
    for side, rows_in in turned.items():
        if meets[side]:
            lines = [rows_in[o:o + BACKDROP_SEAM_WIDTH].any(axis=0).mean()
                     for o in range(BACKDROP_SEAM_REACH - BACKDROP_SEAM_WIDTH + 1)]
            if max(lines) < BACKDROP_SEAM:
                return None
            at[side] = int(np.argmax(lines))
    x0, y0 = x0 + at.get("left", 0), y0 + at.get("top", 0)
    x1, y1 = x1 - at.get("right", 0), y1 - at.get("bottom", 0)
    return (int(x0 * factor), int(y0 * factor), int(min(image.width, x1 * factor)),
            int(min(image.height, y1 * factor)))


def _region(pixels: np.ndarray, corner: tuple[int, int], box: tuple[int, int, int, int]) -> np.ndarray | None:
    """The 4-connected region of pixels like the corner's colour that holds the corner, labelled within box (y0,
    x0, y1, x1) as a boolean mask of the whole photo; None when it touches a side of the box that is not the photo's
    (then it may go on beyond the box)."""
    h, w = pixels.shape[:2]
    y0, x0, y1, x1 = box
    labels, _ = ndimage.label(_like(pixels[y0:y1, x0:x1], pixels[corner]))
    inner = labels == labels[corner[0] - y0, corner[1] - x0]
    if ((y0 > 0 and inner[0].any()) or (x0 > 0 and inner[:, 0].any()) or (y1 < h and inner[-1].any())
            or (x1 < w and inner[:, -1].any())):
        return None
    region = np.zeros((h, w), dtype=bool)
    region[y0:y1, x0:x1] = inner
    return region


def _like(pixels: np.ndarray, colour: np.ndarray, tolerance: int = FLAT_TOLERANCE) -> np.ndarray:
    """uint8 (..., 3) -> boolean (...): every channel within `tolerance` of colour. Channel by channel in uint8:
    about 8x faster than one int16 difference over all three (a few ms on a 640x480 photo)."""
    like = np.ones(pixels.shape[:-1], dtype=bool)
    for k, value in enumerate(colour.astype(int)):
        channel = pixels[..., k]
        like &= channel >= max(0, value - tolerance)
        like &= channel <= min(255, value + tolerance)
    return like


def _convex_hull(pixels: np.ndarray) -> np.ndarray:
    """The convex hull of a boolean (H, W) array's True pixels, as a boolean array: qhull over each row's first and
    last pixel, filled by Pillow (which counts a pixel on the outline in; fast: skimage's pixel-by-pixel test took
    ~30 ms)."""
    rows = np.flatnonzero(pixels.any(axis=1))
    first = pixels[rows].argmax(axis=1)
    last = pixels.shape[1] - 1 - pixels[rows, ::-1].argmax(axis=1)
    points = np.concatenate([np.stack([first, rows], 1), np.stack([last, rows], 1)])
    try:
        outline = points[ConvexHull(points).vertices]
    except QhullError:  # all on one line: one row or one column of photo
        return pixels.copy()
    canvas = Image.new("L", (pixels.shape[1], pixels.shape[0]), 0)
    ImageDraw.Draw(canvas).polygon([tuple(p) for p in outline.astype(float)], fill=255, outline=255)
    return np.asarray(canvas) > 0


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


def photo_mask_for(image: Image.Image, spec: CropSpec) -> Image.Image | None:
    """photo_mask by the model's contract (format 1-6 models: no mask; format 7: flat borders only)."""
    if not (spec.flat_border_outside or spec.backdrop_outside):
        return None
    return photo_mask(image, flat=spec.flat_border_outside, backdrop=spec.backdrop_outside)


def _points(points) -> np.ndarray:
    return np.asarray(points, dtype=np.float64).reshape(5, 2)


def _sample(image: Image.Image, points: np.ndarray, size: int, face_fraction: float,
            edge: bool, mask: Image.Image | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """The aligned size x size view: float RGB (3, S, S), premultiplied by the inside-the-photo weight, and
    that weight (1, S, S). With edge=True the outside repeats the edge pixels instead (weight still 0 there).
    mask (photo_mask's): pixels of the file that are not photo, weight 0 like the outside."""
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
    # Which region pixels belong to the photo: all of them (a partial last column or row of the box-filter
    # reduce was made from fewer source pixels, still photo pixels, so still 1), less a flat border.
    if mask is None or edge:
        inside = torch.ones(1, region_h, region_w)
    else:
        region_mask = mask.crop((x0, y0, x1, y1))
        region_mask = region_mask.reduce(shrink) if shrink > 1 else region_mask
        inside = torch.from_numpy(np.asarray(region_mask, dtype=np.float32) / 255).unsqueeze(0)
        pixels = pixels * inside
    pixels = torch.cat([pixels, inside])

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
