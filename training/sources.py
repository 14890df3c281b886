"""Labelled face folders laid out like ../shared/datasets (`images/` + `labels.csv`) -> label rows.

Every folder has a `file` column and any of `bmi`, `age`, `bracket`, `sex`; the grouping column that keeps
one person on one side of a split differs per source (each SOURCE.md names it).
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from facebmi.labels import age_to_bracket, bracket_index

SHARED_DATASETS = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"

# Which column identifies a person (or the closest stand-in) in each shared folder.
GROUP_COLUMNS = {"bmi-reddit": "group_id", "age-utkface": "near_dup_group", "age-adience-subset": "person_id"}


@dataclass(frozen=True)
class LabelRow:
    source: str  # folder name, e.g. 'bmi-reddit'
    path: Path  # the image file
    file: str  # as written in labels.csv
    bmi: float | None
    age: float | None
    bracket: str | None  # from the label, or derived from an exact age
    sex: str  # 'F', 'M' or '' (unknown)
    group: str  # person key for splitting; the file itself where a source has none
    label_conflict: bool  # the source flags contradictory labels for this image
    race: str = ""  # UTKFace's race_name (White, Black, Asian, Indian, Others); '' where a source has none


def _number(text: str | None) -> float | None:
    try:
        return float(text) if text not in (None, "") else None
    except ValueError:
        return None


def _image_path(folder: Path, file: str) -> Path:
    """`file` is relative to the folder in some sets and to its images/ in others; accept both."""
    direct = folder / file
    return direct if direct.exists() or not (folder / "images" / file).exists() else folder / "images" / file


def read_folder(folder: str | Path, source: str | None = None) -> list[LabelRow]:
    folder = Path(folder)
    source = source or folder.name
    labels = folder / "labels.csv"
    if not labels.is_file():
        raise FileNotFoundError(f"{folder} has no labels.csv (expected images/ + labels.csv with a 'file' column)")
    group_column = GROUP_COLUMNS.get(source, "group_id")
    rows = []
    with labels.open(newline="") as f:
        for rec in csv.DictReader(f):
            if not rec.get("file"):
                continue
            age = _number(rec.get("age"))
            bracket = (rec.get("bracket") or "").strip() or None
            if bracket is not None:
                bracket_index(bracket)  # refuse unknown bracket names loudly
            elif age is not None:
                bracket = age_to_bracket(age)
            sex = (rec.get("sex") or "").strip().upper()
            rows.append(LabelRow(
                source=source, path=_image_path(folder, rec["file"]), file=rec["file"], bmi=_number(rec.get("bmi")),
                age=age, bracket=bracket, sex=sex if sex in ("F", "M") else "",
                group=f"{source}:{rec.get(group_column) or rec['file']}",
                label_conflict=(rec.get("label_conflict") or "0").strip() == "1",
                race=(rec.get("race_name") or "").strip(),
            ))
    return rows
