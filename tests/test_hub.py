"""Push and pull through a Hugging Face Hub: the real huggingface_hub and datasets clients against a Hub on
loopback (tests/hub_server.py), each client in its own process so HF_ENDPOINT, HF_HOME and HF_HUB_OFFLINE are
read the way they are in production (at import)."""
from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.hub_server import LocalHub

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "hf_TESTtokenDoNotLeak0123456789"  # alice's
OTHER_TOKEN = "hf_OTHERtokenForBob0123456789"  # bob's: can read public repos only


@pytest.fixture(scope="module")
def hub():
    with LocalHub({TOKEN: "alice", OTHER_TOKEN: "bob"}) as server:
        yield server
    # Every call our code and the libraries made was one the server implements (no silent 404 fallbacks).
    assert server.unrouted == [], server.unrouted


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory) -> Path:
    """An untrained model saved the way training saves one (the values do not matter here)."""
    import dataclasses

    from facebmi.config import ModelConfig
    from facebmi.model import FaceAttributeModel

    config = dataclasses.replace(ModelConfig(), bmi_interval_log_halfwidth=0.2,
                                 training={"data": {"bmi-reddit": 900}, "split": "by group id hash"})
    return FaceAttributeModel(config).save_pretrained(tmp_path_factory.mktemp("model"))


METRICS = {
    "bmi-reddit": {"n": 180, "faces_not_found": 3, "bmi": {"n": 177, "mae": 5.123, "rmse": 6.9, "pearson_r": 0.61,
                                                          "mean_predictor": {"mae": 8.1, "rmse": 10.2}},
                   "age_mae": 6.3, "per_sex": {"F": {"bmi": {"n": 120, "mae": 5.3}}, "M": {"bmi": {"mae": 4.8}}}},
    "age-utkface": {"n": 3400, "bracket": {"exact": 0.52, "one_off": 0.88}, "per_sex": "not a dict"},
}


