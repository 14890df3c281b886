"""The model card (README.md of a model repo), rendered from data_cards/model_card.md.

    render_model_card(config, metrics, repo_id=..., dataset_repo=...) -> str

`metrics` is what `python -m training.learn.evaluate` writes: one report, or {eval set name: report}; each report
may hold n, faces_not_found, bmi {mae, rmse, pearson_r, mean_predictor {mae, rmse}, interval_coverage},
bracket {exact, one_off}, age_mae and per_sex {F: {...}, M: {...}}. Whatever part is missing or malformed is
shown as "–", never guessed. The output is deterministic (no dates), so re-pushing an unchanged model
changes no file and makes no commit.
"""
from __future__ import annotations

import math
from pathlib import Path

from facebmi.config import ModelConfig
from training.learn import card_tables
from training.learn.card_tables import dig

TEMPLATE = Path(__file__).resolve().parents[2] / "data_cards" / "model_card.md"
DEFAULT_LICENSE = "cc-by-nc-4.0"  # the training data (UTKFace, Reddit photos) is non-commercial research only
TAGS = ["facebmi", "pytorch", "safetensors", "bmi-estimation", "age-estimation", "face", "mobilenet_v2"]
SEX_NAMES = {"F": "women", "M": "men"}
DASH = "–"


def render_model_card(config: ModelConfig, metrics: dict | None = None, *, repo_id: str = "ORG/NAME",
                      dataset_repo: str | None = None, endpoint: str = "https://huggingface.co",
                      license: str = DEFAULT_LICENSE, template: str | Path = TEMPLATE,
                      robustness: dict | None = None, before: dict | None = None,
                      before_robustness: dict | None = None, what_changed: str = "",
                      mean_map: dict | None = None) -> str:
    """The card. robustness: training.learn.robustness's JSON; before / before_robustness: the previous model's
    evaluate and robustness JSON, shown beside this model's with the `what_changed` text; mean_map:
    training.learn.explain_map's JSON (its image is expected beside the card as mean_occlusion_map.png)."""
    from huggingface_hub import ModelCard, ModelCardData

    reports = _reports(metrics)
    card_data = ModelCardData(
        license=license, library_name="pytorch", tags=TAGS,
        datasets=[dataset_repo] if dataset_repo else None,
        metrics=["mae", "rmse", "pearsonr", "accuracy"],
    )
    crop, detect = config.crop, config.detect
    w = config.bmi_interval_log_halfwidth
    interval_text = (f"an interval [BMI×{math.exp(-w):.2f}, BMI×{math.exp(w):.2f}] calibrated so that "
                     f"{config.bmi_interval_level:.0%} of held-out faces fall inside" if w > 0 else "")
    training = config.training if isinstance(config.training, dict) else {}
    card = ModelCard.from_template(
        card_data, template_path=str(template),
        model_name=repo_id, repo_id=repo_id,
        dataset_repo=dataset_repo, dataset_url=f"{endpoint.rstrip('/')}/datasets/{dataset_repo}",
        metrics_table=_metrics_table(reports), faces_table=_faces_table(reports),
        per_sex_note=_per_sex_note(reports), data_table=_data_table(training.get("data")),
        split=training.get("split") if isinstance(training.get("split"), str) else None,
        interval_text=interval_text, brackets=", ".join(config.age_brackets),
        embedding_dim=config.embedding_dim, format_version=config.format_version, backbone=config.backbone,
        crop_size=crop.size, face_fraction=crop.face_fraction, mean=list(crop.mean), std=list(crop.std),
        max_side=detect.max_side, min_face=detect.min_face_size, min_score=detect.min_score,
        edge_pad=detect.edge_pad, outside=OUTSIDE_TEXT.get(crop.outside, crop.outside) + (
            FLAT_BORDER_TEXT if crop.flat_border_outside and crop.outside == "mean" else "") + (
            BACKDROP_TEXT if crop.backdrop_outside and crop.outside == "mean" else ""),
        **_training_facts(config, training), **_robustness_facts(reports, robustness, before, before_robustness,
                                                                 what_changed, f"{config.bmi_interval_level:.0%}",
                                                                 config.bmi_change_scale, _careful_read_text(config),
                                                                 _change_interval_text(config)),
        map_note=card_tables.map_note(mean_map),
    )
    return str(card).rstrip() + "\n"


