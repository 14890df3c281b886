"""Average independently trained models into one ensemble model folder, re-calibrating the BMI interval on
validation (the members' own intervals are too wide for their average); or split an ensemble into its members, to
continue training one (`train --init`) and average it again with the others; or only recalibrate a saved
ensemble's intervals (weights and every other setting kept: a change in how the calibration is done).

    python -m training.learn.ensemble --members runs/v1 runs/v2 --out runs/ensemble
    python -m training.learn.ensemble --split facebmi/default_model --out runs/shipped   # runs/shipped/member0, ...
    python -m training.learn.ensemble --calibrate-only facebmi/default_model --out runs/recalibrated
"""
from __future__ import annotations

import argparse
import dataclasses
import logging
from pathlib import Path

import torch

from facebmi.model import FaceAttributeEnsemble, FaceAttributeModel, load_model_folder
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
        "members": [member_record(path, m.config.training) for path, m in zip(members, models)],
        "train_config": first.training.get("train_config"), "data": first.training.get("data"),
        "split": first.training.get("split"), "interval_calibration": interval,
    }
    summary["validation"] = None
    ensemble.config = _calibrated(ensemble.config, interval, level, summary)
    summary["validation"] = validate(ensemble, faces)
    log.info("ensemble validation %s, interval %s", summary["validation"], interval)
    return ensemble


def recalibrate(folder: Path, faces_path: Path, level: float) -> FaceAttributeEnsemble:
    """A saved ensemble with its intervals calibrated again on validation (train.calibrate_interval as it is now);
    its weights, members' records and every other setting kept. The validation record is measured again: the
    change's figures (slope, interval coverage) move with the change scale and interval."""
    ensemble = load_model_folder(folder)
    if not isinstance(ensemble, FaceAttributeEnsemble):
        raise ValueError(f"{folder} holds a single network: recalibrate it with train --calibrate-only")
    faces = load_faces(faces_path)
    interval = calibrate_interval(ensemble.eval(), faces, level)
    training = {**ensemble.config.training, "interval_calibration": interval}
    ensemble.config = _calibrated(ensemble.config, interval, level, training)
    training["validation"] = validate(ensemble, faces)
    log.info("recalibrated interval %s, validation %s", interval, training["validation"])
    return ensemble


def _calibrated(config, interval: dict, level: float, training: dict):
    """config with calibrate_interval's figures and the given training record."""
    return dataclasses.replace(config, bmi_interval_level=level,
                               bmi_interval_log_halfwidth=round(interval["log_halfwidth"], 5),
                               bmi_change_halfwidth=interval.get("change_halfwidth", 0.0),
                               bmi_change_halfwidth_slope=interval.get("change_halfwidth_slope", 0.0),
                               bmi_change_scale=interval.get("change_scale", 1.0), training=training)


def member_record(folder: Path, training: dict) -> dict:
    """How one member network was trained, for the ensemble's record (and its model card). A network split from an
    earlier ensemble (split_ensemble) carries the record it had there, so an ensemble rebuilt from it keeps its
    seed, minutes and validation figures; a continued network (train --init) says what it continued."""
    if "as_trained" in training:
        # split_from: where it was first split from (a network split twice keeps the first)
        return {"split_from": f"{training.get('split_from')} member {training.get('member')}",
                **(training["as_trained"] or {})}
    return {"folder": str(folder), "seed": training.get("train_config", {}).get("seed"),
            "bmi_head": training.get("bmi_head"), "bracket_head": training.get("bracket_head"),
            "minutes": training.get("minutes"), "validation": training.get("validation"),
            "continued_from": training.get("continued_from")}


def split_ensemble(folder: Path, out: Path) -> list[Path]:
    """Each network of an ensemble model folder as a model folder of its own (out/member0, out/member1, ...), its
    weights as they are and the ensemble's config (preprocessing contract included) with members=1; its training
    record says where it came from. The shipped model's networks are only kept inside the ensemble."""
    model = load_model_folder(folder)
    if not isinstance(model, FaceAttributeEnsemble):
        raise ValueError(f"{folder} holds a single network, not an ensemble: nothing to split")
    records = model.config.training.get("members") or [{}] * len(model.members)
    paths = []
    for i, (member, record) in enumerate(zip(model.members, records)):
        member.config = dataclasses.replace(member.config, training={"split_from": str(folder), "member": i,
                                                                     "as_trained": record})
        paths.append(member.save_pretrained(out / f"member{i}"))
    return paths


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=Path, nargs="+", help="model folders of single networks to average")
    parser.add_argument("--split", type=Path, metavar="MODEL",
                        help="instead: write each network of this ensemble folder to --out/member0, --out/member1, ...")
    parser.add_argument("--calibrate-only", type=Path, metavar="MODEL",
                        help="instead: recalibrate this ensemble folder's intervals, written to --out")
    parser.add_argument("--faces", type=Path, default=TrainConfig.faces)
    parser.add_argument("--level", type=float, default=TrainConfig.interval_level)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    if sum(map(bool, (args.members, args.split, args.calibrate_only))) != 1:
        parser.error("give one of --members, --split and --calibrate-only")
    if args.split:
        print("\n".join(str(path) for path in split_ensemble(args.split, args.out)))
        return
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    torch.set_num_threads(2)
    if args.calibrate_only:
        print(recalibrate(args.calibrate_only, args.faces, args.level).save_pretrained(args.out))
        return
    print(build_ensemble(args.members, args.faces, args.level).save_pretrained(args.out))


if __name__ == "__main__":
    main()
