"""The Space configuration and the ZeroGPU switch."""
from __future__ import annotations

import os
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

from huggingface_hub import SpaceCard

ROOT = Path(__file__).resolve().parents[1]


def test_space_front_matter_is_a_valid_gradio_space_config():
    data = SpaceCard((ROOT / "space" / "README_front_matter.md").read_text()).data
    assert data.sdk == "gradio" and data.app_file == "app.py"
    assert data.sdk_version == version("gradio"), "sdk_version must be the gradio we develop and test with"
    assert data.python_version == f"{sys.version_info.major}.{sys.version_info.minor}"
    assert data.models and data.datasets and data.license and data.suggested_hardware
    assert 0 < len(data.short_description) <= 60  # the Hub's limit
    preload = data.to_dict()["preload_from_hub"]
    assert preload[0].split()[0] == data.models[0], "the Space preloads the model it declares"


def test_gpu_decorator_is_identity_off_zero_gpu(monkeypatch):
    from facebmi.gpu import gpu_decorator

    monkeypatch.delenv("SPACES_ZERO_GPU", raising=False)

    def analyze(x):
        return x * 2

    assert gpu_decorator()(analyze) is analyze
    assert gpu_decorator(duration=20)(analyze)(3) == 6


def test_gpu_decorator_uses_spaces_gpu_on_zero_gpu():
    # spaces refuses to load on ZeroGPU without its device API URL; nothing is called there at decoration time.
    env = {**os.environ, "SPACES_ZERO_GPU": "true", "SPACES_ZERO_DEVICE_API_URL": "http://127.0.0.1:9"}
    code = ("import sys\n"
            "from facebmi.gpu import gpu_decorator\n"
            "assert 'spaces' in sys.modules, 'importing facebmi.gpu loads spaces first on ZeroGPU'\n"
            "def analyze(x): return x\n"
            "wrapped = gpu_decorator(duration=20)(analyze)\n"
            "print(wrapped is not analyze and wrapped.__wrapped__ is analyze)")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip().splitlines()[-1] == "True"
