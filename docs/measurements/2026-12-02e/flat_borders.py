"""How often the training sources' own photos have a flat border (facebmi.align.photo_mask), and how much of the
photo it covers: the photos whose crops the rule changes. 400 photos a source, drawn with a fixed seed.

    PYTHONPATH=. python docs/measurements/2026-12-02e/flat_borders.py ../shared/datasets/bmi-reddit \
        ../shared/datasets/age-utkface ../shared/datasets/age-adience-subset
"""
import random
import sys

import numpy as np

from facebmi.align import photo_mask
from facebmi.images import load_image
from training.sources import read_folder

for folder in sys.argv[1:]:
    rows = list(read_folder(folder))
    random.Random(0).shuffle(rows)
    shares = []
    for row in rows[:400]:
        mask = photo_mask(load_image(row.path))
        if mask is not None:
            shares.append(1 - np.asarray(mask).mean() / 255)
    print(f"{folder}: {len(shares)} of {min(400, len(rows))} photos have a flat border"
          + (f", covering {np.mean(shares):.1%} of the photo on average (at most {max(shares):.1%})" if shares else ""))