def _change_interval_text(config) -> str:
    """The change interval's width (pair.change_halfwidth), in words; '' where the model has none."""
    w, slope = config.bmi_change_halfwidth, config.bmi_change_halfwidth_slope
    if w <= 0:
        return ""
    if slope <= 0:
        return f"±{w:.1f} BMI"
    return (f"±{w:.1f} BMI for no change, widening with the estimated change (±{math.hypot(w, 10 * slope):.1f} "
            f"for a change of 10; the errors grow with the change on the validation pairs)")


def _careful_read_text(config) -> str:
    """How the pair path reads each face (config.pair_read_mirror, pair_read_shift), in words; '' if read once."""
    shift = f"cut at every whole-pixel shift up to {config.pair_read_shift} px" if config.pair_read_shift else ""
    if config.pair_read_mirror:
        how = "from its own landmarks and from those found on the photo's mirror image" + (f", each crop {shift}"
                                                                                           if shift else "")
    elif shift:
        how = f"its crop {shift}"
    else:
        return ""
    return (f"Each face of a pair is read carefully: {how}, and the reads averaged: one read moves with where "
            "exactly the detector put the landmarks and with a 1 px shift of the crop, and a change is the "
            "difference of two reads (facebmi/careful.py). ")


OUTSIDE_TEXT = {"mean": "filled with the normalisation mean colour (0 after normalisation), in every source",
                "edge": "the photo's edge pixels repeated (format 1)"}
FLAT_BORDER_TEXT = ("; a flat border of one exact colour that holds a corner of the file (rotation corners, letterbox "
                    "bars, a plain canvas; `facebmi.align.photo_mask`) counts as outside the photo")
BACKDROP_TEXT = ("; so does a backdrop without detail around the photo's rectangle (a blurred copy of the photo behind "
                 "it, blurred or streaked bars; `facebmi.align.backdrop_rectangle`)")


def _robustness_facts(reports: dict, robustness, before, before_robustness, what_changed: str,
                      config_level: str = "80%", change_scale: float = 1.0, careful_read: str = "",
                      change_interval: str = "") -> dict:
    reddit = reports.get("bmi-reddit") or next(iter(reports.values()), {})
    lean = dig(reddit, "bmi_calibration", "lean_under_25")
    slope = dig(reddit, "bmi_calibration", "slope_pred_on_true")
    change = dig(reddit, "bmi_change")
    sample = dig(robustness, "max_per_source")
    return {
        "robustness_table": card_tables.robustness_table(robustness),
        "robustness_missed": card_tables.targets_missed(robustness),
        "robustness_missed_clearly": card_tables.targets_missed(robustness, "targets_missed_clearly"),
        "robustness_has_intervals": isinstance(dig(robustness, "targets_missed_clearly"), list),
        "robustness_sample": (f"{dig(robustness, 'split')} split, at most {sample} photos per set, "
                              f"seeded" if sample else f"{dig(robustness, 'split')} split, every photo"),
        "race_table": card_tables.group_table(reports, "per_race", "population (UTKFace race label)"),
        "decade_table": card_tables.group_table(reports, "per_age_decade", "true age"),
        "calibration_table": card_tables.calibration_table(reddit),
        "calibration_note": (f"Slope of estimate on true BMI: {_num(slope)} (1 would be no pull). Faces with a true "
                             f"BMI under 25 ({_count(dig(lean, 'n'))}) are estimated "
                             f"{_num(dig(lean, 'bias'))} too high on average." if lean else ""),
        "change_note": (careful_read
                        + (f"The change is the difference of the two photos' estimates times {change_scale:.2f}, the "
                           "scale that gives the estimated changes the spread of the true ones on the validation "
                           "pairs (each estimate alone is pulled toward the mean). " if change_scale != 1.0 else "")
                        + f"Over {_count(change.get('n'))} pairs of photos of one poster ("
                        + (f"{_count(change['people'])} posters; " if isinstance(change.get("people"), int) else "")
                        + "bmi-reddit's group_id "
                        f"split by dlib's face descriptor, test split): Pearson r of predicted on true change "
                        f"{_num(change.get('pearson_r'))}, slope "
                        f"{_num(change.get('slope'))} (1 = the whole change seen), right sign "
                        f"{_num(change.get('right_sign'), percent=True)}{_ci(change.get('right_sign_ci95'))} of "
                        f"pairs whose true change is ≥ 1 BMI, MAE {_num(change.get('mae'))}"
                        + (f"; the {config_level} interval ({change_interval or '±' + _num(change.get('interval_halfwidth'), 1) + ' BMI'}) held the "
                           f"true change for {_num(change.get('interval_coverage'), percent=True)}"
                           f"{_ci(change.get('interval_coverage_ci95'))} of pairs"
                           + (f" ({_num(change.get('interval_coverage_smaller_half'), percent=True)} of the smaller "
                              f"half of estimated changes, {_num(change.get('interval_coverage_larger_half'), percent=True)} "
                              "of the larger)" if change.get("interval_coverage_larger_half") is not None else "")
                           if change.get("interval_coverage") is not None else "") + "."
                        if isinstance(change, dict) and change.get("n") else ""),
        "before_after_table": card_tables.before_after_table(before, reports, before_robustness, robustness)
        if before or before_robustness else "",
        "what_changed": what_changed,
        "framing_note": _framing_note(robustness),
    }


