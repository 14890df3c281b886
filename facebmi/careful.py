"""The careful read: one face's answers averaged over several crops of it (the before/after change's read).

A change is the difference of two reads, so noise in one read goes straight into it. A single read moves by
~0.5-1 BMI with things that say nothing about the face: where exactly MTCNN put the landmarks (it places them
differently on a photo and on its mirror image) and a 1 px shift of the crop (a CNN is not shift-invariant).
The careful read averages over both (config.pair_read_mirror, config.pair_read_shift): the face's crops from its
own landmarks and from those found on the photo's mirror image, each cut at every whole-pixel shift up to
pair_read_shift. Measured on validation photos: docs/measurements/2026-12-02.

`read_contexts` is the one implementation: the app (Predictor.predict_careful) feeds it wider views cut from the
photo, training (train.infer_careful, for validation and the change's calibration) the cached ones.
"""
from __future__ import annotations

import numpy as np
import torch

from .align import shifted_views, to_model_input
from .config import ModelConfig
from .model import infer_outputs

MAX_BATCH = 128  # crops per network call: a face is 9-50 crops; bounds memory when a photo has many faces


@torch.inference_mode()
def read_contexts(model: torch.nn.Module, contexts: torch.Tensor, owner: np.ndarray, n_faces: int,
                  config: ModelConfig, device: torch.device | str = "cpu") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """uint8 wider views (K, 4, C, C) of crop_context's kind, view k belonging to face owner[k] (0..n_faces-1,
    each face at least one view) -> BMI (n_faces,), bracket probabilities (n_faces, 8) and age (n_faces,): each
    view's answers averaged over its shifted crops (align.shifted_views), then each face's over its views."""
    crops = shifted_views(contexts, config.crop, config.pair_read_shift)  # (K, V, 3, S, S)
    k, v = crops.shape[:2]
    flat = crops.flatten(0, 1)
    outs = []
    for start in range(0, len(flat), MAX_BATCH):
        x = to_model_input(flat[start:start + MAX_BATCH].to(device), config.crop).contiguous(
            memory_format=torch.channels_last)
        out = infer_outputs(model, x)
        outs.append((out.bmi.float(), out.bracket_logits.float().softmax(1), out.age_years.float()))
    bmi, probs, age = (torch.cat(parts) for parts in zip(*outs))
    per_view = [bmi.view(k, v).mean(1), probs.view(k, v, -1).mean(1), age.view(k, v).mean(1)]
    owner_t = torch.as_tensor(owner, dtype=torch.long, device=per_view[0].device)
    counts = torch.bincount(owner_t, minlength=n_faces).float()
    if (counts == 0).any():
        raise ValueError("every face needs at least one view to be read")
    means = []
    for values in per_view:
        total = torch.zeros((n_faces,) + values.shape[1:], device=values.device).index_add_(0, owner_t, values)
        means.append((total / counts.view(-1, *[1] * (values.dim() - 1))).cpu().numpy())
    return means[0], means[1], means[2]
