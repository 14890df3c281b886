"""The web app's files on disk: one private temporary folder, every file in it deleted a fixed time after it
was last written, and the whole folder at exit, SIGTERM included.

Gradio keeps each upload, each result it serves and the example photo as files in GRADIO_TEMP_DIR, and its
own clean-up only knows the files it tracked (not a photo sent as a `data:` URL) and runs on Ctrl-C but not on
SIGTERM. Sweeping a folder that only this app writes to covers every file, whichever way Gradio made it.
"""
from __future__ import annotations

import atexit
import base64
import binascii
import os
import secrets
import shutil
import signal
import tempfile
import threading
import time
from pathlib import Path

from PIL import Image, PngImagePlugin

from .images import ImageError


class TempFolder:
    """A folder of our own, swept every keep_for / 10 seconds of files last written over 0.9 * keep_for ago.

    So no file outlives keep_for seconds from its last write (plus the sweep itself, milliseconds). Files
    present when protect_present_files() is called (the app's example photo) stay until close().
    """

    def __init__(self, keep_for: float, parent: str | Path | None = None, prefix: str = "facebmi-"):
        if parent is not None:
            Path(parent).mkdir(parents=True, exist_ok=True)  # as Gradio does for a GRADIO_TEMP_DIR not yet made
        self.path = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
        self.keep_for = float(keep_for)
        self.every = self.keep_for / 10
        self._protected: frozenset[str] = frozenset()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def protect_present_files(self) -> None:
        """Keep what is here now (files, and the folders holding them) until close()."""
        self._protected = frozenset(str(p) for p in self.path.rglob("*"))

    def sweep(self, now: float | None = None) -> int:
        """Delete the files (and emptied folders) older than the limit; returns how many files went."""
        now = time.time() if now is None else now
        oldest = now - (self.keep_for - self.every)
        deleted = 0
        for folder, dirs, files in os.walk(self.path, topdown=False):
            for name in files:
                path = os.path.join(folder, name)
                if path not in self._protected and _last_written(path) < oldest:
                    deleted += _remove(path, os.unlink)
            # An old empty folder only: a new one may be about to receive a file.
            if folder != str(self.path) and folder not in self._protected and _last_written(folder) < oldest:
                _remove(folder, os.rmdir)  # fails, harmlessly, on a folder that still holds something
        return deleted

    def start(self) -> "TempFolder":
        self._thread = threading.Thread(target=self._run, name="facebmi-temp-sweeper", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop sweeping and delete the folder with everything in it. Safe to call twice."""
        self._stop.set()
        shutil.rmtree(self.path, ignore_errors=True)

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            try:
                self.sweep()
            except OSError:  # e.g. the folder being removed at exit: the next sweep, if any, tries again
                pass


def _last_written(path: str) -> float:
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return float("inf")  # already gone: nothing to delete
    # ctime too: a copy made with shutil.copy2 keeps its source's old mtime but gets a new ctime.
    return max(st.st_mtime, st.st_ctime)


def _remove(path: str, remove) -> int:
    try:
        remove(path)
        return 1
    except OSError:  # deleted meanwhile, or a folder that just received a file
        return 0


def save_data_url(url: str, folder: str | Path, max_bytes: int) -> Path:
    """A `data:` URL's bytes written to a new file in folder, refused when over max_bytes before decoding."""
    header, comma, payload = url.partition(",")
    if not comma or not header.endswith(";base64"):
        raise ImageError("a photo sent as a data: URL must be base64-encoded, like data:image/jpeg;base64,...")
    size = len(payload) * 3 // 4 - payload[-2:].count("=")
    if size > max_bytes:
        raise ImageError(f"the photo is {size / 2**20:.1f} MB, over the {max_bytes / 2**20:.0f} MB upload limit: "
                         "send a smaller photo")
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise ImageError("the photo's data: URL is not valid base64, so it holds no image we can read") from None
    path = _new_folder(folder, "data-url-") / "photo"
    path.write_bytes(data)
    return path


def save_result_png(image: Image.Image, folder: str | Path) -> str:
    """The image as a PNG in a new file of its own, never rewritten.

    Gradio names a returned picture by a hash of its content, so identical results (many people trying the
    example photo) shared one file that each response rewrote while another was still being downloaded. A
    new file per response, outside that scheme and with a random tag that makes its bytes unique too, cannot
    be shared whatever Gradio does with it.
    """
    info = PngImagePlugin.PngInfo()
    info.add_text("facebmi-response", secrets.token_hex(8))
    path = _new_folder(folder, "result-") / "annotated.png"
    image.save(path, format="PNG", pnginfo=info)
    return str(path)


def _new_folder(parent: str | Path, prefix: str) -> Path:
    Path(parent).mkdir(parents=True, exist_ok=True)  # the sweep may have removed it while it was empty
    return Path(tempfile.mkdtemp(prefix=prefix, dir=parent))


def remove_at_exit_if_new(folder: Path) -> None:
    """At exit, remove folder if it did not exist now and is still empty then.

    For the empty vibe_edit_history folder Gradio makes at every start in the GRADIO_TEMP_DIR it saw when
    imported, before main() could point it at our own folder.
    """
    if not folder.exists():
        atexit.register(_remove, str(folder), os.rmdir)  # rmdir: never a folder with something in it


def interrupt_on_sigterm() -> None:
    """Make SIGTERM (how Docker, Kubernetes and Spaces stop a container) end the app as Ctrl-C does.

    Python's default for SIGTERM ends the process on the spot: no `finally`, no atexit, files left behind.
    As KeyboardInterrupt, Gradio closes its server and atexit handlers run.
    """
    def interrupt(signum, frame):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second TERM must not cut the clean-up short
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)
