"""training.collect.scrape end to end: a real praw client against tests/fake_reddit.py on 127.0.0.1, no patching."""
from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.fake_reddit import CLIENT_SECRET, TOKEN, gallery_post, post
from training.collect.posts import PostRecord, read_posts
from training.collect.scrape import ScrapeConfig, ScrapeError, author_hash, make_reddit, scrape

ROOT = Path(__file__).resolve().parents[1]
SALT = "test-salt-0123456789"
FIELDS = ["id", "subreddit", "title", "created_utc", "permalink", "score", "over_18", "flair", "image_urls",
          "is_gallery", "author_hash"]


def sample_posts() -> list[dict]:
    return [
        post("a1", "F/28/5'4\" [200lbs > 150lbs = 50lbs]", author="alice_fit"),
        gallery_post("g1", "M/30/6'0 [250 > 200] before, middle, after", ["m1first", "m2second", "m3third"],
                     author="bob_lifts"),
        post("d1", "M/22/5'9 [230 > 180]", author=None),  # account deleted
        post("r1", "F/40/5'5 [220 > 170]", author="carol", removed_by_category="moderator", selftext="[removed]"),
        post("x1", "My progress story (link)", author="dave", url="https://example.com/blog/post"),
        post("v1", "F/31/5'6 gif", author="erin", url="https://i.imgur.com/abcd123.gifv"),
        post("i1", "F/26/5'2 [180 > 140]", author="alice_fit", url="https://imgur.com/Xy12Ab9"),
        post("a2", "M/35/5'11 [300 > 210 = 90]", author="frank", over_18=True, link_flair_text=None),
    ]


KEPT = ["a1", "g1", "i1", "a2"]  # the posts with a direct image and a live author


@pytest.fixture
def reddit(fake_reddit, monkeypatch):
    for key, value in fake_reddit.credentials_env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("FACEBMI_AUTHOR_SALT", SALT)
    fake_reddit.posts["progresspics"] = sample_posts()
    return make_reddit(**fake_reddit.praw_config(timeout=1))


def config(tmp_path: Path, **kw) -> ScrapeConfig:
    return ScrapeConfig(out=tmp_path / "posts.jsonl", limit=100, backoff_seconds=0.01, **kw)


def test_records_keep_the_schema_galleries_in_order_and_no_author_names(reddit, fake_reddit, tmp_path):
    stats = scrape(reddit, config(tmp_path))
    raw = [json.loads(line) for line in (tmp_path / "posts.jsonl").read_text().splitlines()]
    assert [r["id"] for r in raw] == KEPT
    assert all(list(r) == FIELDS for r in raw)
    by_id = {r["id"]: r for r in raw}
    assert by_id["g1"]["is_gallery"] is True
    assert by_id["g1"]["image_urls"] == ["https://i.redd.it/m1first.jpg", "https://i.redd.it/m2second.jpg",
                                         "https://i.redd.it/m3third.jpg"]
    assert by_id["a1"]["image_urls"] == ["https://i.redd.it/a1img.jpg"] and by_id["a1"]["is_gallery"] is False
    assert by_id["i1"]["image_urls"] == ["https://i.imgur.com/Xy12Ab9.jpg"]  # imgur page -> direct image
    assert by_id["a2"]["over_18"] is True and by_id["a2"]["flair"] is None and by_id["a1"]["flair"] == "F/25-29"
    assert by_id["a1"]["permalink"].startswith("/r/progresspics/comments/a1/")
    assert by_id["a1"]["subreddit"] == "progresspics" and by_id["a1"]["created_utc"] == 1_540_000_000.0
    # One person, one hash (for splitting); no name anywhere in the file.
    assert by_id["a1"]["author_hash"] == by_id["i1"]["author_hash"] == author_hash("alice_fit", SALT.encode())
    assert by_id["a1"]["author_hash"] != by_id["g1"]["author_hash"]
    text = (tmp_path / "posts.jsonl").read_text()
    assert not any(name in text for name in ("alice_fit", "bob_lifts", "frank"))
    assert stats.written == 4
    assert stats.skipped == {"deleted author": 1, "removed": 1, "no image": 2}
    assert [PostRecord.from_dict(r) for r in raw] == read_posts(tmp_path / "posts.jsonl")
    # Nothing made praw fetch posts one by one: one token, one listing page.
    assert fake_reddit.count("/comments") == 0 and fake_reddit.count("/r/progresspics/top") == 1


