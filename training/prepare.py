"""Detect, crop and (optionally) describe every face of the labelled folders, once, into a cached
`datasets` dataset that training reads. Resumable: work is saved in shards and finished shards are skipped.

    python -m training.prepare --out .cache/faces [--folders ../shared/datasets/bmi-reddit ...] [--workers 2]
"""
from __future__ import annotations

import argparse
import hashlib
import io
import multiprocessing as mp
import sys
from pathlib import Path

from tqdm import tqdm

from facebmi.align import crop_context, crop_faces, photo_mask_for
from facebmi.config import CropSpec, ModelConfig
from facebmi.detect import Detection, FaceDetector, main_face, mirror_match
from facebmi.images import ImageError, load_image
from training.sources import GROUP_COLUMNS, SHARED_DATASETS, LabelRow, read_folder
from training.splits import split_of

SHARD_SIZE = 500  # rows per saved shard: small enough that an interruption loses little work
# The cached wider view of each face (`context` column) spans this many times the model's crop, so training
# can re-frame it at random (tighter, looser, shifted) without going back to the photo: 1.5 x 112 = 168 px.
CONTEXT = 1.5
# Bumped when the cached columns change, so older shards are rebuilt rather than read with a column missing.
# 2: mirror_context. 3: a flat border (align.photo_mask) is outside the photo in crops and views. 4: a backdrop
# without detail (align.backdrop_rectangle) is too.
CACHE_FORMAT = 4

_worker = {}


def _init_worker(with_teacher: bool, single_thread: bool = True) -> None:
    import torch

    if single_thread:
        torch.set_num_threads(1)  # one process per core does better than threads on small images
    config = ModelConfig()
    _worker["config"] = config
    _worker["detector"] = FaceDetector(config.detect)
    if with_teacher:
        from training.teacher import DlibDescriptor

        _worker["teacher"] = DlibDescriptor()


def _process(row: LabelRow) -> dict:
    config, detector = _worker["config"], _worker["detector"]
    record = {"source": row.source, "file": row.file, "bmi": row.bmi, "age": row.age, "bracket": row.bracket,
              "sex": row.sex, "race": row.race or None, "group_id": row.group, "split": split_of(row.group),
              "label_conflict": row.label_conflict, "image": None, "face_box": None, "face_score": None,
              "skip_reason": None, "teacher_embedding": None, "context": None,
              "mirror_context": None}
    try:
        picture = load_image(row.path)
    except ImageError as err:
        record["skip_reason"] = f"unreadable: {err}"
        return record
    face = main_face(detector.detect(picture))
    if face is None:
        record["skip_reason"] = "no face found"
        return record
    # Faces with a BMI are read for before/after changes, from both their own and their mirror image's landmarks
    # (Predictor.predict_careful): cache the second view too. Other faces never are: no second detection.
    mirror = mirror_match(face, detector.detect_mirrored(picture)) if row.bmi is not None else None
    record.update(face_fields(picture, face, config.crop, _worker.get("teacher"), mirror))
    return record


def face_fields(picture, face: Detection, spec: CropSpec, teacher=None, mirror: Detection | None = None) -> dict:
    """The dataset columns of one detected face: the aligned crop as PNG, the wider view training re-frames
    (RGBA PNG, alpha = inside the photo), its box and score, the teacher's descriptor when a teacher is given,
    and the same wider view from `mirror`'s landmarks (the face as found on the photo's mirror image, mapped
    back: detect.mirror_match) when given. Shared by every dataset build (see build_dataset.py)."""
    # Which pixels are photo (align.photo_mask) is found once, for the crop and both wider views.
    mask = photo_mask_for(picture, spec)
    crop = crop_faces(picture, [face.landmarks], spec, mask=mask)[0]
    contexts = crop_context(picture, [face.landmarks] + ([mirror.landmarks] if mirror is not None else []), spec,
                            CONTEXT, mask=mask)
    fields = {"image": _png(crop), "context": _png(contexts[0]), "face_box": list(face.box), "face_score": face.score,
              "mirror_context": _png(contexts[1]) if mirror is not None else None}
    if teacher is not None:
        fields["teacher_embedding"] = teacher.describe(picture, face.box).tolist()
    return fields


