"""The chain from the scraper on: praw against the loopback Reddit API -> posts.jsonl -> download -> faces
-> dataset. Reddit's image hosts (i.redd.it, i.imgur.com) are answered by the loopback image server through
a requests transport adapter, the test's stand-in for DNS; our code runs unchanged with the real URLs."""
from __future__ import annotations

import pytest
import requests
from PIL import Image

from tests.fake_reddit import gallery_post, post
from tests.image_server import ImageServer, LoopbackAdapter, Route, astronaut, encode, side_by_side
from training.collect.assign_faces import assign_posts, read_manifest
from training.collect.build_dataset import build_reddit
from training.collect.download import DownloadLimits, download_posts, read_log
from training.collect.posts import read_posts
from training.collect.scrape import ScrapeConfig, author_hash, make_reddit, scrape
from training.splits import split_of

SALT = "chain-test-salt"


@pytest.fixture
def reddit(fake_reddit, monkeypatch):
    for key, value in fake_reddit.credentials_env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("FACEBMI_AUTHOR_SALT", SALT)
    return make_reddit(**fake_reddit.praw_config(timeout=2))


def test_scraped_posts_become_labelled_rows(reddit, fake_reddit, tmp_path):
    face = astronaut()
    fake_reddit.posts["progresspics"] = [
        post("pair1", "F/28/5'4\" [200lbs > 150lbs = 50lbs]", author="alice_fit", url="https://i.redd.it/pair1.jpg"),
        gallery_post("gal1", "M/30/6'0 [250 > 200] before and after", ["m1first", "m2second"], author="bob_lifts"),
        post("gone1", "F/26/5'2 [180 > 140]", author="carol", url="https://imgur.com/Xy12Ab9"),
    ]
    posts_file = tmp_path / "posts.jsonl"
    stats = scrape(reddit, ScrapeConfig(out=posts_file, limit=100, backoff_seconds=0.01))
    assert stats.written == 3
    posts = read_posts(posts_file)
    urls = {p.id: p.image_urls for p in posts}
    assert urls["gal1"] == ["https://i.redd.it/m1first.jpg", "https://i.redd.it/m2second.jpg"]

    images, manifest = tmp_path / "images", tmp_path / "manifest.jsonl"
    with ImageServer() as server:
        server.add("/i.redd.it/pair1.jpg", Route(encode(side_by_side(face, face.transpose(Image.FLIP_LEFT_RIGHT)))))
        server.add("/i.redd.it/m1first.jpg", Route(encode(face)))
        server.add("/i.redd.it/m2second.jpg", Route(encode(face.convert("L"))))
        # /i.imgur.com/Xy12Ab9.jpg is not served: 404, as for an image deleted from imgur
        session = requests.Session()
        session.mount("https://", LoopbackAdapter(server.base))
        counts = download_posts(posts, images, DownloadLimits(attempts=2, backoff=0.01), session=session)
    assert counts == {"downloaded": 3, "failed": 1, "skipped": 0}
    assert read_log(images)["https://i.imgur.com/Xy12Ab9.jpg"]["reason"] == "HTTP 404"

    assert assign_posts(posts, images, manifest)["faces_assigned"] == 4
    assert [r["skip_reason"] for r in read_manifest(manifest) if r["post_id"] == "gone1"] == \
        ["image 1 of 1 unusable (download failed: HTTP 404)"]

    data = build_reddit(manifest, images, tmp_path / "dataset")
    rows = {(r["post_id"], r["photo"]): r for r in data}
    lb, inch = 0.45359237, 0.0254
    expected = {("pair1", "start"): (200, 64, "alice_fit", "F"), ("pair1", "current"): (150, 64, "alice_fit", "F"),
                ("gal1", "start"): (250, 72, "bob_lifts", "M"), ("gal1", "current"): (200, 72, "bob_lifts", "M")}
    assert set(rows) == set(expected)
    for key, (pounds, inches, author, sex) in expected.items():
        row = rows[key]
        group = author_hash(author, SALT.encode())
        assert row["bmi"] == pytest.approx(pounds * lb / (inches * inch) ** 2, abs=0.02), key
        assert row["group_id"] == group and row["split"] == split_of(group) and row["sex"] == sex, key
        assert author not in str(row), key  # the name itself is nowhere in the row
    assert rows[("gal1", "start")]["file"] == read_log(images)["https://i.redd.it/m1first.jpg"]["file"]
