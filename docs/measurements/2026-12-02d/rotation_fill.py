"""Is it the black corners? 100 UTKFace validation photos (tight chips) rotated 15 degrees with black corners, as
the robustness benchmark's rotate15, and with corners the colour of the crop's outside fill: bracket agreement with
the untouched photo and the age difference. The embedded model.

    PYTHONPATH=. python docs/measurements/2026-12-02d/rotation_fill.py
"""
import numpy as np
from pathlib import Path
from facebmi.images import load_image
from facebmi.predictor import Predictor
from training.learn.robustness import sample_rows, _main
p = Predictor.from_pretrained(None)
rows = sample_rows(Path("../shared/datasets/age-utkface"), "validation", 100, 0)
res = {"black": [], "gray": []}
for row in rows:
    im = load_image(row.path); o = _main(p.predict(im))
    if o is None: continue
    for name, fill in [("black", (0, 0, 0)), ("gray", (124, 116, 104))]:
        v = _main(p.predict(im.rotate(15, expand=True, fillcolor=fill, resample=3)))
        if v is not None: res[name].append((o.age_bracket == v.age_bracket, v.age_years - o.age_years))
for k, r in res.items():
    a = np.array(r); print(k, len(r), "agree", a[:, 0].mean().round(3), "age diff mean", a[:, 1].mean().round(2), "sd", a[:, 1].std().round(2))
