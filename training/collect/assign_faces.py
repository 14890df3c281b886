"""Find the faces in each post's downloaded images and decide which weight of the title each face shows.

    python -m training.collect.assign_faces --posts posts.jsonl --images images/ --manifest manifest.jsonl

A progress picture is a before/after: the start weight on the left and the current weight on the right,
or, in a gallery, the first image at the start weight and the last at the current one. A face gets a
weight only when the face count and layout leave no doubt (the rules are in `assign`); every other face,
and every post that cannot be used, is recorded with a named reason. The manifest (JSONL) holds one record
per decision, so a person can audit every label and build_dataset can crop exactly the assigned faces.
Resumable: posts already in the manifest are skipped; a post cut short by an interruption is redone.
Faces are detected in `--workers` processes (default: one per core); decisions are written post by post, in
post order, as before.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from facebmi.config import ModelConfig
from facebmi.detect import Detection, FaceDetector
from facebmi.images import ImageError, load_image
from training.collect.download import read_log
from training.collect.parallel import default_workers, process_pool
from training.collect.titles import parse_title

# Two faces in one picture count as a before/after pair only if the larger is at most this many times the
# smaller (in box height): a much smaller second face is a bystander or a photo on the wall.
MAX_PAIR_SIZE_RATIO = 2.5

PHOTOS = ("start", "current")  # the weights of a title a photo can show; the goal weight is never pictured


@dataclass(frozen=True)
class TitleLabels:
    """What assignment needs from a parsed title."""

    sex: str  # 'F', 'M' or '' (unknown)
    age: float | None
    height_m: float | None
    weight_kg: dict  # 'start'/'current' -> kg, only the weights the title gives
    bmi: dict  # 'start'/'current' -> BMI, same keys
    n_weights: int  # weights in the title's chain (200 > 180 > 160 has three; the goal is not counted)


@dataclass(frozen=True)
class ImageFaces:
    index: int  # position in the post's image_urls
    url: str
    file: str | None  # in the images folder; None when the download failed
    faces: list[Detection]
    size: tuple[int, int] | None = None  # width, height
    error: str | None = None  # why there are no faces to look at (download failure, unreadable image)


@dataclass(frozen=True)
class Decision:
    image: ImageFaces | None  # None: a decision about the whole post before any image was looked at
    face_index: int | None  # index into image.faces, None for image- or post-level decisions
    photo: str | None  # 'start' or 'current' when assigned
    reason: str | None  # why nothing was assigned


def title_labels(parse) -> TitleLabels | str:
    """A training.collect.titles parse -> TitleLabels, or the reason the title cannot label a photo."""
    if not parse.ok:
        return f"title refused: {parse.reason}"
    weights = {photo: getattr(parse, f"{photo}_kg") for photo in PHOTOS if getattr(parse, f"{photo}_kg")}
    bmis = {photo: getattr(parse, f"bmi_{photo}") for photo in weights}
    if not weights:
        return "title has no start or current weight"
    sex = (parse.sex or "").upper()
    return TitleLabels(sex=sex if sex in ("F", "M") else "", age=parse.age, height_m=parse.height_m,
                       weight_kg=weights, bmi=bmis, n_weights=len(parse.weights_kg or weights))


def side_by_side_problem(image: ImageFaces) -> str | None:
    """None when the image's two faces read as a left/right before-after pair, else what is wrong."""
    width = image.size[0]
    a, b = sorted(image.faces, key=lambda d: d.box[0] + d.box[2])
    (ax, ay), (bx, by) = [((d.box[0] + d.box[2]) / 2, (d.box[1] + d.box[3]) / 2) for d in (a, b)]
    if not ax < width / 2 < bx:
        return "two faces in one image, not one in each half"
    if abs(by - ay) >= abs(bx - ax):
        return "two faces in one image, placed above each other rather than side by side"
    heights = sorted(d.box[3] - d.box[1] for d in (a, b))
    if heights[1] > MAX_PAIR_SIZE_RATIO * heights[0]:
        return f"two faces in one image of very different sizes ({heights[0]:.0f} and {heights[1]:.0f} px)"
    return None


