"""MTCNN's three stages, as facenet-pytorch 2.5.3's `detect_face` runs them, with the same answers in ~2/3 of the time.

MTCNN finds faces in three stages: P-net scans an image pyramid for candidate boxes, R-net scores and refines
each candidate from a 24x24 window of it, O-net does so again from a 48x48 window and places the 5 landmarks.
The steps, thresholds and helpers below are facenet-pytorch's (pinned in requirements.txt; recheck on upgrade).
Two changes of how, not of what (boxes and landmarks agree with `MTCNN.detect` to ~1e-4 px; tests/test_detect.py):

- The networks run on channels-last tensors. On CPU that makes their max-pooling layers ~4x faster (they were
  a third of detection time) and the convolutions no slower; the arithmetic is the same.
- R-net's and O-net's windows are resized all at once, from one summed-area table of the photo. facenet-pytorch
  resizes them one by one with area interpolation (~100 calls per photo); each output pixel of that is the mean
  of a block of input pixels (torch's adaptive average pooling bins), and a summed-area table gives every such
  mean from four look-ups. Sums are in float64, so they are exact for any photo size.

`detect` is the full detector; `refine` (stages 2 and 3 from given candidate boxes) is also how the Live tab
finds a known face again from its last box (redetect.py).
"""
from __future__ import annotations

import numpy as np
import torch
from facenet_pytorch import MTCNN
from facenet_pytorch.models.utils.detect_face import (batched_nms_numpy, bbreg, generateBoundingBox, imresample,
                                                      pad, rerec)
from PIL import Image
from torchvision.ops.boxes import batched_nms

WINDOW_BATCH = 512  # windows per R-net/O-net call, as facenet-pytorch: bounds memory on photos with many candidates


def _channels_last_input(module: torch.nn.Module, args: tuple) -> tuple:
    return (args[0].contiguous(memory_format=torch.channels_last),) + args[1:]


def use_channels_last(mtcnn: MTCNN) -> MTCNN:
    """Put MTCNN's three networks, and every input they get, in channels-last memory layout (see the module's
    docstring). Idempotent; also speeds up `mtcnn.detect` itself, so build a separate MTCNN to time the original."""
    for net in (mtcnn.pnet, mtcnn.rnet, mtcnn.onet):
        if not getattr(net, "_facebmi_channels_last", False):
            net.to(memory_format=torch.channels_last)
            net.register_forward_pre_hook(_channels_last_input)
            net._facebmi_channels_last = True
    return mtcnn


def photo_tensor(mtcnn: MTCNN, image: Image.Image) -> torch.Tensor:
    """An RGB PIL image as detect_face reads it: (1, 3, H, W) pixel values 0-255 in the networks' dtype."""
    param = next(mtcnn.pnet.parameters())
    rgb = image if image.mode == "RGB" else image.convert("RGB")  # (convert would copy an RGB image too)
    pixels = torch.as_tensor(np.array(rgb, dtype=np.uint8), device=param.device)
    return pixels.permute(2, 0, 1).unsqueeze(0).to(param.dtype)


