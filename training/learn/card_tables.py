"""Markdown tables (and one SVG chart) for the model card, from the JSON that training.learn.evaluate and
training.learn.robustness print. Missing or malformed parts become "–", never guesses (as in model_card.py)."""
from __future__ import annotations

import math

DASH = "–"


def dig(d, *keys):
    """d[k1][k2]... or None where any level is missing or not a dict (metrics JSON may be partial)."""
    for k in keys:
        if not isinstance(d, dict):
            return None
        d = d.get(k)
    return d


def _num(value, digits: int = 2, percent: bool = False, sign: bool = False) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return DASH
    if percent:
        return f"{value:.1%}" if digits > 1 else f"{value:.0%}"
    return f"{value:+.{digits}f}" if sign else f"{value:.{digits}f}"


def robustness_table(report: dict | None) -> str:
    """One row per source and variant of a training.learn.robustness report."""
    table = dig(report, "table")
    if not isinstance(table, dict) or not table:
        return ""
    rows = ["| eval set | variant | photos | faces found | mean BMI shift | BMI r | BMI MAE | bracket agreement "
            "| bracket exact | mean age shift (y) |", "|---|---|---|---|---|---|---|---|---|---|"]
    for source, variants in table.items():
        if not isinstance(variants, dict):
            continue
        for name, f in variants.items():
            if not isinstance(f, dict):
                continue
            rows.append("| " + " | ".join([
                source, name, str(f.get("n", DASH)), _num(f.get("found"), 3, percent=True),
                _num(f.get("bmi_shift"), sign=True), _num(f.get("bmi_r"), 3), _num(f.get("bmi_mae")),
                _num(f.get("bracket_agreement"), 3, percent=True), _num(f.get("bracket_exact"), 3, percent=True),
                _num(f.get("age_shift"), 1, sign=True)]) + " |")
    return "\n".join(rows)


def targets_missed(report: dict | None, key: str = "targets_missed", variants: set | None = None) -> list[str]:
    """A robustness report's targets missed (key "targets_missed_clearly": those beyond sampling noise), or only
    those of `variants` (each miss reads "SOURCE VARIANT: ...")."""
    missed = dig(report, key)
    missed = [str(m) for m in missed] if isinstance(missed, list) else []
    return missed if variants is None else [m for m in missed if m.split(":")[0].split(" ")[-1] in variants]


def _variants(report: dict | None) -> set:
    """The variants a robustness report measured, the untouched photo aside (its "variants" names, or those of its
    table)."""
    named, table = dig(report, "variants"), dig(report, "table")
    if isinstance(named, dict):
        names = set(named)
    elif isinstance(table, dict):
        names = {v for source in table.values() if isinstance(source, dict) for v in source}
    else:
        names = set()
    return names - {"original"}


def group_table(reports: dict, key: str, title: str) -> str:
    """Bracket exact, one-off and age MAE per group (key: per_race or per_age_decade) of every eval set."""
    rows = []
    for name, report in reports.items():
        groups = dig(report, key)
        if not isinstance(groups, dict):
            continue
        overall = dig(report, "bracket", "exact")
        for group, r in groups.items():
            exact = dig(r, "bracket", "exact")
            gap = exact - overall if isinstance(exact, (int, float)) and isinstance(overall, (int, float)) else None
            rows.append(f"| {name} | {group} | {dig(r, 'bracket', 'n') or DASH} | {_num(exact, 3, percent=True)} "
                        f"| {_num(gap * 100 if gap is not None else None, 1, sign=True)} "
                        f"| {_num(dig(r, 'bracket', 'one_off'), 3, percent=True)} | {_num(r.get('age_mae'), 1)} |")
    if not rows:
        return ""
    return (f"| eval set | {title} | faces | bracket exact | vs. overall (points) | bracket ±1 | age MAE (years) |\n"
            "|---|---|---|---|---|---|---|\n" + "\n".join(rows))


