"""Turn the face-assignment manifest (or labelled folders) into a `datasets` dataset training reads.

    python -m training.collect.build_dataset reddit --manifest manifest.jsonl --images images/ --out data/reddit \
        [--teacher] [--push user/facebmi-reddit-faces [--public]]
    python -m training.collect.build_dataset folders --out data/folders [--folders ../shared/datasets/bmi-reddit ...]

Both write the same schema (`features()`: training/prepare.py's columns plus `post_id` and `photo`), split
train/validation/test by person (author hash for Reddit) with training/splits.py. The Reddit build crops
exactly the faces the manifest assigned, with the one crop path (facebmi.align via prepare.face_fields),
writes a dataset card rendered from data_cards/dataset_card.md beside the data, and pushes both to the Hub
when asked, in one commit through training/hub.py (private unless --public; the token comes from HF_TOKEN;
an unchanged dataset makes no commit, so the card holds no build date). Labelled folders are research data:
they are built locally and never pushed.

Resumable: rows are saved in shards keyed by (post id, photo); a rerun crops only the rows no finished
shard holds, and the final dataset holds each assigned face of the current manifest exactly once. Faces are
cropped in `--workers` processes (default: one per core).
"""
from __future__ import annotations

import argparse
import math
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter
from contextlib import ExitStack
from functools import partial
from pathlib import Path
from string import Template

import numpy as np

from facebmi.config import ModelConfig
from facebmi.detect import Detection, FaceDetector, mirror_match
from facebmi.images import load_image
from facebmi.labels import AGE_BRACKETS, WHO_CATEGORIES, age_to_bracket, who_category
from training import prepare
from training.collect.assign_faces import read_manifest
from training.collect.download import read_log
from training.collect.parallel import default_workers, process_pool
from training.sources import GROUP_COLUMNS, SHARED_DATASETS
from training.splits import SPLIT_FRACTIONS, split_of

CARD_TEMPLATE = Path(__file__).resolve().parents[2] / "data_cards" / "dataset_card.md"
SPLITS = tuple(name for name, _ in SPLIT_FRACTIONS)


def features():
    """prepare.py's columns, plus the Reddit post and which photo of its before/after pair the face is."""
    from datasets import Features, Value

    return Features({**prepare.features(), "post_id": Value("string"), "photo": Value("string")})


def row_key(post_id: str, photo: str) -> str:
    return f"{post_id}:{photo}"  # a post assigns each of 'start' and 'current' at most once


def reddit_row(record: dict, images: Path, spec, teacher=None, picture=None, mirrored=None) -> dict:
    """One assigned manifest record -> a dataset row, cropped with the landmarks the manifest recorded.
    `picture`: the record's image file, already loaded; `mirrored`: the faces found on its mirror image
    (FaceDetector.detect_mirrored), for the row's mirror_context (none without it)."""
    group = record["author_hash"] or f"post:{record['post_id']}"  # deleted author: the post is the person
    face = Detection(tuple(record["face_box"]), record["face_score"], np.asarray(record["landmarks"]))
    picture = picture if picture is not None else load_image(images / record["image_file"])
    row = {"source": f"reddit-{record['subreddit'].lower()}", "file": record["image_file"], "bmi": record["bmi"],
           "age": record["age"], "bracket": age_to_bracket(record["age"]) if record["age"] is not None else None,
           "sex": record["sex"] or "", "race": None, "group_id": group, "split": split_of(group), "label_conflict": False,
           "skip_reason": None, "teacher_embedding": None, "context": None, "post_id": record["post_id"], "photo": record["photo"]}
    mirror = mirror_match(face, mirrored) if mirrored is not None else None
    row.update(prepare.face_fields(picture, face, spec, teacher, mirror))
    return row


class RowMaker:
    """reddit_row for records in manifest order, loading each image file once for the faces it holds
    (the before and after of a side-by-side picture come one after the other)."""

    def __init__(self, images: Path, with_teacher: bool = False):
        config = ModelConfig()
        self.images, self.spec, self.teacher = Path(images), config.crop, None
        self.detector = FaceDetector(config.detect)  # the mirror image's faces: every row has a BMI (prepare.py)
        if with_teacher:
            from training.teacher import DlibDescriptor

            self.teacher = DlibDescriptor()
        self._last = (None, None, None)  # (file, picture, faces on its mirror image)

    def __call__(self, record: dict) -> dict:
        if self._last[0] != record["image_file"]:
            self._last = (None, None, None)  # free the previous picture before loading the next
            picture = load_image(self.images / record["image_file"])
            self._last = (record["image_file"], picture, self.detector.detect_mirrored(picture))
        return reddit_row(record, self.images, self.spec, self.teacher, self._last[1], self._last[2])


_worker: dict = {}


def _init_worker(images: Path, with_teacher: bool) -> None:
    _worker["rows"] = RowMaker(images, with_teacher)


