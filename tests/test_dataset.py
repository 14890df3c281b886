"""The whole chain offline: posts JSONL -> titles -> download (loopback host) -> faces -> dataset, row by row.

The chain runs once per module through the real command-line entry points; the tests then read what it
left: the download log, the manifest of face decisions, the saved dataset and its card.
"""
from __future__ import annotations

import json
import time

import pytest
from PIL import Image

from tests.image_server import ImageServer, Route, astronaut, blank, encode, side_by_side, stacked
from training.collect import assign_faces, build_dataset, download
from training.collect.assign_faces import read_manifest
from training.collect.posts import PostRecord
from training.splits import split_of

AUTHORS = {name: f"{i:x}" * 64 for i, name in enumerate(["ann", "bob", "cat", "dan", "eve"], start=1)}
PAIR_TITLE = "F/28/5'4\" [180lbs > 140lbs] one year of walking"
FAST = ["--timeout", "1", "--attempts", "2", "--backoff", "0.01"]


def kg(lb: float) -> float:
    return lb * 0.45359237


def expected_bmi(weight_kg: float, height_m: float) -> float:
    return weight_kg / height_m ** 2


@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    """Serve the pictures, write the posts, and run download, assign_faces and build_dataset once."""
    tmp = tmp_path_factory.mktemp("chain")
    face = astronaut()
    mirrored = face.transpose(Image.FLIP_LEFT_RIGHT)
    with ImageServer() as server:
        url = {
            "pair": server.add("/pair.jpg", Route(encode(side_by_side(face, mirrored), quality=90))),
            "g1": server.add("/gallery/1.jpg", Route(encode(face, quality=90))),
            "g2": server.add("/gallery/2.png", Route(encode(face.convert("L"), "PNG"), "image/png")),
            "single": server.add("/single.jpg", Route(encode(face, quality=90))),  # same bytes as g1
            "stacked": server.add("/stacked.jpg", Route(encode(stacked(face, mirrored), quality=90))),
            "three": server.add("/three.jpg", Route(encode(side_by_side(side_by_side(face, mirrored), face)))),
            "blank": server.add("/blank.jpg", Route(encode(blank()))),
            "html": server.add("/page", Route(b"<html>removed</html>", "text/html")),
            "down": server.add("/down.jpg", Route(b"", fail_times=10**6, fail_status=503)),
        }

        def post(post_id, title, *images, author="ann", gallery=False):
            return PostRecord(id=post_id, subreddit="progresspics", title=title, created_utc=1.6e9 + len(post_id) * 86400,
                              permalink=f"/r/progresspics/comments/{post_id}/", score=10, over_18=False, flair=None,
                              image_urls=[url[i] for i in images], is_gallery=gallery, author_hash=AUTHORS[author])

        posts = [
            post("pair", PAIR_TITLE, "pair"),
            post("gallery", "M/30/180cm [100kg > 80kg]", "g1", "g2", author="bob", gallery=True),
            post("single", "F/24/5'5\" (CW 160)", "single", author="cat"),
            post("oneface", "F/28/5'4\" [180lbs > 140lbs]", "g1", author="dan"),
            post("stacked", "F/28/5'4\" [180lbs > 140lbs]", "stacked", author="dan"),
            post("three", "F/28/5'4\" [180lbs > 140lbs]", "three", author="eve"),
            post("blank", "F/28/5'4\" [180lbs > 140lbs]", "blank", author="eve"),
            post("badtitle", "look at my progress!!", "pair", author="eve"),
            post("html", "F/28/5'4\" [180lbs > 140lbs]", "html", author="eve"),
            post("down", "F/28/5'4\" [180lbs > 140lbs]", "down", author="eve"),
        ]
        posts_file = tmp / "posts.jsonl"
        posts_file.write_text("".join(p.to_json() + "\n" for p in posts), encoding="utf-8")
        images, manifest, out = tmp / "images", tmp / "manifest.jsonl", tmp / "dataset"
        download.main(["--posts", str(posts_file), "--out", str(images), *FAST])
        hits_after_download = dict(server.hits)
    assign_faces.main(["--posts", str(posts_file), "--images", str(images), "--manifest", str(manifest)])
    build_dataset.main(["reddit", "--manifest", str(manifest), "--images", str(images), "--out", str(out)])
    from datasets import load_from_disk

    return {"tmp": tmp, "posts": posts, "posts_file": posts_file, "images": images, "manifest": manifest,
            "out": out, "data": load_from_disk(str(out)), "url": url, "hits": hits_after_download}