def _framing_note(robustness) -> str:
    """A failure-mode line for each framing of a Reddit face whose mean BMI shift misses the ±0.5 target."""
    framings = {"tight_cut": "cut tight (forehead and chin outside the photo)", "box_cut": "cut at the face's box"}
    parts = [f"{words}: {shift:+.1f} BMI on average" for variant, words in framings.items()
             if isinstance(shift := dig(robustness, "table", "bmi-reddit", variant, "bmi_shift"), (int, float))
             and abs(shift) > 0.5]
    return ("A face framed tighter than the training photos reads differently, " + "; ".join(parts)
            + " (robustness benchmark above)") if parts else ""


def _earlier_runs(record: dict) -> list[dict]:
    """The runs a network continued from (train --init), earliest first, as {minutes, steps}; for a network split
    from a shipped ensemble, the record it was shipped with gives the minutes."""
    runs, earlier = [], record.get("continued_from")
    while isinstance(earlier, dict):
        shipped = earlier.get("as_trained") if isinstance(earlier.get("as_trained"), dict) else {}
        minutes = earlier.get("minutes") if earlier.get("minutes") is not None else shipped.get("minutes")
        runs.insert(0, {"minutes": minutes, "steps": earlier.get("steps")})
        earlier = earlier.get("continued_from")
    return runs


def _member_minutes(record: dict):
    """A member network's training minutes: a number, or for a network continued from an earlier one
    "150, in runs of 93 + 57,"."""
    known = [m for m in [r["minutes"] for r in _earlier_runs(record)] + [record.get("minutes")]
             if isinstance(m, (int, float))]
    if len(known) < 2:
        return record.get("minutes")
    return f"{_num(sum(known), 0)}, in runs of {' + '.join(_num(m, 0) for m in known)},"


