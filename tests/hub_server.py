"""A small Hugging Face Hub on loopback, for the tests: exactly the HTTP API our push and pull code uses.

Why our own: the only "local hub" packages on PyPI either need a server binary the wheel does not ship
(hf-local-hub) or are read-only mirrors that proxy the real Hub (olah). This one keeps repos in memory and
serves what huggingface_hub (2.x) and datasets call for:

  POST /api/repos/create                                 create_repo (409 when it exists)
  GET  /api/whoami-v2                                    whoami
  POST /api/validate-yaml                                README front matter check (create_commit does it)
  GET  /api/{type}s/{ns}/{name}[/revision/{rev}]         repo_info / model_info / dataset_info
  GET  /api/{type}s/{ns}/{name}/tree/{rev}[/{path}]      list_repo_tree (recursive or not)
  POST /api/{type}s/{ns}/{name}/paths-info/{rev}         get_paths_info
  GET  /api/{type}s/{ns}/{name}/refs                     list_repo_refs
  GET  /api/{type}s/{ns}/{name}/commits/{rev}            list_repo_commits
  POST /api/{type}s/{ns}/{name}/preupload/{rev}          upload mode (regular or lfs) + remote oid
  POST /{prefix}{ns}/{name}.git/info/lfs/objects/batch   LFS batch API, "basic" transfer only (no xet)
  PUT  /lfs-objects/{sha256}                             the LFS upload target the batch API hands out
  POST /api/{type}s/{ns}/{name}/commit/{rev}             create_commit (NDJSON: header, file, lfsFile, deleted*)
  HEAD/GET /{prefix}{ns}/{name}/resolve/{rev}/{path}     file metadata and download, Range supported

Errors carry the X-Error-Code headers huggingface_hub turns into RepositoryNotFoundError,
RevisionNotFoundError and EntryNotFoundError. Private repos are visible only with a valid token. Every request
is recorded (method, path, whether an Authorization header came) so tests can count network use.
Xet is never advertised: clients must run with HF_HUB_DISABLE_XET=1 (hf_xet would otherwise be tried first).
"""
from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
import time
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

PREFIXES = {"model": "", "dataset": "datasets/", "space": "spaces/"}
# Like the Hub's default .gitattributes: binaries and anything over 10 MB go to LFS.
LFS_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".ckpt", ".parquet", ".arrow", ".npy", ".npz", ".zip",
                ".tar", ".gz", ".png", ".jpg", ".jpeg", ".webp")
LFS_MIN_SIZE = 10 * 1024 * 1024


