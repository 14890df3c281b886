"""Where a model comes from: the embedded default, a local folder, or a Hugging Face Hub repo id.

Nothing is configured -> the embedded default (facebmi/default_model), and nothing touches the network.
`FACEBMI_MODEL` (a folder or ORG/NAME) and `FACEBMI_MODEL_REVISION` override it. A Hub model is downloaded
once into the standard Hugging Face cache; with HF_HUB_OFFLINE=1 the cached copy is used.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import torch

from .model import WEIGHTS_NAME, FaceAttributeModel

DEFAULT_MODEL_DIR = Path(__file__).parent / "default_model"
_REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


class ModelLoadError(RuntimeError):
    """The configured model could not be loaded; the message says what to fix."""


def resolve_model_folder(source: str | os.PathLike | None = None, revision: str | None = None) -> Path:
    source = source if source is not None else os.environ.get("FACEBMI_MODEL") or None
    revision = revision if revision is not None else os.environ.get("FACEBMI_MODEL_REVISION") or None
    if source is None:
        return DEFAULT_MODEL_DIR
    path = Path(source).expanduser()
    if path.exists():
        if not path.is_dir():
            raise ModelLoadError(f"model path {path} is a file; give the folder holding config.json and "
                                 f"{WEIGHTS_NAME}")
        return path
    if not _REPO_ID.match(str(source)):
        raise ModelLoadError(f"model {source!r} is neither an existing folder nor a Hub repo id (ORG/NAME)")
    return _download(str(source), revision)


def _download(repo_id: str, revision: str | None) -> Path:
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import (GatedRepoError, LocalEntryNotFoundError, RepositoryNotFoundError,
                                        RevisionNotFoundError)

    try:
        return Path(snapshot_download(repo_id, revision=revision, allow_patterns=["config.json", WEIGHTS_NAME,
                                                                                  "README.md"]))
    except RevisionNotFoundError:
        raise ModelLoadError(f"Hub repo {repo_id} has no revision {revision!r}: check FACEBMI_MODEL_REVISION "
                             "(a branch, tag or commit)") from None
    except GatedRepoError:
        raise ModelLoadError(f"Hub repo {repo_id} is gated: accept its terms and set HF_TOKEN") from None
    except RepositoryNotFoundError:
        raise ModelLoadError(f"Hub repo {repo_id} was not found, or is private and HF_TOKEN is not set or "
                             "lacks access: check FACEBMI_MODEL and HF_TOKEN") from None
    except LocalEntryNotFoundError:
        raise ModelLoadError(f"Hub repo {repo_id} (revision {revision or 'main'}) is not in the local cache "
                             "and the Hub cannot be reached (offline?): download it once while online, or "
                             "point FACEBMI_MODEL at a local folder") from None


def load_model(source: str | os.PathLike | None = None, revision: str | None = None,
               device: str | torch.device = "cpu") -> FaceAttributeModel:
    folder = resolve_model_folder(source, revision)
    try:
        return FaceAttributeModel.from_folder(folder, device=device)
    except (FileNotFoundError, ValueError) as err:
        raise ModelLoadError(f"cannot load the model in {folder}: {err}") from None
