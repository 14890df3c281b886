"""The mean occlusion map of the BMI estimate over a labelled folder: where the model looks, on average.

    python -m training.learn.explain_map --model PATH_OR_REPO --data ../shared/datasets/bmi-reddit --split test \
        --out-image mean_map.png [--max 80]

Each face's map (facebmi/explain.py) is taken on its aligned crop, so the same pixel is the same part of every
face; the maps are averaged (signed, and as magnitude) and drawn over the mean crop. Prints the share of the
mean magnitude in each part of the face as JSON. Only the average image is written: no face of the data.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw
from tqdm import tqdm

from facebmi.align import template_points
from facebmi.explain import explain_faces, overlay, region_shares
from facebmi.images import ImageError, load_image
from facebmi.predictor import Predictor
from facebmi.report import largest_face_index
from training.learn.robustness import sample_rows


def mean_map(predictor: Predictor, rows, progress: bool = True) -> dict:
    signed, magnitude, faces = None, None, 0
    for row in tqdm(rows, desc="maps", file=sys.stderr, disable=not progress):
        try:
            picture = load_image(row.path)
        except ImageError:
            continue
        results = predictor.predict(picture)
        if not results:
            continue
        [explanation] = explain_faces(predictor, picture, [results[largest_face_index(results)]])
        if signed is None:
            signed, magnitude = np.zeros_like(explanation.heat), np.zeros_like(explanation.heat)
        signed += explanation.heat
        magnitude += np.abs(explanation.heat)
        faces += 1
    if not faces:
        raise ValueError("no face was found in any photo: nothing to average")
    return {"faces": faces, "signed": signed / faces, "magnitude": magnitude / faces}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=None)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--split", choices=["train", "validation", "test"], default=None)
    parser.add_argument("--max", type=int, default=80, help="a seeded sample of at most this many photos")
    parser.add_argument("--out-image", type=Path, required=True)
    args = parser.parse_args(argv)
    predictor = Predictor.from_pretrained(args.model)
    result = mean_map(predictor, sample_rows(args.data, args.split, args.max, seed=0))
    # Drawn over plain grey with the alignment template's 5 points (eyes, nose tip, mouth corners) for
    # orientation: the average map, never any person's face.
    spec = predictor.config.crop
    grey = np.full(result["magnitude"].shape + (3,), 170, np.uint8)
    picture = overlay(grey, result["signed"]).resize((336, 336), Image.BICUBIC)
    draw = ImageDraw.Draw(picture)
    for x, y in template_points(spec.size, spec.face_fraction) * (336 / spec.size):
        draw.ellipse((x - 4, y - 4, x + 4, y + 4), fill=(0, 0, 0))
    picture.save(args.out_image)
    print(json.dumps({"faces": result["faces"], "regions_by_magnitude": region_shares(result["magnitude"]),
                      "largest_mean_effect_bmi": float(np.abs(result["signed"]).max())}, indent=2))


if __name__ == "__main__":
    main()
