"""Where a model comes from: the embedded default, a local folder, or a Hugging Face Hub repo id.

Nothing is configured -> the embedded default (facebmi/default_model), and nothing touches the network.
`FACEBMI_MODEL` (a folder or ORG/NAME) and `FACEBMI_MODEL_REVISION` override it. A Hub model is downloaded
once into the standard Hugging Face cache; with HF_HUB_OFFLINE=1 the cached copy is used. Online, a later
load asks the Hub only which commit the revision points at (one small request) and downloads nothing; a
revision given as a full commit hash needs no request at all. huggingface_hub is imported only for a Hub id.

Every failure is a ModelLoadError whose message names the setting or file to fix.

Why not huggingface_hub's PyTorchModelHubMixin: its from_pretrained builds the model from config.json
without our checks (format_version, unknown fields, nested crop/detect specs as frozen dataclasses), and its
save/push write their own card and config keys; our config.json is the preprocessing contract, so it stays
ours, and pushing lives in training/learn/push_model.py.
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # torch is imported by load_model only: resolving (and downloading) a model needs no torch
    import torch

    from .model import FaceAttributeModel

WEIGHTS_NAME = "model.safetensors"  # = facebmi.model.WEIGHTS_NAME, repeated so this module stays torch-free

DEFAULT_MODEL_DIR = Path(__file__).parent / "default_model"
_REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


class ModelLoadError(RuntimeError):
    """The configured model could not be loaded; the message says what to fix."""


def resolve_model_folder(source: str | os.PathLike | None = None, revision: str | None = None) -> Path:
    source = source if source is not None else os.environ.get("FACEBMI_MODEL") or None
    revision = revision if revision is not None else os.environ.get("FACEBMI_MODEL_REVISION") or None
    if source is None:
        if revision is not None:
            raise ModelLoadError(f"a model revision ({revision!r}) is set but no Hub model: set FACEBMI_MODEL "
                                 "to ORG/NAME, or unset FACEBMI_MODEL_REVISION")
        return DEFAULT_MODEL_DIR
    path = Path(source).expanduser()
    if path.exists():
        if not path.is_dir():
            raise ModelLoadError(f"model path {path} is a file; give the folder holding config.json and "
                                 f"{WEIGHTS_NAME}")
        if revision is not None:
            raise ModelLoadError(f"a revision ({revision!r}) only applies to a Hub repo, and {path} is a local "
                                 "folder: unset FACEBMI_MODEL_REVISION")
        return path
    if not _REPO_ID.match(str(source)):
        raise ModelLoadError(f"model {source!r} is neither an existing folder nor a Hub repo id (ORG/NAME)")
    return _download(str(source), revision)


def _download(repo_id: str, revision: str | None) -> Path:
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import (GatedRepoError, HfHubHTTPError, LocalEntryNotFoundError,
                                        RepositoryNotFoundError, RevisionNotFoundError)

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
                             "lacks access: check FACEBMI_MODEL (an existing folder or ORG/NAME) and HF_TOKEN"
                             ) from None
    except LocalEntryNotFoundError:
        raise ModelLoadError(f"Hub repo {repo_id} (revision {revision or 'main'}) is not in the local cache "
                             "and the Hub cannot be reached (offline?): download it once while online, or "
                             "point FACEBMI_MODEL at a local folder") from None
    except HfHubHTTPError as err:  # a rejected token (401), the Hub being down (5xx), ...
        status = err.response.status_code if err.response is not None else "?"
        hint = "check HF_TOKEN" if status in (401, 403) else "try again later, or use a local folder"
        raise ModelLoadError(f"the Hub refused to serve {repo_id} (HTTP {status}): {hint}") from None


def load_model(source: str | os.PathLike | None = None, revision: str | None = None,
               device: str | torch.device = "cpu") -> FaceAttributeModel:
    from .model import FaceAttributeModel

    folder = resolve_model_folder(source, revision)
    try:
        return FaceAttributeModel.from_folder(folder, device=device)
    except (FileNotFoundError, ValueError, TypeError) as err:  # TypeError: config fields of the wrong shape
        raise ModelLoadError(f"cannot load the model in {folder}: {err}{_fix_hint(folder)}") from None


def _fix_hint(folder: Path) -> str:
    """For a copy in the Hugging Face cache, say how to get a fresh one (the repo itself may be the problem)."""
    parts = folder.parts
    if "snapshots" not in parts or not any(p.startswith("models--") for p in parts):
        return ""
    repo = next(p for p in parts if p.startswith("models--"))[len("models--"):].replace("--", "/")
    return (f" (this is the cached copy of Hub repo {repo}: delete it to download it again, and if the repo "
            "itself holds the bad file, push a good model or pick another FACEBMI_MODEL_REVISION)")
