"""Downloading a model from a hub, against a local stand-in server (nothing leaves the machine).

huggingface_hub was imported before each test sets ``HF_ENDPOINT``, so every test here also
shows that the endpoint is read when a download starts, not when the library was imported.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import gguf
import numpy as np
import pytest
from huggingface_hub import constants
from huggingface_hub.utils import _detect_agent

from backends.errors import ModelDownloadError
from backends.hub import download_model
from tests.hub_server import HubServer, serve_hub
from tests.loopback import free_port

REPO = "someone/tiny-model"
FILE = "tiny-q4.gguf"
DOWNLOAD_CHUNK_SIZE = constants.DOWNLOAD_CHUNK_SIZE  # as backends.hub set it


@pytest.fixture(scope="module")
def model_bytes(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A real GGUF of about 1.5 download chunks, so a cut after one chunk can be resumed.

    huggingface_hub writes what it receives in whole chunks (1 MiB as ``backends.hub`` sets it)
    and loses the unfinished chunk when a connection drops, so a file smaller than a chunk
    could not show a resume.
    """
    path = tmp_path_factory.mktemp("served") / "model.gguf"
    writer = gguf.GGUFWriter(path, "test")
    writer.add_string("general.name", "hub-test")
    floats = DOWNLOAD_CHUNK_SIZE * 3 // 2 // 4
    writer.add_tensor("weights", np.arange(floats, dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path.read_bytes()


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch) -> Iterator[HubServer]:
    with serve_hub(monkeypatch) as server:
        yield server


@pytest.fixture
def dest(tmp_path: Path) -> Path:
    return tmp_path / "hub"


def test_download_writes_the_file_and_reports_progress(
    hub: HubServer, dest: Path, model_bytes: bytes
) -> None:
    hub.add_file(REPO, FILE, model_bytes)
    seen: list[tuple[int, int]] = []

    path = download_model(REPO, FILE, dest, progress=lambda done, total: seen.append((done, total)))

    assert hub.url != constants.ENDPOINT  # the library still holds its import-time endpoint
    assert path == dest / "someone" / "tiny-model" / "main" / FILE
    assert path.read_bytes() == model_bytes
    assert sorted(p.name for p in path.parent.iterdir() if not p.name.endswith(".lock")) == [FILE]
    size = len(model_bytes)
    assert seen[0] == (0, size)
    assert seen[-1] == (size, size)
    assert all(total == size for _, total in seen)
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)


def test_a_plain_git_file_is_checked_against_its_git_hash(
    hub: HubServer, dest: Path, model_bytes: bytes
) -> None:
    hub.add_file(REPO, FILE, model_bytes, lfs=False)

    assert download_model(REPO, FILE, dest).read_bytes() == model_bytes


def test_a_downloaded_file_is_used_without_asking_the_hub(
    hub: HubServer, dest: Path, model_bytes: bytes
) -> None:
    hub.add_file(REPO, FILE, model_bytes)
    first = download_model(REPO, FILE, dest)
    asked = len(hub.requests)

    assert download_model(REPO, FILE, dest) == first
    assert len(hub.requests) == asked


def test_a_dropped_connection_resumes_where_it_stopped(
    hub: HubServer, dest: Path, model_bytes: bytes
) -> None:
    hub.add_file(REPO, FILE, model_bytes)
    hub.drop_after = DOWNLOAD_CHUNK_SIZE + DOWNLOAD_CHUNK_SIZE // 4

    path = download_model(REPO, FILE, dest)

    assert path.read_bytes() == model_bytes
    first, second = hub.gets()
    assert "Range" not in first.headers
    assert second.headers["Range"] == f"bytes={DOWNLOAD_CHUNK_SIZE}-"
    assert hub.bytes_served < 2 * len(model_bytes)


def test_a_download_interrupted_by_the_user_continues_on_the_next_run(
    hub: HubServer, dest: Path, model_bytes: bytes
) -> None:
    hub.add_file(REPO, FILE, model_bytes)

    def quit_after_first_chunk(done: int, total: int) -> None:
        if done > DOWNLOAD_CHUNK_SIZE:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        download_model(REPO, FILE, dest, progress=quit_after_first_chunk)
    assert not (dest / "someone" / "tiny-model" / "main" / FILE).exists()

    seen: list[tuple[int, int]] = []
    path = download_model(REPO, FILE, dest, progress=lambda d, t: seen.append((d, t)))

    assert path.read_bytes() == model_bytes
    assert hub.gets()[-1].headers["Range"] == f"bytes={DOWNLOAD_CHUNK_SIZE}-"
    assert seen[0] == (DOWNLOAD_CHUNK_SIZE, len(model_bytes))
    assert [p.name for p in path.parent.iterdir() if p.name.endswith(".partial")] == []


