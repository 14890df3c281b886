"""Shared fixtures. Tests that need ../shared/datasets skip with a reason where it is absent."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"


@pytest.fixture(scope="session")
def shared_datasets() -> Path:
    path = SHARED / "datasets"
    if not (path / "bmi-reddit" / "labels.csv").is_file():
        pytest.skip(f"needs the research datasets at {path} (../shared beside the checkout); not present here")
    return path


@pytest.fixture(scope="session")
def astronaut() -> Image.Image:
    """A public-domain photo with one face (scikit-image ships it), 512x512 RGB."""
    from skimage import data

    return Image.fromarray(data.astronaut())


@pytest.fixture(scope="session")
def predictor():
    """The embedded default model, loaded once for the whole session."""
    from facebmi.predictor import Predictor

    return Predictor.from_pretrained(device="cpu")


@pytest.fixture
def blank_image() -> Image.Image:
    return Image.fromarray(np.full((240, 320, 3), 127, dtype=np.uint8))


@pytest.fixture
def fake_reddit():
    """A loopback Reddit API for a real praw client (tests/fake_reddit.py); stopped after the test."""
    from tests.fake_reddit import FakeReddit

    with FakeReddit() as server:
        yield server
