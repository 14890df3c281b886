"""The careful read's settings (config.pair_read_mirror, pair_read_shift) measured on VALIDATION pairs, from
training's cache, through the code that calibrates the change (train.infer_careful): per setting, the change's
Pearson r, right sign (pairs with a true change of 1 BMI or more), slope of the plain difference of two reads on
the true change (the change scale then fixes the spread), and the single-face BMI r of the careful read.
Usage: PYTHONPATH=. python pair_reads.py MODEL [MODEL...] (after python -m training.prepare)."""
import dataclasses, json, sys
import numpy as np, torch
from facebmi.model import FaceAttributeModel
from training.learn.metrics import bmi_metrics, change_metrics
from training.learn.sampling import all_pairs
from training.learn.train import infer_careful, load_faces

torch.set_num_threads(2)
faces = load_faces(".cache/faces")
bmi = faces.bmi.numpy()
idx = faces.where((faces.split == "validation") & ~np.isnan(bmi))
pairs = all_pairs(faces.people(idx), bmi)
true = bmi[pairs[:, 1]] - bmi[pairs[:, 0]]
print(f"{len(idx)} validation faces with a BMI, {len(pairs)} same-person pairs, "
      f"{(faces.mirror_row[idx] >= 0).mean():.1%} with a mirror view", flush=True)
out = {}
for folder in sys.argv[1:]:
    model = FaceAttributeModel.from_folder(folder).eval()
    for mirror, shift in ((False, 0), (False, 1), (True, 0), (True, 1), (True, 2)):
        model.config = dataclasses.replace(model.config, pair_read_mirror=mirror, pair_read_shift=shift)
        full = np.full(len(bmi), np.nan)
        full[idx] = infer_careful(model, faces, idx)["bmi"]
        m = change_metrics(true, full[pairs[:, 1]] - full[pairs[:, 0]])
        single = bmi_metrics(bmi[idx], full[idx])
        row = {"change_r": round(m["pearson_r"], 3), "right_sign": round(m["right_sign"], 3),
               "slope_of_difference": round(m["slope"], 3), "face_r": round(single["pearson_r"], 3)}
        out[f"{folder} mirror={mirror} shift={shift}"] = row
        print(folder, f"mirror={mirror} shift={shift}", row, flush=True)
print(json.dumps(out, indent=1))