def assign(images: list[ImageFaces], labels: TitleLabels) -> list[Decision]:
    """The rules. Every face and every faceless image gets exactly one decision."""
    if not images:
        return [Decision(None, None, None, "post has no image URLs")]
    broken = [im for im in images if im.error]
    if broken:  # a missing gallery image breaks "first = start, last = current"
        reason = f"image {broken[0].index + 1} of {len(images)} unusable ({broken[0].error})"
        return _skip_all(images, reason)
    if len({im.file for im in images}) < len(images):
        return _skip_all(images, "the same image appears twice in the post")
    both = set(labels.weight_kg) == set(PHOTOS)
    if len(images) == 1:
        image = images[0]
        n = len(image.faces)
        if n == 0:
            return [Decision(image, None, None, "no face found")]
        if n == 1:
            if both:
                return _skip_all(images, "one face in a single image: start or current cannot be told")
            return [Decision(image, 0, next(iter(labels.weight_kg)), None)]
        if n == 2:
            if not both:
                return _skip_all(images, "two faces but the title gives one weight")
            if labels.n_weights > 2:
                return _skip_all(images, f"two faces but the title gives {labels.n_weights} weights")
            problem = side_by_side_problem(image)
            if problem:
                return _skip_all(images, problem)
            left = min(range(2), key=lambda i: image.faces[i].box[0] + image.faces[i].box[2])
            return [Decision(image, left, "start", None), Decision(image, 1 - left, "current", None)]
        return _skip_all(images, f"{n} faces in one image")
    crowded = [im for im in images if len(im.faces) != 1]
    if crowded:
        im = crowded[0]
        return _skip_all(images, f"image {im.index + 1} of {len(images)} has {len(im.faces)} faces, "
                                 "expected one face per image")
    if not both:
        return _skip_all(images, "several images but the title gives one weight")
    decisions = [Decision(images[0], 0, "start", None)]
    decisions += [Decision(im, 0, None, "between the first and last image: its weight is not in the title")
                  for im in images[1:-1]]
    return decisions + [Decision(images[-1], 0, "current", None)]


def _skip_all(images: list[ImageFaces], reason: str) -> list[Decision]:
    return [Decision(im, i, None, reason) for im in images for i in range(len(im.faces))] + \
        [Decision(im, None, None, reason) for im in images if not im.faces]


def post_records(post, decisions: list[Decision], labels: TitleLabels | None) -> list[dict]:
    """The manifest lines for one post, in image and face order."""
    decisions = sorted(decisions, key=lambda d: (d.image.index if d.image else -1,
                                                 -1 if d.face_index is None else d.face_index))
    records = []
    for d in decisions:
        face = d.image.faces[d.face_index] if d.image is not None and d.face_index is not None else None
        assigned = d.photo is not None
        records.append({
            "post_id": post.id, "subreddit": post.subreddit, "created_utc": post.created_utc,
            "permalink": post.permalink, "author_hash": post.author_hash, "title": post.title,
            "image_index": d.image.index if d.image else None, "image_url": d.image.url if d.image else None,
            "image_file": d.image.file if d.image else None,
            "face_index": d.face_index, "face_box": [round(v, 2) for v in face.box] if face else None,
            "face_score": round(face.score, 5) if face else None,
            "landmarks": face.landmarks.round(2).tolist() if face else None,
            "photo": d.photo, "weight_kg": labels.weight_kg[d.photo] if assigned else None,
            "bmi": labels.bmi[d.photo] if assigned else None,
            "sex": labels.sex if labels else None, "age": labels.age if labels else None,
            "height_m": labels.height_m if labels else None,
            "skip_reason": d.reason, "post_records": len(decisions),
        })
    return records


def read_manifest(path: str | Path) -> list[dict]:
    """The records of every complete post, in file order; a post redone later replaces its earlier lines.

    Each record carries its post's record count, so lines cut short by an interruption are recognised and
    left out (their post is redone on the next run).
    """
    path = Path(path)
    posts: dict[str, list[dict]] = {}
    group: list[dict] = []
    if not path.exists():
        return []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            group = []
            continue
        if group and group[0]["post_id"] != record["post_id"]:
            group = []  # the previous post stopped short
        group.append(record)
        if len(group) == record["post_records"]:
            posts.pop(record["post_id"], None)  # re-insert, so order follows the latest write
            posts[record["post_id"]] = group
            group = []
    return [record for records in posts.values() for record in records]


