#!/usr/bin/env bash
# Arm t0 (decision_rule.txt): k0 of 2026-12-07i with the consistency twins free of the camera effects, i.e.
# one_effect_arm.sh with all four effects at 0.25 (the same training settings as the run recorded here, which had
# them written out; checked equal through train.parse_args). Run from the repository root with .cache/faces and
# runs/v12 (python -m training.learn.ensemble --split facebmi/default_model --out runs/v12). ~20 min on 2 CPU cores.
set -euo pipefail
bash "$(dirname "$0")/one_effect_arm.sh" white-balance t0 \
    --augment-exposure 0.25 --augment-blur 0.25 --augment-noise 0.25