def _training_facts(config: ModelConfig, training: dict) -> dict:
    """Numbers for the 'How it was trained' section, from the training record in config.json."""
    validation = training.get("validation") if isinstance(training.get("validation"), dict) else {}
    members = training.get("members") if isinstance(training.get("members"), list) else []
    first = members[0] if members and isinstance(members[0], dict) else training
    data = training.get("data") if isinstance(training.get("data"), dict) else {}
    interval = training.get("interval_calibration") if isinstance(training.get("interval_calibration"), dict) else {}
    minutes = [_member_minutes(m) for m in members if isinstance(m, dict)] or [training.get("minutes")]
    steps = [dig(training, "train_config", "steps")]
    if not members:  # a run continued from others: each run, earliest first
        earlier = _earlier_runs(training)
        minutes, steps = [r["minutes"] for r in earlier] + minutes, [r["steps"] for r in earlier] + steps
    def member_values(*keys, percent=False):
        values = [_num(dig(m.get("validation") or {}, *keys), 2, percent) for m in members if isinstance(m, dict)]
        return " and ".join(values) if values else DASH

    return {
        "ensemble_val_mae": _num(dig(validation, "bmi", "mae")), "member_val_mae": member_values("bmi", "mae"),
        "ensemble_val_exact": _num(dig(validation, "utk_bracket", "exact"), percent=True),
        "member_val_exact": member_values("utk_bracket", "exact", percent=True),
        "n_faces": _count(sum(v for v in data.values() if isinstance(v, int))) if data else DASH,
        "train_minutes": (" and " if members else " + ").join(
            m if isinstance(m, str) else _num(m, 0) for m in minutes if isinstance(m, (int, float, str))),
        "train_steps": " + ".join(_count(n) for n in steps if isinstance(n, int)) if len(steps) > 1 else "",
        "distill_cos": _num(validation.get("distill_cos"), 3),
        "bmi_head": first.get("bmi_head") or DASH, "bracket_head": first.get("bracket_head") or DASH,
        "members": config.members, "interval_level": f"{config.bmi_interval_level:.0%}",
        "interval_n": interval.get("n", DASH), "change_calibration": _change_calibration_text(interval),
    }


def _change_calibration_text(interval: dict) -> str:
    """How the before/after change's interval was calibrated (train.calibrate_interval), in words; '' where the
    record does not say (models calibrated before 2026-12-07e fitted it in-sample)."""
    if not interval.get("change_folds"):
        return ""
    return (f"The before/after change's interval is calibrated the same way over {interval['change_pairs']} validation "
            f"pairs of {interval['change_people']} people, each pair's score from a scale and error model fitted on "
            f"other people's pairs ({interval['change_folds']} folds by person): fitted on the very pairs it is "
            "calibrated on, the interval covered less than its level on new people.")


def _reports(metrics) -> dict[str, dict]:
    """{eval set: report}, accepting a single report (it has 'n') or a mapping of them; junk is dropped."""
    if not isinstance(metrics, dict) or not metrics:
        return {}
    if "n" in metrics or "bmi" in metrics:
        name = Path(str(metrics.get("data", "evaluation"))).name or "evaluation"
        return {name: metrics}
    return {str(k): v for k, v in metrics.items() if isinstance(v, dict)}


def _ci(bounds) -> str:
    """' (95% CI 64%-85%, resampling people)' for evaluate's interval of a share; '' where there is none."""
    if not (isinstance(bounds, (list, tuple)) and len(bounds) == 2
            and all(isinstance(b, (int, float)) for b in bounds)):
        return ""
    return f" (95% CI {bounds[0]:.0%}-{bounds[1]:.0%}, resampling people)"


def _num(value, digits: int = 2, percent: bool = False) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return DASH
    return f"{value:.0%}" if percent else f"{value:.{digits}f}"


def _count(value) -> str:
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else DASH


def _metrics_table(reports: dict[str, dict]) -> str:
    if not reports:
        return ""
    head = ("| eval set | who | faces | BMI MAE | BMI RMSE | Pearson r | mean-predictor MAE | interval coverage "
            "| bracket exact | bracket ±1 | age MAE (years) |\n|---|---|---|---|---|---|---|---|---|---|---|")
    rows = []
    for name, report in reports.items():
        groups = [("all", report)]
        per_sex = report.get("per_sex")
        if isinstance(per_sex, dict):
            groups += [(SEX_NAMES.get(k, str(k)), v) for k, v in per_sex.items() if isinstance(v, dict)]
        for who, r in groups:
            faces = dig(r, "bmi", "n")
            if faces is None:
                faces = dig(r, "bracket", "n")
            if faces is None and who == "all" and isinstance(r.get("n"), int):
                found = r["n"] - (r.get("faces_not_found") or 0) - (r.get("unreadable") or 0)
                faces = found if isinstance(found, int) else None
            rows.append("| " + " | ".join([
                name, who, _count(faces),
                _num(dig(r, "bmi", "mae")), _num(dig(r, "bmi", "rmse")), _num(dig(r, "bmi", "pearson_r")),
                _num(dig(r, "bmi", "mean_predictor", "mae")),
                _num(dig(r, "bmi", "interval_coverage"), percent=True),
                _num(dig(r, "bracket", "exact"), percent=True), _num(dig(r, "bracket", "one_off"), percent=True),
                _num(r.get("age_mae"), digits=1),
            ]) + " |")
    return head + "\n" + "\n".join(rows)


