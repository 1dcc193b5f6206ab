"""Model downloads from a Hugging Face-style hub: resumable across runs, checked before use.

``hf_hub_download`` in huggingface_hub 2.4.0 writes into a temporary file unique to each call
and deletes it when the call fails, so a 500 MB download cut by a closed laptop lid or a quit
app starts again from zero. This module keeps its own partial file instead, named after the
file's ETag so a changed upstream file is never stitched onto an old one, and borrows
huggingface_hub's parts for the rest: ``get_hf_file_metadata`` (the HEAD call: size, ETag,
commit, CDN redirect, hub error codes) and ``http_get`` (the GET with ``Range`` resume and
retries within one call).

huggingface_hub reads its environment once, at import. The two variables a user of this app
may change afterwards are read here at call time: ``HF_ENDPOINT`` (a mirror or a test server)
and ``HF_HUB_OFFLINE``. Its telemetry is switched off for good: this app sends nothing about its
user anywhere, and with telemetry on, building request headers fetches an "agent harness"
registry from huggingface.co (even when ``HF_ENDPOINT`` points elsewhere).

Two of its module settings are changed on import, for every use in this process: telemetry
off, and a download chunk of 1 MiB instead of 10 MiB.

A file already downloaded is used as it is, without asking the hub, so the app starts offline;
delete it (or name another ``@REVISION``) to fetch a newer one.
"""

from __future__ import annotations

import errno
import functools
import hashlib
import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

import httpx2
from huggingface_hub import constants, get_hf_file_metadata, hf_hub_url
from huggingface_hub.errors import (
    FileMetadataError,
    GatedRepoError,
    HfHubHTTPError,
    OfflineModeIsEnabled,
    RemoteEntryNotFoundError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)
from huggingface_hub.file_download import HfFileMetadata, http_get
from huggingface_hub.utils import WeakFileLock, build_hf_headers

from backends.errors import ModelDownloadError, ModelFileError
from backends.gguf_check import check_gguf_file

if TYPE_CHECKING:  # model_files imports this module lazily: a runtime import here is a cycle
    from backends.model_files import Progress

CHUNK_SIZE = 1024 * 1024
"""Bytes per write while downloading (huggingface_hub's default is 10 MiB): a progress report per
chunk, and a dropped connection loses at most the unfinished chunk."""

constants.HF_HUB_DISABLE_TELEMETRY = True  # see the module docstring
constants.DOWNLOAD_CHUNK_SIZE = CHUNK_SIZE  # read by http_get on every call

DEFAULT_ENDPOINT = "https://huggingface.co"
DEFAULT_REVISION = "main"
_NAME_PART = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_GIT_SHA1 = re.compile(r"^[0-9a-f]{40}$")
_DISK_FULL_ERRNOS = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}
_HASH_CHUNK = 4 * 1024 * 1024

FileCheck = Callable[..., object]
"""Called as ``check(path, label=...)``; raises ModelFileError when the file is not usable."""