def _row_in_worker(record: dict) -> dict:
    return _worker["rows"](record)


def _labels_of_record(record: dict, with_teacher: bool) -> tuple:
    """What a built row must agree on with its manifest record to be reused (floats as stored: float32)."""
    return (record["image_file"], _f32(record["bmi"]), _f32(record["age"]), record["sex"] or "",
            tuple(_f32(v) for v in record["face_box"]), with_teacher)


def _f32(value):
    return None if value is None else float(np.float32(value))


def _row_labels(data):
    """(row key, labels) of every row, in the shape `_labels_of_record` gives."""
    columns = data.select_columns(["post_id", "photo", "file", "bmi", "age", "sex", "face_box",
                                   "teacher_embedding"]).to_dict()
    for post_id, photo, file, bmi, age, sex, box, teacher in zip(*columns.values()):
        yield row_key(post_id, photo), (file, _f32(bmi), _f32(age), sex, tuple(_f32(v) for v in box),
                                        teacher is not None)


def _finished_shards(shards_dir: Path, columns=None) -> list[Path]:
    """Shards written whole (save_to_disk writes dataset_info.json; a shard cut short lacks it) and, given
    `columns` (Features), holding all of them: a shard from an older schema is removed and its rows redone."""
    from datasets import load_from_disk

    if not shards_dir.exists():
        return []
    shards = sorted(p for p in shards_dir.iterdir() if p.is_dir())
    for p in shards:
        if not (p / "dataset_info.json").exists() or (columns and set(columns) - set(load_from_disk(str(p)).features)):
            shutil.rmtree(p)
    return [p for p in shards if p.exists()]


def read_exclusions(path: str | Path | None) -> set[str]:
    """Post ids to leave out (removal requests): one per line, '#' starts a comment."""
    if path is None:
        return set()
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    return {line.split("#")[0].strip() for line in lines} - {""}


def build_reddit(manifest: str | Path, images: str | Path, out: str | Path, with_teacher: bool = False,
                 exclude: set[str] = frozenset(), workers: int = 1, shard_size: int = prepare.SHARD_SIZE):
    """The dataset of every face the manifest assigns a weight to, except posts in `exclude`, saved at
    `out`. Returns it. Rows are saved in shards of `shard_size`, in manifest order; `workers` > 1: the faces
    are cropped by that many worker processes (training.collect.parallel, one torch thread each)."""
    from datasets import Dataset, concatenate_datasets, load_from_disk

    images, out = Path(images), Path(out)
    assigned = [r for r in read_manifest(manifest) if r["photo"] is not None and r["post_id"] not in exclude]
    wanted = {row_key(r["post_id"], r["photo"]): (i, _labels_of_record(r, with_teacher)) for i, r in enumerate(assigned)}
    shards_dir = out.parent / (out.name + ".shards")
    shards = _finished_shards(shards_dir, features())
    done = {key for shard in shards for key, labels in _row_labels(load_from_disk(str(shard)))
            if key in wanted and wanted[key][1] == labels}
    todo = [r for r in assigned if row_key(r["post_id"], r["photo"]) not in done]
    number = int(shards[-1].name) + 1 if shards else 0
    with ExitStack() as stack:
        if workers > 1 and len(todo) > 1:
            pool = stack.enter_context(process_pool(workers, _init_worker, (images, with_teacher)))
            make_rows = partial(pool.imap, _row_in_worker, chunksize=8)  # in order; a side-by-side's 2 faces together
        elif todo:
            make_rows = partial(map, RowMaker(images, with_teacher))
        for start in range(0, len(todo), shard_size):
            rows = list(make_rows(todo[start:start + shard_size]))
            Dataset.from_list(rows, features=features()).save_to_disk(str(shards_dir / f"{number:05d}"))
            number += 1  # a shard is done once save_to_disk has written it whole (its dataset_info.json)
    parts = [load_from_disk(str(p)) for p in _finished_shards(shards_dir)]
    data = concatenate_datasets(parts) if parts else Dataset.from_list([], features=features())
    # Keep each face of the current manifest once, in manifest order, from the latest shard whose labels
    # agree with the manifest: a face a person removed or relabelled while auditing drops out or is redone.
    latest = {}
    for i, (key, labels) in enumerate(_row_labels(data)):
        if key in wanted and wanted[key][1] == labels:
            latest[key] = i
    data = data.select([latest[key] for key in sorted(latest, key=lambda k: wanted[k][0])])
    _save_replacing(data, out)
    return load_from_disk(str(out))