def test_rerun_skips_what_is_saved_and_adds_only_new_posts(reddit, fake_reddit, tmp_path):
    scrape(reddit, config(tmp_path))
    fake_reddit.posts["progresspics"].insert(0, post("n1", "F/19/5'1 [150 > 120]", author="newbie"))
    stats = scrape(reddit, config(tmp_path))
    assert stats.written == 1 and stats.skipped["already saved"] == 4
    assert [p.id for p in read_posts(tmp_path / "posts.jsonl")] == KEPT + ["n1"]


def test_429_then_success_waits_and_retries(reddit, fake_reddit, tmp_path, caplog):
    fake_reddit.fail("/r/progresspics/top", 429, 429)
    with caplog.at_level(logging.WARNING, logger="training.collect.scrape"):
        stats = scrape(reddit, config(tmp_path))
    assert stats.written == 4
    assert fake_reddit.count("/r/progresspics/top") == 3
    assert sum("HTTP 429" in r.getMessage() for r in caplog.records) == 2


def test_server_error_then_success(reddit, fake_reddit, tmp_path):
    fake_reddit.fail("/r/progresspics/top", 503, 500, 502)  # more than prawcore's own two retries
    stats = scrape(reddit, config(tmp_path))
    assert stats.written == 4 and fake_reddit.count("/r/progresspics/top") == 4


def test_slow_response_times_out_and_is_retried(reddit, fake_reddit, tmp_path):
    fake_reddit.slow_seconds = 2.5  # the client waits 1 s
    fake_reddit.fail("/r/progresspics/top", "slow")
    started = time.monotonic()
    stats = scrape(reddit, config(tmp_path))
    assert stats.written == 4 and fake_reddit.count("/r/progresspics/top") == 2
    assert time.monotonic() - started < 10


def test_gives_up_after_max_retries_without_losing_saved_posts(reddit, fake_reddit, tmp_path):
    import prawcore

    scrape(reddit, config(tmp_path))
    fake_reddit.posts["progresspics"].append(post("n2", "F/20/5'0 [140 > 120]", author="z"))
    fake_reddit.fail("/r/progresspics/top", *[429] * 10)
    with pytest.raises(prawcore.exceptions.TooManyRequests):
        scrape(reddit, config(tmp_path, max_retries=2))
    assert [p.id for p in read_posts(tmp_path / "posts.jsonl")] == KEPT


def test_gallery_without_metadata_in_the_listing_is_fetched_by_id(reddit, fake_reddit, tmp_path):
    fake_reddit.posts["progresspics"] = [gallery_post("g2", "F/33/5'6 [190 > 160]", ["z1", "z2"],
                                                      with_metadata=False, author="gina")]
    fake_reddit.full_posts["g2"] = gallery_post("g2", "F/33/5'6 [190 > 160]", ["z1", "z2"], author="gina")
    scrape(reddit, config(tmp_path))
    (record,) = read_posts(tmp_path / "posts.jsonl")
    assert record.image_urls == ["https://i.redd.it/z1.jpg", "https://i.redd.it/z2.jpg"] and record.is_gallery
    assert fake_reddit.count("/comments/g2") == 1


def test_bad_post_is_logged_and_skipped(reddit, fake_reddit, tmp_path, caplog):
    fake_reddit.posts["progresspics"].insert(1, post("b1", "F/25/5'5 [180 > 150]", author="h",
                                                     created_utc="not a time"))
    with caplog.at_level(logging.WARNING, logger="training.collect.scrape"):
        stats = scrape(reddit, config(tmp_path))
    assert stats.skipped["bad post"] == 1 and stats.written == 4
    assert any("post b1 skipped" in r.getMessage() for r in caplog.records)


def test_search_and_new_listings(reddit, fake_reddit, tmp_path):
    scrape(reddit, config(tmp_path, search="5'4", listing="new"))
    assert [p.id for p in read_posts(tmp_path / "posts.jsonl")] == ["a1"]
    method, path, query = [r for r in fake_reddit.requests if r[1].endswith("/search")][0]
    assert query["q"] == "5'4" and query["sort"] == "new" and query["restrict_sr"] in ("on", "1", "True")
    scrape(reddit, config(tmp_path, listing="new"))
    assert fake_reddit.count("/r/progresspics/new") == 1
    assert [p.id for p in read_posts(tmp_path / "posts.jsonl")] == ["a1", "g1", "i1", "a2"]