def _faces_table(reports: dict[str, dict]) -> str:
    rows = [f"| {name} | {_count(r.get('n'))} | {_count(r.get('faces_not_found'))} | {_count(r.get('unreadable'))} |"
            for name, r in reports.items() if "n" in r]
    if not rows:
        return ""
    return "| eval set | images | no face found | unreadable |\n|---|---|---|---|\n" + "\n".join(rows)


def _per_sex_note(reports: dict[str, dict]) -> str:
    """'BMI MAE 5.1 for women, 4.2 for men on bmi-reddit' for the first set that has both."""
    for name, r in reports.items():
        per_sex = r.get("per_sex") if isinstance(r, dict) else None
        if not isinstance(per_sex, dict):
            continue
        parts = [f"{_num(dig(v, 'bmi', 'mae'))} for {SEX_NAMES.get(k, k)}" for k, v in per_sex.items()
                 if _num(dig(v, "bmi", "mae")) != DASH]
        if len(parts) >= 2:
            return f"BMI MAE {', '.join(parts)} on {name}"
    return ""


def _data_table(data) -> str:
    """config.training['data'] is {source: faces used}."""
    if not isinstance(data, dict) or not data:
        return ""
    rows = [f"| {k} | {_count(v)} |" for k, v in data.items()]
    return "| source | faces |\n|---|---|\n" + "\n".join(rows)


def main(argv=None):
    """Write a model folder's README.md card: python -m training.learn.model_card --model FOLDER --metrics M.json"""
    import argparse
    import json

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--metrics", type=Path, help="training.learn.evaluate output (one report or a dict of them)")
    parser.add_argument("--repo-id", default="facebmi/facebmi")
    parser.add_argument("--dataset-repo", default=None)
    parser.add_argument("--robustness", type=Path, help="training.learn.robustness output for this model")
    parser.add_argument("--before-metrics", type=Path, help="the previous model's training.learn.evaluate output")
    parser.add_argument("--before-robustness", type=Path, help="the previous model's training.learn.robustness output")
    parser.add_argument("--what-changed", type=Path, help="a Markdown file: what changed and why")
    parser.add_argument("--mean-map", type=Path, help="training.learn.explain_map's JSON output")
    parser.add_argument("--mean-map-image", type=Path, help="its image, copied beside the card")
    args = parser.parse_args(argv)

    def read(path):
        return json.loads(path.read_text()) if path else None

    metrics = read(args.metrics)
    card = render_model_card(ModelConfig.load(args.model), metrics, repo_id=args.repo_id,
                             dataset_repo=args.dataset_repo, robustness=read(args.robustness),
                             before=read(args.before_metrics), before_robustness=read(args.before_robustness),
                             what_changed=args.what_changed.read_text().strip() if args.what_changed else "",
                             mean_map=read(args.mean_map))
    if args.mean_map_image:
        (args.model / "mean_occlusion_map.png").write_bytes(args.mean_map_image.read_bytes())
    svg = card_tables.calibration_svg(_reports(metrics).get("bmi-reddit"))
    if svg:
        (args.model / "bmi_calibration.svg").write_text(svg)
    (args.model / "README.md").write_text(card)
    print(args.model / "README.md")


if __name__ == "__main__":
    main()
