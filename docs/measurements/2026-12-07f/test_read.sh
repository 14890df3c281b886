#!/usr/bin/env bash
# The test split, read once, for a candidate: bash runs/test_read.sh runs/e12 e12
# evaluate, robustness; then speed (the shipped model between two runs of the candidate) and the mean map.
set -e
cd /work/main
M=$1; N=$2
export PYTHONPATH=.
D="../shared/datasets/bmi-reddit ../shared/datasets/age-utkface ../shared/datasets/age-adience-subset"
date > runs/test_$N.times
python -m training.learn.evaluate --model $M --data $D --split test --out runs/${N}_metrics.json > runs/${N}_eval.out 2> runs/${N}_eval.err
date >> runs/test_$N.times
python -m training.learn.robustness --model $M --data $D --split test --max-per-source 300 --out runs/${N}_robust.json > runs/${N}_robust.out 2> runs/${N}_robust.log
date >> runs/test_$N.times
echo done > runs/test_$N.done
python -m benchmarks.latency --repeats 60 --model $M > runs/latency_${N}_run1.json 2> runs/latency_$N.err
python -m benchmarks.latency --repeats 60 --model facebmi/default_model > runs/latency_shipped_vs_$N.json 2>> runs/latency_$N.err
python -m training.learn.explain_map --model $M --data ../shared/datasets/bmi-reddit --split test --out-image runs/${N}_map.png > runs/${N}_map.json 2> runs/${N}_map.err
python -m benchmarks.latency --repeats 60 --model $M > runs/latency_${N}_run2.json 2>> runs/latency_$N.err
date >> runs/test_$N.times
echo done > runs/after_$N.done