def decisions(chain, post_id):
    return [r for r in read_manifest(chain["manifest"]) if r["post_id"] == post_id]


def test_downloads_share_identical_images_and_record_failures(chain):
    log = download.read_log(chain["images"])
    url = chain["url"]
    assert log[url["g1"]]["file"] == log[url["single"]]["file"]
    assert log[url["html"]]["file"] is None and "text/html" in log[url["html"]]["reason"]
    assert log[url["down"]]["transient"] is True and chain["hits"]["/down.jpg"] == 2
    assert chain["hits"]["/pair.jpg"] == 1  # two posts use it, it is fetched once


def test_manifest_records_every_decision_with_a_reason(chain):
    pair = decisions(chain, "pair")
    assert sorted(r["photo"] for r in pair) == ["current", "start"]
    by_photo = {r["photo"]: r for r in pair}
    assert by_photo["start"]["face_box"][2] < 512 < by_photo["current"]["face_box"][0]  # left half, right half
    assert all(r["face_score"] >= 0.9 and len(r["landmarks"]) == 5 for r in pair)

    gallery = decisions(chain, "gallery")
    assert [(r["image_index"], r["photo"]) for r in gallery] == [(0, "start"), (1, "current")]

    assert [r["photo"] for r in decisions(chain, "single")] == ["current"]  # the title's only weight

    def reasons(post_id):
        return [r["skip_reason"] for r in decisions(chain, post_id)]

    assert reasons("oneface") == ["one face in a single image: start or current cannot be told"]
    assert reasons("stacked") == ["two faces in one image, placed above each other rather than side by side"] * 2
    assert reasons("three") == ["3 faces in one image"] * 3
    assert reasons("blank") == ["no face found"]
    assert reasons("badtitle") == ["title refused: no height"]
    assert reasons("html")[0].startswith("image 1 of 1 unusable (download failed: not an image")
    assert decisions(chain, "down") == []  # waits for a later download run rather than being written off
    for record in read_manifest(chain["manifest"]):
        assert (record["photo"] is None) != (record["skip_reason"] is None), record


def test_dataset_rows_carry_the_right_labels_and_author_splits(chain):
    data = chain["data"]
    assert data.features == build_dataset.features()
    rows = {(r["post_id"], r["photo"]): r for r in data}
    assert len(rows) == len(data) == 5
    expected = {
        ("pair", "start"): (kg(180), 1.6256, "F", 28, "ann"),
        ("pair", "current"): (kg(140), 1.6256, "F", 28, "ann"),
        ("gallery", "start"): (100.0, 1.80, "M", 30, "bob"),
        ("gallery", "current"): (80.0, 1.80, "M", 30, "bob"),
        ("single", "current"): (kg(160), 1.651, "F", 24, "cat"),
    }
    assert set(rows) == set(expected)
    log = download.read_log(chain["images"])
    for key, (weight, height, sex, age, author) in expected.items():
        row = rows[key]
        assert row["bmi"] == pytest.approx(expected_bmi(weight, height), abs=0.02), key
        assert row["sex"] == sex and row["age"] == age and row["bracket"] == "25-32", key
        assert row["group_id"] == AUTHORS[author] and row["split"] == split_of(AUTHORS[author]), key
        assert row["source"] == "reddit-progresspics" and row["label_conflict"] is False, key
        assert row["skip_reason"] is None and row["teacher_embedding"] is None, key
        assert row["image"].size == (112, 112) and row["image"].mode == "RGB", key
        assert row["face_score"] >= 0.9 and len(row["face_box"]) == 4, key
        # The wider views training re-frames and reads pairs from: the face's own, and from the landmarks found
        # on the photo's mirror image (every row has a BMI, so the before/after calibration reads it).
        assert row["context"].size == row["mirror_context"].size == (168, 168), key
        assert row["context"].mode == row["mirror_context"].mode == "RGBA", key
    assert rows[("gallery", "start")]["file"] == log[chain["url"]["g1"]]["file"]
    assert rows[("gallery", "current")]["file"] == log[chain["url"]["g2"]]["file"]
    # The left crop of the pair is the astronaut, the right one her mirror image: the crops differ by a flip.
    import numpy as np

    left = np.asarray(rows[("pair", "start")]["image"], dtype=float)
    right = np.asarray(rows[("pair", "current")]["image"], dtype=float)
    assert np.abs(left[:, ::-1] - right).mean() < np.abs(left - right).mean()


