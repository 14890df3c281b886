"""Average independently trained models into one ensemble model folder, re-calibrating the BMI interval on
validation (the members' own intervals are too wide for their average).

    python -m training.learn.ensemble --members runs/v1 runs/v2 --out runs/ensemble
"""
from __future__ import annotations

import argparse
import dataclasses
import logging
from pathlib import Path

import torch

from facebmi.model import FaceAttributeEnsemble, FaceAttributeModel
from training.learn.train import calibrate_interval, load_faces, validate
from training.learn.train_config import TrainConfig

log = logging.getLogger("facebmi.ensemble")


def build_ensemble(members: list[Path], faces_path: Path, level: float) -> FaceAttributeEnsemble:
    models = [FaceAttributeModel.from_folder(m) for m in members]
    crops = {m.config.crop for m in models}
    if len(crops) > 1:
        raise ValueError("ensemble members must share one crop spec (one preprocessing path)")
    first = models[0].config
    ensemble = FaceAttributeEnsemble.from_members(models, first).eval()
    faces = load_faces(faces_path)
    interval = calibrate_interval(ensemble, faces, level)
    summary = {
        "method": "ensemble: outputs of independently trained members averaged",
        "members": [{"folder": str(path), "seed": m.config.training.get("train_config", {}).get("seed"),
                     "bmi_head": m.config.training.get("bmi_head"),
                     "bracket_head": m.config.training.get("bracket_head"),
                     "minutes": m.config.training.get("minutes"),
                     "validation": m.config.training.get("validation")} for path, m in zip(members, models)],
        "train_config": first.training.get("train_config"), "data": first.training.get("data"),
        "split": first.training.get("split"), "interval_calibration": interval,
    }
    summary["validation"] = None
    ensemble.config = dataclasses.replace(ensemble.config, bmi_interval_level=level,
                                          bmi_interval_log_halfwidth=round(interval["log_halfwidth"], 5),
                                          bmi_change_halfwidth=interval.get("change_halfwidth", 0.0),
                                          bmi_change_halfwidth_slope=interval.get("change_halfwidth_slope", 0.0),
                                          bmi_change_scale=interval.get("change_scale", 1.0),
                                          training=summary)
    summary["validation"] = validate(ensemble, faces)
    log.info("ensemble validation %s, interval %s", summary["validation"], interval)
    return ensemble


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=Path, nargs="+", required=True)
    parser.add_argument("--faces", type=Path, default=TrainConfig.faces)
    parser.add_argument("--level", type=float, default=TrainConfig.interval_level)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    torch.set_num_threads(2)
    print(build_ensemble(args.members, args.faces, args.level).save_pretrained(args.out))


if __name__ == "__main__":
    main()
