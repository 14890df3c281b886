"""The dataset push end to end: `python -m training.collect.build_dataset reddit ... --push ORG/NAME` against the
loopback Hub (tests/hub_server.py), then `datasets.load_dataset(REPO)` in a fresh process, as a user would.

The data is a small Reddit build made the way tests/test_dataset.py makes one (loopback image server ->
download -> assign_faces), from the astronaut photo only."""
from __future__ import annotations

import pytest
from PIL import Image

from tests.hub_server import LocalHub
from tests.image_server import ImageServer, Route, astronaut, encode, side_by_side
from tests.test_dataset import AUTHORS, FAST, PAIR_TITLE
from tests.test_hub import TOKEN, child, client
from training.collect import assign_faces, download
from training.collect.posts import PostRecord
from training.splits import split_of

REPO = "alice/facebmi-faces"
# One before/after pair per person; the authors' hashes put them in train (ann, cat), validation (bob) and
# test (the one below), so the push has every split and a removal can empty one.
TEST_AUTHOR = "8" * 64
POSTS = {"p-ann": AUTHORS["ann"], "p-bob": AUTHORS["bob"], "p-cat": AUTHORS["cat"], "p-tess": TEST_AUTHOR}


@pytest.fixture(scope="module")
def hub():
    with LocalHub({TOKEN: "alice"}) as server:
        yield server
    assert server.unrouted == [], server.unrouted  # every call made was one the Hub implements


@pytest.fixture(scope="module")
def sources(tmp_path_factory):
    """posts -> images -> manifest, with real downloads from loopback and real MTCNN."""
    assert [split_of(a) for a in POSTS.values()] == ["train", "validation", "train", "test"]
    tmp = tmp_path_factory.mktemp("push-sources")
    face = astronaut()
    with ImageServer() as server:
        url = server.add("/pair.jpg", Route(encode(side_by_side(face, face.transpose(Image.FLIP_LEFT_RIGHT)),
                                                   quality=90)))
        posts = [PostRecord(id=post_id, subreddit="progresspics", title=PAIR_TITLE, created_utc=1.6e9,
                            permalink=f"/r/progresspics/comments/{post_id}/", score=1, over_18=False, flair=None,
                            image_urls=[url], is_gallery=False, author_hash=author)
                 for post_id, author in POSTS.items()]
        posts_file = tmp / "posts.jsonl"
        posts_file.write_text("".join(p.to_json() + "\n" for p in posts), encoding="utf-8")
        download.main(["--posts", str(posts_file), "--out", str(tmp / "images"), *FAST])
    assign_faces.main(["--posts", str(posts_file), "--images", str(tmp / "images"),
                       "--manifest", str(tmp / "manifest.jsonl")])
    return tmp


def build_and_push(hub, sources, home, out, *more):
    proc = client(hub, home, ["-m", "training.collect.build_dataset", "reddit", "--manifest", str(sources / "manifest.jsonl"),
                              "--images", str(sources / "images"), "--out", str(out), "--push", REPO, *more])
    assert proc.returncode == 0, proc.stderr[-3000:]  # client() also checks the token is not in the output
    return proc


COMPARE = """
import hashlib, json, os
from datasets import Image, load_dataset, load_from_disk

def rows(ds):  # every column as stored; images (the crop and its wider views) as the sha256 of their bytes
    out = []
    images = ("image", "context", "mirror_context")
    for column in images:
        ds = ds.cast_column(column, Image(decode=False))
    for row in ds:
        for column in images:
            row[column] = row[column] and hashlib.sha256(row[column]["bytes"]).hexdigest()
        out.append(row)
    return out

local = load_from_disk(os.environ["OUT"])
remote = load_dataset(os.environ["REPO"])
print(json.dumps({
    "hub_splits": list(remote), "local_features": str(local.features),
    "hub_features": {name: str(split.features) for name, split in remote.items()},
    "hub_rows": {name: rows(split) for name, split in remote.items()},
    "local_rows": {name: rows(local.filter(lambda s: s == name, input_columns="split", keep_in_memory=True))
                   for name in ("train", "validation", "test")},
}))
"""


def test_push_is_one_private_commit_a_rerun_none_and_load_dataset_matches_the_local_build(hub, sources, tmp_path):
    out = tmp_path / "reddit"
    build_and_push(hub, sources, tmp_path / "home", out)
    repo = hub.repo(REPO, "dataset")
    assert repo.private, "a dataset repo is created private unless --public"
    head = repo.resolve("main")
    history = repo.history(head)
    assert [c.title for c in history] == ["Upload facebmi face dataset", "initial commit"]
    shards = {f"data/{name}-00000-of-00001.parquet" for name in ("train", "validation", "test")}
    added = {p for p in head.files if p not in history[1].files}
    assert added == shards | {"README.md"}, "one commit holds the data and the card"
    assert all(head.files[p].lfs_sha256 for p in shards)  # parquet went through LFS
    card = head.files["README.md"].content.decode()
    assert card == (out / "README.md").read_text(encoding="utf-8") and TOKEN not in card
    for name in ("train", "validation", "test"):
        assert f"- split: {name}\n    path: data/{name}-*" in card  # the configs front matter names the shards

    # The same build pushed again: nothing is uploaded and no commit is made.
    hub.clear_requests()
    proc = build_and_push(hub, sources, tmp_path / "home", out)
    assert "up to date" in proc.stderr
    assert repo.branches["main"] == head.oid
    assert not any(r["method"] == "PUT" or "/commit/" in r["path"] or "/preupload/" in r["path"]
                   for r in hub.requests)

    # load_dataset(REPO) from the Hub gives what load_from_disk gives locally: splits, features, rows.
    hub.clear_requests()
    got = child(hub, tmp_path / "fresh-home", COMPARE, extra={"OUT": str(out), "REPO": REPO})
    assert sorted(got["hub_splits"]) == ["test", "train", "validation"]
    assert "Image(" in got["local_features"]
    assert all(features == got["local_features"] for features in got["hub_features"].values())
    assert got["hub_rows"] == got["local_rows"]
    assert [len(got["hub_rows"][s]) for s in ("train", "validation", "test")] == [4, 2, 2]  # a pair per post
    assert any(r["method"] == "GET" and r["path"].startswith(f"/datasets/{REPO}/resolve/")
               and r["path"].endswith(".parquet") for r in hub.requests), "load_dataset read the Hub's copy"


def test_a_removal_that_empties_a_split_deletes_its_shard_in_one_commit(hub, sources, tmp_path):
    out = tmp_path / "reddit"
    build_and_push(hub, sources, tmp_path / "home", out)  # the full build (no commit if the test above ran)
    repo = hub.repo(REPO, "dataset")
    before = repo.branches["main"]
    removals = tmp_path / "removals.txt"
    removals.write_text("p-tess\n")
    build_and_push(hub, sources, tmp_path / "home", out, "--exclude", str(removals))
    head = repo.resolve("main")
    assert head.parent == before, "exactly one new commit"
    assert not any(p.startswith("data/test-") for p in head.files), "the emptied split's shard is gone"
    old = repo.commits[before].files
    changed = {p for p in set(head.files) | set(old)
               if p not in head.files or p not in old or head.files[p].blob_oid != old[p].blob_oid}
    assert changed == {"README.md", "data/test-00000-of-00001.parquet"}  # train and validation untouched
    assert "- split: test" not in head.files["README.md"].content.decode()
