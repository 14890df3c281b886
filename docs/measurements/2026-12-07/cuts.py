"""Why does a face cut at its box (or tighter) get another answer, and can the app's read fix it without
retraining? Validation photos only (the shipped v10), the robustness benchmark's cuts (training.learn.robustness):

1. Landmarks: the cut photo read with MTCNN's landmarks on it, and with the untouched photo's landmarks moved by
   the cut (the true ones). If the true landmarks gave the untouched answer back, better detection would fix it.
2. A fixed frame: each face also read with everything outside a fixed rectangle of the aligned crop counted as
   outside the photo (filled like it), alone or averaged with the plain read. Any framing that holds the frame
   gives the same framed crop, so answers agree more; the cost is what the network loses outside the frame.

    PYTHONPATH=. python docs/measurements/2026-12-07/cuts.py --max-per-source 150 \
        ../shared/datasets/bmi-reddit ../shared/datasets/age-utkface ../shared/datasets/age-adience-subset

Prints aggregate tables only (no per-photo figures: the sources are for research use).
"""
import argparse
import sys
from pathlib import Path

import numpy as np
import torch

from facebmi.align import crop_context, fill_outside, to_model_input
from facebmi.images import ImageError, load_image
from facebmi.labels import bracket_index
from facebmi.model import infer_outputs
from facebmi.predictor import Predictor
from training.learn.robustness import VARIANTS, sample_rows

# Fixed frames in crop half-widths from the crop's centre (left, top, right, bottom); the eyes sit at about
# -0.05 and the mouth at +0.45 vertically. "box": about where MTCNN's box falls (median over validation photos:
# -0.51, -0.54, +0.44, +0.74; training/learn/augment.py); "tight": about the benchmark's tight cut; "wide": 20%
# outside the box.
FRAMES = {"box": (0.5, 0.55, 0.5, 0.75), "tight": (0.45, 0.35, 0.45, 0.6), "wide": (0.6, 0.7, 0.6, 0.9)}
READS = [("plain",), ("box",), ("tight",), ("wide",), ("plain", "box"), ("plain", "tight"), ("plain", "wide"),
         ("plain", "box", "tight"), ("plain", "plain", "box")]
VARIANT = {v.name: v for v in VARIANTS}
CUTS = ("box_cut", "tight_cut", "canvas_flat")


def largest(detections):
    return max(detections, key=lambda d: (d.box[2] - d.box[0]) * (d.box[3] - d.box[1]), default=None)


class Reader:
    def __init__(self, predictor: Predictor):
        self.model, self.spec = predictor.model, predictor.config.crop
        coords = (torch.arange(self.spec.size, dtype=torch.float32) + 0.5) / self.spec.size * 2 - 1
        self.gy, self.gx = torch.meshgrid(coords, coords, indexing="ij")

    @torch.inference_mode()
    def __call__(self, photo, landmarks) -> dict:
        """{view: (BMI, bracket probabilities, age)} for the plain crop and each fixed frame."""
        view = crop_context(photo, [landmarks], self.spec, 1.0).float()
        rgb, inside = view[:, :3], view[:, 3:] / 255
        crops = {"plain": fill_outside(rgb, inside, self.spec)}
        for name, (left, top, right, bottom) in FRAMES.items():
            keep = ((self.gx > -left) & (self.gx < right) & (self.gy > -top) & (self.gy < bottom)).float()
            crops[name] = fill_outside(rgb * keep, inside * keep, self.spec)
        names = list(crops)
        x = to_model_input(torch.cat([crops[n] for n in names]).round().clamp(0, 255), self.spec)
        out = infer_outputs(self.model, x)
        probs = out.bracket_logits.float().softmax(1).numpy()
        return {n: (float(out.bmi[i]), probs[i], float(out.age_years[i])) for i, n in enumerate(names)}


def combine(read: dict, views) -> tuple[float, int, float]:
    return (float(np.mean([read[v][0] for v in views])), int(np.argmax(np.mean([read[v][1] for v in views], 0))),
            float(np.mean([read[v][2] for v in views])))


