# after n5u finishes: build e17 = n5u + m1h and judge it on validation (decision_rule_e17.txt)
set -e
cd /work/main; export PYTHONPATH=.
while [ -f runs/n5u/checkpoint.pt ] || [ ! -f runs/n5u/config.json ]; do sleep 20; done
date > runs/e17_after.times
nice -n 10 python -m training.learn.ensemble --members runs/n5u runs/m1h --out runs/e17 > runs/e17.out 2> runs/e17.log
date >> runs/e17_after.times
nice -n 10 python -m training.learn.robustness --model runs/e17 --data ../shared/datasets/bmi-reddit ../shared/datasets/age-utkface ../shared/datasets/age-adience-subset --split validation --max-per-source 300 --out runs/e17_robust_val.json > runs/e17_robust_val.out 2> runs/e17_robust_val.log
python docs/measurements/2026-12-07b/compare.py docs/measurements/2026-12-07d/e14_robustness_validation.json runs/e17_robust_val.json > runs/e17_vs_e14_validation.txt
date >> runs/e17_after.times
echo done > runs/e17_after.done
