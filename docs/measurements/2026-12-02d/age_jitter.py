"""How far must per-face age jitter under re-framing fall for brackets to agree 90% of the time? The embedded model
on 150 validation photos per source: per variant, bracket agreement with the untouched photo and the spread of the
age difference.

    PYTHONPATH=. python docs/measurements/2026-12-02d/age_jitter.py > age_jitter_v8_validation.json
"""
import json, sys
import numpy as np
from pathlib import Path
from facebmi.predictor import Predictor
from training.learn.robustness import VARIANTS, run_variants, sample_rows

predictor = Predictor.from_pretrained(None)
names = {"box_cut", "tight_cut", "rotate15", "canvas_flat"}
variants = [v for v in VARIANTS if v.name in names or v.name == "original"]
out = {}
for src in ["bmi-reddit", "age-utkface"]:
    rows = sample_rows(Path("../shared/datasets") / src, "validation", 150, 0)
    res = run_variants(predictor, rows, variants, progress=False)
    for name in sorted(names):
        both = [(r["faces"]["original"], r["faces"][name]) for r in res if r["faces"].get(name)]
        d = np.array([v.age_years - o.age_years for o, v in both])
        agree = np.mean([o.age_bracket == v.age_bracket for o, v in both])
        out[f"{src} {name}"] = {"n": len(both), "agreement": round(float(agree), 3),
                                "age_diff_mean": round(float(d.mean()), 2), "age_diff_sd": round(float(d.std()), 2),
                                "abs_age_diff_median": round(float(np.median(np.abs(d))), 2)}
        print(src, name, out[f"{src} {name}"], file=sys.stderr, flush=True)
print(json.dumps(out, indent=1))