def client(hub: LocalHub, home: Path, args: list[str], *, token: str | None = TOKEN, offline: bool = False,
           endpoint: str | None = None, extra: dict | None = None) -> subprocess.CompletedProcess:
    """Run `python ARGS` as a user would: a fresh process, our env only, the loopback Hub as HF_ENDPOINT."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("HF_", "HUGGINGFACE_", "FACEBMI_", "SPACES_")) and k != "TRANSFORMERS_OFFLINE"}
    env.update(HF_ENDPOINT=endpoint or hub.url, HF_HOME=str(home), HF_HUB_DISABLE_XET="1",
               HF_HUB_DISABLE_TELEMETRY="1", PYTHONPATH=str(ROOT), **(extra or {}))
    if token:
        env["HF_TOKEN"] = token
    if offline:
        env["HF_HUB_OFFLINE"] = "1"
    proc = subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    # Whatever happened, the token never shows in what the process printed.
    assert TOKEN not in proc.stdout + proc.stderr and OTHER_TOKEN not in proc.stdout + proc.stderr
    return proc


def child(hub: LocalHub, home: Path, code: str, **kwargs) -> dict:
    """Run a snippet that prints one JSON object on its last line; return it."""
    proc = client(hub, home, ["-c", textwrap.dedent(code)], **kwargs)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def push(hub, home, model_dir, repo, *more, **kwargs):
    return client(hub, home, ["-m", "training.learn.push_model", "--model", str(model_dir), "--repo", repo, *more],
                  **kwargs)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- push ---------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def pushed(hub, model_dir, tmp_path_factory) -> str:
    """alice/facebmi, pushed once through the CLI with metrics and a dataset link."""
    metrics = tmp_path_factory.mktemp("metrics") / "metrics.json"
    metrics.write_text(json.dumps(METRICS))
    proc = push(hub, tmp_path_factory.mktemp("home"), model_dir, "alice/facebmi", "--metrics", str(metrics),
                "--dataset-repo", "alice/facebmi-faces")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "pushed" in proc.stdout
    return "alice/facebmi"


def test_push_uploads_weights_config_and_card_privately_in_one_commit(hub, pushed, model_dir):
    repo = hub.repo(pushed)
    assert repo.private, "a repo is created private unless --public"
    head = repo.resolve("main")
    assert [c.title for c in repo.history(head)] == ["Upload facebmi model", "initial commit"]
    files = head.files
    assert files["model.safetensors"].lfs_sha256 == sha256(model_dir / "model.safetensors")  # went through LFS
    assert files["config.json"].content == (model_dir / "config.json").read_bytes()
    card = files["README.md"].content.decode()
    assert TOKEN not in card

    from huggingface_hub import ModelCard

    parsed = ModelCard(card)
    assert parsed.data.license == "cc-by-nc-4.0" and parsed.data.library_name == "pytorch"
    assert parsed.data.datasets == ["alice/facebmi-faces"] and "facebmi" in parsed.data.tags
    assert "5.12" in card and "| bmi-reddit | women | 120 | 5.30 |" in card  # overall and per-sex metrics
    assert "| age-utkface | all |" in card and "52%" in card  # a second eval set, brackets only
    assert f"{hub.url}/datasets/alice/facebmi-faces" in card
    for section in ("## Training data and terms", "## Intended use", "## Out of scope", "## Known failure modes"):
        assert section in card


def test_repush_unchanged_makes_no_commit_and_a_change_makes_exactly_one(hub, pushed, model_dir, tmp_path):
    repo = hub.repo(pushed)
    before = repo.branches["main"]
    proc = push(hub, tmp_path, model_dir, pushed, "--metrics", "/dev/null", "--dataset-repo", "alice/x")
    assert proc.returncode == 2 and "--metrics" in proc.stderr  # unreadable metrics: refused before pushing
    metrics = tmp_path / "metrics.json"
    metrics.write_text(json.dumps(METRICS))
    hub.clear_requests()
    proc = push(hub, tmp_path, model_dir, pushed, "--metrics", str(metrics), "--dataset-repo",
                "alice/facebmi-faces")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "up to date" in proc.stdout
    assert repo.branches["main"] == before
    assert not any(r["path"].endswith(("/commit/main", "/preupload/main")) or r["method"] == "PUT"
                   for r in hub.requests), "nothing is uploaded when nothing changed"

    metrics.write_text(json.dumps({"bmi-reddit": {"n": 10, "bmi": {"mae": 7.77}}}))
    proc = push(hub, tmp_path, model_dir, pushed, "--metrics", str(metrics))
    assert proc.returncode == 0, proc.stderr[-3000:]
    head = repo.resolve("main")
    assert head.parent == before, "one new commit"
    old = repo.commits[before].files
    assert [p for p in head.files if head.files[p].blob_oid != old[p].blob_oid] == ["README.md"]
    assert "7.77" in head.files["README.md"].content.decode()


def test_public_flag_and_missing_token(hub, model_dir, tmp_path):
    proc = push(hub, tmp_path, model_dir, "alice/public-model", "--public")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert hub.repo("alice/public-model").private is False

    proc = push(hub, tmp_path, model_dir, "alice/other", token=None)
    assert proc.returncode == 1 and "HF_TOKEN" in proc.stderr
    proc = push(hub, tmp_path, model_dir, "alice/other", token="hf_wrong_token_value")
    assert proc.returncode == 1 and "hf_wrong_token_value" not in proc.stdout + proc.stderr
    assert ("model", "alice/other") not in hub.repos


def test_push_refuses_a_broken_model_folder(hub, model_dir, tmp_path):
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.json").write_bytes((model_dir / "config.json").read_bytes())
    (broken / "model.safetensors").write_bytes((model_dir / "model.safetensors").read_bytes()[:5000])
    proc = push(hub, tmp_path, broken, "alice/broken")
    assert proc.returncode == 1 and "corrupt" in proc.stderr
    assert ("model", "alice/broken") not in hub.repos


# --- pull ---------------------------------------------------------------------------------------------------

RESOLVE = """
import json, hashlib
from facebmi.loading import resolve_model_folder
folder = resolve_model_folder()  # FACEBMI_MODEL, FACEBMI_MODEL_REVISION
print(json.dumps({"folder": str(folder), "files": sorted(p.name for p in folder.iterdir()),
                  "weights_sha256": hashlib.sha256((folder / "model.safetensors").read_bytes()).hexdigest()}))
