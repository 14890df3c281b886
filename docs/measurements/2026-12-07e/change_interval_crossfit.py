"""Does the change interval cover its level on new people? Validation pairs only.

    PYTHONPATH=. python docs/measurements/2026-12-07e/change_interval_crossfit.py facebmi/default_model

Reads every validation face with a BMI as the pair path does (train.infer_careful, from training's cache), forms the
same-person pairs the change interval is calibrated on (train.calibrate_interval's), and scores two calibrations
of the 80% interval by leave-one-person-out: each person's pairs held out, the interval calibrated on everyone
else's, then checked on theirs. "in-sample": scale, error model and conformal quantile all from the same pairs (up
to v11); "cross-fitted": the quantile taken over scores whose scale and error model were fitted on other people's
pairs (train._cross_fitted_scores, from 2026-12-07e).
"""
import dataclasses
import sys
from pathlib import Path

import numpy as np
import torch

from facebmi.model import load_model_folder
from facebmi.pair import bmi_change, change_halfwidth
from training.learn.sampling import all_pairs
from training.learn.train import (_change_interval, _cross_fitted_scores, _spread_scale, infer_careful,
                                  load_faces)

torch.set_num_threads(2)
model = load_model_folder(sys.argv[1])
faces = load_faces(Path(".cache/faces"))
bmi = faces.bmi.numpy()
idx = faces.where((faces.split == "validation") & ~np.isnan(bmi))
groups = faces.people(idx)
pairs = all_pairs(groups, bmi)
person = np.full(len(bmi), -1)
for number, members in enumerate(groups):
    person[members] = number
read = np.full(len(bmi), np.nan)
read[idx] = infer_careful(model, faces, idx)["bmi"]
before, after, true, who = read[pairs[:, 0]], read[pairs[:, 1]], bmi[pairs[:, 1]] - bmi[pairs[:, 0]], person[pairs[:, 0]]
print(f"{len(pairs)} validation pairs of {len(np.unique(who))} people")


def calibrated(fit: np.ndarray, cross_fitted: bool):
    config = dataclasses.replace(model.config, bmi_change_scale=_spread_scale(before[fit], after[fit], true[fit]))
    change = bmi_change(before[fit], after[fit], config)
    scores = _cross_fitted_scores(before[fit], after[fit], true[fit], who[fit], model.config)[0] if cross_fitted else None
    halfwidth, slope = _change_interval(change, true[fit], 0.8, scores)
    return dataclasses.replace(config, bmi_change_halfwidth=halfwidth, bmi_change_halfwidth_slope=slope)


for name, cross_fitted in (("in-sample", False), ("cross-fitted", True)):
    inside, widths = [], []
    for p in np.unique(who):
        held = who == p
        config = calibrated(~held, cross_fitted)
        change = bmi_change(before[held], after[held], config)
        width = change_halfwidth(change, config)
        inside += list(np.abs(change - true[held]) <= width)
        widths += list(width)
    all_pairs_config = calibrated(np.ones(len(pairs), bool), cross_fitted)
    print(f"{name:13s} leave-one-person-out coverage {np.mean(inside):.1%} of {len(inside)}, mean half-width "
          f"{np.mean(widths):.2f} BMI; on all pairs: half-width {all_pairs_config.bmi_change_halfwidth} + "
          f"{all_pairs_config.bmi_change_halfwidth_slope} x change (in quadrature)")
