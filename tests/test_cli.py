"""`python -m facebmi` on real files written at test time: one subprocess run end to end, the rest in-process."""
from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys

import pytest
from PIL import Image

from facebmi.__main__ import find_images, main
from facebmi.labels import AGE_BRACKETS
from facebmi.report import CSV_FIELDS

from conftest import ROOT, write_astronaut


@pytest.fixture(scope="module")
def photo_folder(tmp_path_factory):
    """astronaut.jpg, blank.png, broken.jpg (not an image) and nested/astronaut2.png; plus notes.txt (skipped)."""
    folder = tmp_path_factory.mktemp("cli")
    write_astronaut(folder)
    Image.new("RGB", (320, 240), (127, 127, 127)).save(folder / "blank.png")
    (folder / "broken.jpg").write_bytes(b"this is not a JPEG")
    (folder / "notes.txt").write_text("not a photo, and not picked up by the folder walk")
    (folder / "nested").mkdir()
    write_astronaut(folder / "nested", "astronaut2.png")
    return folder


def run_main(capsys, *argv) -> tuple[int, str, str]:
    code = main([*argv, "--no-progress"])
    out, err = capsys.readouterr()
    return code, out, err


def test_folder_walk_finds_images_recursively_and_sorted(photo_folder):
    names = [p.relative_to(photo_folder).as_posix() for p in find_images([str(photo_folder)])]
    assert names == ["astronaut.jpg", "blank.png", "broken.jpg", "nested/astronaut2.png"]


def test_json_subprocess_end_to_end(photo_folder):
    """The real command: JSON Lines on stdout, a progress bar on stderr, exit 0, the bad file in its own entry."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-m", "facebmi", str(photo_folder / "broken.jpg"),
                           str(photo_folder / "astronaut.jpg"), "--json"],
                          capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    entries = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [e["path"] for e in entries] == [str(photo_folder / "broken.jpg"), str(photo_folder / "astronaut.jpg")]
    assert "not an image" in entries[0]["error"] and "faces" not in entries[0]
    assert len(entries[1]["faces"]) == 1
    assert "2/2" in proc.stderr  # tqdm's bar reached the end


def test_json_entries_have_every_field(capsys, photo_folder):
    code, out, _ = run_main(capsys, str(photo_folder), "--json")
    assert code == 0
    entries = {os.path.basename(e["path"]): e for e in map(json.loads, out.splitlines())}
    assert set(entries) == {"astronaut.jpg", "blank.png", "broken.jpg", "astronaut2.png"}
    assert entries["blank.png"]["faces"] == []
    assert entries["broken.jpg"]["error"]
    for name in ("astronaut.jpg", "astronaut2.png"):
        entry = entries[name]
        assert (entry["width"], entry["height"]) == (512, 512)
        (face,) = entry["faces"]
        assert {"box", "score", "bmi", "bmi_interval", "who_category", "age_bracket", "age_bracket_prob",
                "age_probs", "age_years", "landmarks"} <= set(face)
        x0, y0, x1, y1 = face["box"]
        assert 0 <= x0 < x1 <= 512 and 0 <= y0 < y1 <= 512
        assert 0.9 <= face["score"] <= 1 and 10 < face["bmi"] < 80
        if face["bmi_interval"] is not None:
            low, high = face["bmi_interval"]
            assert low < face["bmi"] < high
        assert face["age_bracket"] in AGE_BRACKETS and list(face["age_probs"]) == list(AGE_BRACKETS)
        assert abs(sum(face["age_probs"].values()) - 1) < 1e-4
        assert face["age_probs"][face["age_bracket"]] == max(face["age_probs"].values())
    # The same photo as JPEG and PNG: the same face, the same estimate (within JPEG noise).
    a, b = entries["astronaut.jpg"]["faces"][0], entries["astronaut2.png"]["faces"][0]
    assert abs(a["bmi"] - b["bmi"]) < 2.0


def test_csv_has_one_row_per_face_and_one_per_faceless_or_broken_image(capsys, photo_folder):
    code, out, _ = run_main(capsys, str(photo_folder), "--csv")
    assert code == 0
    reader = csv.DictReader(io.StringIO(out))
    assert reader.fieldnames == CSV_FIELDS
    rows = {os.path.basename(r["path"]): r for r in reader}
    assert len(rows) == 4
    assert rows["astronaut.jpg"]["status"] == "face" and rows["astronaut.jpg"]["face"] == "1"
    assert 10 < float(rows["astronaut.jpg"]["bmi"]) < 80
    assert abs(sum(float(rows["astronaut.jpg"][f"p_{b}"]) for b in AGE_BRACKETS) - 1) < 1e-3
    assert rows["blank.png"]["status"] == "no face" and rows["blank.png"]["bmi"] == ""
    assert rows["broken.jpg"]["status"] == "error" and "not an image" in rows["broken.jpg"]["error"]


def test_csv_many_faces_gives_a_row_each(capsys, tmp_path, astronaut):
    grid = Image.new("RGB", (1024, 512))
    grid.paste(astronaut, (0, 0))
    grid.paste(astronaut, (512, 0))
    grid.save(tmp_path / "two.png")
    code, out, _ = run_main(capsys, str(tmp_path / "two.png"), "--csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and [r["face"] for r in rows] == ["1", "2"]


def test_default_table_is_readable(capsys, photo_folder):
    code, out, _ = run_main(capsys, str(photo_folder / "astronaut.jpg"), str(photo_folder / "blank.png"),
                            str(photo_folder / "missing.jpg"))
    assert code == 0
    lines = out.splitlines()
    assert lines[0].endswith("astronaut.jpg: 1 face") and lines[1].lstrip().startswith("#1  BMI")
    assert lines[2].endswith("blank.png: no face found")
    assert "missing.jpg: error: no such file" in lines[3]


def test_exit_code_1_when_nothing_could_be_processed(capsys, photo_folder):
    code, out, err = run_main(capsys, str(photo_folder / "broken.jpg"), "--json")
    assert code == 1
    assert "error" in json.loads(out)
    assert "none of the 1 file(s) could be processed" in err


def test_exit_code_2_for_an_empty_folder_or_a_bad_model(capsys, tmp_path, photo_folder):
    code, _, err = run_main(capsys, str(tmp_path))
    assert code == 2 and "no image files found" in err
    code, _, err = run_main(capsys, str(photo_folder / "astronaut.jpg"), "--model", str(tmp_path))
    assert code == 2 and "no config.json" in err


def test_json_and_csv_are_exclusive(capsys, photo_folder):
    with pytest.raises(SystemExit) as exit_info:
        main([str(photo_folder), "--json", "--csv"])
    assert exit_info.value.code == 2
    assert "not allowed with" in capsys.readouterr().err


def test_a_photo_cut_close_to_the_face_says_so_in_every_format(capsys, tmp_path, astronaut):
    """The face's flag (cut_close) in JSON and CSV, and a note under the table naming the face."""
    astronaut.crop((170, 50, 280, 185)).save(tmp_path / "tight.png")  # about the face's own box
    code, out, _ = run_main(capsys, str(tmp_path / "tight.png"))
    assert code == 0
    lines = out.splitlines()
    assert lines[1].rstrip().endswith("(photo cut close)")
    assert lines[2].strip().startswith("note: Face #1 is near the edge of the photo")
    _, out, _ = run_main(capsys, str(tmp_path / "tight.png"), "--json")
    assert json.loads(out)["faces"][0]["cut_close"] is True
    _, out, _ = run_main(capsys, str(tmp_path / "tight.png"), "--csv")
    (row,) = csv.DictReader(io.StringIO(out))
    assert row["cut_close"] == "True"