"""
LOAD = RESOLVE.replace("folder = resolve_model_folder()", "from facebmi.loading import load_model\n"
                       "halfwidth = load_model().config.bmi_interval_log_halfwidth\nfolder = resolve_model_folder()")


def test_pull_downloads_once_then_reuses_the_cache_and_works_offline(hub, pushed, model_dir, tmp_path):
    home = tmp_path / "hf-home"
    env = {"FACEBMI_MODEL": pushed}
    first = child(hub, home, LOAD, extra=env)
    folder = Path(first["folder"])
    assert folder.is_relative_to(home / "hub") and "models--alice--facebmi" in str(folder)  # the standard cache
    assert first["weights_sha256"] == sha256(model_dir / "model.safetensors")
    assert first["files"] == ["README.md", "config.json", "model.safetensors"]

    hub.clear_requests()
    second = child(hub, home, RESOLVE, extra=env)
    assert second == {k: first[k] for k in second}
    repo_requests = [r for r in hub.requests if "alice/facebmi" in r["path"]]
    assert not any("/resolve/" in r["path"] for r in repo_requests), "nothing is downloaded again"
    assert len(repo_requests) <= 1, repo_requests  # at most: which commit is main now?

    commit = folder.name
    hub.clear_requests()
    pinned = child(hub, home, RESOLVE, extra={**env, "FACEBMI_MODEL_REVISION": commit})
    assert pinned["folder"] == first["folder"]
    assert hub.requests == [], "a revision pinned to a commit in the cache needs no request at all"

    dead = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    offline = child(hub, home, LOAD, offline=True, endpoint=dead, extra=env)
    assert offline["folder"] == first["folder"]
    unreachable = child(hub, home, RESOLVE, endpoint=dead, extra=env)  # not declared offline, Hub down
    assert unreachable["folder"] == first["folder"]

    fresh = child(hub, tmp_path / "empty-home", "from facebmi.loading import load_model, ModelLoadError\n"
                  "try:\n    load_model()\nexcept ModelLoadError as e:\n"
                  "    import json; print(json.dumps({'error': str(e)}))", offline=True, extra=env)
    assert "not in the local cache" in fresh["error"] and "FACEBMI_MODEL" in fresh["error"]


ERRORS = """
import json
from facebmi import loading
out = {}
for name, source, revision in CASES:
    try:
        getattr(loading, FUNCTION)(source, revision=revision)
        out[name] = "loaded"
    except loading.ModelLoadError as err:
        out[name] = str(err)
