#!/usr/bin/env bash
# Arm t0 (decision_rule.txt): k0 of 2026-12-07i with the consistency twins free of the camera effects.
# Run from the repository root with .cache/faces and runs/v12 (python -m training.learn.ensemble --split
# facebmi/default_model --out runs/v12). ~20 min on 2 CPU cores.
set -euo pipefail
seed=${1:-21}
name=${2:-t0}
python -m training.learn.train --faces .cache/faces --init runs/v12/member0 --steps 300 --lr 5e-4 --warmup-steps 50 \
    --seed "$seed" --twin-framed 0.5 --w-consistency 0.1 --precision fp32 \
    --ridge-views 0 --bracket-refit-views 0 --bracket-refit-powers 0.25 --bracket-refit-decays 1e-3 \
    --augment-white-balance 0.25 --augment-exposure 0.25 --augment-blur 0.25 --augment-noise 0.25 \
    --twin-camera false --out "runs/$name"
python -m training.learn.robustness --model "runs/$name" --split validation --max-per-source 300 \
    --data ../shared/datasets/bmi-reddit ../shared/datasets/age-utkface ../shared/datasets/age-adience-subset \
    --variants box_cut tight_cut dark bright blur noise --out "runs/robust_val_${name}.json" > /dev/null
