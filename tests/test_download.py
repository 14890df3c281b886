"""training.collect.download against a loopback image host: good images, refusals, transient failures, resuming."""
from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from PIL import Image

from tests.image_server import ImageServer, Route, astronaut, encode, noise_jpeg, pixel_bomb
from training.collect.download import LOG_NAME, DownloadLimits, download_posts, read_log
from training.collect.posts import PostRecord

ROOT = Path(__file__).resolve().parents[1]
# Small timeouts and backoff keep the failure tests quick; the behaviour is the same as the defaults.
FAST = DownloadLimits(max_bytes=2_000_000, connect_timeout=2.0, read_timeout=0.5, attempts=3, backoff=0.01)


def post(post_id: str, *urls: str) -> PostRecord:
    return PostRecord(id=post_id, subreddit="progresspics", title="F/28/5'4\" [180lbs > 140lbs]",
                      created_utc=1.7e9, permalink=f"/r/progresspics/comments/{post_id}/", score=1,
                      over_18=False, flair=None, image_urls=list(urls), author_hash="a" * 64)


@pytest.fixture
def server():
    with ImageServer() as s:
        yield s


@pytest.fixture(scope="module")
def jpeg() -> bytes:
    return encode(astronaut(), quality=90)


def test_good_images_are_saved_under_their_hash_and_shared_between_urls(server, jpeg, tmp_path):
    gray_png = encode(astronaut().convert("L"), "PNG")
    urls = [server.add("/a.jpg", Route(jpeg)), server.add("/same-bytes.jpg", Route(jpeg)),
            server.add("/gray.png", Route(gray_png, "image/png"))]
    counts = download_posts([post("p1", urls[0]), post("p2", *urls[1:])], tmp_path, FAST)
    assert counts == {"downloaded": 3, "failed": 0, "skipped": 0}
    log = read_log(tmp_path)
    assert log[urls[0]]["file"] == hashlib.sha256(jpeg).hexdigest() + ".jpg"
    assert log[urls[1]]["file"] == log[urls[0]]["file"]  # deduplicated by content
    assert log[urls[2]]["file"] == hashlib.sha256(gray_png).hexdigest() + ".png"
    assert (log[urls[0]]["width"], log[urls[0]]["height"]) == (512, 512)
    assert log[urls[1]]["post_id"] == "p2"
    images = sorted(p.name for p in tmp_path.iterdir() if p.is_file() and p.name != LOG_NAME)
    assert images == sorted({log[u]["file"] for u in urls})
    assert (tmp_path / log[urls[0]]["file"]).read_bytes() == jpeg
    assert not list((tmp_path / ".part").iterdir())


