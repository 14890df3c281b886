"""Does the same face get the same answer? Re-frame, recolour and compress each test photo, run the full app
path (images -> detect -> crop -> model) on every variant, and compare with the untouched photo.

    python -m training.learn.robustness --model PATH_OR_REPO --data FOLDER... --split test [--max-per-source 600]

Per variant and source: faces found (share of the faces found in the untouched photo), mean BMI shift from the
untouched photo, Pearson r and MAE against the labels, bracket agreement with the untouched photo, bracket
exact accuracy, and mean age shift in years, each shift, share and drop of r with a 95% interval that resamples
people; then each target (ROBUSTNESS_TARGETS) missed, and which of those lie beyond sampling noise (the whole
interval past the target). Prints one JSON object (and a table on stderr).
"""
from __future__ import annotations

import argparse
import io
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
from PIL import Image, ImageFilter, ImageOps
from tqdm import tqdm

from facebmi.images import ImageError, load_image
from facebmi.predictor import FaceResult, Predictor
from facebmi.report import largest_face_index
from training.learn.augment import relit
from training.learn.metrics import person_bootstrap_ci, person_bootstrap_r_drop_ci
from training.sources import read_folder
from training.splits import split_of

# What "the same answer" means, per variant (issue 8): |mean BMI shift|, loss of Pearson r, bracket agreement
# with the untouched photo, |mean age shift| in years, faces found relative to the untouched photo.
ROBUSTNESS_TARGETS = {"bmi_shift": 0.5, "r_drop": 0.03, "r_drop_tight": 0.06, "bracket_agreement": 0.90,
                      "age_shift": 1.5, "found": 0.97}


@dataclass(frozen=True)
class Variant:
    name: str
    describe: str
    make: Callable[[Image.Image, tuple], Image.Image]  # (photo, main face box) -> re-framed photo


def _cut(photo: Image.Image, box, left=0.0, top=0.0, right=0.0, bottom=0.0) -> Image.Image:
    """The photo cut at the face's box, each side moved inward by a fraction of the box's size."""
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    return photo.crop((round(x0 + left * w), round(y0 + top * h), round(x1 - right * w), round(y1 - bottom * h)))


