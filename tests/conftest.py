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


# --- app, CLI and bad-input fixtures (appended) ---

def write_astronaut(folder: Path, name: str = "astronaut.jpg") -> Path:
    from skimage import data

    path = folder / name
    Image.fromarray(data.astronaut()).save(path, quality=92)
    return path


@pytest.fixture(scope="session")
def astronaut_file(tmp_path_factory) -> Path:
    """The astronaut as a JPEG file, as a user would upload it."""
    return write_astronaut(tmp_path_factory.mktemp("photos"))


def load_app_module():
    """app.py (it sits beside, not inside, the facebmi package) imported as a module."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("facebmi_app", ROOT / "app.py")
    app = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(app)
    return app


def serve(demo, queue_size: int | None = None, **launch_options):
    """Launch a Gradio app on a free loopback port without blocking; returns its URL."""
    import socket

    demo.queue(default_concurrency_limit=2, max_size=queue_size)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True, **launch_options)
    return f"http://127.0.0.1:{port}/"


@pytest.fixture(scope="session")
def app_url(predictor, tmp_path_factory):
    """app.py's Gradio app served for real on a free loopback port (one server for the session)."""
    app = load_app_module()
    demo = app.build_demo(predictor, app.write_examples(tmp_path_factory.mktemp("examples")))
    url = serve(demo, **app.launch_options(app.MAX_UPLOAD_BYTES))  # the limits python app.py runs with
    try:
        yield url
    finally:
        demo.close()
