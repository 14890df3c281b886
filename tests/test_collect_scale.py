"""The collection chain's parallel paths (threaded downloads, detection and crops in worker processes) on a
small synthetic scrape (tests/synthetic_scrape.py) served by the loopback Reddit API and image host: they
give what the serial paths give, and a real step killed with SIGKILL mid-way, then rerun, loses and
duplicates nothing. benchmarks/collect.py runs the same chain at scale."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import requests

from tests.fake_reddit import FakeReddit
from tests.image_server import ImageServer, LoopbackAdapter, Route
from tests.synthetic_scrape import FALLBACK_TITLES, synthetic_scrape
from training.collect.assign_faces import assign_posts, read_manifest
from training.collect.build_dataset import build_reddit
from training.collect.download import LOG_NAME, DownloadLimits, download_posts, read_log
from training.collect.posts import PostRecord, read_posts
from training.collect.scrape import ScrapeConfig, make_reddit, scrape

ROOT = Path(__file__).resolve().parents[1]
SALT = "collect-scale-salt"
N_POSTS = 30
LIMITS = DownloadLimits(attempts=2, backoff=0.01)


@pytest.fixture(scope="module")
def serial(tmp_path_factory):
    """The chain run one item at a time: scrape -> download -> assign -> build, from 30 synthetic posts."""
    tmp = tmp_path_factory.mktemp("serial")
    synthetic = synthetic_scrape(FALLBACK_TITLES, N_POSTS, seed=7)
    with FakeReddit({"progresspics": synthetic.posts}) as reddit, ImageServer() as host, \
            pytest.MonkeyPatch.context() as patch:
        reddit.full_posts.update(synthetic.full_posts)
        for path, (body, content_type) in synthetic.images.items():
            host.add(path, Route(body, content_type))
        for key, value in {**reddit.credentials_env(), "FACEBMI_AUTHOR_SALT": SALT}.items():
            patch.setenv(key, value)
        stats = scrape(make_reddit(**reddit.praw_config(timeout=10)), ScrapeConfig(out=tmp / "posts.jsonl", limit=100))
        assert stats.written == N_POSTS - synthetic.kinds["text"]
        posts = read_posts(tmp / "posts.jsonl", strict=True)
        counts = download_posts(posts, tmp / "images", LIMITS, session=loopback(host), workers=1)
        assert counts["downloaded"] == len(synthetic.images) and counts["failed"] == synthetic.kinds["deleted_image"]
        chain = {"tmp": tmp, "synthetic": synthetic, "posts": posts, "host": host, "images": tmp / "images",
                 "manifest": tmp / "manifest.jsonl", "dataset": tmp / "dataset"}
        chain["assign_counts"] = assign_posts(posts, chain["images"], chain["manifest"], workers=1)
        chain["data"] = build_reddit(chain["manifest"], chain["images"], chain["dataset"], workers=1)
        assert len(chain["data"]) >= 10  # enough faces that the shards below are several
        yield chain


def loopback(host: ImageServer) -> requests.Session:
    session = requests.Session()
    session.mount("https://", LoopbackAdapter(host.base))
    return session


# --- comparisons: detection in a worker (one torch thread) may differ from the serial run's in the last bits

def assert_same_manifest(got: list[dict], expected: list[dict]) -> None:
    assert [(r["post_id"], r["image_index"], r["face_index"]) for r in got] == \
        [(r["post_id"], r["image_index"], r["face_index"]) for r in expected]
    for a, b in zip(got, expected):
        for key in b:
            if key in ("face_box", "landmarks") and b[key] is not None:
                assert np.allclose(a[key], b[key], atol=0.05), (key, a, b)
            elif key == "face_score" and b[key] is not None:
                assert a[key] == pytest.approx(b[key], abs=1e-4), (a, b)
            else:
                assert a[key] == b[key], (key, a, b)


def assert_same_dataset(got, expected) -> None:
    assert got.features == expected.features
    labels = ["post_id", "photo", "file", "source", "bmi", "age", "bracket", "sex", "group_id", "split"]
    assert got.select_columns(labels).to_list() == expected.select_columns(labels).to_list()
    for a, b in zip(got, expected):
        assert np.allclose(a["face_box"], b["face_box"], atol=0.05)
        for column in ("image", "context"):
            pixels_a, pixels_b = np.asarray(a[column], dtype=float), np.asarray(b[column], dtype=float)
            assert pixels_a.shape == pixels_b.shape and np.abs(pixels_a - pixels_b).mean() < 0.5, column


def outcomes(images: Path) -> dict:
    keep = ("post_id", "file", "reason", "transient", "bytes", "width", "height", "content_type")
    return {url: {k: record[k] for k in keep} for url, record in read_log(images).items()}


def test_parallel_steps_give_what_the_serial_steps_give(serial, tmp_path):
    posts, images = serial["posts"], tmp_path / "images"
    counts = download_posts(posts, images, LIMITS, session=loopback(serial["host"]), workers=4)
    assert counts == {"downloaded": len(serial["synthetic"].images),
                      "failed": serial["synthetic"].kinds["deleted_image"], "skipped": 0}
    assert outcomes(images) == outcomes(serial["images"])
    assert sorted(p.name for p in images.iterdir()) == sorted(p.name for p in serial["images"].iterdir())

    manifest = tmp_path / "manifest.jsonl"
    assert assign_posts(posts, images, manifest, workers=2) == serial["assign_counts"]
    assert_same_manifest(read_manifest(manifest), read_manifest(serial["manifest"]))

    data = build_reddit(manifest, images, tmp_path / "dataset", workers=2, shard_size=4)
    assert len(list((tmp_path / "dataset.shards").iterdir())) == -(-len(data) // 4)
    assert_same_dataset(data, serial["data"])


def _start(command: list[str]) -> subprocess.Popen:
    """A step as its own process group, so the kill reaches its worker processes too."""
    return subprocess.Popen([sys.executable, "-m", *command], cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, start_new_session=True)


def _kill_when(process: subprocess.Popen, ready, what: str, timeout: float = 60) -> None:
    try:
        deadline = time.monotonic() + timeout
        while not ready() and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.05)
        assert process.poll() is None, f"the step ended before {what}: {process.stderr.read().decode()[-2000:]}"
        assert ready(), f"no {what} within {timeout} s"
    finally:
        os.killpg(process.pid, signal.SIGKILL)  # the step and its workers: only the group this test started
        process.wait()


def _rerun(command: list[str]) -> str:
    done = subprocess.run([sys.executable, "-m", *command], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stderr


def _blocked_copy(serial, tmp_path: Path, file: str) -> Path:
    """The serial run's images, with `file` replaced by a named pipe: whoever opens it waits (for a writer
    that never comes), which holds the step at a known point until it is killed."""
    images = tmp_path / "images"
    shutil.copytree(serial["images"], images)
    (images / file).unlink()
    os.mkfifo(images / file)
    return images


def _restore(serial, images: Path, file: str) -> None:
    (images / file).unlink()
    shutil.copy(serial["images"] / file, images / file)


def test_a_killed_parallel_download_resumes_without_loss_or_duplicates(serial, tmp_path):
    synthetic = serial["synthetic"]
    release = threading.Event()
    with ImageServer() as host:
        for path, (body, content_type) in synthetic.images.items():
            host.add(path, Route(body, content_type))
        local = lambda url: host.url("/" + url.split("://", 1)[1])  # noqa: E731  https://HOST/P -> loopback /HOST/P
        posts = [PostRecord(**{**p.to_dict(), "image_urls": [local(u) for u in p.image_urls]}) for p in serial["posts"]]
        urls = [u for p in posts for u in p.image_urls]
        served = [u for u in urls if u.removeprefix(host.base) in synthetic.images]
        held = [served[len(served) // 2], served[-1]]  # answered only after the kill
        for url in held:
            host.routes[url.removeprefix(host.base)].block = release
        posts_file, images = tmp_path / "posts.jsonl", tmp_path / "images"
        posts_file.write_text("".join(p.to_json() + "\n" for p in posts))
        command = ["training.collect.download", "--posts", str(posts_file), "--out", str(images), "--workers", "4",
                   "--attempts", "2", "--backoff", "0.01"]
        log = images / LOG_NAME
        _kill_when(_start(command), lambda: log.exists() and log.read_text().count("\n") == len(urls) - 2,
                   "every URL but the two held logged")
        assert set(read_log(images)) == set(urls) - set(held)
        release.set()
        stderr = _rerun(command)
        assert f"2 downloaded, 0 failed, {len(urls) - 2} already done" in stderr
        for url in urls:
            assert host.hits[url.removeprefix(host.base)] == (2 if url in held else 1), url
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert sorted(r["url"] for r in lines) == sorted(urls)  # one record per URL: none lost, none twice
    assert outcomes(images) == {local(url): outcome for url, outcome in outcomes(serial["images"]).items()}
    files = sorted(p.name for p in images.iterdir() if p.is_file() and p.name != LOG_NAME)
    assert files == sorted({r["file"] for r in lines if r["file"]}) and not list((images / ".part").iterdir())


def test_a_killed_parallel_assignment_resumes_without_loss_or_duplicates(serial, tmp_path):
    expected = read_manifest(serial["manifest"])
    post_ids = list(dict.fromkeys(r["post_id"] for r in expected))
    # Hold the first image of a post about two thirds of the way in that has one.
    blocked_post = next(p for p in post_ids[len(post_ids) * 2 // 3:]
                        if any(r["image_file"] for r in expected if r["post_id"] == p))
    file = next(r["image_file"] for r in expected if r["post_id"] == blocked_post and r["image_file"])
    before = post_ids[:post_ids.index(blocked_post)]
    images = _blocked_copy(serial, tmp_path, file)
    posts_file, manifest = serial["tmp"] / "posts.jsonl", tmp_path / "manifest.jsonl"
    command = ["training.collect.assign_faces", "--posts", str(posts_file), "--images", str(images),
               "--manifest", str(manifest), "--workers", "2"]
    written = lambda: [r["post_id"] for r in read_manifest(manifest)]  # noqa: E731
    _kill_when(_start(command), lambda: list(dict.fromkeys(written())) == before,
               f"the {len(before)} posts before the held image written")
    assert list(dict.fromkeys(written())) == before  # the kill cut nothing short that is counted as done

    _restore(serial, images, file)
    stderr = _rerun(command)
    assert f"{len(post_ids) - len(before)} posts looked at ({len(before)} already in the manifest" in stderr
    assert_same_manifest(read_manifest(manifest), expected)
    raw = [json.loads(line)["post_id"] for line in manifest.read_text().splitlines()]
    assert raw == [r["post_id"] for r in expected]  # the file itself: every post's records once, in order


def test_a_killed_parallel_build_resumes_without_loss_or_duplicates(serial, tmp_path):
    from datasets import load_from_disk

    expected = serial["data"]
    files = list(expected["file"])
    # Hold a face of the third shard (4 rows a shard) whose picture no earlier row uses.
    held = next(i for i in range(8, len(files)) if files[i] not in files[:8])
    shard_of_held = held // 4
    images = _blocked_copy(serial, tmp_path, files[held])
    out = tmp_path / "dataset"
    command = ["training.collect.build_dataset", "reddit", "--manifest", str(serial["manifest"]), "--images", str(images),
               "--out", str(out), "--workers", "2", "--shard-size", "4"]
    shards = tmp_path / "dataset.shards"
    finished = lambda: sorted(p.parent.name for p in shards.glob("*/dataset_info.json"))  # noqa: E731
    _kill_when(_start(command), lambda: len(finished()) == shard_of_held, f"{shard_of_held} shards saved")
    assert finished() == [f"{i:05d}" for i in range(shard_of_held)] and not out.exists()

    _restore(serial, images, files[held])
    _rerun(command)
    data = load_from_disk(str(out))
    assert_same_dataset(data, expected)
    built = [key for p in sorted(shards.iterdir()) for key in
             zip(load_from_disk(str(p))["post_id"], load_from_disk(str(p))["photo"])]
    assert sorted(built) == sorted(zip(expected["post_id"], expected["photo"]))  # each face cropped once