def _png(pixels) -> dict:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(pixels.permute(1, 2, 0).numpy()).save(buffer, format="PNG")
    return {"bytes": buffer.getvalue(), "path": None}


def features():
    from datasets import Features, Image, Sequence, Value

    return Features({
        "image": Image(), "source": Value("string"), "file": Value("string"), "bmi": Value("float32"),
        "age": Value("float32"), "bracket": Value("string"), "sex": Value("string"),
        "race": Value("string"), "group_id": Value("string"), "split": Value("string"), "label_conflict": Value("bool"),
        "face_box": Sequence(Value("float32"), length=4), "face_score": Value("float32"),
        "skip_reason": Value("string"), "teacher_embedding": Sequence(Value("float32"), length=128),
        "context": Image(), "mirror_context": Image(),
    })


def prepare(folders: list[Path], out: Path, workers: int = 2, with_teacher: bool = True, limit: int | None = None):
    from datasets import Dataset, concatenate_datasets, load_from_disk

    rows = [row for folder in folders for row in read_folder(folder)[:limit]]
    # Shards are only reusable for the same input rows (labels included) in the same order, built with the
    # same teacher setting and cache format: key them by a hash of all of that, so an edited labels.csv or a run with the
    # teacher after one without it is rebuilt rather than served stale.
    key = hashlib.sha256("\n".join([f"cache format {CACHE_FORMAT}", repr(with_teacher), *map(repr, rows)]).encode()
                         ).hexdigest()[:12]
    shards_dir = out.parent / f"{out.name}.shards-{key}"
    shards_dir.mkdir(parents=True, exist_ok=True)
    chunks = [rows[i:i + SHARD_SIZE] for i in range(0, len(rows), SHARD_SIZE)]
    todo = [(i, chunk) for i, chunk in enumerate(chunks) if not (shards_dir / f"{i:05d}" / "dataset_info.json").exists()]
    pool = None
    if todo and workers <= 1:  # in this process: no start-up cost of worker processes for small jobs
        _init_worker(with_teacher, single_thread=False)
    elif todo:
        pool = mp.get_context("spawn").Pool(workers, initializer=_init_worker, initargs=(with_teacher,))
    with tqdm(total=len(rows), initial=(len(chunks) - len(todo)) * SHARD_SIZE, desc="faces", file=sys.stderr,
              disable=not todo) as bar:
        try:
            for i, chunk in todo:
                records = []
                for record in (pool.imap(_process, chunk, chunksize=8) if pool else map(_process, chunk)):
                    records.append(record)
                    bar.update(1)
                shard = Dataset.from_list(records, features=features())
                shard.save_to_disk(str(shards_dir / f"{i:05d}"))  # written whole, then marked done by its info file
        finally:
            if pool is not None:
                pool.terminate()  # what `with Pool()` does on exit; every result has been read by now
            _worker.clear()
    data = concatenate_datasets([load_from_disk(str(shards_dir / f"{i:05d}")) for i in range(len(chunks))])
    data.save_to_disk(str(out))
    return data


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path(".cache/faces"))
    parser.add_argument("--folders", type=Path, nargs="*",
                        default=[SHARED_DATASETS / name for name in GROUP_COLUMNS])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--no-teacher", action="store_true", help="skip the dlib descriptors")
    parser.add_argument("--limit", type=int, help="first N rows of each folder (smoke tests)")
    args = parser.parse_args(argv)
    data = prepare(args.folders, args.out, args.workers, not args.no_teacher, args.limit)
    skipped = sum(r is not None for r in data["skip_reason"])
    print(f"{len(data)} rows, {skipped} skipped, saved to {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
