#!/usr/bin/env bash
# The next candidate (v13), if the camera experiment (decision_rule.txt, README.md section 6) takes the light and
# camera augmentation in: both of v12's networks continued with it and with v12's late-phase settings, fully
# finalized, averaged; then judged on validation against v12 (robustness, every variant, and the training records).
# Judged by decision_rule_e19.txt. One prepared script, for a lent GPU (bash ... cuda) or 2 CPU cores (bash ...:
# ~1 h for the cache, then ~2 x 35 min for the networks at 2026-12-07i's speed, 5 min to average, ~25 min robustness).
#   bash docs/measurements/2026-12-07i/next_candidate.sh [cpu|cuda] [probability of each camera effect] \
#       [twins with the camera effects: true|false (TrainConfig.twin_camera, added 2026-12-08)]
set -euo pipefail
DEVICE=${1:-cpu}; P=${2:-0.25}; TWIN_CAMERA=${3:-true}
export PYTHONPATH=.
D="../shared/datasets/bmi-reddit ../shared/datasets/age-utkface ../shared/datasets/age-adience-subset"
python -m training.prepare --out .cache/faces  # resumes: finished shards are kept
python -m training.learn.ensemble --split facebmi/default_model --out runs/v12
for i in 0 1; do
    python -m training.learn.train --faces .cache/faces --init runs/v12/member$i --out runs/k13_$i --steps 800 \
        --lr 5e-4 --warmup-steps 100 --seed $((30 + i)) --twin-framed 0.5 --w-consistency 0.1 --device "$DEVICE" \
        --augment-white-balance "$P" --augment-exposure "$P" --augment-blur "$P" --augment-noise "$P" \
        --twin-camera "$TWIN_CAMERA"
done
python -m training.learn.ensemble --members runs/k13_0 runs/k13_1 --out runs/e19
python -m training.learn.robustness --model runs/e19 --data $D --split validation --max-per-source 300 \
    --device "$DEVICE" --out runs/robust_val_e19.json > /dev/null
# v12 on the same validation sample, every variant (merge_reports.py of 2026-12-07d's and this folder's runs)
python docs/measurements/2026-12-07b/compare.py docs/measurements/2026-12-07i/v12_robustness_validation_all_variants.json \
    runs/robust_val_e19.json