def git_blob_oid(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def lfs_pointer(sha256: str, size: int) -> bytes:
    return f"version https://git-lfs.github.com/spec/v1\noid sha256:{sha256}\nsize {size}\n".encode()


@dataclass
class StoredFile:
    content: bytes
    lfs_sha256: str | None  # set for files stored through LFS

    @property
    def blob_oid(self) -> str:
        """The git blob id: of the content, or of the LFS pointer for an LFS file (as on the Hub)."""
        if self.lfs_sha256 is None:
            return git_blob_oid(self.content)
        return git_blob_oid(lfs_pointer(self.lfs_sha256, len(self.content)))

    def tree_entry(self, path: str) -> dict:
        entry = {"type": "file", "oid": self.blob_oid, "size": len(self.content), "path": path}
        if self.lfs_sha256 is not None:
            entry["lfs"] = {"oid": self.lfs_sha256, "size": len(self.content),
                            "pointerSize": len(lfs_pointer(self.lfs_sha256, len(self.content)))}
        return entry


@dataclass
class Commit:
    oid: str
    parent: str | None
    title: str
    message: str
    author: str
    date: float
    files: dict[str, StoredFile]


@dataclass
class Repo:
    repo_type: str
    repo_id: str
    private: bool
    owner: str
    branches: dict[str, str] = field(default_factory=dict)
    commits: dict[str, Commit] = field(default_factory=dict)

    def commit(self, parent: str | None, files: dict[str, StoredFile], title: str, message: str,
               author: str) -> Commit:
        digest = hashlib.sha1(json.dumps([parent, title, message, time.time_ns(),
                                          sorted((p, f.blob_oid) for p, f in files.items())]).encode())
        c = Commit(digest.hexdigest(), parent, title, message, author, time.time(), files)
        self.commits[c.oid] = c
        return c

    def resolve(self, revision: str) -> Commit | None:
        if revision in self.branches:
            return self.commits[self.branches[revision]]
        return self.commits.get(revision)

    def history(self, head: Commit) -> list[Commit]:
        out = [head]
        while out[-1].parent is not None:
            out.append(self.commits[out[-1].parent])
        return out


class HubError(Exception):
    def __init__(self, status: int, message: str, code: str | None = None):
        super().__init__(message)
        self.status, self.message, self.code = status, message, code


class LocalHub:
    """In-memory repos behind a ThreadingHTTPServer on 127.0.0.1 (port chosen by the OS)."""

    def __init__(self, tokens: dict[str, str]):
        self.tokens = tokens  # token -> user name
        self.repos: dict[tuple[str, str], Repo] = {}
        self.lfs_objects: dict[str, bytes] = {}  # sha256 -> content
        self.requests: list[dict] = []
        self.unrouted: list[str] = []  # calls this server does not implement: a test asserts there are none
        self.lock = threading.RLock()
        hub = self

        class Handler(_Handler):
            pass

        Handler.hub = hub
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "LocalHub":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    # --- helpers for tests -------------------------------------------------------------------------------
    def repo(self, repo_id: str, repo_type: str = "model") -> Repo:
        return self.repos[(repo_type, repo_id)]

    def clear_requests(self) -> None:
        with self.lock:
            self.requests.clear()

    def put_files(self, repo_id: str, files: dict[str, bytes], *, owner: str, private: bool = False,
                  repo_type: str = "model", message: str = "seed") -> str:
        """Create (or extend) a repo straight in storage, as if pushed: for tests of the download side."""
        with self.lock:
            repo = self.repos.setdefault((repo_type, repo_id), Repo(repo_type, repo_id, private, owner))
            parent = repo.branches.get("main")
            stored = dict(repo.commits[parent].files) if parent else {}
            for path, content in files.items():
                lfs = path.lower().endswith(LFS_SUFFIXES)
                stored[path] = StoredFile(content, hashlib.sha256(content).hexdigest() if lfs else None)
            commit = repo.commit(parent, stored, message, "", owner)
            repo.branches["main"] = commit.oid
            return commit.oid

    # --- auth and lookup ---------------------------------------------------------------------------------
    def user_for(self, headers) -> str | None:
        auth = headers.get("Authorization")
        if not auth:
            return None
        token = auth.removeprefix("Bearer ").strip()
        if token not in self.tokens:
            raise HubError(401, "Invalid credentials in Authorization header")
        return self.tokens[token]

    def readable(self, repo_type: str, repo_id: str, user: str | None) -> Repo:
        repo = self.repos.get((repo_type, repo_id))
        if repo is None or (repo.private and user != repo.owner):
            # The Hub answers the same for missing and not-yours, so a private repo's existence never leaks.
            raise HubError(404, f"Repository {repo_id} not found", "RepoNotFound")
        return repo

    def writable(self, repo_type: str, repo_id: str, user: str | None) -> Repo:
        if user is None:
            raise HubError(401, "You must be authenticated to write")
        repo = self.readable(repo_type, repo_id, user)
        if user != repo.owner:
            raise HubError(403, f"You have no write access to {repo_id}")
        return repo

    @staticmethod
    def revision(repo: Repo, revision: str) -> Commit:
        commit = repo.resolve(revision)
        if commit is None:
            raise HubError(404, f"Invalid rev id: {revision}", "RevisionNotFound")
        return commit


class _Handler(BaseHTTPRequestHandler):
    hub: LocalHub
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:  # keep test output clean; requests are recorded in hub.requests
        pass

    # --- plumbing ----------------------------------------------------------------------------------------
    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(self, status: int, body: bytes = b"", content_type: str = "application/json",
              headers: dict | None = None, head: bool = False, length: int | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def _json(self, status: int, data, headers: dict | None = None) -> None:
        self._send(status, json.dumps(data).encode(), headers=headers)

    def _dispatch(self, method: str) -> None:
        url = urlsplit(self.path)
        parts = [unquote(p) for p in url.path.strip("/").split("/")] if url.path.strip("/") else []
        query = parse_qs(url.query)
        with self.hub.lock:
            self.hub.requests.append({"method": method, "path": url.path,
                                      "auth": "Authorization" in self.headers})
        body = self._body() if method in ("POST", "PUT") else b""
        try:
            user = self.hub.user_for(self.headers)
            with self.hub.lock:
                self._route(method, parts, query, body, user)
        except HubError as err:
            headers = {"X-Error-Message": err.message}
            if err.code:
                headers["X-Error-Code"] = err.code
            self._send(err.status, json.dumps({"error": err.message}).encode(), headers=headers,
                       head=method == "HEAD")

    do_GET = lambda self: self._dispatch("GET")  # noqa: E731
    do_HEAD = lambda self: self._dispatch("HEAD")  # noqa: E731
    do_POST = lambda self: self._dispatch("POST")  # noqa: E731
    do_PUT = lambda self: self._dispatch("PUT")  # noqa: E731

    # --- routing -----------------------------------------------------------------------------------------
    def _route(self, method: str, parts: list[str], query: dict, body: bytes, user: str | None) -> None:
        hub = self.hub
        if parts == ["api", "whoami-v2"] and method == "GET":
            if user is None:
                raise HubError(401, "Invalid username or password.")
            return self._json(200, {"type": "user", "name": user, "orgs": [],
                                    "auth": {"type": "access_token", "accessToken": {"role": "write"}}})
        if parts == ["api", "agent-harnesses"]:  # huggingface_hub's best-effort telemetry registry: not served
            raise HubError(404, "not served here")
        if parts == ["api", "validate-yaml"] and method == "POST":
            return self._validate_yaml(json.loads(body))
        if parts == ["api", "repos", "create"] and method == "POST":
            return self._create_repo(json.loads(body), user)
        if len(parts) >= 4 and parts[0] == "api" and parts[1] in ("models", "datasets", "spaces"):
            repo_type, repo_id, rest = parts[1][:-1], f"{parts[2]}/{parts[3]}", parts[4:]
            return self._api(method, repo_type, repo_id, rest, query, body, user)
        if len(parts) == 2 and parts[0] == "lfs-objects" and method == "PUT":
            return self._lfs_put(parts[1], body)
        # Git-style routes: [datasets/|spaces/]ns/name(.git/info/lfs/objects/batch | /resolve/rev/path)
        repo_type = "model"
        if parts and parts[0] in ("datasets", "spaces"):
            repo_type, parts = parts[0][:-1], parts[1:]
        if len(parts) == 6 and parts[1].endswith(".git") and parts[2:] == ["info", "lfs", "objects", "batch"]:
            return self._lfs_batch(repo_type, f"{parts[0]}/{parts[1][:-4]}", json.loads(body), user)
        if len(parts) >= 5 and parts[2] == "resolve" and method in ("GET", "HEAD"):
            return self._resolve(method, repo_type, f"{parts[0]}/{parts[1]}", parts[3], "/".join(parts[4:]), user)
        self.hub.unrouted.append(f"{method} /{'/'.join(parts)}")
        raise HubError(404, f"no route for {method} /{'/'.join(parts)}")

    def _validate_yaml(self, payload: dict) -> None:
        """The README front matter check create_commit asks for: a mapping, list fields as lists of strings."""
        import yaml

        text, errors = payload.get("content", ""), []
        match = re.match(r"^---\n(.*?)\n---\n", text, re.S)
        try:
            meta = yaml.safe_load(match[1]) if match else {}
        except yaml.YAMLError as err:
            meta, errors = {}, [{"message": f"invalid YAML: {err}"}]
        if not isinstance(meta, dict):
            meta, errors = {}, [{"message": "metadata must be a mapping"}]
        for key in ("tags", "datasets", "metrics", "models"):
            if key in meta and not (isinstance(meta[key], list) and all(isinstance(v, str) for v in meta[key])):
                errors.append({"message": f'"{key}" must be a list of strings'})
        if "license" in meta and not isinstance(meta["license"], str):
            errors.append({"message": '"license" must be a string'})
        self._json(400 if errors else 200, {"errors": errors, "warnings": []})

    def _create_repo(self, payload: dict, user: str | None) -> None:
        if user is None:
            raise HubError(401, "You must be authenticated to create a repo")
        repo_type = payload.get("type") or "model"
        namespace = payload.get("organization") or user
        repo_id = f"{namespace}/{payload['name']}"
        url = f"{self.hub.url}/{PREFIXES[repo_type]}{repo_id}"
        if namespace != user:
            raise HubError(403, f"You cannot create repos in {namespace}")
        if (repo_type, repo_id) in self.hub.repos:
            return self._json(409, {"error": "You already created this repo", "url": url})
        private = payload.get("visibility") == "private" or payload.get("private") is True
        repo = Repo(repo_type, repo_id, private, user)
        first = repo.commit(None, {".gitattributes": StoredFile(b"*.safetensors filter=lfs\n", None)},
                            "initial commit", "", user)
        repo.branches["main"] = first.oid
        self.hub.repos[(repo_type, repo_id)] = repo
        self._json(200, {"url": url, "name": repo_id})

    def _api(self, method, repo_type, repo_id, rest, query, body, user) -> None:
        hub = self.hub
        if method == "GET" and (not rest or rest[0] == "revision"):
            repo = hub.readable(repo_type, repo_id, user)
            commit = hub.revision(repo, rest[1] if len(rest) > 1 else "main")
            return self._json(200, {
                "id": repo_id, "author": repo.owner, "sha": commit.oid, "private": repo.private,
                "gated": False, "disabled": False, "downloads": 0, "likes": 0, "tags": [],
                "lastModified": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(commit.date)),
                "siblings": [{"rfilename": p} for p in sorted(commit.files)],
            })
        if method == "GET" and rest and rest[0] == "tree":
            repo = hub.readable(repo_type, repo_id, user)
            commit = hub.revision(repo, rest[1])
            prefix = "/".join(rest[2:]).strip("/")
            recursive = query.get("recursive", ["False"])[0].lower() == "true"
            return self._json(200, _tree(commit.files, prefix, recursive))
        if method == "POST" and rest and rest[0] == "paths-info":
            repo = hub.readable(repo_type, repo_id, user)
            commit = hub.revision(repo, rest[1])
            paths = parse_qs(body.decode()).get("paths", [])
            out = []
            for p in paths:
                p = p.strip("/")
                if p in commit.files:
                    out.append(commit.files[p].tree_entry(p))
                elif any(f.startswith(p + "/") for f in commit.files):
                    out.append({"type": "directory", "oid": _dir_oid(commit.files, p), "size": 0, "path": p})
            return self._json(200, out)
        if method == "GET" and rest == ["refs"]:
            repo = hub.readable(repo_type, repo_id, user)
            return self._json(200, {"branches": [{"name": b, "ref": f"refs/heads/{b}", "targetCommit": oid}
                                                 for b, oid in repo.branches.items()],
                                    "tags": [], "converts": []})
        if method == "GET" and rest and rest[0] == "commits":
            repo = hub.readable(repo_type, repo_id, user)
            head = hub.revision(repo, rest[1])
            return self._json(200, [{"id": c.oid, "title": c.title, "message": c.message,
                                     "authors": [{"user": c.author}],
                                     "date": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(c.date))}
                                    for c in repo.history(head)])
        if method == "POST" and rest and rest[0] == "preupload":
            repo = hub.writable(repo_type, repo_id, user)
            commit = hub.revision(repo, rest[1])
            files = []
            for f in json.loads(body)["files"]:
                lfs = f["path"].lower().endswith(LFS_SUFFIXES) or f["size"] >= LFS_MIN_SIZE
                existing = commit.files.get(f["path"])
                oid = None
                if existing is not None:
                    oid = existing.lfs_sha256 if existing.lfs_sha256 else existing.blob_oid
                files.append({"path": f["path"], "uploadMode": "lfs" if lfs else "regular",
                              "shouldIgnore": False, "oid": oid})
            return self._json(200, {"files": files, "commitOid": commit.oid})
        if method == "POST" and rest and rest[0] == "commit":
            repo = hub.writable(repo_type, repo_id, user)
            if query.get("create_pr"):
                raise HubError(400, "pull requests are not supported by this test hub")
            return self._commit(repo, unquote(rest[1]), body, user)
        self.hub.unrouted.append(f"{method} /api/{repo_type}s/{repo_id}/{'/'.join(rest)}")
        raise HubError(404, f"no route for {method} /api/{repo_type}s/{repo_id}/{'/'.join(rest)}")

    def _commit(self, repo: Repo, branch: str, body: bytes, user: str) -> None:
        lines = [json.loads(line) for line in body.splitlines() if line.strip()]
        if not lines or lines[0].get("key") != "header":
            raise HubError(400, "commit payload must start with a header line")
        header = lines[0]["value"]
        if branch not in repo.branches:
            raise HubError(404, f"Invalid rev id: {branch}", "RevisionNotFound")
        head = repo.commits[repo.branches[branch]]
        if header.get("parentCommit") and header["parentCommit"] != head.oid:
            raise HubError(412, "A commit has happened since. Please refresh and try again.")
        files = dict(head.files)
        for line in lines[1:]:
            key, value = line["key"], line["value"]
            path = value["path"].strip("/")
            if key == "file":
                files[path] = StoredFile(base64.b64decode(value["content"]), None)
            elif key == "lfsFile":
                content = self.hub.lfs_objects.get(value["oid"])
                if content is None:
                    raise HubError(422, f"LFS object {value['oid']} for {path} was never uploaded")
                files[path] = StoredFile(content, value["oid"])
            elif key == "deletedFile":
                if path not in files:
                    raise HubError(404, f"{path} does not exist", "EntryNotFound")
                del files[path]
            elif key == "deletedFolder":
                files = {p: f for p, f in files.items() if not p.startswith(path + "/")}
            else:
                raise HubError(400, f"unsupported commit operation {key!r}")
        commit = repo.commit(head.oid, files, header.get("summary", ""), header.get("description", ""), user)
        repo.branches[branch] = commit.oid
        self._json(200, {"commitUrl": f"{self.hub.url}/{PREFIXES[repo.repo_type]}{repo.repo_id}/commit/{commit.oid}",
                         "commitOid": commit.oid, "pullRequestUrl": None})

    def _lfs_batch(self, repo_type: str, repo_id: str, payload: dict, user: str | None) -> None:
        self.hub.writable(repo_type, repo_id, user)
        if payload.get("operation") != "upload" or "basic" not in payload.get("transfers", ["basic"]):
            raise HubError(400, "this test hub only accepts LFS uploads with the basic transfer")
        objects = []
        for obj in payload["objects"]:
            entry = {"oid": obj["oid"], "size": obj["size"], "authenticated": True}
            if obj["oid"] not in self.hub.lfs_objects:
                entry["actions"] = {"upload": {"href": f"{self.hub.url}/lfs-objects/{obj['oid']}"}}
            objects.append(entry)
        self._send(200, json.dumps({"transfer": "basic", "objects": objects}).encode(),
                   content_type="application/vnd.git-lfs+json")

    def _lfs_put(self, sha256: str, body: bytes) -> None:
        if hashlib.sha256(body).hexdigest() != sha256:
            raise HubError(400, "uploaded content does not match its sha256")
        self.hub.lfs_objects[sha256] = body
        self._send(200)

    def _resolve(self, method: str, repo_type: str, repo_id: str, revision: str, path: str,
                 user: str | None) -> None:
        repo = self.hub.readable(repo_type, repo_id, user)
        commit = self.hub.revision(repo, revision)
        stored = commit.files.get(path)
        if stored is None:
            raise HubError(404, f"Entry not found: {path}", "EntryNotFound")
        headers = {"X-Repo-Commit": commit.oid, "Accept-Ranges": "bytes",
                   "Last-Modified": formatdate(commit.date, usegmt=True)}
        if stored.lfs_sha256:
            headers.update({"X-Linked-Etag": f'"{stored.lfs_sha256}"', "X-Linked-Size": str(len(stored.content)),
                            "ETag": f'"{stored.lfs_sha256}"'})
        else:
            headers["ETag"] = f'"{stored.blob_oid}"'
        content, status = stored.content, 200
        match = re.fullmatch(r"bytes=(\d*)-(\d*)", self.headers.get("Range", "") or "")
        if match and method == "GET":
            start = int(match[1] or 0)
            end = int(match[2]) if match[2] else len(content) - 1
            headers["Content-Range"] = f"bytes {start}-{min(end, len(content) - 1)}/{len(content)}"
            content, status = content[start:end + 1], 206
        self._send(status, content, content_type="application/octet-stream", headers=headers,
                   head=method == "HEAD")