def test_salt_is_required(reddit, tmp_path, monkeypatch):
    monkeypatch.delenv("FACEBMI_AUTHOR_SALT")
    with pytest.raises(ScrapeError, match="FACEBMI_AUTHOR_SALT"):
        scrape(reddit, config(tmp_path))
    assert not (tmp_path / "posts.jsonl").exists() or not (tmp_path / "posts.jsonl").read_text()


def test_missing_credentials_are_a_clear_error(monkeypatch):
    for key in ("REDDIT_CLIENT_ID", "REDDIT_CLIENT_SECRET", "REDDIT_USER_AGENT"):
        monkeypatch.delenv(key, raising=False)
    with pytest.raises(ScrapeError, match="REDDIT_CLIENT_ID"):
        make_reddit()


def _cli(fake, out: Path, *extra: str) -> subprocess.Popen:
    env = {**os.environ, **fake.credentials_env(), "FACEBMI_AUTHOR_SALT": SALT, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "training.collect.scrape", "--out", str(out), "--limit", "1000", "--timeout", "5",
         "--backoff-seconds", "0.01", "--reddit-url", fake.url, "--oauth-url", fake.url, "-v", *extra],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_killed_run_resumes_without_losses_or_duplicates(fake_reddit, tmp_path):
    posts = [post(f"p{i:02d}", f"F/2{i % 10}/5'{i % 12}\" [{200 + i} > 150]", author=f"user{i % 4}")
             for i in range(10)]
    fake_reddit.posts["progresspics"] = posts
    fake_reddit.page_size = 4
    fake_reddit.hold("/r/progresspics/top")  # page 2 never comes: the run is killed while waiting for it
    out = tmp_path / "posts.jsonl"
    run = _cli(fake_reddit, out)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and (not out.exists() or out.read_text().count("\n") < 4):
        time.sleep(0.05)
    run.kill()
    run.communicate(timeout=10)
    assert [p.id for p in read_posts(out, strict=True)] == ["p00", "p01", "p02", "p03"]  # page 1, durable
    with out.open("a") as f:
        f.write('{"id": "p04", "subreddit": "progre')  # a line cut off mid-write
    fake_reddit.release()

    resumed = _cli(fake_reddit, out)
    stdout, stderr = resumed.communicate(timeout=60)
    assert resumed.returncode == 0, stderr
    assert "6 written" in stdout and "4 already saved" in stdout
    ids = [json.loads(line)["id"] for line in out.read_text().splitlines()]  # every line whole again
    assert ids == [p["id"] for p in posts]
    assert "truncated last line" in stderr
    # Secrets and names stay out of the logs.
    for secret in (CLIENT_SECRET, TOKEN, SALT, "user0", "user1"):
        assert secret not in stderr + stdout


def test_cli_without_salt_exits_with_a_message(fake_reddit, tmp_path):
    env = {**os.environ, **fake_reddit.credentials_env(), "PYTHONPATH": str(ROOT)}
    env.pop("FACEBMI_AUTHOR_SALT", None)
    done = subprocess.run([sys.executable, "-m", "training.collect.scrape", "--out", str(tmp_path / "p.jsonl"),
                           "--reddit-url", fake_reddit.url, "--oauth-url", fake_reddit.url],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "FACEBMI_AUTHOR_SALT" in done.stderr
    assert fake_reddit.requests == []  # failed before any traffic


def test_read_posts_skips_a_truncated_line_and_duplicates(tmp_path):
    record = PostRecord("q1", "progresspics", "t", 1.0, "/r/progresspics/comments/q1/", 5, False, None,
                        ["https://i.redd.it/q1.jpg"], False, "ab" * 32)
    path = tmp_path / "p.jsonl"
    path.write_text(record.to_json() + "\n" + record.to_json() + "\n" + '{"id": "q2", "ti')
    assert read_posts(path) == [record]
    with pytest.raises(ValueError, match="unreadable"):
        read_posts(path, strict=True)
    assert read_posts(tmp_path / "missing.jsonl") == []