def test_dataset_card_reports_the_built_numbers(chain):
    card = (chain["out"] / "README.md").read_text()
    data = chain["data"]
    assert "$" not in card.split("---", 2)[2].replace("$ ", "")  # every placeholder was filled
    authors, posts = len(set(data["group_id"])), len(set(data["post_id"]))
    assert f"| all | {len(data)} | {authors} | {posts} |" in card
    for split in ("train", "validation", "test"):
        n = sum(s == split for s in data["split"])
        assert f"| {split} | {n} |" in card
    assert "| F | 3 |" in card and "| M | 2 |" in card and "| 25-32 | 5 |" in card
    assert "2 start, 3 current" in card
    assert "1 × no face found" in card and "3 × 3 faces in one image" in card
    assert "r/progresspics" in card and "Removal requests" in card and "Known biases" in card
    bmis = sorted(data["bmi"])
    assert f"min {bmis[0]:.1f}" in card and f"max {bmis[-1]:.1f}" in card
    assert "9 posts were looked at; 3 of them gave at least one labelled face" in card
    today = time.strftime("%Y-%m-%d", time.gmtime())
    assert f"downloaded between\n  {today} and {today}" in card
    assert "**2020-09-17** and **2020-09-20**" in card  # pair (4 days after 1.6e9 s) to gallery (7): the used posts' creation dates


def test_removal_requests_leave_the_post_out(chain, tmp_path):
    exclusions = tmp_path / "removals.txt"
    exclusions.write_text("# removal requests\npair  # asked 2026-11-01\n")
    out = tmp_path / "dataset"
    build_dataset.main(["reddit", "--manifest", str(chain["manifest"]), "--images", str(chain["images"]),
                        "--out", str(out), "--exclude", str(exclusions)])
    from datasets import load_from_disk

    data = load_from_disk(str(out))
    assert sorted(set(data["post_id"])) == ["gallery", "single"] and len(data) == 3
    assert "| all | 3 | 2 | 2 |" in (out / "README.md").read_text()


