"""Score training.collect.titles.parse_title against hand labels: `python -m training.collect.eval_titles [LABELS.jsonl ...] [-v]`.

Labels (training/collect/title_labels*.jsonl: 139 titles, then 320 to develop on and six blind parts of 320) were
written by reading each title, before the parser was tuned on them: `parseable` false + `reason` where a careful
human would refuse; otherwise sex, age, height_m and start/current/goal_kg (None where the title gives none or
only an estimate).

Reports, for each label file given, per field, precision (returned values that are right) and recall
(labelled values returned right); the share of parseable titles with every field right; the issue's targets:
(a) titles whose label states a height and both start and current weights exactly, fully right (>= 98%),
(b) wrong BMIs (returned BMIs the label does not support) as a share of all BMIs returned (<= 0.5%);
and (c) the parser's refusals counted by reason.

`--yield titles.csv` instead runs the parser over every title of a CSV with a `title` column and prints
aggregate counts only (share parsed, refusals by reason): never a title, so it is safe on unlabelled data.
"""
from __future__ import annotations

import argparse
import csv
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from training.collect.titles import parse_title

DEFAULT_LABELS = Path(__file__).with_name("title_labels.jsonl")
FIELDS = ("sex", "age", "height_m", "start_kg", "current_kg", "goal_kg", "bmi_start", "bmi_current", "bmi_goal")
# Equality tolerances: rounding in the labels (3 decimals of kg, 4 of m) and the parser (2 of BMI).
TOLERANCE = {"height_m": 0.002, "start_kg": 0.05, "current_kg": 0.05, "goal_kg": 0.05,
             "bmi_start": 0.05, "bmi_current": 0.05, "bmi_goal": 0.05}
BMI_FIELDS = ("bmi_start", "bmi_current", "bmi_goal")
TARGET_EXACT_PAIRS = 0.98  # issue target (a): stated height + exact start and current, fully right
TARGET_WRONG_BMIS = 0.005  # issue target (b): wrong BMIs / BMIs returned


def reason_kind(reason: str | None) -> str:
    """A refusal reason without its values: 'implausible BMI 83.2 (start)' -> 'implausible BMI'."""
    if not reason:
        return "(none)"
    return re.split(r" \(| \d|:", reason, maxsplit=1)[0].strip() or reason


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
    exact_pairs: int = 0  # (a) labels with a height and both start and current weights exact
    exact_pairs_right: int = 0  # ... that the parser gets fully right
    bmis_returned: int = 0  # (b) every BMI the parser returned ("answers")
    titles_answered: int = 0  # titles with at least one BMI returned
    titles_with_wrong_bmi: int = 0
    refusals: Counter = field(default_factory=Counter)  # (c) parser reason kind -> titles refused
    refusals_of_parseable: Counter = field(default_factory=Counter)  # ... of titles the label calls parseable
    misses: list = field(default_factory=list)  # (title, {field: (got, want)} or reason) for -v

    @property
    def wrong_bmis(self) -> int:
        return self.wrong_bmi_where_refuse + self.wrong_bmi_where_parseable

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
        share = self.exact_pairs_right / self.exact_pairs if self.exact_pairs else float("nan")
        out.append(f"(a) height + exact start and current weights, fully right: {self.exact_pairs_right}/"
                   f"{self.exact_pairs} = {share:.1%} (target >= {TARGET_EXACT_PAIRS:.0%})")
        share = self.wrong_bmis / self.bmis_returned if self.bmis_returned else 0.0
        out.append(f"(b) wrong BMIs / BMIs returned: {self.wrong_bmis}/{self.bmis_returned} = {share:.2%} "
                   f"(target <= {TARGET_WRONG_BMIS:.1%}); titles with a wrong BMI: "
                   f"{self.titles_with_wrong_bmi}/{self.titles_answered} answered")
        out.append(f"(c) refusals by parser reason: {sum(self.refusals.values())} titles "
                   f"({sum(self.refusals_of_parseable.values())} of them labelled parseable)")
        for reason, n in self.refusals.most_common():
            out.append(f"    {n:4d}  {reason}  (labelled parseable: {self.refusals_of_parseable[reason]})")
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
        bmis = [parse[name] for name in BMI_FIELDS if parse[name] is not None]
        report.bmis_returned += len(bmis)
        report.titles_answered += bool(bmis)
        if not parse["ok"]:
            report.refusals[reason_kind(parse["reason"])] += 1
            report.refusals_of_parseable[reason_kind(parse["reason"])] += bool(label["parseable"])
        if label["parseable"]:
            report.parseable += 1
            right = parse["ok"] and not wrong
            report.fully_right += right
            wrong_bmis = sum(1 for n in BMI_FIELDS if parse[n] is not None and n in wrong)
            report.wrong_bmi_where_parseable += wrong_bmis
            report.titles_with_wrong_bmi += wrong_bmis > 0
            if all(label.get(k) is not None for k in ("height_m", "start_kg", "current_kg")):
                report.exact_pairs += 1
                report.exact_pairs_right += right
            if not right:
                report.misses.append((label["title"], parse["reason"] or wrong))
        else:
            report.refusable += 1
            report.refused_right += not parse["ok"]
            report.wrong_bmi_where_refuse += len(bmis)
            report.titles_with_wrong_bmi += bool(bmis)
            if parse["ok"]:
                report.misses.append((label["title"], f"should refuse: {label['reason']}"))
    return report


def title_yield(csv_path: str | Path) -> list[str]:
    """Aggregate parser yield over every title of a CSV with a `title` column: counts only, never a title."""
    with Path(csv_path).open(encoding="utf-8", newline="") as f:
        titles = [row.get("title") or "" for row in csv.DictReader(f)]
    parses = [parse_title(t) for t in titles]
    n = len(parses)
    ok = sum(p.ok for p in parses)
    both = sum(p.bmi_start is not None and p.bmi_current is not None for p in parses)
    refusals = Counter(reason_kind(p.reason) for p in parses if not p.ok)
    share = (lambda k: f"{k / n:.1%}" if n else "n/a")
    out = [f"titles: {n}",
           f"parsed (ok): {ok} = {share(ok)}; with both start and current BMI: {both} = {share(both)}",
           f"refused: {n - ok} = {share(n - ok)}, by reason:"]
    out += [f"    {k:5d}  {share(k):>6}  {reason}" for reason, k in refusals.most_common()]
    return out


def read_labels(path: str | Path = DEFAULT_LABELS) -> list[dict]:
    with Path(path).open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("labels", nargs="*", default=[str(DEFAULT_LABELS)],
                        help="labelled titles, JSON lines (each file is reported on its own)")
    parser.add_argument("-v", "--verbose", action="store_true", help="also list every title not fully right")
    parser.add_argument("--yield", dest="yield_csv", metavar="CSV",
                        help="instead, parse every title of CSV (a `title` column) and print aggregate counts only")
    args = parser.parse_args(argv)
    if args.yield_csv:
        print("\n".join(title_yield(args.yield_csv)))
        return 0
    for i, path in enumerate(args.labels):
        labels = read_labels(path)
        if len(args.labels) > 1:
            print(("\n" if i else "") + f"== {path} ({len(labels)} titles)")
        report = evaluate(labels)
        print("\n".join(report.lines()))
        if args.verbose:
            for title, what in report.misses:
                print(f"MISS {title[:90]!r}: {what}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