def test_bad_downloads_are_refused_with_a_reason_and_leave_no_file(server, jpeg, tmp_path):
    big = noise_jpeg(FAST.max_bytes + 1)
    cases = {
        "/page.html": (Route(b"<html>hi</html>", "text/html"), "content type 'text/html'"),
        "/fake.jpg": (Route(b"<html>a login page</html>", "image/jpeg"), "bytes are no JPEG"),
        "/big.jpg": (Route(big), "too large"),
        "/big-streamed.jpg": (Route(big, send_length=False), "too large"),
        "/bomb.png": (Route(pixel_bomb(), "image/png"), "megapixel limit"),
        "/truncated.jpg": (Route(jpeg[: len(jpeg) // 2]), "damaged or cut short"),
        "/empty.jpg": (Route(b""), "empty body"),
        "/missing.jpg": (None, "HTTP 404"),
        "/deleted-on-imgur.jpg": (Route(b"", redirect="/removed.png"), "image removed by the host"),
    }
    server.add("/removed.png", Route(encode(astronaut().resize((161, 81)), "PNG"), "image/png"))
    urls = {path: server.add(path, route) if route else server.url(path) for path, (route, _) in cases.items()}
    urls["ftp"] = "ftp://127.0.0.1/x.jpg"
    counts = download_posts([post("p1", *urls.values())], tmp_path, FAST)
    assert counts["failed"] == len(urls) and counts["downloaded"] == 0
    log = read_log(tmp_path)
    for path, (_, reason) in cases.items():
        record = log[urls[path]]
        assert record["file"] is None and reason in record["reason"], (path, record)
        assert record["transient"] is False and record["attempts"] == 1, (path, record)
        assert server.hits[path] == 1  # permanent failures are not retried
    assert log["ftp://127.0.0.1/x.jpg"]["reason"] == "not an http(s) URL"
    assert [p.name for p in tmp_path.iterdir() if p.is_file()] == [LOG_NAME]
    assert not list((tmp_path / ".part").iterdir())
    # A rerun does not fetch permanent failures again.
    assert download_posts([post("p1", *urls.values())], tmp_path, FAST)["skipped"] == len(urls)
    assert server.hits["/fake.jpg"] == 1


def test_transient_failures_are_retried_with_backoff(server, jpeg, tmp_path):
    routes = {
        "/429.jpg": Route(jpeg, fail_times=2, fail_status=429, retry_after="0"),
        "/503.jpg": Route(jpeg, fail_times=1, fail_status=503),
        "/slow.jpg": Route(jpeg, fail_times=1, stall=FAST.read_timeout * 3),
        "/cut.jpg": Route(jpeg, fail_times=1, cut=True),
        "/down.jpg": Route(jpeg, fail_times=99, fail_status=500),
    }
    urls = {path: server.add(path, route) for path, route in routes.items()}
    download_posts([post("p1", *urls.values())], tmp_path, FAST)
    log = read_log(tmp_path)
    expected_file = hashlib.sha256(jpeg).hexdigest() + ".jpg"
    for path, tries in (("/429.jpg", 3), ("/503.jpg", 2), ("/slow.jpg", 2), ("/cut.jpg", 2)):
        assert log[urls[path]]["file"] == expected_file, (path, log[urls[path]])
        assert log[urls[path]]["attempts"] == tries and server.hits[path] == tries
    down = log[urls["/down.jpg"]]
    assert down["file"] is None and down["transient"] is True
    assert down["reason"] == "HTTP 500 (gave up after 3 tries)" and server.hits["/down.jpg"] == 3
    assert (tmp_path / expected_file).read_bytes() == jpeg  # the cut-short body never became the file

    # The host recovers: a rerun retries only the transient failure, and the log's latest word is success.
    routes["/down.jpg"].fail_times = 0
    counts = download_posts([post("p1", *urls.values())], tmp_path, FAST)
    assert counts == {"downloaded": 1, "failed": 0, "skipped": 4}
    assert read_log(tmp_path)[urls["/down.jpg"]]["file"] == expected_file
    assert server.hits["/429.jpg"] == 3


def test_an_interrupted_run_resumes_without_refetching_or_duplicating(server, jpeg, tmp_path):
    """Kill a real `python -m training.collect.download` (one URL at a time) mid-download, then rerun it."""
    release = threading.Event()
    other = encode(astronaut().transpose(Image.FLIP_LEFT_RIGHT), quality=90)
    urls = [server.add("/1.jpg", Route(jpeg)), server.add("/2.png", Route(encode(astronaut(), "PNG"), "image/png")),
            server.add("/3.jpg", Route(other, block=release)), server.add("/4.jpg", Route(other))]
    posts = tmp_path / "posts.jsonl"
    posts.write_text("".join(post(f"p{i}", url).to_json() + "\n" for i, url in enumerate(urls)))
    out = tmp_path / "images"
    command = [sys.executable, "-m", "training.collect.download", "--posts", str(posts), "--out", str(out), "--workers", "1"]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while server.hits["/3.jpg"] == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.hits["/3.jpg"] == 1, process.stderr.read().decode() if process.poll() is not None else ""
    finally:
        os.killpg(process.pid, signal.SIGKILL)  # only the group this test started
        process.wait()
    release.set()
    assert len(read_log(out)) == 2 and urls[2] not in read_log(out)

    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "2 downloaded, 0 failed, 2 already done" in result.stderr
    assert [server.hits[p] for p in ("/1.jpg", "/2.png", "/3.jpg", "/4.jpg")] == [1, 1, 2, 1]
    lines = [json.loads(line) for line in (out / LOG_NAME).read_text().splitlines()]
    assert sorted(r["url"] for r in lines) == sorted(urls)  # one record per URL, none lost or repeated
    files = sorted(p.name for p in out.iterdir() if p.is_file() and p.name != LOG_NAME)
    assert files == sorted({r["file"] for r in lines}) and len(files) == 3
    assert not list((out / ".part").iterdir())


def test_a_half_written_log_line_is_dropped_and_its_url_redone(server, jpeg, tmp_path):
    url = server.add("/a.jpg", Route(jpeg))
    tmp_path.joinpath(LOG_NAME).write_text('{"url": "' + url + '", "file": "abc')  # cut off mid-record
    (tmp_path / ".part").mkdir()
    (tmp_path / ".part" / "0123.part").write_bytes(jpeg[:100])  # a body the interrupted run was receiving
    assert download_posts([post("p1", url)], tmp_path, FAST) == {"downloaded": 1, "failed": 0, "skipped": 0}
    lines = tmp_path.joinpath(LOG_NAME).read_text().splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["file"] == hashlib.sha256(jpeg).hexdigest() + ".jpg"
    assert not list((tmp_path / ".part").iterdir())
