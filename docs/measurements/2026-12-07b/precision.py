"""Seconds for one training batch (80 crops: 64 faces + 16 twins) forward and backward through a shipped network,
in fp32 and under bf16 autocast, on this machine's CPU (training.learn.train_config.TrainConfig.precision).

    python -m training.learn.ensemble --split facebmi/default_model --out runs/shipped
    PYTHONPATH=. python docs/measurements/2026-12-07b/precision.py runs/shipped/member0
"""
import sys
import time

import torch

from facebmi.model import load_model_folder

torch.set_num_threads(2)
model = load_model_folder(sys.argv[1]).to(memory_format=torch.channels_last).train()
x = torch.randn(80, 3, 112, 112).contiguous(memory_format=torch.channels_last)
print("CPU capability", torch.backends.cpu.get_cpu_capability(), "| oneDNN bf16", torch.ops.mkldnn._is_mkldnn_bf16_supported())
for precision in ("fp32", "bf16"):
    seconds = []
    for _ in range(3):
        started = time.time()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16"):
            out = model(x)
        (out.bmi.float().sum() + out.embedding.float().sum()).backward()
        seconds.append(round(time.time() - started, 2))
    print(precision, seconds)
