#!/usr/bin/env bash
# One sitting of the n5t run (decision_rule.txt here), on the 2 CPU cores, from the repository root:
#   bash docs/measurements/2026-12-07g/sitting.sh MINUTES
# Resumes runs/n5t for MINUTES of training steps (it pauses itself then, writing its checkpoint). Once the run has
# finished (runs/n5t/config.json, no checkpoint left), builds e15 = n5t + m1h and measures it on validation only:
# the ensemble's own validation record and the robustness benchmark, compared with e14's (= v12's) figures.
# The test split is not read here.
set -euo pipefail
MINUTES=${1:?minutes of training steps for this sitting}
export PYTHONPATH=.
if [ -f runs/n5t/checkpoint.pt ]; then
    nice -n 19 python -m training.learn.train --resume runs/n5t --pause-after-minutes "$MINUTES" >> runs/n5t.out 2>> runs/n5t.log
fi
if [ -f runs/n5t/config.json ] && [ ! -f runs/n5t/checkpoint.pt ] && [ ! -f runs/e15_robust_val.json ]; then
    python -m training.learn.ensemble --members runs/n5t runs/m1h --out runs/e15 > runs/e15.out 2> runs/e15.log
    python -m training.learn.robustness --model runs/e15 --data ../shared/datasets/bmi-reddit \
        ../shared/datasets/age-utkface ../shared/datasets/age-adience-subset --split validation --max-per-source 300 \
        --out runs/e15_robust_val.json > runs/e15_robust_val.out 2> runs/e15_robust_val.log
    python docs/measurements/2026-12-07b/compare.py docs/measurements/2026-12-07d/e14_robustness_validation.json \
        runs/e15_robust_val.json > runs/e15_vs_e14_validation.txt
fi
