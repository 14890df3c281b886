"""Collection at scale: the whole data chain on a synthetic scrape, served on loopback, step by step.

    python -m benchmarks.collect --posts 2000 [--workers 2] [--threads 8] [--seed 0] [--out DIR]

Builds N posts whose titles are real r/progresspics titles (a seeded draw from
../shared/datasets/progresspics-titles-more/titles.csv) and whose pictures are generated in memory from
scikit-image's astronaut (tests/synthetic_scrape.py: single photos, side-by-side before/afters, galleries,
photos without a face, deleted images, text posts), serves them from the loopback Reddit API
(tests/fake_reddit.py) and image host (tests/image_server.py), then times each step of the chain as a user
runs it:

    scrape          python -m training.collect.scrape (praw, against the loopback API)
    parse_titles    python -m training.collect.parse_titles posts.jsonl > titles.jsonl
    download        training.collect.download.download_posts, --threads at once (requests; i.redd.it and i.imgur.com
                    are sent to the loopback host by tests.image_server.LoopbackAdapter, so this step runs in
                    this process rather than as `python -m training.collect.download`)
    assign_faces    python -m training.collect.assign_faces --workers N (MTCNN in N processes)
    build_dataset   python -m training.collect.build_dataset reddit --workers N (crops in N processes)

and prints one JSON report: per step its seconds and rate (its own unit, and the chain's images per second,
i.e. image URLs scraped / the step's seconds), and end to end (the sum of the steps). Command start-up time
is part of each step. `--workers 1 --threads 1` runs every step one item at a time (the serial baseline).
The report says which other busy processes shared the machine.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
SALT = "collect-benchmark-salt"
# Processes that would make the timings meaningless (the evaluation and training jobs of this project).
BUSY = r"training\.(train|evaluate|robustness|explain_map|prepare)|benchmarks\.(latency|load|live)"


def other_jobs() -> list[str]:
    found = subprocess.run(["pgrep", "-af", BUSY], capture_output=True, text=True).stdout.splitlines()
    return [line[:120] for line in found if str(os.getpid()) != line.split()[0]]


def run(command: list[str], env: dict, stdout=None) -> float:
    """Seconds `python -m ...` took; raises with its stderr if it failed."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", *command], cwd=ROOT, env=env, stdout=stdout or subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command[:1])} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return seconds


def rate(count: float, seconds: float) -> float:
    return round(count / seconds, 2) if seconds > 0 else float("inf")