def _write_atomically(path: Path, records: list[dict]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    os.replace(tmp, path)


def detect_file(detector: FaceDetector, images: Path, file: str) -> tuple[list[Detection], tuple | None, str | None]:
    """(faces, size, error) of one downloaded image file."""
    try:
        picture = load_image(Path(images) / file)
    except ImageError as err:
        return [], None, f"unreadable: {err}"
    return detector.detect(picture), picture.size, None


_worker: dict = {}


def _init_worker(spec, device: str) -> None:
    _worker["detector"] = FaceDetector(spec, device=device)


def _detect_in_worker(job: tuple[Path, str]):
    return detect_file(_worker["detector"], *job)


def assign_posts(posts, images: str | Path, manifest: str | Path, detector: FaceDetector | None = None,
                 workers: int = 1, device: str = "cpu") -> dict[str, int]:
    """Append the decisions for every post not yet in the manifest. Returns counts of what happened.

    A post whose images are not all downloaded yet (never tried, or failed in a way a rerun of the
    download may fix) is left for a later run rather than recorded as unusable. Each image file is
    detected once, however many posts use it. `workers` > 1: the files are detected in that many worker
    processes (one torch thread each; `detector`, if given, lends them its settings), while this process
    writes each post's decisions, in post order, as soon as its images are done.
    """
    images, manifest = Path(images), Path(manifest)
    kept = read_manifest(manifest)
    if manifest.exists():
        _write_atomically(manifest, kept)  # drops the lines of a post cut short
    done = {r["post_id"] for r in kept}
    downloads = read_log(images)
    counts = {"posts": 0, "already_done": 0, "waiting_for_download": 0, "faces_assigned": 0, "records": 0}
    todo = []  # (post, labels, or why the title cannot label a photo)
    for post in posts:
        if post.id in done:
            counts["already_done"] += 1
            continue
        labels = title_labels(parse_title(post.title))
        pending = [url for url in post.image_urls
                   if url not in downloads or downloads[url].get("transient") and not downloads[url]["file"]]
        if pending and not isinstance(labels, str):
            counts["waiting_for_download"] += 1
            continue
        done.add(post.id)
        todo.append((post, labels))
    # Every file a labelled post needs, in the order the posts need them: results come back in this order.
    files = list(dict.fromkeys(downloads[url]["file"] for post, labels in todo if not isinstance(labels, str)
                               for url in post.image_urls if downloads[url].get("file")))
    spec = detector.spec if detector is not None else ModelConfig().detect
    with ExitStack() as stack:
        if workers > 1 and len(files) > 1:
            pool = stack.enter_context(process_pool(workers, _init_worker, (spec, device)))
            results = pool.imap(_detect_in_worker, [(images, file) for file in files], chunksize=2)
        else:
            detector = detector or (FaceDetector(spec, device=device) if files else None)
            results = (detect_file(detector, images, file) for file in files)
        detected = {}  # file -> (faces, size, error)
        arriving = zip(files, results)

        def image_faces(index: int, url: str) -> ImageFaces:
            log_record = downloads[url]
            file = log_record.get("file")
            if not file:
                return ImageFaces(index, url, None, [], error=f"download failed: {log_record.get('reason')}")
            while file not in detected:
                name, result = next(arriving)
                detected[name] = result
            return ImageFaces(index, url, file, *detected[file])

        with manifest.open("a", encoding="utf-8") as out:
            for post, labels in todo:
                if isinstance(labels, str):
                    decisions, labels = [Decision(None, None, None, labels)], None
                else:
                    decisions = assign([image_faces(i, url) for i, url in enumerate(post.image_urls)], labels)
                records = post_records(post, decisions, labels)
                out.write("".join(json.dumps(r) + "\n" for r in records))
                out.flush()
                counts["posts"] += 1
                counts["records"] += len(records)
                counts["faces_assigned"] += sum(r["photo"] is not None for r in records)
    return counts


def main(argv=None):
    from training.collect.posts import read_posts

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--posts", type=Path, required=True, help="the scraper's JSONL file")
    parser.add_argument("--images", type=Path, required=True, help="training.collect.download's output folder")
    parser.add_argument("--manifest", type=Path, required=True, help="JSONL of decisions (appended to)")
    parser.add_argument("--device", default="cpu", help="torch device for MTCNN, e.g. cuda")
    parser.add_argument("--workers", type=int, default=default_workers(),
                        help="detection processes, one torch thread each (default: one per core; "
                             "1: in this process, with torch's own threads)")
    args = parser.parse_args(argv)
    counts = assign_posts(read_posts(args.posts), args.images, args.manifest, workers=args.workers,
                          device=args.device)
    print(f"{counts['posts']} posts looked at ({counts['already_done']} already in the manifest, "
          f"{counts['waiting_for_download']} waiting for their images), "
          f"{counts['faces_assigned']} faces assigned a weight; decisions in {args.manifest}", file=sys.stderr)


if __name__ == "__main__":
    main()
