"""Would a less shrunk BMI help? The shipped estimate is pulled toward the training mean (30.75: r/progresspics
posters are heavier than most people), so lean faces read high. Stretch each validation estimate about that mean,
mean + s * (estimate - mean), and print the MAE overall, per true-BMI band, and averaged over the bands (as if
every band were as common). Validation photos of bmi-reddit only; the shipped model.

    PYTHONPATH=. python docs/measurements/2026-12-07/bmi_stretch.py ../shared/datasets/bmi-reddit
"""
import sys
from pathlib import Path

import numpy as np
import torch

from facebmi.images import ImageError, load_image
from facebmi.predictor import Predictor
from facebmi.report import largest_face_index
from training.learn.robustness import sample_rows

BANDS = [(0, 25), (25, 30), (30, 35), (35, 40), (40, 100)]


def main(folder: str) -> None:
    torch.set_num_threads(2)
    predictor = Predictor.from_pretrained(None)
    true, estimate = [], []
    for row in sample_rows(Path(folder), "validation", None, 0):
        try:
            faces = predictor.predict(load_image(row.path))
        except ImageError:
            continue
        i = largest_face_index(faces)
        if i is not None:
            true.append(row.bmi)
            estimate.append(faces[i].bmi)
    t, p, mean = np.array(true), np.array(estimate), predictor.config.bmi_mean
    print(f"{len(t)} validation photos; true BMI mean {t.mean():.2f} (sd {t.std():.2f}); estimate mean {p.mean():.2f} "
          f"(sd {p.std():.2f}); r {np.corrcoef(t, p)[0, 1]:.3f}; slope of estimate on true {np.polyfit(t, p, 1)[0]:.3f}")
    print("bands " + " ".join(f"{lo}-{hi}" for lo, hi in BANDS) + ": n " +
          " ".join(str(int(((t >= lo) & (t < hi)).sum())) for lo, hi in BANDS))
    for s in (1.0, 1.1, 1.2, 1.3, 1.4, 1.5, 1.75):
        q = mean + s * (p - mean)
        band_mae = [np.abs(q - t)[(t >= lo) & (t < hi)].mean() for lo, hi in BANDS]
        band_bias = [(q - t)[(t >= lo) & (t < hi)].mean() for lo, hi in BANDS]
        print(f"stretch {s:.2f}: MAE {np.abs(q - t).mean():.2f}, band-averaged {np.mean(band_mae):.2f} | per band MAE "
              + " ".join(f"{v:.2f}" for v in band_mae) + " | bias " + " ".join(f"{v:+.2f}" for v in band_bias))


if __name__ == "__main__":
    main(sys.argv[1])