def benchmark(n_posts: int, work: Path, workers: int, threads: int, seed: int, titles_csv: Path) -> dict:
    from datasets import load_from_disk

    from tests.fake_reddit import FakeReddit
    from tests.image_server import ImageServer, LoopbackAdapter, Route
    from tests.synthetic_scrape import read_titles, synthetic_scrape
    from training.collect.assign_faces import read_manifest
    from training.collect.download import download_posts
    from training.collect.posts import read_posts

    report: dict = {"posts": n_posts, "seed": seed, "workers": workers, "download_threads": threads,
                    "machine": {"cpus": os.cpu_count(), "load_average_before": [round(v, 2) for v in os.getloadavg()],
                                "other_jobs_before": other_jobs()}}
    start = time.perf_counter()
    scrape = synthetic_scrape(read_titles(titles_csv), n_posts, seed=seed)
    report["synthetic_scrape"] = {
        "seconds_to_generate": round(time.perf_counter() - start, 1), "kinds": scrape.kinds,
        "image_urls": scrape.n_image_urls, "served_images": len(scrape.images),
        "mean_image_kb": round(sum(len(b) for b, _ in scrape.images.values()) / max(1, len(scrape.images)) / 1024, 1)}
    posts_file, titles_file = work / "posts.jsonl", work / "titles.jsonl"
    images, manifest, dataset = work / "images", work / "manifest.jsonl", work / "reddit"
    steps: dict[str, dict] = {}
    with FakeReddit({"progresspics": scrape.posts}) as reddit, ImageServer() as host:
        reddit.full_posts.update(scrape.full_posts)
        for path, (body, content_type) in scrape.images.items():
            host.add(path, Route(body, content_type))
        env = {**os.environ, **reddit.credentials_env(), "FACEBMI_AUTHOR_SALT": SALT,
               "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}

        seconds = run(["training.collect.scrape", "--out", str(posts_file), "--limit", str(n_posts), "--timeout", "30",
                       "--reddit-url", reddit.url, "--oauth-url", reddit.url], env)
        posts = read_posts(posts_file, strict=True)
        chain_images = sum(len(p.image_urls) for p in posts)
        steps["scrape"] = {"seconds": round(seconds, 2), "posts": len(posts), "posts_per_s": rate(len(posts), seconds),
                           "images": chain_images}

        with titles_file.open("w", encoding="utf-8") as out:
            seconds = run(["training.collect.parse_titles", str(posts_file)], env, stdout=out)
        parsed = [json.loads(line) for line in titles_file.read_text(encoding="utf-8").splitlines()]
        steps["parse_titles"] = {"seconds": round(seconds, 2), "titles": len(parsed),
                                 "titles_per_s": rate(len(parsed), seconds), "ok": sum(p["ok"] for p in parsed)}

        session = requests.Session()
        session.mount("https://", LoopbackAdapter(host.base, pool_maxsize=max(10, threads)))
        start = time.perf_counter()
        counts = download_posts(posts, images, session=session, workers=threads)
        seconds = time.perf_counter() - start
        session.close()
        steps["download"] = {"seconds": round(seconds, 2), **counts,
                             "images_per_s": rate(counts["downloaded"] + counts["failed"], seconds)}

    seconds = run(["training.collect.assign_faces", "--posts", str(posts_file), "--images", str(images),
                   "--manifest", str(manifest), "--workers", str(workers)], env)
    records = read_manifest(manifest)
    looked_at = {r["image_file"] for r in records if r["image_file"]}  # every downloaded image has a record
    steps["assign_faces"] = {
        "seconds": round(seconds, 2), "posts": len({r["post_id"] for r in records}),
        "images_detected": len(looked_at), "images_per_s": rate(len(looked_at), seconds),
        "faces_found": sum(r["face_index"] is not None for r in records),
        "faces_assigned": sum(r["photo"] is not None for r in records)}

    seconds = run(["training.collect.build_dataset", "reddit", "--manifest", str(manifest), "--images", str(images),
                   "--out", str(dataset), "--workers", str(workers)], env)
    data = load_from_disk(str(dataset))
    keys = list(zip(data["post_id"], data["photo"]))
    steps["build_dataset"] = {"seconds": round(seconds, 2), "rows": len(data), "rows_per_s": rate(len(data), seconds),
                              "duplicate_rows": len(keys) - len(set(keys))}

    for step in steps.values():
        step["chain_images_per_s"] = rate(chain_images, step["seconds"])
    total = sum(step["seconds"] for step in steps.values())
    report["steps"] = steps
    report["end_to_end"] = {"seconds": round(total, 2), "images": chain_images,
                            "images_per_s": rate(chain_images, total), "dataset_rows": len(data)}
    report["machine"]["other_jobs_after"] = other_jobs()
    report["machine"]["idle"] = not (report["machine"]["other_jobs_before"] or report["machine"]["other_jobs_after"])
    return report


def main(argv=None) -> None:
    from tests.synthetic_scrape import TITLES_CSV

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--posts", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2, help="processes for detection and crops (1: serial)")
    parser.add_argument("--threads", type=int, default=8, help="downloads at once (1: one by one)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--titles", type=Path, default=TITLES_CSV, help="CSV with a title column")
    parser.add_argument("--out", type=Path, help="keep the chain's files here (a new or empty folder); "
                                                  "default: a temporary folder, removed afterwards")
    args = parser.parse_args(argv)
    if not args.titles.is_file():
        parser.error(f"no titles at {args.titles} (../shared/datasets beside the checkout)")
    if args.out and args.out.exists() and any(args.out.iterdir()):
        parser.error(f"{args.out} is not empty: every step would resume from it instead of doing the work")
    work = args.out or Path(tempfile.mkdtemp(prefix="facebmi-collect-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        report = benchmark(args.posts, work, args.workers, args.threads, args.seed, args.titles)
    finally:
        if args.out is None:
            shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
