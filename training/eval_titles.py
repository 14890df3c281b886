"""Score training.titles.parse_title against hand labels: `python -m training.eval_titles [LABELS.jsonl] [-v]`.

Labels (training/title_labels.jsonl) were written by reading each title, before the parser was tuned:
`parseable` false + `reason` where a careful human would refuse; otherwise sex, age, height_m and
start/current/goal_kg (None where the title gives none or only an estimate).

Reports, per field, precision (returned values that are right) and recall (labelled values returned right);
the share of parseable titles with every field right; and the wrong BMIs returned where the label refuses.
"""
from __future__ import annotations

import argparse
import json
from dataclasses import dataclass, field
from pathlib import Path

from training.titles import parse_title

DEFAULT_LABELS = Path(__file__).with_name("title_labels.jsonl")
FIELDS = ("sex", "age", "height_m", "start_kg", "current_kg", "goal_kg", "bmi_start", "bmi_current", "bmi_goal")
# Equality tolerances: rounding in the labels (3 decimals of kg, 4 of m) and the parser (2 of BMI).
TOLERANCE = {"height_m": 0.002, "start_kg": 0.05, "current_kg": 0.05, "goal_kg": 0.05,
             "bmi_start": 0.05, "bmi_current": 0.05, "bmi_goal": 0.05}


def expected_fields(label: dict) -> dict:
    """The values a correct parse returns for this label (weights and BMIs None where the label refuses)."""
    out = {name: label.get(name) for name in ("sex", "age", "height_m")}
    for name in ("start", "current", "goal"):
        kg = label.get(f"{name}_kg") if label["parseable"] else None
        out[f"{name}_kg"] = kg
        out[f"bmi_{name}"] = kg / label["height_m"] ** 2 if kg is not None and label.get("height_m") else None
    return out


def same(name: str, got, want) -> bool:
    if got is None or want is None:
        return got is None and want is None
    if name in TOLERANCE:
        return abs(float(got) - float(want)) <= TOLERANCE[name]
    return got == want


@dataclass
class Report:
    returned: dict = field(default_factory=lambda: dict.fromkeys(FIELDS, 0))  # non-None values returned
    labelled: dict = field(default_factory=lambda: dict.fromkeys(FIELDS, 0))  # non-None values in labels
    correct: dict = field(default_factory=lambda: dict.fromkeys(FIELDS, 0))  # non-None and right
    parseable: int = 0
    fully_right: int = 0
    refusable: int = 0
    refused_right: int = 0
    wrong_bmi_where_refuse: int = 0  # BMIs returned for titles a human refuses
    wrong_bmi_where_parseable: int = 0  # BMIs returned that disagree with the label
    misses: list = field(default_factory=list)  # (title, {field: (got, want)} or reason) for -v

    def lines(self) -> list[str]:
        out = [f"{'field':<12} {'precision':>9} {'recall':>7}  (returned / labelled / right)"]
        def ratio(num: int, den: int, width: int) -> str:
            return f"{num / den:{width}.3f}" if den else f"{'n/a':>{width}}"  # n/a: nothing returned / labelled

        for name in FIELDS:
            out.append(f"{name:<12} {ratio(self.correct[name], self.returned[name], 9)} "
                       f"{ratio(self.correct[name], self.labelled[name], 7)}  "
                       f"({self.returned[name]} / {self.labelled[name]} / {self.correct[name]})")
        share = self.fully_right / self.parseable if self.parseable else float("nan")
        out.append(f"parseable titles fully right: {self.fully_right}/{self.parseable} = {share:.1%}")
        out.append(f"refusable titles refused: {self.refused_right}/{self.refusable}")
        out.append(f"wrong BMIs returned where the label says refuse: {self.wrong_bmi_where_refuse}")
        out.append(f"wrong BMIs returned on parseable titles: {self.wrong_bmi_where_parseable}")
        return out


def evaluate(labels: list[dict]) -> Report:
    report = Report()
    for label in labels:
        parse = parse_title(label["title"]).to_dict()
        want = expected_fields(label)
        wrong = {}
        for name in FIELDS:
            got = parse[name]
            report.returned[name] += got is not None
            report.labelled[name] += want[name] is not None
            if got is not None and same(name, got, want[name]):
                report.correct[name] += 1
            elif not same(name, got, want[name]):
                wrong[name] = (got, want[name])
        bmis = [parse[name] for name in ("bmi_start", "bmi_current", "bmi_goal") if parse[name] is not None]
        if label["parseable"]:
            report.parseable += 1
            right = parse["ok"] and not wrong
            report.fully_right += right
            report.wrong_bmi_where_parseable += sum(1 for n in ("bmi_start", "bmi_current", "bmi_goal")
                                                    if parse[n] is not None and n in wrong)
            if not right:
                report.misses.append((label["title"], parse["reason"] or wrong))
        else:
            report.refusable += 1
            report.refused_right += not parse["ok"]
            report.wrong_bmi_where_refuse += len(bmis)
            if parse["ok"]:
                report.misses.append((label["title"], f"should refuse: {label['reason']}"))
    return report


def read_labels(path: str | Path = DEFAULT_LABELS) -> list[dict]:
    with Path(path).open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("labels", nargs="?", default=str(DEFAULT_LABELS), help="labelled titles, JSON lines")
    parser.add_argument("-v", "--verbose", action="store_true", help="also list every title not fully right")
    args = parser.parse_args(argv)
    report = evaluate(read_labels(args.labels))
    print("\n".join(report.lines()))
    if args.verbose:
        for title, what in report.misses:
            print(f"MISS {title[:90]!r}: {what}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