def test_a_server_that_ignores_range_still_gives_a_whole_file(
    hub: HubServer, dest: Path, model_bytes: bytes
) -> None:
    hub.add_file(REPO, FILE, model_bytes)

    def quit_after_first_chunk(done: int, total: int) -> None:
        if done > DOWNLOAD_CHUNK_SIZE:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        download_model(REPO, FILE, dest, progress=quit_after_first_chunk)
    hub.honour_range = False

    path = download_model(REPO, FILE, dest)

    assert path.read_bytes() == model_bytes
    assert "Range" in hub.gets()[-1].headers


def test_a_missing_file_names_the_repository_and_the_file(hub: HubServer, dest: Path) -> None:
    hub.add_file(REPO, "other.gguf", b"GGUF")

    with pytest.raises(ModelDownloadError) as caught:
        download_model(REPO, FILE, dest)

    message = str(caught.value)
    assert REPO in message
    assert FILE in message
    assert "no such file" in message
    assert [r.method for r in hub.requests] == ["HEAD"]


def test_a_missing_repository_or_revision_is_explained(hub: HubServer, dest: Path) -> None:
    hub.add_file(REPO, FILE, b"GGUF")

    with pytest.raises(ModelDownloadError, match="repository does not exist"):
        download_model("nobody/nothing", FILE, dest)
    with pytest.raises(ModelDownloadError, match="revision does not exist"):
        download_model(REPO, FILE, dest, revision="v9")


def test_a_corrupt_download_is_refused_and_deleted(
    hub: HubServer, dest: Path, model_bytes: bytes
) -> None:
    hub.add_file(REPO, FILE, model_bytes, claimed_sha256="ab" * 32)

    with pytest.raises(ModelDownloadError) as caught:
        download_model(REPO, FILE, dest)

    assert f"sha256 expected {'ab' * 32}" in str(caught.value)
    folder = dest / "someone" / "tiny-model" / "main"
    assert [p.name for p in folder.iterdir() if not p.name.endswith(".lock")] == []


def test_a_served_file_that_is_not_a_model_is_refused(hub: HubServer, dest: Path) -> None:
    hub.add_file(REPO, FILE, b"<html>a login page</html>")

    with pytest.raises(ModelDownloadError) as caught:
        download_model(REPO, FILE, dest)

    assert f"The file {FILE} from {REPO} is not a GGUF model file" in str(caught.value)
    assert not (dest / "someone" / "tiny-model" / "main" / FILE).exists()


def test_an_unreachable_hub_is_a_clear_error(dest: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    port = free_port()  # a port nobody listens on
    with serve_hub(monkeypatch):
        monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")

        with pytest.raises(ModelDownloadError) as caught:
            download_model(REPO, FILE, dest)

    message = str(caught.value)
    assert f"{FILE} from {REPO}" in message
    assert f"cannot reach http://127.0.0.1:{port}" in message


def test_offline_mode_is_honoured_when_set_after_import(
    hub: HubServer, dest: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")

    with pytest.raises(ModelDownloadError, match="offline mode"):
        download_model(REPO, FILE, dest)
    assert hub.requests == []


def test_a_download_sends_nothing_but_the_file_requests(
    hub: HubServer, dest: Path, model_bytes: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    registry_fetches: list[object] = []
    monkeypatch.setattr(_detect_agent, "_registry", None)
    monkeypatch.setattr(_detect_agent, "_fetch_registry", lambda: registry_fetches.append(1))
    hub.add_file(REPO, FILE, model_bytes)

    download_model(REPO, FILE, dest)

    assert registry_fetches == []  # huggingface_hub's telemetry would fetch huggingface.co
    assert {(r.method, r.path) for r in hub.requests} == {
        ("HEAD", f"/{REPO}/resolve/main/{FILE}"),
        ("GET", f"/{REPO}/resolve/main/{FILE}"),
    }


@pytest.mark.parametrize(
    ("repo_id", "filename"),
    [("../etc", FILE), (REPO, "../escape.gguf"), (REPO, "/abs.gguf"), ("noslash", FILE)],
)
def test_names_that_would_leave_the_download_folder_are_refused(
    dest: Path, repo_id: str, filename: str
) -> None:
    with pytest.raises(ModelDownloadError):
        download_model(repo_id, filename, dest)
