"""Score a model on a labelled folder through the full app path (detect -> crop -> model). Prints one JSON object.

    python -m training.evaluate --model PATH_OR_REPO --data FOLDER [--split test] [--out metrics.json]

FOLDER is laid out like ../shared/datasets: images/ + labels.csv with `file` and any of bmi, age, bracket,
sex. Each image is scored on its largest detected face; images with no face are counted, not guessed.
`--split test` keeps only the rows whose person/group falls in our test split (training/splits.py).
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np
from tqdm import tqdm

from facebmi.images import ImageError
from facebmi.labels import AGE_BRACKETS
from facebmi.predictor import Predictor
from facebmi.report import interval_level, largest_face_index
from training.metrics import bmi_metrics, bracket_metrics
from training.sources import read_folder
from training.splits import split_of


def evaluate(predictor: Predictor, folder: Path, split: str | None = None, progress: bool = True) -> dict:
    rows = read_folder(folder)
    if split:
        rows = [r for r in rows if split_of(r.group) == split]
    found, not_found, unreadable = [], 0, 0
    for row in tqdm(rows, desc=folder.name, file=sys.stderr, disable=not progress):
        try:
            faces = predictor.predict(row.path)
        except ImageError:
            unreadable += 1
            continue
        if not faces:
            not_found += 1
            continue
        found.append((row, faces[largest_face_index(faces)]))
    report = {"data": str(folder), "split": split or "all", "n": len(rows), "faces_not_found": not_found,
              "unreadable": unreadable, "model_bmi_interval_level": interval_level(predictor.config)}
    report.update(_scores(found, predictor.config.bmi_mean))
    report["per_sex"] = {sex: _scores([(r, f) for r, f in found if r.sex == sex], predictor.config.bmi_mean)
                         for sex in ("F", "M") if any(r.sex == sex for r, _ in found)}
    return report


def _scores(pairs, bmi_constant: float) -> dict:
    out = {}
    with_bmi = [(r, f) for r, f in pairs if r.bmi is not None]
    if with_bmi:
        true = np.array([r.bmi for r, _ in with_bmi])
        out["bmi"] = bmi_metrics(true, np.array([f.bmi for _, f in with_bmi]), constant=bmi_constant)
        inside = [f.bmi_interval[0] <= r.bmi <= f.bmi_interval[1] for r, f in with_bmi if f.bmi_interval]
        if inside:
            out["bmi"]["interval_coverage"] = float(np.mean(inside))
            out["bmi"]["interval_mean_width"] = float(np.mean([f.bmi_interval[1] - f.bmi_interval[0]
                                                               for _, f in with_bmi]))
    with_bracket = [(r, f) for r, f in pairs if r.bracket is not None]
    if with_bracket:
        true = np.array([AGE_BRACKETS.index(r.bracket) for r, _ in with_bracket])
        probs = np.array([[f.age_probs[b] for b in AGE_BRACKETS] for _, f in with_bracket])
        out["bracket"] = bracket_metrics(true, probs)
    with_age = [(r, f) for r, f in pairs if r.age is not None and not math.isnan(r.age)]
    if with_age:
        out["age_mae"] = float(np.mean([abs(f.age_years - r.age) for r, f in with_age]))
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=None, help="model folder or Hub repo id (default: the embedded model)")
    parser.add_argument("--revision", default=None)
    parser.add_argument("--data", type=Path, required=True, nargs="+", help="labelled folder(s)")
    parser.add_argument("--split", choices=["train", "validation", "test"], default=None)
    parser.add_argument("--device", default=None)
    parser.add_argument("--out", type=Path, help="also write the JSON here")
    args = parser.parse_args(argv)
    predictor = Predictor.from_pretrained(args.model, revision=args.revision, device=args.device)
    reports = {folder.name: evaluate(predictor, folder, args.split) for folder in args.data}
    result = reports[args.data[0].name] if len(reports) == 1 else reports
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
