"""The app's temporary files in isolation: the sweep's age rule, data: URLs and per-response result files."""
from __future__ import annotations

import base64
import os
import shutil
import time

import numpy as np
import pytest
from PIL import Image

from facebmi.images import ImageError
from facebmi.uploads import TempFolder, save_data_url, save_result_png


def _age(path, seconds: float) -> None:
    past = time.time() - seconds
    os.utime(path, (past, past))


def test_sweep_deletes_what_is_older_than_nine_tenths_of_the_limit(tmp_path):
    temp = TempFolder(100, parent=tmp_path)
    example = temp.path / "examples" / "astronaut.jpg"
    example.parent.mkdir()
    example.write_bytes(b"example")
    temp.protect_present_files()
    (temp.path / "old").mkdir()
    old, fresh = temp.path / "old" / "upload.jpg", temp.path / "fresh.png"
    old.write_bytes(b"x")
    fresh.write_bytes(b"y")
    _age(example, 1000)
    now = time.time()
    assert temp.sweep(now) == 0  # ctime is now for all: a copy keeps its source's mtime but not its ctime
    assert temp.sweep(now + 89) == 0, "deleted before nine tenths of the limit"
    assert temp.sweep(now + 91) == 2 and not old.exists() and not fresh.exists()
    assert not (temp.path / "old").exists(), "an emptied old folder stayed"
    assert example.exists(), "a protected file was swept"
    temp.close()
    assert list(tmp_path.iterdir()) == []


def test_sweeping_every_tenth_keeps_no_file_past_the_limit(tmp_path):
    temp = TempFolder(1.0, parent=tmp_path).start()  # sweeps every 0.1 s, files over 0.9 s old
    try:
        path = temp.path / "upload.jpg"
        path.write_bytes(b"x")
        written = time.time()
        while path.exists() and time.time() - written < 5:
            time.sleep(0.02)
        lived = time.time() - written
    finally:
        temp.close()
    assert 0.85 <= lived <= 2.0, f"lived {lived:.2f} s with a 1 s limit (1 s of slack for a busy machine)"


def test_data_url_is_written_within_the_limit_and_refused_beyond_it(tmp_path):
    data = b"\x89PNG fake but any bytes"
    path = save_data_url("data:image/png;base64," + base64.b64encode(data).decode(), tmp_path, 100)
    assert path.read_bytes() == data and tmp_path in path.parents
    with pytest.raises(ImageError, match=r"over the 0 MB upload limit"):
        save_data_url("data:image/png;base64," + base64.b64encode(bytes(101)).decode(), tmp_path, 100)
    with pytest.raises(ImageError, match="must be base64-encoded"):
        save_data_url("data:image/png,%89PNG", tmp_path, 100)
    with pytest.raises(ImageError, match="not valid base64"):
        save_data_url("data:image/png;base64,****", tmp_path, 100)


def test_each_result_is_a_new_file_with_its_own_bytes(tmp_path):
    image = Image.fromarray(np.full((20, 30, 3), 90, np.uint8))
    paths = [save_result_png(image, tmp_path) for _ in range(3)]
    assert len(set(paths)) == 3
    assert len({open(p, "rb").read() for p in paths}) == 3, "identical results with identical bytes"
    assert all(np.array_equal(np.asarray(Image.open(p)), np.asarray(image)) for p in paths)
    shutil.rmtree(tmp_path / os.path.basename(os.path.dirname(paths[0])))
    assert save_result_png(image, tmp_path / "made-again")  # the sweep may remove an empty parent folder