def _on_canvas(photo: Image.Image, background: Image.Image) -> Image.Image:
    canvas = background.copy()
    canvas.paste(photo, ((canvas.width - photo.width) // 2, (canvas.height - photo.height) // 2))
    return canvas


def _canvas_size(photo: Image.Image) -> tuple[int, int]:
    return round(photo.width * 1.6), round(photo.height * 1.6)


def _jpeg(photo: Image.Image, quality: int) -> Image.Image:
    buffer = io.BytesIO()
    photo.save(buffer, "JPEG", quality=quality)
    return Image.open(buffer).convert("RGB")


def _face_width(photo: Image.Image, box, width: float) -> Image.Image:
    scale = min(1.0, width / max(1.0, box[2] - box[0]))
    return photo.resize((max(1, round(photo.width * scale)), max(1, round(photo.height * scale))), Image.LANCZOS)


def _relit(photo: Image.Image, gain) -> Image.Image:
    """The photo with its light multiplied by `gain` (a number, an RGB triple or an (H, W, 1) map) in linear
    light (augment.relit, as training's augmentation does it)."""
    colour = relit(np.asarray(photo, dtype=np.float32) / 255.0, np.asarray(gain, dtype=np.float32))
    return Image.fromarray(np.round(colour * 255.0).astype(np.uint8))


def _side_light(photo: Image.Image, box, far: float = 0.2) -> Image.Image:
    """Light from one side: full on the face box's left edge, falling linearly to `far` (0.2: 2.3 stops darker)
    at its right edge, and flat beyond both."""
    x = np.arange(photo.width, dtype=np.float32)
    ramp = np.clip((x - box[0]) / max(1.0, box[2] - box[0]), 0.0, 1.0)
    gain = 1.0 - (1.0 - far) * ramp
    return _relit(photo, np.broadcast_to(gain[None, :, None], (photo.height, photo.width, 1)))


def _defocused(photo: Image.Image, box, share: float = 1 / 50) -> Image.Image:
    """Out of focus or shaken: a Gaussian blur of radius `share` of the face's width (2 px on a 100 px face)."""
    return photo.filter(ImageFilter.GaussianBlur(max(0.5, share * (box[2] - box[0]))))


def _noisy(photo: Image.Image, sd: float = 12.0) -> Image.Image:
    """A small sensor in dim light: Gaussian noise of `sd` levels per pixel and channel, the same draw for a
    photo of the same size (seeded) so that a benchmark run repeats."""
    rng = np.random.default_rng(photo.width * 100003 + photo.height)
    noisy = np.asarray(photo, dtype=np.float32) + rng.normal(0.0, sd, (photo.height, photo.width, 3))
    return Image.fromarray(np.clip(np.round(noisy), 0, 255).astype(np.uint8))


VARIANTS = (
    Variant("original", "the photo as it is", lambda p, b: p),
    Variant("box_cut", "cut at the detected box (ID photo, avatar)", lambda p, b: _cut(p, b)),
    Variant("tight_cut", "cut inside the box: forehead and chin off (15% top, 10% bottom, 5% sides)",
            lambda p, b: _cut(p, b, 0.05, 0.15, 0.05, 0.10)),
    Variant("canvas_flat", "centred on a flat grey canvas 1.6x its size",
            lambda p, b: _on_canvas(p, Image.new("RGB", _canvas_size(p), (200, 200, 200)))),
    Variant("canvas_blur", "centred on a blurred, enlarged copy of itself 1.6x its size",
            lambda p, b: _on_canvas(p, p.resize(_canvas_size(p)).filter(ImageFilter.GaussianBlur(12)))),
    Variant("rotate15", "rotated 15 degrees, black corners", lambda p, b: p.rotate(15, Image.BICUBIC, expand=True)),
    Variant("grayscale", "black and white", lambda p, b: ImageOps.grayscale(p).convert("RGB")),
    Variant("jpeg20", "JPEG quality 20", lambda p, b: _jpeg(p, 20)),
    Variant("face40", "downscaled so the face is 40 px wide", lambda p, b: _face_width(p, b, 40)),
    Variant("mirror", "mirrored left to right", lambda p, b: ImageOps.mirror(p)),
    # Light and camera (ours, beyond the issue's list): the sets the model is scored on come from other cameras
    # and rooms, which differ less in framing than in exposure, white balance, shadow, focus and noise.
    Variant("dark", "underexposed by 1.5 stops (light x0.35)", lambda p, b: _relit(p, 0.35)),
    Variant("bright", "overexposed by 1 stop (light x2, highlights clipped)", lambda p, b: _relit(p, 2.0)),
    Variant("warm", "warm white balance (tungsten light uncorrected: red x1.25, blue x0.7)",
            lambda p, b: _relit(p, (1.25, 1.0, 0.7))),
    Variant("cool", "cool white balance (shade: red x0.8, blue x1.25)", lambda p, b: _relit(p, (0.8, 1.0, 1.25))),
    Variant("side_light", "lit from one side: the face's far side 2.3 stops darker", _side_light),
    Variant("blur", "out of focus: Gaussian blur, radius 1/50 of the face's width", _defocused),
    Variant("noise", "sensor noise: Gaussian, 12 levels per pixel", lambda p, b: _noisy(p)),
)


def sample_rows(folder: Path, split: str | None, max_rows: int | None, seed: int):
    rows = read_folder(folder)
    if split:
        rows = [r for r in rows if split_of(r.group) == split]
    if max_rows and len(rows) > max_rows:
        keep = np.sort(np.random.default_rng(seed).choice(len(rows), max_rows, replace=False))
        rows = [rows[i] for i in keep]
    return rows


def run_variants(predictor: Predictor, rows, variants=VARIANTS, progress: bool = True) -> list[dict]:
    """For each row whose untouched photo has a face: {variant name: the largest face's result or None}."""
    results = []
    for row in tqdm(rows, desc=rows[0].source if rows else "", file=sys.stderr, disable=not progress):
        try:
            photo = load_image(row.path)
        except ImageError:
            continue
        base = _main(predictor.predict(photo))
        if base is None:
            continue
        outcome = {"original": base}
        for variant in variants:
            if variant.name != "original":
                outcome[variant.name] = _main(predictor.predict(variant.make(photo, base.box)))
        results.append({"row": row, "faces": outcome})
    return results


def _main(faces: list[FaceResult]) -> FaceResult | None:
    i = largest_face_index(faces)
    return None if i is None else faces[i]


def summarise(results: list[dict], variant: str) -> dict:
    """The figures of one variant over one source's results, each with its 95% interval (`*_ci95`) from
    resampling people (a source's person or group key): 173-300 photos leave real sampling noise."""
    person = np.array([r["row"].group for r in results])
    found = np.array([r["faces"].get(variant) is not None for r in results])
    out = {"n": len(results), "found": float(found.mean()) if results else None}
    if not found.any():
        return out
    out["found_ci95"] = person_bootstrap_ci(found, person)
    both = [(r["row"], r["faces"]["original"], r["faces"][variant]) for r, seen in zip(results, found) if seen]
    person = person[found]
    with_bmi = np.array([row.bmi is not None for row, _, _ in both])
    if with_bmi.any():
        true, base, pred = map(np.array, zip(*[(row.bmi, o.bmi, v.bmi) for row, o, v in both if row.bmi is not None]))
        out["bmi_shift"] = float(np.mean(pred - base))
        out["bmi_shift_ci95"] = person_bootstrap_ci(pred - base, person[with_bmi])
        out["bmi_r"] = float(np.corrcoef(true, pred)[0, 1]) if len(true) > 2 and pred.std() > 0 else None
        out["bmi_mae"] = float(np.abs(pred - true).mean())
        if variant != "original" and out["bmi_r"] is not None:
            # r lost against the untouched photo, on these same photos (the untouched r is over every photo)
            out["bmi_r_drop_ci95"] = person_bootstrap_r_drop_ci(true, base, pred, person[with_bmi])
    agree = np.array([o.age_bracket == v.age_bracket for _, o, v in both])
    out["bracket_agreement"] = float(agree.mean())
    out["bracket_agreement_ci95"] = person_bootstrap_ci(agree, person)
    with_bracket = [(row, v) for row, _, v in both if row.bracket is not None]
    if with_bracket:
        out["bracket_exact"] = float(np.mean([v.age_bracket == row.bracket for row, v in with_bracket]))
    age_shift = np.array([v.age_years - o.age_years for _, o, v in both])
    out["age_shift"] = float(age_shift.mean())
    out["age_shift_ci95"] = person_bootstrap_ci(age_shift, person)
    return out


def _misses(table: dict, targets: dict):
    """(sentence, clear) for each target missed; clear: the figure's 95% interval lies wholly past the
    target, so another sample of this size would very likely miss it too (None: no interval)."""
    def beyond(ci, low=None, high=None):
        if not ci:
            return None
        return (low is not None and ci[1] < low) or (high is not None and ci[0] > high)

    def span(ci, fmt, of=""):
        return f" (95% CI{of} {format(ci[0], fmt)} to {format(ci[1], fmt)})" if ci else ""

    for source, variants in table.items():
        original = variants["original"]
        for name, figures in variants.items():
            if name == "original":
                continue
            where = f"{source} {name}"
            if figures.get("found") is not None and figures["found"] < targets["found"]:
                yield (f"{where}: faces found {figures['found']:.1%} < {targets['found']:.0%}"
                       f"{span(figures.get('found_ci95'), '.1%')}",
                       beyond(figures.get("found_ci95"), low=targets["found"]))
            if "bmi_shift" in figures and abs(figures["bmi_shift"]) > targets["bmi_shift"]:
                yield (f"{where}: mean BMI shift {figures['bmi_shift']:+.2f} beyond ±{targets['bmi_shift']}"
                       f"{span(figures.get('bmi_shift_ci95'), '+.2f')}",
                       beyond(figures.get("bmi_shift_ci95"), low=-targets["bmi_shift"], high=targets["bmi_shift"]))
            if figures.get("bmi_r") is not None and original.get("bmi_r") is not None:
                limit = targets["r_drop_tight" if name == "tight_cut" else "r_drop"]
                if original["bmi_r"] - figures["bmi_r"] > limit:
                    yield (f"{where}: Pearson r {figures['bmi_r']:.3f}, more than {limit} below "
                           f"{original['bmi_r']:.3f}"
                           f"{span(figures.get('bmi_r_drop_ci95'), '.3f', ' of the drop')}",
                           beyond(figures.get("bmi_r_drop_ci95"), high=limit))
            agreement = figures.get("bracket_agreement")
            if agreement is not None and agreement < targets["bracket_agreement"]:
                yield (f"{where}: bracket agreement {agreement:.1%} < {targets['bracket_agreement']:.0%}"
                       f"{span(figures.get('bracket_agreement_ci95'), '.1%')}",
                       beyond(figures.get("bracket_agreement_ci95"), low=targets["bracket_agreement"]))
            if "age_shift" in figures and abs(figures["age_shift"]) > targets["age_shift"]:
                yield (f"{where}: mean age shift {figures['age_shift']:+.2f} y beyond ±{targets['age_shift']}"
                       f"{span(figures.get('age_shift_ci95'), '+.2f')}",
                       beyond(figures.get("age_shift_ci95"), low=-targets["age_shift"], high=targets["age_shift"]))


def check_targets(table: dict, targets: dict = ROBUSTNESS_TARGETS) -> list[str]:
    """Each target missed, as a sentence with the figure's 95% interval; an empty list when every variant of
    every source meets them all."""
    return [sentence for sentence, _ in _misses(table, targets)]


def clearly_missed(table: dict, targets: dict = ROBUSTNESS_TARGETS) -> list[str]:
    """The targets missed beyond sampling noise: the figure's whole 95% interval lies past the target."""
    return [sentence for sentence, clear in _misses(table, targets) if clear]


def format_table(table: dict) -> str:
    lines = [f"{'source':<20} {'variant':<12} {'n':>5} {'found':>6} {'BMI shift':>9} {'r':>6} {'MAE':>5} "
             f"{'agree':>6} {'exact':>6} {'age shift':>9}"]

    def num(value, fmt):
        return format(value, fmt) if value is not None else "-"

    for source, variants in table.items():
        for name, f in variants.items():
            lines.append(f"{source:<20} {name:<12} {f['n']:>5} {num(f.get('found'), '6.1%')} "
                         f"{num(f.get('bmi_shift'), '+9.2f')} {num(f.get('bmi_r'), '6.3f')} "
                         f"{num(f.get('bmi_mae'), '5.2f')} {num(f.get('bracket_agreement'), '6.1%')} "
                         f"{num(f.get('bracket_exact'), '6.1%')} {num(f.get('age_shift'), '+9.2f')}")
    return "\n".join(lines)


def chosen_variants(names: list[str] | None) -> tuple[Variant, ...]:
    """The untouched photo and the variants named (every variant when None), in VARIANTS' order."""
    known = {v.name for v in VARIANTS}
    unknown = sorted(set(names or ()) - known)
    if unknown:
        raise ValueError(f"unknown variant(s) {', '.join(unknown)}; the variants are {', '.join(sorted(known))}")
    return tuple(v for v in VARIANTS if names is None or v.name == "original" or v.name in names)


def robustness(predictor: Predictor, folders: list[Path], split: str | None, max_rows: int | None,
               seed: int = 0, progress: bool = True, variants: tuple[Variant, ...] = VARIANTS) -> dict:
    table = {}
    for folder in folders:
        results = run_variants(predictor, sample_rows(folder, split, max_rows, seed), variants, progress=progress)
        table[folder.name] = {v.name: summarise(results, v.name) for v in variants}
    return {"split": split or "all", "max_per_source": max_rows, "seed": seed,
            "variants": {v.name: v.describe for v in variants}, "targets": ROBUSTNESS_TARGETS,
            "table": table, "targets_missed": check_targets(table), "targets_missed_clearly": clearly_missed(table)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=None, help="model folder or Hub repo id (default: the embedded model)")
    parser.add_argument("--revision", default=None)
    parser.add_argument("--data", type=Path, nargs="+", required=True, help="labelled folder(s)")
    parser.add_argument("--split", choices=["train", "validation", "test"], default=None)
    parser.add_argument("--max-per-source", type=int, default=600,
                        help="a seeded random sample of at most this many photos per folder (0: all)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--variants", nargs="+", choices=[v.name for v in VARIANTS if v.name != "original"],
                        help="only these variants (and the untouched photo); default: all")
    parser.add_argument("--device", default=None)
    parser.add_argument("--out", type=Path, help="also write the JSON here")
    args = parser.parse_args(argv)
    predictor = Predictor.from_pretrained(args.model, revision=args.revision, device=args.device)
    report = robustness(predictor, args.data, args.split, args.max_per_source or None, args.seed,
                        variants=chosen_variants(args.variants))
    print(format_table(report["table"]), file=sys.stderr)
    clear = set(report["targets_missed_clearly"])
    print("\n".join([f"targets missed ({len(clear)} beyond sampling noise, marked *):",
                     *[("* " if m in clear else "  ") + m for m in report["targets_missed"]]]
                    if report["targets_missed"] else ["every target met"]), file=sys.stderr)
    text = json.dumps(report, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
