#!/usr/bin/env bash
# The test split, read once, for the candidate in runs/e11: evaluate, robustness; then speed (v10 between) and the mean map.
set -e
cd /work/main
D="../shared/datasets/bmi-reddit ../shared/datasets/age-utkface ../shared/datasets/age-adience-subset"
PYTHONPATH=. python -m training.learn.evaluate --model runs/e11 --data $D --split test --out runs/e11_metrics.json > runs/e11_eval.out 2> runs/e11_eval.err
date >> runs/test_v11.times
PYTHONPATH=. python -m training.learn.robustness --model runs/e11 --data $D --split test --max-per-source 300 --out runs/e11_robust.json > runs/e11_robust.out 2> runs/e11_robust.log
date >> runs/test_v11.times
echo done > runs/test_v11.done
PYTHONPATH=. python -m benchmarks.latency --repeats 60 --model runs/e11 > runs/latency_v11_run1.json 2> runs/latency_v11.err
PYTHONPATH=. python -m benchmarks.latency --repeats 60 --model facebmi/default_model > runs/latency_v10_sameday.json 2>> runs/latency_v11.err
PYTHONPATH=. python -m training.learn.explain_map --model runs/e11 --data ../shared/datasets/bmi-reddit --split test --out-image runs/e11_map.png > runs/e11_map.json 2> runs/e11_map.err
PYTHONPATH=. python -m benchmarks.latency --repeats 60 --model runs/e11 > runs/latency_v11_run2.json 2>> runs/latency_v11.err
date >> runs/test_v11.times
echo done > runs/after_v11.done
