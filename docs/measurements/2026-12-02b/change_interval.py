"""Does the before/after change's error grow with the change, and which interval follows it? Validation pairs only.

    PYTHONPATH=. python docs/measurements/2026-12-02b/change_interval.py runs/v5i

Reads every validation face with a BMI as the pair path does (train.infer_careful, from training's cache), forms
the same-person pairs the change is calibrated on, and scores three 80% intervals by leave-one-pair-out
split-conformal calibration: one width for all (format 1-5), a width growing with the estimated change in
quadrature (format 6, pair.change_halfwidth, fitted by train._change_interval), and one proportional to the
estimate's level. Prints each one's coverage overall and on the smaller / larger half of estimated changes, and
its mean half-width; and the Spearman correlation of |error| with candidate per-pair quantities.
"""
import math
import sys
from pathlib import Path

import numpy as np
import torch
from scipy.stats import spearmanr

from facebmi.config import ModelConfig
from facebmi.model import FaceAttributeModel
from facebmi.pair import bmi_change, change_halfwidth
from training.learn.sampling import all_pairs
from training.learn.train import _change_interval, _conformal, infer, infer_careful, load_faces

torch.set_num_threads(2)
model = FaceAttributeModel.from_folder(sys.argv[1]).eval()
faces = load_faces(Path(".cache/faces"))
idx = faces.where((faces.split == "validation") & ~np.isnan(faces.bmi.numpy()))
bmi = faces.bmi.numpy()
pairs = all_pairs(faces.people(idx), bmi)
careful, plain = np.full(len(bmi), np.nan), np.full(len(bmi), np.nan)
careful[idx], plain[idx] = infer_careful(model, faces, idx)["bmi"], infer(model, faces, idx)["bmi"]
a, b = pairs[:, 0], pairs[:, 1]
true = bmi[b] - bmi[a]
change = bmi_change(careful[a], careful[b], model.config)
error = change - true
level = (careful[a] + careful[b]) / 2
print(f"{len(pairs)} validation pairs, change scale {model.config.bmi_change_scale}, mean |error| {np.abs(error).mean():.2f}")
for name, value in {"|estimated change|": np.abs(change), "BMI level": level,
                    "careful - single read gap": np.abs(careful[a] - plain[a]) + np.abs(careful[b] - plain[b])}.items():
    rho = spearmanr(value, np.abs(error))
    print(f"  Spearman of |error| with {name}: {rho.correlation:+.3f} (p {rho.pvalue:.3f})")


def widths(kind, fit, at):
    """Half-widths at pairs `at`, calibrated on pairs `fit` (indices into the pair arrays)."""
    if kind == "one width":
        return np.full(len(at), _conformal(np.abs(error[fit]), 0.8))
    if kind == "grows with the change":
        w, slope = _change_interval(change[fit], true[fit], 0.8)
        return change_halfwidth(change[at], ModelConfig(bmi_change_halfwidth=w, bmi_change_halfwidth_slope=slope))
    q = _conformal(np.abs(error[fit]) / level[fit], 0.8)  # proportional to the level
    return q * level[at]


larger = np.abs(change) > np.median(np.abs(change))
for kind in ("one width", "grows with the change", "proportional to the BMI level"):
    w = np.array([widths(kind, np.delete(np.arange(len(pairs)), i), np.array([i]))[0] for i in range(len(pairs))])
    inside = np.abs(error) <= w
    print(f"{kind:30s} leave-one-out coverage {inside.mean():.1%} (smaller half {inside[~larger].mean():.1%}, "
          f"larger half {inside[larger].mean():.1%}), mean half-width {w.mean():.2f}")
