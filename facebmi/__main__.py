"""Batch command line: `python -m facebmi PHOTO_OR_FOLDER... [--json|--csv] [--model PATH_OR_REPO]`, and
`python -m facebmi --pair BEFORE [AFTER] [--json]` for the BMI change between two photos of one person (or one
side-by-side progress picture).

Results go to stdout (a table, JSON Lines with one object per image, or CSV with one row per face); the
progress bar and problems go to stderr. A photo that cannot be read gets its own error entry and the batch
goes on. Exit status: 0 when at least one photo was processed, 1 when none could be, 2 for bad usage or a
model that does not load.
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import os
import sys
from pathlib import Path

from tqdm import tqdm

# Files a folder walk picks up (explicitly named files are always tried, whatever their extension).
IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp", ".tif", ".tiff"})


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m facebmi",
        description="Estimate BMI and an age bracket for every face in photos. The numbers are estimates "
                    "from appearance, with a calibrated interval; they are not a measurement or medical advice.")
    parser.add_argument("paths", nargs="+", metavar="PHOTO_OR_FOLDER",
                        help="image files, or folders searched recursively for images")
    fmt = parser.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="JSON Lines: one object per image with its faces")
    fmt.add_argument("--csv", action="store_true", help="CSV: one row per face (or per image without one)")
    parser.add_argument("--model", default=None, metavar="PATH_OR_REPO",
                        help="model folder or Hub repo id (default: $FACEBMI_MODEL, else the embedded model)")
    parser.add_argument("--revision", default=None, help="Hub revision (branch, tag or commit) for --model")
    parser.add_argument("--device", default=None, help="torch device (default: cuda when present, else cpu)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    parser.add_argument("--pair", action="store_true",
                        help="before/after: PATHS are BEFORE AFTER (two photos of one person) or one side-by-side "
                             "picture; prints each face and the BMI change with its interval")
    parser.add_argument("--faces", type=int, nargs=2, metavar=("BEFORE_FACE", "AFTER_FACE"),
                        help="with --pair: the face numbers to use (as the plain command numbers them)")
    args = parser.parse_args(argv)
    if args.pair and (len(args.paths) > 2 or args.csv):
        parser.error("--pair takes BEFORE AFTER (or one side-by-side picture) and prints text or --json")
    if args.faces and not args.pair:
        parser.error("--faces goes with --pair")
    return args


def find_images(paths: list[str]) -> list[Path]:
    """Files as given, folders expanded (recursively, sorted) to their image files; hidden files skipped."""
    found = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
                                and not any(part.startswith(".") for part in p.relative_to(path).parts)))
        else:
            found.append(path)  # a missing file becomes an error entry, not a crash
    return found


def analyze_file(predictor, path: Path) -> dict:
    from .images import ImageError, load_image
    from .report import error_entry, image_entry

    try:
        picture = load_image(path)
        return image_entry(str(path), predictor.predict(picture), picture.size)
    except ImageError as err:
        return error_entry(str(path), str(err))
    except Exception as err:  # keep the batch going; the entry names what went wrong
        return error_entry(str(path), f"could not be processed ({type(err).__name__}: {err})")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from .loading import ModelLoadError
    from .predictor import Predictor
    from .report import CSV_FIELDS, csv_rows, text_lines

    images = find_images(args.paths)
    if not images:
        print("no image files found in " + ", ".join(args.paths), file=sys.stderr)
        return 2
    try:
        predictor = Predictor.from_pretrained(args.model, revision=args.revision, device=args.device)
    except ModelLoadError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2

    if args.pair:
        return run_pair(predictor, args)
    out = sys.stdout
    if args.csv:
        csv.DictWriter(out, fieldnames=CSV_FIELDS).writeheader()
    processed = 0
    for path in tqdm(images, desc="photos", unit="photo", file=sys.stderr, disable=args.no_progress):
        entry = analyze_file(predictor, path)
        processed += "error" not in entry
        if args.json:
            text = json.dumps(entry)
        elif args.csv:
            buffer = io.StringIO()
            csv.DictWriter(buffer, fieldnames=CSV_FIELDS).writerows(csv_rows(entry))
            text = buffer.getvalue().rstrip("\r\n")
        else:
            text = "\n".join(text_lines(entry))
        tqdm.write(text, file=out)  # clears the bar first when both share a terminal
        out.flush()
    if processed == 0:
        print(f"none of the {len(images)} file(s) could be processed (see the errors above)", file=sys.stderr)
        return 1
    return 0


def run_pair(predictor, args) -> int:
    from .images import ImageError
    from .pair import PairError, predict_pair
    from .report import numbered_faces

    before_face, after_face = args.faces or (None, None)
    try:
        pair, first, second = predict_pair(predictor, args.paths[0], args.paths[1] if len(args.paths) > 1 else None,
                                           before_face, after_face)
    except (ImageError, PairError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    faces = {"before": numbered_faces(first)[first.index(pair.before)],
             "after": numbered_faces(second)[second.index(pair.after)]}
    if args.json:
        print(json.dumps({"paths": args.paths, **faces, "change": pair.change_dict()}))
    else:
        for name, face in faces.items():
            interval = face["bmi_interval"]
            detail = f" ({interval[0]:.0f}-{interval[1]:.0f})" if interval else ""
            print(f"{name:<6}  face #{face['face']}  BMI {face['bmi']:.1f}{detail}  age {face['age_bracket']}")
        print(f"change  {pair.change_text()}  (same person assumed)")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:  # e.g. `| head`: the reader left, nothing more to say
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)