print(json.dumps(out))
"""
RESOLVE_ERRORS = "FUNCTION = 'resolve_model_folder'\n" + ERRORS  # the Hub part only: no torch, quicker


def test_pull_errors_say_what_to_fix(hub, pushed, model_dir, tmp_path):
    weights = (model_dir / "model.safetensors").read_bytes()
    config = json.loads((model_dir / "config.json").read_text())
    hub.put_files("alice/future", {"config.json": json.dumps({**config, "format_version": 99}).encode(),
                                   "model.safetensors": weights}, owner="alice")
    hub.put_files("alice/extra-field", {"config.json": json.dumps({**config, "new_head": 3}).encode(),
                                        "model.safetensors": weights}, owner="alice")
    hub.put_files("alice/bad-crop", {"config.json": json.dumps({**config, "crop": {"size": 112, "warp": 1}})
                                     .encode(), "model.safetensors": weights}, owner="alice")
    hub.put_files("alice/corrupt", {"config.json": json.dumps(config).encode(),
                                    "model.safetensors": weights[: len(weights) // 2]}, owner="alice")
    hub.put_files("alice/garbled-config", {"config.json": b'{"format_version": 1, "backb',
                                           "model.safetensors": weights}, owner="alice")
    hub.put_files("alice/mismatch", {"config.json": json.dumps({**config, "embedding_dim": 64}).encode(),
                                     "model.safetensors": weights}, owner="alice")
    cases = [("missing", "alice/no-such-model", None), ("revision", pushed, "v9"),
             ("future", "alice/future", None), ("extra", "alice/extra-field", None),
             ("bad_crop", "alice/bad-crop", None), ("corrupt", "alice/corrupt", None),
             ("mismatch", "alice/mismatch", None), ("not_a_repo", "no/such/folder/here", None),
             ("garbled_config", "alice/garbled-config", None), ("folder_revision", str(model_dir), "v1"),
             ("default_revision", None, "v1")]
    out = child(hub, tmp_path, f"CASES = {cases!r}\nFUNCTION = 'load_model'\n" + ERRORS)
    assert "not found" in out["missing"] and "FACEBMI_MODEL" in out["missing"]
    assert "'v9'" in out["revision"] and "FACEBMI_MODEL_REVISION" in out["revision"]
    assert "format 99" in out["future"] and "upgrade facebmi" in out["future"]
    assert "new_head" in out["extra"]
    assert "warp" in out["bad_crop"]
    assert "corrupt" in out["corrupt"] and "alice/corrupt" in out["corrupt"] and "delete it" in out["corrupt"]
    assert "does not match config.json" in out["mismatch"]
    assert "not valid JSON" in out["garbled_config"] and "alice/garbled-config" in out["garbled_config"]
    assert "neither an existing folder nor a Hub repo id" in out["not_a_repo"]
    assert "FACEBMI_MODEL_REVISION" in out["folder_revision"] and "FACEBMI_MODEL" in out["default_revision"]

    def resolve(name, repo, home, token):
        return child(hub, home, f"CASES = {[(name, repo, None)]!r}\n" + RESOLVE_ERRORS, token=token)[name]

    # Private by default means private: without alice's token the repo is "not found", with bob's too.
    for token in (None, OTHER_TOKEN):
        message = resolve("private", pushed, tmp_path / f"home-{bool(token)}", token)
        assert "not found" in message and "HF_TOKEN" in message
    hub.put_files("alice/shared", {"config.json": json.dumps(config).encode(), "model.safetensors": weights},
                  owner="alice", private=False)
    assert resolve("public", "alice/shared", tmp_path, OTHER_TOKEN) == "loaded"  # readable with anyone's token
    message = resolve("bad_token", pushed, tmp_path / "bad-token", "hf_rejected_token_000")
    assert "HF_TOKEN" in message and "hf_rejected_token_000" not in message


def test_local_folder_and_default_touch_no_network(hub, model_dir, tmp_path):
    from facebmi import loading, model

    assert loading.WEIGHTS_NAME == model.WEIGHTS_NAME  # repeated in loading.py to keep it torch-free
    hub.clear_requests()
    out = child(hub, tmp_path, """
        import json, os, sys
        from facebmi.loading import DEFAULT_MODEL_DIR, load_model, resolve_model_folder
        default = resolve_model_folder()
        local = load_model(os.environ["LOCAL_MODEL"])
        if (DEFAULT_MODEL_DIR / "model.safetensors").is_file():
            load_model()
        print(json.dumps({"default": str(default), "hub_imported": "huggingface_hub" in sys.modules}))
    """, extra={"LOCAL_MODEL": str(model_dir)})
    assert out["default"].endswith("facebmi/default_model")
    assert out["hub_imported"] is False
    assert hub.requests == []


# --- dataset ------------------------------------------------------------------------------------------------

def test_dataset_pushed_with_push_to_hub_loads_back_with_load_dataset(hub, tmp_path):
    hub.clear_requests()
    out = child(hub, tmp_path / "home", f"""
        import json
        import numpy as np
        from datasets import ClassLabel, Dataset, Features, Image, Value, load_dataset, load_from_disk
        from PIL import Image as PILImage
        from facebmi.labels import AGE_BRACKETS

        features = Features({{"image": Image(), "bmi": Value("float32"), "sex": Value("string"),
                              "bracket": ClassLabel(names=list(AGE_BRACKETS)), "split": Value("string")}})
        rng = np.random.default_rng(0)
        rows = {{"image": [PILImage.fromarray(rng.integers(0, 255, (16, 16, 3), dtype=np.uint8)) for _ in range(6)],
                "bmi": [18.5, 22.0, 31.5, 40.25, 27.0, 24.5], "sex": ["F", "M", "F", "M", "F", ""],
                "bracket": [4, 4, 5, 6, 3, 7], "split": ["train"] * 6}}
        ds = Dataset.from_dict(rows, features=features)
        ds.push_to_hub("alice/faces", private=True)
        ds.push_to_hub("alice/faces", private=True)  # unchanged: must not make a second commit
        ds.save_to_disk("{tmp_path / 'on-disk'}")

        hub_ds = load_dataset("alice/faces", split="train")
        disk_ds = load_from_disk("{tmp_path / 'on-disk'}")
        same_pixels = all(np.array_equal(np.asarray(a["image"]), np.asarray(b["image"]))
                          for a, b in zip(hub_ds, ds))
        print(json.dumps({{"hub_features": str(hub_ds.features), "disk_features": str(disk_ds.features),
                          "pushed_features": str(features), "bmi": list(hub_ds["bmi"]),
                          "sex": list(hub_ds["sex"]), "bracket": list(hub_ds["bracket"]),
                          "same_pixels": same_pixels}}))
    """)
    assert out["hub_features"] == out["disk_features"] == out["pushed_features"]
    assert out["bmi"] == [18.5, 22.0, 31.5, 40.25, 27.0, 24.5]
    assert out["sex"] == ["F", "M", "F", "M", "F", ""] and out["bracket"] == [4, 4, 5, 6, 3, 7]
    assert out["same_pixels"]
    repo = hub.repo("alice/faces", "dataset")
    assert repo.private
    assert [c.title for c in repo.history(repo.resolve("main"))] == ["Upload dataset", "initial commit"]
    assert any(p.endswith(".parquet") for p in repo.resolve("main").files)
    assert any(r["method"] == "GET" and r["path"].startswith("/datasets/alice/faces/resolve/")
               and r["path"].endswith(".parquet") for r in hub.requests), "load_dataset read the Hub's copy"
