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
from training.learn.metrics import _weighted_r, person_draws
from training.learn.train import infer, load_faces

torch.set_num_threads(2)
faces = load_faces(".cache/faces")
bmi, bracket = faces.bmi.numpy(), faces.bracket.numpy()
reddit = faces.where((faces.split == "validation") & ~np.isnan(bmi))
utk = faces.where((faces.split == "validation") & (faces.source == "age-utkface") & ~faces.label_conflict)
person = -1 - np.arange(len(reddit))  # a face of no group is its own person
for number, members in enumerate(faces.people(reddit)):
    person[np.isin(reddit, members)] = number

reads = []
for folder in sys.argv[1:3]:
    model = FaceAttributeModel.from_folder(folder).eval()
    reads.append((infer(model, faces, reddit)["bmi"], infer(model, faces, utk)["probs"].argmax(1) == bracket[utk]))
(a_bmi, a_hit), (b_bmi, b_hit) = reads

# The bootstrap the robustness benchmark uses (metrics.person_draws): people resampled, not faces.
people_w, faces_w = person_draws(person), person_draws(np.arange(len(utk)))
r_a, r_b = _weighted_r(people_w, bmi[reddit], a_bmi), _weighted_r(people_w, bmi[reddit], b_bmi)
exact_a, exact_b = faces_w @ a_hit / len(utk), faces_w @ b_hit / len(utk)
rows = {"r_a": r_a, "r_b": r_b, "r_diff": r_b - r_a, "exact_a": exact_a, "exact_b": exact_b,
        "exact_diff": exact_b - exact_a}
print(f"A = {sys.argv[1]}, B = {sys.argv[2]}; {len(reddit)} Reddit faces in {len(np.unique(person))} people, "
      f"{len(utk)} UTKFace faces; 2,000 bootstrap draws of people")
print(f"BMI r: A {np.corrcoef(bmi[reddit], a_bmi)[0, 1]:.3f}, B {np.corrcoef(bmi[reddit], b_bmi)[0, 1]:.3f}")
print(f"UTKFace exact: A {a_hit.mean():.1%}, B {b_hit.mean():.1%}")
for name, values in rows.items():
    low, high = np.percentile(values, [2.5, 97.5])
    print(f"{name:11s} sd {values.std():.4f}  95% {low:+.4f} .. {high:+.4f}")
