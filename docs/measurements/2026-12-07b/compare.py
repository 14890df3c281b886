"""Two robustness reports side by side (training.learn.robustness --out JSON): per source and variant, the figures
the targets are set on, and the count of targets missed.

    python docs/measurements/2026-12-07b/compare.py BEFORE.json AFTER.json
"""
import json
import sys

before, after = (json.load(open(path)) for path in sys.argv[1:3])
print(f"targets missed: {len(before['targets_missed'])} ({len(before['targets_missed_clearly'])} beyond noise) -> "
      f"{len(after['targets_missed'])} ({len(after['targets_missed_clearly'])} beyond noise)")
fields = ("found", "bmi_shift", "bmi_r", "bmi_mae", "bracket_agreement", "bracket_exact", "age_shift")
for source, variants in after["table"].items():
    print(f"\n{source}: {' | '.join(fields)} (before -> after)")
    for variant, row in variants.items():
        old = before["table"][source][variant]
        cells = []
        for f in fields:
            if row.get(f) is None or old.get(f) is None:
                cells.append("-")
            else:
                cells.append(f"{old[f]:.3f}->{row[f]:.3f}")
        print(f"  {variant:12s} " + " | ".join(cells))
print("\nmissed after:")
for line in after["targets_missed"]:
    print(("* " if line in after["targets_missed_clearly"] else "  ") + line)