def build_folders(folders: list[Path], out: str | Path, workers: int = 2, with_teacher: bool = False,
                  limit: int | None = None):
    """Labelled folders (images/ + labels.csv) -> the same schema, via training/prepare.py (resumable there)."""
    from datasets import load_from_disk

    out = Path(out)
    prepared = prepare.prepare(folders, out.parent / (out.name + ".prepare"), workers, with_teacher, limit)
    data = prepared.map(lambda batch: {"post_id": [None] * len(batch["file"]), "photo": [None] * len(batch["file"])},
                        batched=True, features=features())
    _save_replacing(data, out)
    return load_from_disk(str(out))


def _save_replacing(data, out: Path) -> None:
    """Save beside `out`, then swap it in: an interrupted save never leaves a half-written dataset at `out`."""
    tmp = out.parent / (out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    data.save_to_disk(str(tmp))
    old = out.parent / (out.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if out.exists():
        os.replace(out, old)
    os.replace(tmp, out)
    shutil.rmtree(old, ignore_errors=True)


# --- the dataset card ------------------------------------------------------------------------------------

def _utc(seconds: float) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(seconds))


def _table(counts: Counter, order) -> str:
    return "\n".join(f"| {name or 'unknown'} | {counts.get(name, 0)} |" for name in order)


def render_card(data, manifest_records: list[dict], downloads: dict[str, dict],
                template: Path = CARD_TEMPLATE) -> str:
    """The dataset card with the numbers of this build filled in."""
    columns = data.select_columns(["bmi", "age", "sex", "split", "group_id", "post_id", "photo", "file"]).to_dict()
    n = len(data)
    rows_by = lambda col: Counter(columns[col])  # noqa: E731
    split_rows = []
    for name in SPLITS:
        idx = [i for i, s in enumerate(columns["split"]) if s == name]
        split_rows.append(f"| {name} | {len(idx)} | {len({columns['group_id'][i] for i in idx})} | "
                          f"{len({columns['post_id'][i] for i in idx})} |")
    split_rows.append(f"| all | {n} | {len(set(columns['group_id']))} | {len(set(columns['post_id']))} |")
    bmis = sorted(b for b in columns["bmi"] if b is not None)
    if bmis:
        deciles = statistics.quantiles(bmis, n=10, method="inclusive") if len(bmis) > 1 else [bmis[0]] * 9
        bmi_summary = (f"{len(bmis)} faces: mean {statistics.fmean(bmis):.1f}, min {bmis[0]:.1f}, "
                       f"10th percentile {deciles[0]:.1f}, median {statistics.median(bmis):.1f}, "
                       f"90th percentile {deciles[-1]:.1f}, max {bmis[-1]:.1f}.")
    else:
        bmi_summary = "No faces."
    ages = [a for a in columns["age"] if a is not None]
    brackets = Counter(age_to_bracket(a) for a in ages)
    brackets[""] = n - len(ages)
    posts = {r["post_id"]: r for r in manifest_records}
    used_posts = set(columns["post_id"])
    dates = [posts[p]["created_utc"] for p in used_posts if p in posts] or [time.time()]
    files = set(columns["file"])
    fetched = [d["fetched_utc"] for d in downloads.values() if d.get("file") in files and d.get("fetched_utc")]
    fetched = fetched or [time.time()]
    skips = Counter(r["skip_reason"].split(" (")[0] for r in manifest_records if r["skip_reason"])
    n_faces = sum(1 for r in manifest_records if r["face_index"] is not None)
    skip_lines = [f"- {count} × {reason}" for reason, count in skips.most_common(15)] or ["- none"]
    skip_lines.insert(0, f"- {n_faces} faces found in all, {n} assigned a weight and kept.")
    present = [name for name in SPLITS if name in set(columns["split"])] or ["train"]
    values = {
        "size_category": "n<1K" if n < 1000 else "1K<n<10K" if n < 10000 else "10K<n<100K",
        "data_files": "\n".join(f"  - split: {name}\n    path: data/{name}-*" for name in present),
        "subreddits": ", ".join(sorted({f"r/{r['subreddit']}" for r in manifest_records})) or "Reddit",
        "first_post": _utc(min(dates)), "last_post": _utc(max(dates)),
        "first_fetch": _utc(min(fetched)), "last_fetch": _utc(max(fetched)),
        "n_posts_seen": len(posts), "n_posts_used": len(used_posts),
        "skip_reasons": "\n".join(skip_lines),
        "split_table": "\n".join(split_rows),
        "photo_counts": ", ".join(f"{rows_by('photo').get(p, 0)} {p}" for p in ("start", "current")),
        "bmi_summary": bmi_summary,
        "bmi_table": _table(Counter(who_category(b) for b in bmis), [name for _, name in WHO_CATEGORIES]),
        "sex_table": _table(rows_by("sex"), ["F", "M", ""]),
        "age_table": _table(brackets, [*AGE_BRACKETS, ""]),
    }
    return Template(template.read_text(encoding="utf-8")).substitute(values)


HUB_SHARD_BYTES = 500 * 2**20  # at most ~500 MB of Arrow data per parquet file, as Dataset.push_to_hub writes


def hub_files(data, card: str, folder: Path) -> dict[str, Path | bytes]:
    """The files of the Hub repo, in the layout `datasets.load_dataset(REPO)` reads (the one `push_to_hub`
    writes): each non-empty split as `data/<split>-00000-of-0000N.parquet` (written into `folder`; the parquet
    carries the features, Image column included) and the card as README.md, whose `configs` front matter
    names `data/<split>-*` for each split."""
    files: dict[str, Path | bytes] = {"README.md": card.encode("utf-8")}
    split_of_row = list(data["split"])
    (folder / "data").mkdir(parents=True, exist_ok=True)
    for name in SPLITS:
        part = data.select([i for i, s in enumerate(split_of_row) if s == name])  # indices in memory: no cache file
        if not len(part):
            continue
        arrow_bytes = part.data.nbytes * len(part) / max(1, part.data.num_rows)  # this split's share of the table
        n = max(1, math.ceil(arrow_bytes / HUB_SHARD_BYTES))
        for index in range(n):
            path = f"data/{name}-{index:05d}-of-{n:05d}.parquet"
            part.shard(num_shards=n, index=index, contiguous=True).to_parquet(str(folder / path))
            files[path] = folder / path
    if len(files) == 1:
        from training.hub import HubPushError

        raise HubPushError("nothing to push: the dataset has no rows")
    return files


def push(data, repo: str, card: str, token: str, private: bool = True):
    """Push the splits as parquet and the card as README.md to a Hub dataset repo in ONE commit, through
    training.hub: the repo is created if needed (private unless asked), only changed files are sent, shards
    the new build no longer has are deleted, and an unchanged dataset makes no commit. Returns the PushResult."""
    from training.hub import push_files

    with tempfile.TemporaryDirectory(prefix="facebmi-push-") as folder:
        files = hub_files(data, card, Path(folder))
        return push_files(files, repo, repo_type="dataset", private=private, token=token,
                          commit_message="Upload facebmi face dataset", delete_patterns=["data/*"])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    reddit = sub.add_parser("reddit", help="the manifest of training.collect.assign_faces -> dataset (+ card, + push)")
    reddit.add_argument("--manifest", type=Path, required=True)
    reddit.add_argument("--images", type=Path, required=True, help="training.collect.download's output folder")
    reddit.add_argument("--out", type=Path, required=True)
    reddit.add_argument("--teacher", action="store_true", help="add dlib teacher descriptors")
    reddit.add_argument("--exclude", type=Path, help="file of post ids to leave out (removal requests)")
    reddit.add_argument("--push", metavar="REPO", help="push to this Hub dataset repo (token from HF_TOKEN)")
    reddit.add_argument("--public", action="store_true", help="make a newly created Hub repo public")
    reddit.add_argument("--workers", type=int, default=default_workers(),
                        help="processes cropping faces (default: one per core; 1: in this process)")
    reddit.add_argument("--shard-size", type=int, default=prepare.SHARD_SIZE,
                        help="rows per saved shard: what an interruption can lose (default %(default)s)")
    folders = sub.add_parser("folders", help="labelled folders (images/ + labels.csv) -> dataset, never pushed")
    folders.add_argument("--out", type=Path, required=True)
    folders.add_argument("--folders", type=Path, nargs="+",
                         default=[SHARED_DATASETS / name for name in GROUP_COLUMNS])
    folders.add_argument("--workers", type=int, default=2)
    folders.add_argument("--teacher", action="store_true", help="add dlib teacher descriptors")
    folders.add_argument("--limit", type=int, help="first N rows of each folder (smoke tests)")
    args = parser.parse_args(argv)

    if args.command == "folders":
        data = build_folders(args.folders, args.out, args.workers, args.teacher, args.limit)
        print(f"{len(data)} rows saved to {args.out}", file=sys.stderr)
        return
    token = os.environ.get("HF_TOKEN")
    if args.push and not token:
        parser.error("--push needs a Hugging Face token with write access in the HF_TOKEN environment variable")
    data = build_reddit(args.manifest, args.images, args.out, args.teacher, read_exclusions(args.exclude),
                        workers=args.workers, shard_size=args.shard_size)
    card = render_card(data, read_manifest(args.manifest), read_log(args.images))
    (args.out / "README.md").write_text(card, encoding="utf-8")
    print(f"{len(data)} faces saved to {args.out} (card: {args.out / 'README.md'})", file=sys.stderr)
    if args.push:
        from training.hub import HubPushError

        try:
            result = push(data, args.push, card, token, private=not args.public)
        except HubPushError as err:
            sys.exit(f"error: {err}")
        print("\n".join(result.report_lines(asked_public=args.public)), file=sys.stderr)


if __name__ == "__main__":
    main()
