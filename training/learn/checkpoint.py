"""Resumable training: a run's whole state at a step, so an interrupted or paused run goes on exactly where it was.

A run from ImageNet takes hours on 2 CPU cores (TrainConfig.steps), longer than a machine may be held. Every
`checkpoint_every` steps, and when a run is paused (`--pause-at-step`, `--pause-after-minutes`), train.py writes
`<out>/checkpoint.pt`; `python -m training.learn.train --resume <out>` goes on from it with the settings it was
started with, and the finished model is the one an uninterrupted run makes, to the bit (same batches, same
re-framings, same dropout). The file is removed once the model folder is written.
"""
from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import numpy as np
import torch

from training.learn.train_config import TrainConfig

CHECKPOINT_NAME = "checkpoint.pt"
CHECKPOINT_FORMAT = 1
# Settings about the machine and the folder, not the run: a run may resume elsewhere (another core count, a GPU,
# the folder moved) with them changed.
MACHINE_SETTINGS = ("threads", "device", "out")


def checkpoint_path(out: Path) -> Path:
    return Path(out) / CHECKPOINT_NAME


def plain_json(value):
    """`value` as the JSON it is saved as (paths as text, tuples as lists), so what a run keeps in memory equals
    what a reader of its checkpoint or config.json gets back."""
    return json.loads(json.dumps(value, default=str))


def config_record(cfg: TrainConfig) -> dict:
    """The settings as plain JSON values: saved with the checkpoint and in the model's config.json."""
    return plain_json(dataclasses.asdict(cfg))


def config_from_record(record: dict, **machine) -> TrainConfig:
    """The TrainConfig a checkpoint was started with, with `machine` settings (threads, device, out) replaced."""
    def typed(spec_class, values: dict):
        defaults = spec_class()
        kwargs = {}
        for name, value in values.items():
            default = getattr(defaults, name)
            if isinstance(default, Path):
                value = Path(value)
            elif isinstance(default, tuple):
                value = tuple(value)
            elif dataclasses.is_dataclass(default):
                value = typed(type(default), value)
            kwargs[name] = value
        return spec_class(**kwargs)

    unknown = set(machine) - set(MACHINE_SETTINGS)
    if unknown:
        raise ValueError(f"only {', '.join(MACHINE_SETTINGS)} may change when a run resumes, not {sorted(unknown)}")
    return dataclasses.replace(typed(TrainConfig, record), **machine)


def save_checkpoint(out: Path, cfg: TrainConfig, step: int, model: torch.nn.Module, optimizer: torch.optim.Optimizer,
                    gen: torch.Generator, rng: np.random.Generator, history: list, running: dict,
                    minutes: float) -> Path:
    """Write the run's state after `step` steps. Written to a temporary file and renamed, so an interruption while
    writing leaves the previous checkpoint whole."""
    path = checkpoint_path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {
        "format": CHECKPOINT_FORMAT,
        "train_config": config_record(cfg),
        "step": step,
        "model": model.state_dict(),
        "training_record": json.dumps(model.config.training),  # what it continued from (--init), if anything
        "optimizer": optimizer.state_dict(),
        "torch_rng": torch.get_rng_state(),  # dropout
        "generator": gen.get_state(),  # re-framing and recolouring of each batch
        "numpy_rng": json.dumps(rng.bit_generator.state),  # which faces each batch draws
        "history": json.dumps(history),
        "running": running,
        "minutes": minutes,
    }
    partial = path.with_name(path.name + ".partial")
    torch.save(state, partial)
    os.replace(partial, path)
    return path


def load_checkpoint(out: Path, cfg: TrainConfig) -> dict:
    """A run's saved state, checked against the settings it resumes with: only the machine settings may differ."""
    path = checkpoint_path(out)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no checkpoint to resume from (a run writes one every checkpoint_every "
                                "steps and when paused)")
    state = torch.load(path, map_location="cpu", weights_only=True)
    if state.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"{path}: checkpoint format {state.get('format')}, this code reads {CHECKPOINT_FORMAT}")
    saved, now = state["train_config"], config_record(cfg)
    changed = sorted(k for k in set(saved) | set(now) if k not in MACHINE_SETTINGS and saved.get(k) != now.get(k))
    if changed:
        raise ValueError(f"{path} was started with other settings ({', '.join(changed)}): resume it with its own "
                         "(python -m training.learn.train --resume FOLDER)")
    state["training_record"] = json.loads(state["training_record"])
    state["numpy_rng"] = json.loads(state["numpy_rng"])
    state["history"] = json.loads(state["history"])
    return state


def saved_config(out: Path, **machine) -> TrainConfig:
    """The settings of the run whose checkpoint is in `out`, for `--resume` (its `out` now that folder)."""
    path = checkpoint_path(out)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no checkpoint to resume from")
    record = torch.load(path, map_location="cpu", weights_only=True)["train_config"]
    return config_from_record(record, **{"out": Path(out), **machine})
