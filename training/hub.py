"""Push files to a Hugging Face Hub repo: create it if needed (private by default), then ONE commit per push.

A push first compares local hashes with the repo's own listing (sha256 of LFS files, git blob ids of the
others) and commits only what changed; with nothing changed it makes no commit at all, so rerunning a push
is free and the repo history stays readable. Used by training.learn.push_model and the dataset push.

The token comes from the environment (HF_TOKEN, or the login huggingface_hub keeps in HF_HOME) and is never
logged or put in an error message. HF_ENDPOINT points everything at another Hub (the tests' loopback one).
"""
from __future__ import annotations

import fnmatch
import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

HASH_CHUNK = 1 << 20  # read files 1 MiB at a time: weights can be large


class HubPushError(RuntimeError):
    """The push could not be done; the message says what to fix (and never contains the token)."""


@dataclass
class PushResult:
    repo_id: str
    repo_type: str
    url: str  # the repo's page
    commit: str  # the head commit after the push (the new one, or the unchanged head)
    created_repo: bool  # the repo did not exist before this push
    uploaded: list[str] = field(default_factory=list)  # paths added or changed by this push's commit
    deleted: list[str] = field(default_factory=list)  # remote paths removed by this push's commit

    @property
    def changed(self) -> bool:
        return bool(self.uploaded or self.deleted)

    def report_lines(self, asked_public: bool = False) -> list[str]:
        """What a push command tells its user: what was sent (or that nothing was), and that --public did not
        change a repo that already existed."""
        lines = []
        if asked_public and not self.created_repo:
            lines.append(f"note: {self.repo_id} already existed and keeps its visibility; --public applies to new "
                         "repos only")
        if self.changed:
            lines.append(f"pushed {', '.join(self.uploaded + self.deleted)} to {self.url} at {self.commit}")
        else:
            lines.append(f"{self.url} is up to date at {self.commit}: nothing pushed")
        return lines


@dataclass(frozen=True)
class _Local:
    source: Path | bytes  # a file on disk, or content made in memory (a rendered model card)
    size: int
    sha256: str
    git_oid: str  # what git (and the Hub) calls the blob: sha1 of "blob <size>\0" + content


def _describe(source: Path | bytes) -> _Local:
    sha256 = hashlib.sha256()
    if isinstance(source, bytes):
        sha256.update(source)
        size = len(source)
        git = hashlib.sha1(b"blob %d\0" % size + source)
    else:
        size = source.stat().st_size
        git = hashlib.sha1(b"blob %d\0" % size)
        with open(source, "rb") as f:
            while chunk := f.read(HASH_CHUNK):
                sha256.update(chunk)
                git.update(chunk)
    return _Local(source, size, sha256.hexdigest(), git.hexdigest())


def _same(local: _Local, remote) -> bool:
    """remote: a huggingface_hub RepoFile. LFS files are compared by sha256, the others by git blob id."""
    if remote.lfs is not None:
        return remote.lfs.sha256 == local.sha256 and remote.lfs.size == local.size
    return remote.blob_id == local.git_oid


def resolve_token(token: str | None = None) -> str:
    from huggingface_hub import get_token

    token = token or get_token()
    if not token:
        raise HubPushError("no Hugging Face token: set HF_TOKEN to a token with write access "
                           "(https://huggingface.co/settings/tokens)")
    return token


def push_files(files: dict[str, Path | bytes], repo_id: str, *, repo_type: str = "model",
               private: bool = True, commit_message: str = "Update files", revision: str = "main",
               delete_patterns: list[str] | None = None, token: str | None = None) -> PushResult:
    """Make the repo hold `files` (path in repo -> local file or bytes) in at most one new commit.

    private: used only when the repo is created; an existing repo keeps its visibility.
    delete_patterns: remote files matching these globs that are not in `files` are deleted in the same
    commit (e.g. ["data/*"] so a re-sharded dataset leaves no stale shards behind).
    """
    from huggingface_hub import CommitOperationAdd, CommitOperationDelete, HfApi, RepoFile
    from huggingface_hub.errors import HfHubHTTPError, RepositoryNotFoundError, RevisionNotFoundError

    api = HfApi(token=resolve_token(token))
    try:
        created = not api.repo_exists(repo_id, repo_type=repo_type)
        url = str(api.create_repo(repo_id, repo_type=repo_type, private=private, exist_ok=True))
        head = api.repo_info(repo_id, repo_type=repo_type, revision=revision).sha
        remote = {f.path: f for f in api.list_repo_tree(repo_id, repo_type=repo_type, revision=head,
                                                         recursive=True) if isinstance(f, RepoFile)}
    except RevisionNotFoundError:
        raise HubPushError(f"{repo_type} repo {repo_id} has no branch {revision!r}: create it first") from None
    except RepositoryNotFoundError:
        raise HubPushError(f"{repo_type} repo {repo_id} cannot be created or read with this token: check the "
                           "name and that HF_TOKEN has write access to its namespace") from None
    except HfHubHTTPError as err:
        raise HubPushError(f"the Hub refused the push to {repo_id}: HTTP {err.response.status_code}: "
                           f"{err.server_message or 'no message'}") from None

    local = {path: _describe(source) for path, source in files.items()}
    uploaded = sorted(p for p, f in local.items() if p not in remote or not _same(f, remote[p]))
    deleted = sorted(p for p in remote if p not in local and p != ".gitattributes"
                     and any(fnmatch.fnmatch(p, pattern) for pattern in delete_patterns or []))
    result = PushResult(repo_id, repo_type, url, head, created, uploaded, deleted)
    if not result.changed:
        log.info("%s is up to date at %s: nothing to commit", repo_id, head[:12])
        return result

    operations = [CommitOperationAdd(p, local[p].source if isinstance(local[p].source, bytes)
                                     else str(local[p].source)) for p in uploaded]
    operations += [CommitOperationDelete(p) for p in deleted]
    try:
        info = api.create_commit(repo_id, operations, commit_message=commit_message, repo_type=repo_type,
                                 revision=revision, parent_commit=head)
    except HfHubHTTPError as err:
        raise HubPushError(f"the commit to {repo_id} failed: HTTP {err.response.status_code}: "
                           f"{err.server_message or 'no message'} (rerun the push: it resumes from the "
                           "repo's current state)") from None
    except ValueError as err:  # the Hub rejected README.md's metadata (front matter)
        raise HubPushError(f"the Hub rejected the push to {repo_id}: {err}") from None
    result.commit = info.oid
    log.info("pushed %d file(s), deleted %d, to %s at %s", len(uploaded), len(deleted), repo_id, info.oid[:12])
    return result