def hub_endpoint() -> str:
    """The hub's base URL: ``HF_ENDPOINT`` as it is now, not as it was at import."""
    return (os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/")


def local_path(repo_id: str, filename: str, dest_dir: Path, revision: str | None = None) -> Path:
    """Where a downloaded file lives: ``dest_dir/OWNER/REPO/REVISION/FILENAME``.

    Raises:
        ModelDownloadError: a name that is not a hub name or would leave ``dest_dir``.
    """
    owner, _, repo = repo_id.partition("/")
    if not (_NAME_PART.match(owner) and _NAME_PART.match(repo)) or ".." in repo_id:
        raise ModelDownloadError(f"{repo_id!r} is not a hub repository name (OWNER/REPO).")
    segments = filename.split("/")
    if any(segment in ("", ".", "..") for segment in segments) or "\\" in filename:
        raise ModelDownloadError(f"{filename!r} is not a file name inside a hub repository.")
    rev = revision or DEFAULT_REVISION
    if rev in (".", ".."):
        raise ModelDownloadError(f"{rev!r} is not a revision of {repo_id}.")
    return Path(dest_dir, owner, repo, quote(rev, safe=""), *segments)


def download_model(
    repo_id: str,
    filename: str,
    dest_dir: Path,
    revision: str | None = None,
    progress: Progress | None = None,
    check: FileCheck = check_gguf_file,
) -> Path:
    """Download ``filename`` from ``repo_id`` (once) and return the checked local file.

    An interrupted download (dropped connection, app closed, Ctrl-C) leaves a partial file
    that the next call continues with a ``Range`` request. ``progress(done, total)`` receives
    bytes, counting what an earlier attempt already fetched. ``check`` decides whether a file
    is complete and usable (a whole GGUF model by default; the MLX backend checks its
    safetensors and JSON files).

    Raises:
        ModelDownloadError: the hub is unreachable, the repository, revision or file does not
            exist, the download is corrupt or not a complete GGUF model, or it cannot be
            written; one sentence says which.
    """
    target = local_path(repo_id, filename, Path(dest_dir), revision)
    if _usable(target, check):
        return target
    what = f"{filename} from {repo_id}" + (f"@{revision}" if revision else "")
    endpoint = hub_endpoint()
    if _env_true("HF_HUB_OFFLINE"):
        raise ModelDownloadError(
            f"Cannot download {what}: offline mode is on (HF_HUB_OFFLINE); unset it or use a "
            f"local .gguf file."
        )
    try:
        _make_dirs(target.parent, what)
        with WeakFileLock(target.parent / f".{target.name}.lock"):
            if not _usable(target, check):  # another instance may have finished it meanwhile
                _download(repo_id, filename, revision, endpoint, target, progress, what, check)
    except ModelFileError:
        raise
    except Exception as exc:  # huggingface_hub and httpx2 raise many kinds; say it once
        raise _download_error(exc, what, endpoint, target.parent) from exc
    return target


def _env_true(name: str) -> bool:
    return os.environ.get(name, "").strip().upper() in {"1", "ON", "YES", "TRUE"}


def _usable(target: Path, check: FileCheck) -> bool:
    """Whether a finished download is there and whole; a damaged one is removed for a refetch."""
    if not target.is_file():
        return False
    try:
        check(target)
    except ModelFileError:
        target.unlink(missing_ok=True)
        return False
    return True


def _make_dirs(directory: Path, what: str) -> None:
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ModelDownloadError(
            f"Cannot download {what}: cannot create {directory} ({exc.strerror or exc})."
        ) from exc


def _download(
    repo_id: str,
    filename: str,
    revision: str | None,
    endpoint: str,
    target: Path,
    progress: Progress | None,
    what: str,
    check: FileCheck,
) -> None:
    """HEAD for size and ETag, GET into the partial file (resuming it), verify, move in place."""
    url = hf_hub_url(repo_id, filename, revision=revision, endpoint=endpoint)
    metadata = get_hf_file_metadata(url, endpoint=endpoint)
    if metadata.etag is None:
        raise FileMetadataError(f"{url} has no ETag")
    partial = target.with_name(f".{target.name}.{_etag_key(metadata.etag)}.partial")
    _remove_other_partials(target, keep=partial)
    _check_free_space(partial, metadata.size, what)
    _fetch(url, metadata, partial, progress)
    _verify(partial, metadata.etag, what)
    try:
        check(partial, label=f"The file {what}")
    except ModelFileError as exc:
        partial.unlink(missing_ok=True)
        raise ModelDownloadError(str(exc)) from exc
    os.replace(partial, target)


def _etag_key(etag: str) -> str:
    """A short file-name-safe key for an ETag (servers other than the hub send any text)."""
    return hashlib.sha256(etag.encode()).hexdigest()[:16]


def _remove_other_partials(target: Path, keep: Path) -> None:
    """Drop partial downloads of an older version of the file: they cannot be resumed."""
    prefix = f".{target.name}."
    for leftover in target.parent.iterdir():
        name = leftover.name
        if name.startswith(prefix) and name.endswith(".partial") and leftover != keep:
            leftover.unlink(missing_ok=True)


def _partial_size(partial: Path) -> int:
    try:
        return partial.stat().st_size
    except FileNotFoundError:
        return 0


def _check_free_space(partial: Path, size: int | None, what: str) -> None:
    if size is None:
        return
    needed = size - _partial_size(partial)
    try:
        free = shutil.disk_usage(partial.parent).free
    except OSError:
        return
    if free < needed:
        raise ModelDownloadError(
            f"Not enough disk space to download {what}: it needs {needed / 1e6:,.0f} MB more "
            f"in {partial.parent}, and only {free / 1e6:,.0f} MB is free."
        )


def _fetch(url: str, metadata: HfFileMetadata, partial: Path, progress: Progress | None) -> None:
    """GET the file into ``partial``, continuing from its current size."""
    resume = _partial_size(partial)
    if metadata.size is not None and resume > metadata.size:
        partial.unlink()
        resume = 0
    headers = build_hf_headers(headers={"Accept-Encoding": "identity"})
    if _origin(metadata.location) != _origin(url):
        headers.pop("authorization", None)  # a signed CDN address: the token stays on the hub
    bar = functools.partial(_ProgressBar, progress, metadata.size)
    with partial.open("ab") as out:
        http_get(
            metadata.location,
            out,
            resume_size=resume,
            headers=headers,
            expected_size=metadata.size,
            displayed_filename=partial.name,
            tqdm_class=bar,  # type: ignore[arg-type]  # a callable is accepted, see _ProgressBar
        )
        out.flush()
        os.fsync(out.fileno())


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc.lower()


class _ProgressBar:
    """Stands in for the tqdm bar ``http_get`` draws, forwarding bytes to ``progress``.

    huggingface_hub calls a ``tqdm_class`` that is not a tqdm subclass as
    ``cls(total=..., initial=..., desc=..., unit=..., unit_scale=...)`` and then uses it as a
    context manager with ``update(n)``. Passing one also keeps the library from drawing its
    own bar on stderr: the app shows progress its own way.
    """

    def __init__(
        self, progress: Progress | None, size: int | None, *, total: int | None = None, **kw: Any
    ) -> None:
        self.progress = progress
        self.total = total or size or 0
        self.n = int(kw.get("initial") or 0)
        self._report()

    def __enter__(self) -> _ProgressBar:
        return self

    def __exit__(self, *exc_info: object) -> None:
        return None

    def update(self, n: float | None = 1) -> None:
        self.n += int(n or 0)
        self._report()

    def _report(self) -> None:
        if self.progress is not None:
            self.progress(self.n, max(self.total, self.n))


def _verify(partial: Path, etag: str, what: str) -> None:
    """Compare the file with the hash the hub gave as its ETag (sha256 for LFS, git sha1 else).

    A corrupt file is deleted: resuming it again could only reproduce the damage.
    """
    if _SHA256.match(etag):
        digest = hashlib.sha256()
    elif _GIT_SHA1.match(etag):
        digest = hashlib.sha1(usedforsecurity=False)
        digest.update(f"blob {partial.stat().st_size}\0".encode())
    else:
        return  # a server that gives no content hash: the size and GGUF checks remain
    with partial.open("rb") as source:
        while chunk := source.read(_HASH_CHUNK):
            digest.update(chunk)
    got = digest.hexdigest()
    if got != etag:
        partial.unlink(missing_ok=True)
        raise ModelDownloadError(
            f"The download of {what} is corrupt ({digest.name} expected {etag}, got {got}) and "
            f"was deleted; try again."
        )


def _download_error(exc: Exception, what: str, endpoint: str, folder: Path) -> ModelDownloadError:
    """One sentence for whatever went wrong, naming the file and the repository."""
    if isinstance(exc, GatedRepoError):
        reason = "the repository is gated: accept its terms on the hub, then log in (hf auth login)"
    elif isinstance(exc, RepositoryNotFoundError):
        reason = f"the repository does not exist on {endpoint} (or it is private and needs a login)"
    elif isinstance(exc, RevisionNotFoundError):
        reason = "that revision does not exist in the repository"
    elif isinstance(exc, RemoteEntryNotFoundError):
        reason = "the repository has no such file"
    elif isinstance(exc, HfHubHTTPError):
        status = exc.response.status_code if exc.response is not None else "an error"
        reason = f"{endpoint} answered HTTP {status}"
    elif isinstance(exc, OfflineModeIsEnabled):
        reason = "offline mode is on (HF_HUB_OFFLINE); unset it or use a local .gguf file"
    elif isinstance(exc, FileMetadataError):
        reason = f"{endpoint} does not answer like a model hub (check HF_ENDPOINT)"
    elif isinstance(exc, httpx2.TimeoutException):
        reason = f"{endpoint} did not answer in time; check the connection and try again"
    elif isinstance(exc, httpx2.HTTPError):
        reason = f"cannot reach {endpoint} ({exc}); check the connection, or use a local .gguf file"
    elif isinstance(exc, OSError) and exc.errno in _DISK_FULL_ERRNOS:
        reason = f"the disk holding {folder} is full"
    elif isinstance(exc, OSError) and exc.errno is not None:
        reason = f"cannot write to {folder} ({exc.strerror or exc})"
    elif isinstance(exc, OSError):
        reason = "the connection ended early; run again to continue where it stopped"
    elif isinstance(exc, ValueError):
        reason = f"the hub refused the request ({exc})"
    else:
        reason = f"{type(exc).__name__}: {exc}"
    return ModelDownloadError(f"Cannot download {what}: {reason}.")
