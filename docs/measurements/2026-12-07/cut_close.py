"""How often the app flags a photo as cut close to the face (FaceResult.cut_close: the face's box widened by
config.detect.edge_margin leaves the photo), and how the flagged faces are read, on photos as the sources give
them. Validation photos, at most 300 a source (seed 0), the largest face of each; the shipped model.

    PYTHONPATH=. python docs/measurements/2026-12-07/cut_close.py ../shared/datasets/bmi-reddit \
        ../shared/datasets/age-utkface ../shared/datasets/age-adience-subset
"""
import sys
from pathlib import Path

import numpy as np
import torch

from facebmi.images import ImageError, load_image
from facebmi.predictor import Predictor
from facebmi.report import largest_face_index
from training.learn.robustness import sample_rows


def main(folders: list[str]) -> None:
    torch.set_num_threads(2)
    predictor = Predictor.from_pretrained(None)
    for folder in folders:
        faces = []
        for row in sample_rows(Path(folder), "validation", 300, 0):
            try:
                found = predictor.predict(load_image(row.path))
            except ImageError:
                continue
            i = largest_face_index(found)
            if i is not None:
                faces.append((row, found[i]))
        flagged = np.array([f.cut_close for _, f in faces])
        line = f"{Path(folder).name}: {len(faces)} photos with a face, {flagged.mean():.1%} flagged cut close"
        for name, keep in (("flagged", flagged), ("not flagged", ~flagged)):
            group = [(row, f) for (row, f), k in zip(faces, keep) if k]
            if not group:
                continue
            line += f" | {name} n {len(group)}"
            with_bmi = [(row.bmi, f.bmi) for row, f in group if row.bmi is not None]
            if len(with_bmi) > 2:
                t, p = map(np.array, zip(*with_bmi))
                line += f" BMI MAE {np.abs(p - t).mean():.2f} bias {np.mean(p - t):+.2f}"
            with_bracket = [(row.bracket, f.age_bracket) for row, f in group if row.bracket]
            if with_bracket:
                line += f" bracket exact {np.mean([a == b for a, b in with_bracket]):.1%}"
        print(line, flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
