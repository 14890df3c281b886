#!/usr/bin/env bash
# One camera effect alone (decision_rule.txt, after t0): t0's settings (twins free of the camera effects) with
# one effect at 0.25. ~20 min on 2 CPU cores.
#   bash docs/measurements/2026-12-08/one_effect_arm.sh noise n0 [more training flags, e.g. --twin-framed 1.0]
set -euo pipefail
effect=$1; name=$2
python -m training.learn.train --faces .cache/faces --init runs/v12/member0 --steps 300 --lr 5e-4 --warmup-steps 50 \
    --seed 21 --twin-framed 0.5 --w-consistency 0.1 --precision fp32 \
    --ridge-views 0 --bracket-refit-views 0 --bracket-refit-powers 0.25 --bracket-refit-decays 1e-3 \
    "--augment-$effect" 0.25 --twin-camera false --out "runs/$name" "${@:3}"
python -m training.learn.robustness --model "runs/$name" --split validation --max-per-source 300 \
    --data ../shared/datasets/bmi-reddit ../shared/datasets/age-utkface ../shared/datasets/age-adience-subset \
    --variants box_cut tight_cut dark bright blur noise --out "runs/robust_val_${name}.json" > /dev/null
