"""How far apart two models' validation figures must be before the difference is more than the draw of faces.

The decision rules compare a candidate with the shipped model on 161 Reddit validation faces and 3,415 UTKFace
validation faces. This reads both models on those faces (the same path as train.validate) and bootstraps people
(Reddit: same-person groups; UTKFace: faces) 2,000 times: the spread of each model's BMI r and UTKFace exact
accuracy, and of the paired difference.

python docs/measurements/2026-12-07h/paired_noise.py runs/e14 runs/e17
"""
import sys

import numpy as np
import torch

from facebmi.model import FaceAttributeModel
from training.learn.train import infer, load_faces

torch.set_num_threads(2)
faces = load_faces(".cache/faces")
bmi, bracket = faces.bmi.numpy(), faces.bracket.numpy()
reddit = faces.where((faces.split == "validation") & ~np.isnan(bmi))
utk = faces.where((faces.split == "validation") & (faces.source == "age-utkface") & ~faces.label_conflict)
groups = faces.people(reddit)
grouped = set(np.concatenate(groups)) if groups else set()
units = [np.asarray(g) for g in groups] + [np.array([i]) for i in reddit if i not in grouped]
position = {face: k for k, face in enumerate(reddit)}

reads = {}
for folder in sys.argv[1:3]:
    model = FaceAttributeModel.from_folder(folder).eval()
    reads[folder] = (infer(model, faces, reddit)["bmi"], infer(model, faces, utk)["probs"].argmax(1) == bracket[utk])

rng = np.random.default_rng(0)
rows = {name: [] for name in ("r_a", "r_b", "r_diff", "exact_a", "exact_b", "exact_diff")}
(a_bmi, a_hit), (b_bmi, b_hit) = reads.values()
for _ in range(2000):
    picked = np.concatenate([[position[f] for f in units[k]] for k in rng.integers(0, len(units), len(units))])
    truth = bmi[reddit][picked]
    r_a, r_b = np.corrcoef(truth, a_bmi[picked])[0, 1], np.corrcoef(truth, b_bmi[picked])[0, 1]
    u = rng.integers(0, len(utk), len(utk))
    rows["r_a"].append(r_a), rows["r_b"].append(r_b), rows["r_diff"].append(r_b - r_a)
    rows["exact_a"].append(a_hit[u].mean()), rows["exact_b"].append(b_hit[u].mean())
    rows["exact_diff"].append(b_hit[u].mean() - a_hit[u].mean())
a, b = sys.argv[1:3]
print(f"A = {a}, B = {b}; {len(reddit)} Reddit faces in {len(units)} people, {len(utk)} UTKFace faces; "
      "2,000 bootstrap draws of people")
print(f"BMI r: A {np.corrcoef(bmi[reddit], a_bmi)[0, 1]:.3f}, B {np.corrcoef(bmi[reddit], b_bmi)[0, 1]:.3f}")
print(f"UTKFace exact: A {a_hit.mean():.1%}, B {b_hit.mean():.1%}")
for name, values in rows.items():
    values = np.asarray(values)
    low, high = np.percentile(values, [2.5, 97.5])
    print(f"{name:11s} sd {values.std():.4f}  95% {low:+.4f} .. {high:+.4f}")