def collect(predictor: Predictor, folder: Path, max_rows: int) -> list[dict]:
    reader, records = Reader(predictor), []
    for row in sample_rows(folder, "validation", max_rows, 0):
        try:
            photo = load_image(row.path)
        except ImageError:
            continue
        base = largest(predictor.detector.detect(photo))
        if base is None:
            continue
        record = {"bmi": row.bmi, "bracket": bracket_index(row.bracket) if row.bracket else None,
                  "original": reader(photo, base.landmarks)}
        x0, y0 = base.box[:2]
        w, h = base.box[2] - x0, base.box[3] - y0
        for name in CUTS:
            cut = VARIANT[name].make(photo, base.box)
            found = largest(predictor.detector.detect(cut))
            record[name] = None if found is None else reader(cut, found.landmarks)
            if name == "canvas_flat":
                continue
            left, top = (0.05, 0.15) if name == "tight_cut" else (0.0, 0.0)  # the benchmark's cut (robustness._cut)
            truth = np.asarray(base.landmarks) - np.array([round(x0 + left * w), round(y0 + top * h)])
            record[name + "_truth"] = reader(cut, truth)
            if found is not None:
                eyes = np.linalg.norm(truth[0] - truth[1])
                record[name + "_landmark_error"] = float(
                    np.linalg.norm(np.asarray(found.landmarks) - truth, axis=1).mean() / eyes)
        records.append(record)
    return records


def compare(records, variant: str, views, variant_views=None) -> str:
    """Agreement, age and BMI shift of the variant's read against the untouched photo's (and r where BMI)."""
    pairs = [(r, combine(r["original"], views), combine(r[variant], variant_views or views))
             for r in records if r.get(variant) is not None]
    text = (f"agree {np.mean([o[1] == v[1] for _, o, v in pairs]):.3f} "
            f"age {np.mean([v[2] - o[2] for _, o, v in pairs]):+.2f} bmi {np.mean([v[0] - o[0] for _, o, v in pairs]):+.2f}")
    if pairs[0][0]["bmi"] is not None:
        text += f" r {np.corrcoef([r['bmi'] for r, _, _ in pairs], [v[0] for _, _, v in pairs])[0, 1]:.3f}"
    return text


def report(name: str, records: list[dict]) -> str:
    lines = [f"== {name}: {len(records)} validation photos with a face"]
    for cut in ("box_cut", "tight_cut"):
        errors = [r[cut + "_landmark_error"] for r in records if cut + "_landmark_error" in r]
        lines.append(f"{cut}: landmark error (mean distance / eye distance) median {np.median(errors):.3f}, "
                     f"90th percentile {np.percentile(errors, 90):.3f}")
        lines.append(f"  MTCNN's landmarks:  {compare(records, cut, ('plain',))}")
        lines.append(f"  true landmarks:     {compare(records, cut + '_truth', ('plain',))}")
    lines.append("fixed frames (each read against the untouched photo read the same way):")
    for views in READS:
        original = [combine(r["original"], views) for r in records]
        text = f"  {'+'.join(views):<16}"
        if records[0]["bmi"] is not None:
            true = [r["bmi"] for r in records]
            pred = [o[0] for o in original]
            text += f" r {np.corrcoef(true, pred)[0, 1]:.3f} MAE {np.mean(np.abs(np.subtract(pred, true))):.2f}"
        labelled = [(r["bracket"], o[1]) for r, o in zip(records, original) if r["bracket"] is not None]
        text += f" exact {np.mean([t == p for t, p in labelled]):.3f}"
        for cut in CUTS:
            text += f" | {cut}: {compare(records, cut, views)}"
        lines.append(text)
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folders", type=Path, nargs="+")
    parser.add_argument("--max-per-source", type=int, default=150)
    parser.add_argument("--model", default=None, help="model folder (default: the embedded model)")
    args = parser.parse_args(argv)
    torch.set_num_threads(2)
    predictor = Predictor.from_pretrained(args.model)
    for folder in args.folders:
        print(report(folder.name, collect(predictor, folder, args.max_per_source)), flush=True)


if __name__ == "__main__":
    sys.exit(main())