def test_interrupted_assignment_and_build_resume_without_loss_or_duplicates(chain, tmp_path):
    from datasets import load_from_disk

    images = chain["images"]
    lines = chain["manifest"].read_text().splitlines()
    # An interruption mid-way through the gallery post: its first record written, the second cut short.
    gallery_at = next(i for i, line in enumerate(lines) if json.loads(line)["post_id"] == "gallery")
    manifest = tmp_path / "manifest.jsonl"
    manifest.write_text("\n".join(lines[:gallery_at + 1]) + "\n" + lines[gallery_at + 1][:40])
    partial = read_manifest(manifest)
    assert "gallery" not in {r["post_id"] for r in partial}

    # Build from the partial manifest (the state at the interruption), plus a shard cut short by it.
    out = tmp_path / "dataset"
    first = build_dataset.build_reddit(manifest, images, out)
    assert sorted(first["post_id"]) == ["pair", "pair"]
    (tmp_path / "dataset.shards" / "00001").mkdir()  # a save that never finished: no dataset_info.json

    counts = assign_faces.assign_posts(chain["posts"], images, manifest)
    assert counts["already_done"] == len({r["post_id"] for r in partial}) == 1 and counts["posts"] == 8
    redone = read_manifest(manifest)
    assert sorted(json.dumps(r, sort_keys=True) for r in redone) == \
        sorted(json.dumps(r, sort_keys=True) for r in read_manifest(chain["manifest"]))

    second = build_dataset.build_reddit(manifest, images, out)
    keys = [(p, ph) for p, ph in zip(second["post_id"], second["photo"])]
    assert len(keys) == len(set(keys)) == len(chain["data"])
    assert sorted(keys) == sorted(zip(chain["data"]["post_id"], chain["data"]["photo"]))
    shards = sorted(p.name for p in (tmp_path / "dataset.shards").iterdir())
    assert shards == ["00000", "00001"]  # the pair shard was kept, the cut-short one replaced by the new rows
    assert len(load_from_disk(str(tmp_path / "dataset.shards" / "00000"))) == 2

    # A person auditing the manifest removes one decision and corrects a BMI: the next build drops that row,
    # rebuilds the corrected one, and keeps the rest as they were.
    kept = [r for r in redone if not (r["post_id"] == "single")]
    for r in kept:
        if (r["post_id"], r["photo"]) == ("gallery", "start"):
            r["bmi"] = 31.5
    manifest.write_text("".join(json.dumps(r) + "\n" for r in kept))
    third = build_dataset.build_reddit(manifest, images, out)
    assert sorted(third["post_id"]) == sorted(p for p in second["post_id"] if p != "single")
    bmis = {(r["post_id"], r["photo"]): r["bmi"] for r in third.select_columns(["post_id", "photo", "bmi"])}
    assert bmis[("gallery", "start")] == pytest.approx(31.5)
    assert bmis[("gallery", "current")] == pytest.approx(expected_bmi(80.0, 1.80), abs=0.02)
    assert len(list((tmp_path / "dataset.shards").iterdir())) == 3  # only the corrected row was cropped again


def test_labelled_folders_build_into_the_same_schema(tmp_path):
    from datasets import concatenate_datasets

    folder = tmp_path / "faces-test"
    (folder / "images").mkdir(parents=True)
    astronaut().save(folder / "images" / "a.jpg", quality=90)
    blank().save(folder / "images" / "b.png")
    (folder / "labels.csv").write_text("file,bmi,age,sex,group_id\nimages/a.jpg,22.5,41,F,p1\n"
                                       "images/b.png,30,,M,p2\nimages/gone.jpg,25,30,F,p3\n")
    data = build_dataset.build_folders([folder], tmp_path / "out", workers=1, with_teacher=False)
    assert data.features == build_dataset.features()
    rows = {r["file"]: r for r in data}
    a = rows["images/a.jpg"]
    assert (a["bmi"], a["age"], a["bracket"], a["sex"]) == (22.5, 41, "38-43", "F")
    assert a["group_id"] == "faces-test:p1" and a["split"] == split_of("faces-test:p1")
    assert a["image"].size == (112, 112) and a["face_score"] >= 0.9 and a["skip_reason"] is None
    assert a["post_id"] is None and a["photo"] is None and a["source"] == "faces-test"
    assert rows["images/b.png"]["skip_reason"] == "no face found" and rows["images/b.png"]["image"] is None
    assert rows["images/gone.jpg"]["skip_reason"].startswith("unreadable: no such file")
    # Training reads one format: Reddit and folder rows concatenate without casting.
    assert len(concatenate_datasets([data, data])) == 6


def test_push_without_a_token_is_refused_before_any_work(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("HF_TOKEN", raising=False)
    with pytest.raises(SystemExit):
        build_dataset.main(["reddit", "--manifest", str(tmp_path / "m.jsonl"), "--images", str(tmp_path),
                            "--out", str(tmp_path / "out"), "--push", "someone/faces"])
    assert "HF_TOKEN" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
