"""One robustness report from two runs of the same model on the same sample (training.learn.robustness --out JSON),
each with other variants: the variants' rows side by side, the targets missed checked again over all of them.
Refuses when the untouched photos' figures differ (another model, split or sample).

    PYTHONPATH=. python docs/measurements/2026-12-07i/merge_reports.py A.json B.json > MERGED.json
"""
import json
import math
import sys

from training.learn.robustness import VARIANTS, check_targets, clearly_missed

first, second = (json.load(open(path)) for path in sys.argv[1:3])
for key in ("split", "max_per_source", "seed"):
    if first[key] != second[key]:
        sys.exit(f"{key} differs: {first[key]} against {second[key]}")
order = [v.name for v in VARIANTS]
table = {}
for source, rows in first["table"].items():
    plain, other = rows["original"], second["table"][source]["original"]
    for field, value in plain.items():
        if isinstance(value, float) and not math.isclose(value, other[field], rel_tol=1e-3, abs_tol=1e-3):
            sys.exit(f"{source}: the untouched photos' {field} differs ({value} against {other[field]})")
    both = {**second["table"][source], **rows}
    table[source] = {name: both[name] for name in order if name in both}
merged = {"split": first["split"], "max_per_source": first["max_per_source"], "seed": first["seed"],
          "variants": {name: {**second["variants"], **first["variants"]}[name] for name in order
                       if name in first["variants"] or name in second["variants"]},
          "targets": first["targets"], "table": table, "targets_missed": check_targets(table),
          "targets_missed_clearly": clearly_missed(table), "merged_from": sys.argv[1:3]}
print(json.dumps(merged, indent=2))
