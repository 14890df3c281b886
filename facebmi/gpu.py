"""ZeroGPU support without depending on it: `gpu_decorator()` is `spaces.GPU` on a ZeroGPU Space, a no-op elsewhere.

On ZeroGPU a Space has no GPU until a function decorated with `spaces.GPU` runs; the decorator borrows one
for that call. Off ZeroGPU (local, a Space with a dedicated GPU, CPU) the function runs as it is and
facebmi.predictor picks CUDA when present, else the CPU.

Import this module BEFORE torch (first line of app.py's imports): on ZeroGPU `spaces` must be imported before
CUDA is initialised, so that the model moved to "cuda" at start-up is placed on the borrowed GPU per call.

    from facebmi.gpu import gpu_decorator  # before facebmi.predictor / torch

    @gpu_decorator(duration=20)
    def analyze(image): ...
"""
from __future__ import annotations

import os
from typing import Any, Callable


def on_zero_gpu() -> bool:
    """True on a ZeroGPU Space: Hugging Face sets SPACES_ZERO_GPU there."""
    return os.environ.get("SPACES_ZERO_GPU", "").lower() in ("1", "t", "true")  # as the spaces package reads it


if on_zero_gpu():
    import spaces  # noqa: F401  (see the module docstring: must come before torch touches CUDA)


def gpu_decorator(**gpu_kwargs: Any) -> Callable[[Callable], Callable]:
    """`spaces.GPU(**gpu_kwargs)` on ZeroGPU; otherwise a decorator that returns the function unchanged.

    gpu_kwargs: spaces.GPU's own options, e.g. duration=20 (seconds of GPU a call may hold; a short
    duration gets a call scheduled sooner on a shared ZeroGPU).
    """
    if on_zero_gpu():
        import spaces  # only required on ZeroGPU, where the Space image always has it

        return spaces.GPU(**gpu_kwargs)
    return _identity


def _identity(fn: Callable) -> Callable:
    return fn