def _tree(files: dict[str, StoredFile], prefix: str, recursive: bool) -> list[dict]:
    """Entries under `prefix`: files and folders one level down, or everything below when recursive."""
    base = prefix + "/" if prefix else ""
    entries: dict[str, dict] = {}
    for path in sorted(files):
        if not path.startswith(base):
            continue
        parts = path[len(base):].split("/")
        for depth in range(1, len(parts)):  # the folders on the way
            folder = base + "/".join(parts[:depth])
            if recursive or depth == 1:
                entries.setdefault(folder, {"type": "directory", "oid": _dir_oid(files, folder), "size": 0,
                                            "path": folder})
        if recursive or len(parts) == 1:
            entries[path] = files[path].tree_entry(path)
    if prefix and not entries and prefix not in files:
        raise HubError(404, f"{prefix} does not exist", "EntryNotFound")
    return list(entries.values())


def _dir_oid(files: dict[str, StoredFile], folder: str) -> str:
    inner = sorted((p, f.blob_oid) for p, f in files.items() if p.startswith(folder + "/"))
    return hashlib.sha1(json.dumps(inner).encode()).hexdigest()


if __name__ == "__main__":  # a manual playground: python tests/hub_server.py
    with LocalHub({"hf_local_test_token": "tester"}) as running:
        print(f"HF_ENDPOINT={running.url} HF_TOKEN=hf_local_test_token HF_HUB_DISABLE_XET=1", flush=True)
        running.thread.join()