@torch.inference_mode()
def detect(mtcnn: MTCNN, image: Image.Image) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every face MTCNN finds in `image`: boxes (N, 4) x0, y0, x1, y1, scores (N,), landmarks (N, 5, 2), in
    `image`'s pixels, in MTCNN's order. What `mtcnn.detect(image, landmarks=True)` returns, N = 0 included."""
    pixels = photo_tensor(mtcnn, image)
    return refine(mtcnn, pixels, propose(mtcnn, pixels))


def propose(mtcnn: MTCNN, pixels: torch.Tensor) -> torch.Tensor:
    """Stage 1 (P-net over the image pyramid): candidate boxes (K, 5) x0, y0, x1, y1, score, squared."""
    h, w = pixels.shape[2:4]
    scale = 12.0 / mtcnn.min_face_size
    side = min(h, w) * scale
    boxes, picks, offset = [], [], 0
    while side >= 12:
        level = imresample(pixels, (int(h * scale + 1), int(w * scale + 1)))
        offsets, probs = mtcnn.pnet((level - 127.5) * 0.0078125)
        found, image_inds = generateBoundingBox(offsets, probs[:, 1], scale, mtcnn.thresholds[0])
        picks.append(batched_nms(found[:, :4], found[:, 4], image_inds, 0.5) + offset)  # NMS within the level
        boxes.append(found)
        offset += len(found)
        scale *= mtcnn.factor
        side *= mtcnn.factor
    if not boxes:
        return pixels.new_zeros((0, 5))
    boxes = torch.cat(boxes)[torch.cat(picks)]
    boxes = boxes[batched_nms(boxes[:, :4], boxes[:, 4], torch.zeros(len(boxes), dtype=torch.long,
                                                                     device=boxes.device), 0.7)]
    width, height = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    boxes = torch.stack([boxes[:, 0] + boxes[:, 5] * width, boxes[:, 1] + boxes[:, 6] * height,
                         boxes[:, 2] + boxes[:, 7] * width, boxes[:, 3] + boxes[:, 8] * height, boxes[:, 4]], dim=1)
    return rerec(boxes)


@torch.inference_mode()
def refine(mtcnn: MTCNN, pixels: torch.Tensor, boxes: torch.Tensor) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Stages 2 and 3 (R-net, O-net) from candidate boxes (K, 4 or 5; squared as `rerec` does): boxes (N, 4),
    scores (N,), landmarks (N, 5, 2) in the photo's pixels, as `detect` returns them."""
    none = (np.zeros((0, 4)), np.zeros(0), np.zeros((0, 5, 2)))
    if not len(boxes):
        return none
    boxes = boxes if boxes.shape[1] == 5 else torch.cat([boxes, boxes.new_ones((len(boxes), 1))], dim=1)
    table, shape = summed_area_table(pixels), tuple(pixels.shape[2:4])

    # Stage 2 (R-net): score and refine each candidate.
    boxes, windows = _windows(table, shape, boxes, 24, pixels.dtype)
    if windows is None:
        return none
    offsets, probs = _run(mtcnn.rnet, windows)
    keep = probs[:, 1] > mtcnn.thresholds[1]
    boxes = torch.cat((boxes[keep, :4], probs[keep, 1:2]), dim=1)
    offsets = offsets[keep]
    pick = batched_nms(boxes[:, :4], boxes[:, 4], torch.zeros(len(boxes), dtype=torch.long, device=boxes.device),
                       0.7)
    boxes = rerec(bbreg(boxes[pick], offsets[pick]))
    if not len(boxes):
        return none

    # Stage 3 (O-net): final score, box and the 5 landmarks.
    boxes, windows = _windows(table, shape, boxes, 48, pixels.dtype)
    if windows is None:
        return none
    offsets, points, probs = _run(mtcnn.onet, windows)
    keep = probs[:, 1] > mtcnn.thresholds[2]
    points = points[keep].T
    boxes = torch.cat((boxes[keep, :4], probs[keep, 1:2]), dim=1)
    offsets = offsets[keep]
    if not len(boxes):
        return none
    box_w = boxes[:, 2] - boxes[:, 0] + 1
    box_h = boxes[:, 3] - boxes[:, 1] + 1
    points_x = box_w.repeat(5, 1) * points[:5, :] + boxes[:, 0].repeat(5, 1) - 1
    points_y = box_h.repeat(5, 1) * points[5:10, :] + boxes[:, 1].repeat(5, 1) - 1
    points = torch.stack((points_x, points_y)).permute(2, 1, 0)
    boxes = bbreg(boxes, offsets)
    pick = batched_nms_numpy(boxes[:, :4], boxes[:, 4], torch.zeros(len(boxes), dtype=torch.long), 0.7, "Min")
    boxes, points = boxes[pick].cpu().numpy(), points[pick].cpu().numpy()
    return boxes[:, :4], boxes[:, 4], points


def _run(net: torch.nn.Module, windows: torch.Tensor) -> tuple[torch.Tensor, ...]:
    outs = [net(windows[i:i + WINDOW_BATCH]) for i in range(0, len(windows), WINDOW_BATCH)]
    return tuple(torch.cat(parts) for parts in zip(*outs))


def summed_area_table(pixels: torch.Tensor) -> torch.Tensor:
    """(3, (H+1) * (W+1)) float64: entry [c, y * (W+1) + x] is the sum of channel c over rows < y, columns < x
    (flat, so each look-up below is one gather per channel)."""
    table = torch.nn.functional.pad(pixels[0].to(torch.float64).cumsum(1).cumsum(2), (1, 0, 1, 0))
    return table.reshape(table.shape[0], -1)


def _bins(start: torch.Tensor, length: torch.Tensor, size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(K, size) first and one-past-last index of each output pixel's block, as torch's adaptive average pooling
    (area interpolation) bins an input of `length` into `size`: [floor(i L / size), ceil((i + 1) L / size))."""
    i = torch.arange(size, device=length.device)
    lo = (i[None, :] * length[:, None]) // size
    hi = ((i[None, :] + 1) * length[:, None] + size - 1) // size
    return start[:, None] + lo, start[:, None] + hi


def _windows(table: torch.Tensor, shape: tuple[int, int], boxes: torch.Tensor, size: int,
             dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor | None]:
    """(the boxes with pixels inside the photo, their pixels area-resized to size x size and normalised as MTCNN's
    networks expect), cropped as detect_face crops (1-based, clipped to the photo of `shape` (H, W)). None when
    no box is inside. `table` is the photo's summed_area_table."""
    height, width = shape
    y, ey, x, ex = pad(boxes, width, height)
    inside = np.flatnonzero((ey > y - 1) & (ex > x - 1))
    if not len(inside):
        return boxes[:0], None
    as_index = (lambda a: torch.as_tensor(a[inside], dtype=torch.long, device=table.device))
    y0, x0 = as_index(y) - 1, as_index(x) - 1
    rows_lo, rows_hi = _bins(y0, as_index(ey) - y0, size)
    cols_lo, cols_hi = _bins(x0, as_index(ex) - x0, size)
    stride = width + 1
    rl, rh = rows_lo[:, :, None] * stride, rows_hi[:, :, None] * stride  # (K, size, 1): offsets of table rows
    cl, ch = cols_lo[:, None, :], cols_hi[:, None, :]  # (K, 1, size)
    sums = table[:, rh + ch] - table[:, rl + ch] - table[:, rh + cl] + table[:, rl + cl]  # (3, K, size, size)
    areas = (rows_hi - rows_lo)[:, :, None] * (cols_hi - cols_lo)[:, None, :]
    means = (sums / areas).to(dtype).permute(1, 0, 2, 3)
    return boxes[torch.as_tensor(inside, device=boxes.device)], (means - 127.5) * 0.0078125
