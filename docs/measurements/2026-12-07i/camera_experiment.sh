#!/usr/bin/env bash
# Does light-and-camera augmentation (training/learn/augment.py: white_balance, exposure, blur, noise) take away
# v12's noise and blur shifts without costing plain accuracy or framing invariance? Two arms from v12's first
# network (m0f), the same 300 low-rate steps with tight twins, one with the camera augmentation (k0), one without
# (c0); both finalized alike (one bracket refit, ridge on plain crops: cheap, and equal for both), then the
# robustness benchmark on validation for both. Rule: decision_rule.txt (written first).
# Run from the repository root after `python -m training.prepare` (.cache/faces). ~50 min on 2 CPU cores.
set -euo pipefail
python -m training.learn.ensemble --split facebmi/default_model --out runs/v12
common=(--faces .cache/faces --init runs/v12/member0 --steps 300 --lr 5e-4 --warmup-steps 50 --seed 21
        --twin-framed 0.5 --w-consistency 0.1 --precision fp32
        --ridge-views 0 --bracket-refit-views 0 --bracket-refit-powers 0.25 --bracket-refit-decays 1e-3)
python -m training.learn.train "${common[@]}" --out runs/k0 \
    --augment-white-balance 0.25 --augment-exposure 0.25 --augment-blur 0.25 --augment-noise 0.25
python -m training.learn.train "${common[@]}" --out runs/c0
for model in k0 c0; do
    python -m training.learn.robustness --model "runs/$model" --split validation --max-per-source 300 \
        --data ../shared/datasets/bmi-reddit ../shared/datasets/age-utkface ../shared/datasets/age-adience-subset \
        --variants box_cut tight_cut dark bright blur noise \
        --out "runs/robust_val_${model}.json" > /dev/null
done