def calibration_table(report: dict | None) -> str:
    deciles = dig(report, "bmi_calibration", "deciles")
    if not isinstance(deciles, list) or not deciles:
        return ""
    rows = [f"| {_num(d.get('true_low'), 1)}-{_num(d.get('true_high'), 1)} | {d.get('n', DASH)} "
            f"| {_num(d.get('true_mean'), 1)} | {_num(d.get('pred_mean'), 1)} | {_num(d.get('bias'), sign=True)} |"
            for d in deciles if isinstance(d, dict)]
    return ("| true BMI decile | faces | mean true BMI | mean estimate | bias |\n|---|---|---|---|---|\n"
            + "\n".join(rows))


def calibration_svg(report: dict | None, width: int = 560, height: int = 300) -> str | None:
    """Mean estimate against mean true BMI per decile, with the identity line: a picture of regression to the
    mean. Plain SVG (no plotting library needed); None when the report has no deciles."""
    deciles = [d for d in (dig(report, "bmi_calibration", "deciles") or []) if isinstance(d, dict)
               and isinstance(d.get("true_mean"), (int, float)) and isinstance(d.get("pred_mean"), (int, float))]
    if not deciles:
        return None
    lo = math.floor(min(min(d["true_mean"], d["pred_mean"]) for d in deciles) / 5) * 5
    hi = math.ceil(max(max(d["true_mean"], d["pred_mean"]) for d in deciles) / 5) * 5
    pad = 50

    def x(v):
        return pad + (v - lo) / (hi - lo) * (width - 2 * pad)

    def y(v):
        return height - pad + 10 - (v - lo) / (hi - lo) * (height - 2 * pad)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" '
             f'font-size="12"><rect width="100%" height="100%" fill="white"/>',
             f'<line x1="{x(lo):.1f}" y1="{y(lo):.1f}" x2="{x(hi):.1f}" y2="{y(hi):.1f}" stroke="#999" '
             'stroke-dasharray="4 4"/>']
    for tick in range(lo, hi + 1, 5):
        parts.append(f'<text x="{x(tick):.1f}" y="{height - 18}" text-anchor="middle">{tick}</text>')
        parts.append(f'<text x="{pad - 8}" y="{y(tick) + 4:.1f}" text-anchor="end">{tick}</text>')
    points = " ".join(f"{x(d['true_mean']):.1f},{y(d['pred_mean']):.1f}" for d in deciles)
    parts.append(f'<polyline points="{points}" fill="none" stroke="#3b5bdb" stroke-width="2"/>')
    parts += [f'<circle cx="{x(d["true_mean"]):.1f}" cy="{y(d["pred_mean"]):.1f}" r="4" fill="#3b5bdb"/>'
              for d in deciles]
    parts.append(f'<text x="{width / 2}" y="{height - 2}" text-anchor="middle">mean true BMI of each decile</text>')
    parts.append(f'<text x="14" y="{height / 2}" text-anchor="middle" transform="rotate(-90 14 {height / 2})">'
                 'mean estimate</text>')
    parts.append(f'<text x="{pad}" y="18">BMI estimate per true-BMI decile (dashed: no bias)</text></svg>')
    return "\n".join(parts) + "\n"


