#!/bin/bash
# v8t: v8m continued 3,000 steps at half its peak rate with the consistency term tripled (0.1 -> 0.3): the age
# estimate moves 4-7 years under cuts where brackets disagree (age_jitter.py); twins trained from the start at 0.1, so a
# raise on top bends less than v4's (0.3 on a twin-less v3). Candidate = v5 + v8t against v8 = v5 + v8m, both
# read with the flat-border rule (format 7; v5if = v5i's weights with it).
cd /work/main
export PYTHONPATH=.
while pgrep -f "robustness --model runs/e58f" > /dev/null; do sleep 15; done
python -m training.learn.train --out runs/v8t --init runs/v8m --steps 3000 --lr 1e-3 --warmup-steps 100 --seed 11 --w-consistency 0.3 > runs/v8t.log 2>&1 || exit 1
echo done > runs/v8t.done
python -m training.learn.ensemble --members runs/v5if runs/v8t --out runs/e5t > runs/e5t.log 2>&1 || exit 1
python -m training.learn.robustness --model runs/e5t --data ../shared/datasets/bmi-reddit ../shared/datasets/age-utkface ../shared/datasets/age-adience-subset --split validation --max-per-source 300 --out runs/e5t_robust_val.json > /dev/null 2> runs/e5t_robust_val.log
echo done > runs/e5t.done