def before_after_table(before: dict | None, after: dict | None, before_rob: dict | None,
                       after_rob: dict | None) -> str:
    """The headline figures of the previous model and this one, side by side (evaluate and robustness JSON)."""
    rows = []

    def add(label, old, new, **fmt):
        rows.append(f"| {label} | {_num(old, **fmt)} | {_num(new, **fmt)} |")

    for label, path, fmt in [
        ("bmi-reddit test: BMI Pearson r", ("bmi-reddit", "bmi", "pearson_r"), {"digits": 3}),
        ("bmi-reddit test: BMI MAE", ("bmi-reddit", "bmi", "mae"), {}),
        ("bmi-reddit test: BMI change slope (same person)", ("bmi-reddit", "bmi_change", "slope"), {}),
        ("bmi-reddit test: BMI change right sign", ("bmi-reddit", "bmi_change", "right_sign"),
         {"digits": 3, "percent": True}),
        ("bmi-reddit test: BMI change interval coverage", ("bmi-reddit", "bmi_change", "interval_coverage"),
         {"digits": 3, "percent": True}),
        ("bmi-reddit test: slope of estimate on true BMI", ("bmi-reddit", "bmi_calibration", "slope_pred_on_true"), {}),
        ("bmi-reddit test: bias of faces under BMI 25", ("bmi-reddit", "bmi_calibration", "lean_under_25", "bias"),
         {"sign": True}),
        ("UTKFace test: bracket exact", ("age-utkface", "bracket", "exact"), {"digits": 3, "percent": True}),
        ("UTKFace test: bracket ±1", ("age-utkface", "bracket", "one_off"), {"digits": 3, "percent": True}),
        ("UTKFace test, ages 10-19: bracket exact", ("age-utkface", "per_age_decade", "10-19", "bracket", "exact"),
         {"digits": 3, "percent": True}),
        ("Adience subset test: bracket exact", ("age-adience-subset", "bracket", "exact"),
         {"digits": 3, "percent": True}),
    ]:
        add(label, dig(before, *path), dig(after, *path), **fmt)
    for source, variant, field, fmt in [
        ("bmi-reddit", "box_cut", "bmi_shift", {"sign": True}), ("bmi-reddit", "box_cut", "bmi_r", {"digits": 3}),
        ("bmi-reddit", "tight_cut", "bmi_shift", {"sign": True}), ("bmi-reddit", "tight_cut", "bmi_r", {"digits": 3}),
        ("age-utkface", "canvas_flat", "age_shift", {"sign": True, "digits": 1}),
        ("age-utkface", "canvas_flat", "bracket_agreement", {"digits": 3, "percent": True}),
    ]:
        path = ("table", source, variant, field)
        add(f"{source} {variant}: {field.replace('_', ' ')}", dig(before_rob, *path), dig(after_rob, *path), **fmt)
    # Counted over the variants both reports measured: a benchmark that gained variants (light and camera,
    # 2026-12-07i) must not make the newer model look worse for being asked more.
    old_variants, new_variants = _variants(before_rob), _variants(after_rob)
    # None where both measured the same variants or either does not say which: every miss counts.
    shared = old_variants & new_variants if old_variants and new_variants and old_variants != new_variants else None

    def missed(report):
        return len(targets_missed(report, variants=shared)) if report else DASH

    label = "robustness targets missed" + (
        f" (over the {len(shared)} variant{'s' if len(shared) != 1 else ''} both were measured on)" if shared else "")
    rows.append(f"| {label} | {missed(before_rob)} | {missed(after_rob)} |")
    return "| figure | previous model | this model |\n|---|---|---|\n" + "\n".join(rows)


def map_note(mean_map: dict | None) -> str:
    """What the mean occlusion map shows, in words, from training.learn.explain_map's JSON."""
    shares = dig(mean_map, "regions_by_magnitude")
    if not isinstance(shares, dict) or not shares:
        return ""
    ranked = sorted(((k, v) for k, v in shares.items() if isinstance(v, (int, float))), key=lambda kv: -kv[1])
    table = "| part of the aligned crop | share of the mean effect |\n|---|---|\n" + "\n".join(
        f"| {k} | {_num(v, 3, percent=True)} |" for k, v in ranked)
    sides = shares.get("sides (background, ears)")
    return (f"Occlusion sensitivity (`facebmi/explain.py`: BMI minus BMI with a 16 px patch hidden) averaged over "
            f"{dig(mean_map, 'faces')} test faces, drawn over the alignment template's eyes, nose and mouth "
            f"(red: hiding that part lowers the estimate). The largest shares are {ranked[0][0]} "
            f"({_num(ranked[0][1], 3, percent=True)}) and {ranked[1][0]} ({_num(ranked[1][1], 3, percent=True)}); "
            f"the sides of the crop (background, ears) hold {_num(sides, 3, percent=True)}.\n\n" + table)
