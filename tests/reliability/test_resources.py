"""Resources that fail under the user: each gives one clear sentence and a way out, loses nothing.

Through the real front end (the ``callmemaybe`` command in a child process, as a user runs it):
the model file missing, truncated or replaced by something else; the OS keyring absent or
locked (the real gnome-keyring on a private D-Bus session); the disk full (a real write limit,
``RLIMIT_FSIZE``: the OS refuses to grow a file, as on a full disk); the data directory
read-only. Each case checks that the command exits with status 2 and prints exactly one line,
``error: ...``, with no traceback, that the line says what to do, and that once the resource is
back the note, the pending action and the settings saved before are all still there.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.reliability.conftest import REPO, child_env

NOTE = {"title": "Keep", "body": "the spare key is under the blue pot"}
NOBODY = 65534
PENDING = {"title": "Waiting", "body": "proposed before the trouble"}
PROPOSE = textwrap.dedent(
    """
    from app.actions import Actions
    from app.settings import load_settings
    from app.toolbox import open_toolbox
    toolbox = open_toolbox(load_settings())
    print(Actions(toolbox.registry, toolbox.context).propose("notes_create", %r).id)
    toolbox.close()
    """
)


@dataclass(frozen=True)
class Outcome:
    code: int
    out: str
    err: str

    @property
    def lines(self) -> list[str]:
        return [line for line in self.err.splitlines() if line.strip()]


def _run(
    home: Path,
    *args: str,
    env: dict[str, str] | None = None,
    preexec: Callable[[], None] | None = None,
    wrap: list[str] | None = None,
    timeout: float = 120,
    **popen: Any,
) -> Outcome:
    command = [*(wrap or []), sys.executable, "-m", "app", *args]
    done = subprocess.run(
        command,
        env=env or child_env(home),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        preexec_fn=preexec,
        **popen,
    )
    return Outcome(done.returncode, done.stdout, done.stderr)


def _python(home: Path, code: str, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code],
        env=env or child_env(home),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _one_sentence(outcome: Outcome, *way_out: str) -> str:
    """The command failed with exactly one ``error:`` line naming a way out; returns it."""
    assert outcome.code == 2, (outcome.code, outcome.out, outcome.err)
    assert "Traceback" not in outcome.err, outcome.err
    errors = [line for line in outcome.lines if line.startswith("error: ")]
    assert len(errors) == 1, outcome.err
    line = errors[0]
    assert any(hint.lower() in line.lower() for hint in way_out), (line, way_out)
    return line


def _seed(home: Path, env: dict[str, str] | None = None) -> dict[str, Any]:
    """A note, a pending action and saved settings: what must survive every failure."""
    granted = home / "granted"
    granted.mkdir(parents=True, exist_ok=True)
    assert _run(home, "folders", "add", str(granted), env=env).code == 0
    created = _run(home, "tool", "notes_create", json.dumps(NOTE), "--yes", env=env)
    assert created.code == 0, created.err
    action = int(_python(home, PROPOSE % (PENDING,), env=env))
    return {"action": action, "settings": (home / "settings.json").read_bytes()}


def _intact(home: Path, seeded: dict[str, Any], env: dict[str, str] | None = None) -> None:
    """Everything saved before the failure is still there, and the store still takes writes."""
    read = _run(home, "tool", "notes_read", json.dumps({"note": NOTE["title"]}), env=env)
    assert read.code == 0, read.err
    assert json.loads(read.out)["result"]["body"] == NOTE["body"]
    pending = _run(home, "pending", env=env)
    assert pending.code == 0, pending.err
    assert f"#{seeded['action']} pending" in pending.out
    assert (home / "settings.json").read_bytes() == seeded["settings"]
    listed = _run(home, "tool", "notes_list", env=env)
    titles = [n["title"] for n in json.loads(listed.out)["result"]["notes"]]
    assert PENDING["title"] not in titles  # proposed, never approved: never ran
    leftovers = [p.name for p in home.rglob("*") if ".partial" in p.name or p.name.endswith("~")]
    assert not leftovers, leftovers


@pytest.fixture
def home(passphrase_store: Path) -> Path:
    passphrase_store.mkdir(parents=True, exist_ok=True)
    return passphrase_store


# -- the model ---------------------------------------------------------------------------------


def _set_model(home: Path, model: Path) -> dict[str, Any]:
    settings = json.loads((home / "settings.json").read_text())
    settings["model"] = str(model)
    settings["context_tokens"] = 8192  # the tools' prompt in the tiny model's byte-level tokens
    (home / "settings.json").write_text(json.dumps(settings))
    return settings


MODEL_CASES = {
    "missing": lambda good, bad: None,
    "truncated": lambda good, bad: bad.write_bytes(good.read_bytes()[: good.stat().st_size // 2]),
    "replaced_by_text": lambda good, bad: bad.write_text("<html>404 Not Found</html>\n"),
    "replaced_by_empty": lambda good, bad: bad.write_bytes(b""),
    "replaced_by_a_folder": lambda good, bad: bad.mkdir(),
    "header_damaged": lambda good, bad: bad.write_bytes(
        good.read_bytes()[:8] + b"\xff" * 64 + good.read_bytes()[72:]
    ),
}


def test_a_missing_truncated_or_replaced_model_is_one_sentence_with_a_way_out(
    home: Path, tiny_long_gguf: Path
) -> None:
    seeded = _seed(home)
    model = home / "my-model.gguf"
    _set_model(home, model)
    seeded["settings"] = (home / "settings.json").read_bytes()

    for case, damage in MODEL_CASES.items():
        damage(tiny_long_gguf, model)
        outcome = _run(home, "ask", "What is on my calendar today?")
        line = _one_sentence(outcome, "settings", "bundled", "--model")
        assert "my-model.gguf" in line, (case, line)
        shutil.rmtree(model) if model.is_dir() else model.unlink(missing_ok=True)

    _intact(home, seeded)
    shutil.copyfile(tiny_long_gguf, model)  # the way out: a good file again
    answered = _run(home, "ask", "Hello", "--max-tokens", "16", "--threads", "1")
    assert answered.code == 0, answered.err
    _intact(home, seeded)


# -- the keyring -------------------------------------------------------------------------------

needs_keyring_daemon = pytest.mark.skipif(
    not (shutil.which("gnome-keyring-daemon") and shutil.which("dbus-run-session")),
    reason="gnome-keyring-daemon and dbus-run-session are not installed (CI installs them)",
)


def _keyring_env(home: Path) -> dict[str, str]:
    """No passphrase: the store's key lives in the OS keyring, kept under ``home``."""
    env = child_env(home, HOME=str(home / "user"), XDG_RUNTIME_DIR=str(home / "run"))
    for name in ("CALLMEMAYBE_PASSPHRASE", "PYTHON_KEYRING_BACKEND", "DBUS_SESSION_BUS_ADDRESS"):
        env.pop(name, None)
    (home / "user").mkdir(parents=True, exist_ok=True)
    (home / "run").mkdir(mode=0o700, parents=True, exist_ok=True)
    return env


def _session(unlock: bool) -> list[str]:
    """Run the command on a private D-Bus session with gnome-keyring, unlocked or not."""
    if unlock:
        start = "printf 'keyring-password' | gnome-keyring-daemon --unlock --components=secrets"
    else:
        start = "gnome-keyring-daemon --start --components=secrets"
    return ["dbus-run-session", "--", "sh", "-c", f'{start} >/dev/null && exec "$@"', "sh"]


@needs_keyring_daemon
def test_an_absent_or_locked_keyring_is_one_sentence_with_a_way_out(tmp_path: Path) -> None:
    home = tmp_path / "keyring-home"
    env = _keyring_env(home)
    unlocked = _session(unlock=True)
    assert _run(home, "folders", "add", str(tmp_path), env=env).code == 0
    created = _run(home, "tool", "notes_create", json.dumps(NOTE), "--yes", env=env, wrap=unlocked)
    assert created.code == 0, created.err
    assert json.loads((home / "store" / "store.json").read_text())["source"] == "keyring"
    settings = (home / "settings.json").read_bytes()

    # Absent: no session bus at all (a server, a broken login).
    absent = _run(home, "tool", "notes_list", env=env)
    _one_sentence(absent, "unlock or start it", "gnome-keyring")
    # Locked: the Secret Service runs but the login keyring is locked; headless, nobody can
    # type its password, so the unlock prompt fails.
    locked = _run(home, "tool", "notes_list", env=env, wrap=_session(unlock=False), timeout=90)
    assert "is locked" in _one_sentence(locked, "unlock it")
    # Neither made a new key: unlocked again, the same store opens with everything in it.
    assert not (home / "store" / "store.db-journal").exists()
    read = _run(home, "tool", "notes_read", json.dumps({"note": "Keep"}), env=env, wrap=unlocked)
    assert read.code == 0, read.err
    assert json.loads(read.out)["result"]["body"] == NOTE["body"]
    assert (home / "settings.json").read_bytes() == settings


def test_no_keyring_and_no_passphrase_on_first_run_says_how_to_go_on(home: Path) -> None:
    env = child_env(home)
    env.pop("CALLMEMAYBE_PASSPHRASE")
    outcome = _run(home, "tool", "notes_list", env=env)
    _one_sentence(outcome, "CALLMEMAYBE_PASSPHRASE")
    assert not (home / "store" / "store.db").exists() or (
        (home / "store" / "store.db").stat().st_size == 0
    )


# -- a full disk -------------------------------------------------------------------------------


def _file_limit(limit: int) -> Callable[[], None]:
    """The child may not grow any file beyond ``limit`` bytes (EFBIG, as on a full disk)."""

    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


def _largest_file(home: Path) -> int:
    return max(p.stat().st_size for p in home.rglob("*") if p.is_file())


def test_a_full_disk_is_one_sentence_and_keeps_everything(home: Path) -> None:
    seeded = _seed(home)
    full = _file_limit(_largest_file(home))
    big = {"title": "Big", "body": "x" * 120_000}  # one argument holds at most 128 KiB

    created = _run(home, "tool", "notes_create", json.dumps(big), "--yes", preexec=full)
    _one_sentence(created, "free", "disk")
    approved = _run(home, "approve", str(seeded["action"]), preexec=_file_limit(0))
    _one_sentence(approved, "free", "disk", "try again")
    granted_more = _run(home, "folders", "add", str(home), preexec=_file_limit(0))
    _one_sentence(granted_more, "free", "disk")

    _intact(home, seeded)
    listed = json.loads(_run(home, "tool", "notes_list").out)["result"]["notes"]
    assert "Big" not in [n["title"] for n in listed]
    # With room again, the action that waited runs.
    again = _run(home, "approve", str(seeded["action"]))
    assert again.code == 0, again.err
    read = _run(home, "tool", "notes_read", json.dumps({"note": PENDING["title"]}))
    assert json.loads(read.out)["result"]["body"] == PENDING["body"]


# -- a read-only data directory ---------------------------------------------------------------


def _read_only(home: Path) -> Iterator[list[str]]:
    """Make ``home`` read-only for the commands run with the returned prefix.

    Root ignores file permissions, so there the commands see ``home`` through a read-only bind
    mount in their own mount namespace (a read-only file system, ``EROFS``); anyone else gets
    the folders' write permission taken away (``EACCES``).
    """
    if os.geteuid() == 0:
        mount = 'mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" && exec "$@"'
        wrap = ["unshare", "--mount", "sh", "-c", mount, str(home)]
        if subprocess.run([*wrap, "true"], capture_output=True).returncode:
            pytest.skip("root, and no mount namespace to make a folder read-only in")
        yield wrap
        return
    folders = [p for p in [home, *home.rglob("*")] if p.is_dir() and not p.is_symlink()]
    for folder in folders:
        folder.chmod(0o555)
    try:
        yield []
    finally:
        for folder in folders:
            folder.chmod(0o755)


def test_a_read_only_data_directory_is_one_sentence_and_keeps_everything(home: Path) -> None:
    seeded = _seed(home)
    with contextmanager(_read_only)(home) as wrap:
        writes = {
            "create": _run(
                home,
                "tool",
                "notes_create",
                json.dumps({"title": "New", "body": "x"}),
                "--yes",
                wrap=wrap,
            ),
            "approve": _run(home, "approve", str(seeded["action"]), wrap=wrap),
            "grant": _run(home, "folders", "add", str(home / "store"), wrap=wrap),
        }
        for name, outcome in writes.items():
            line = _one_sentence(outcome, "writable")
            assert "read-only" in line, (name, line)
        read = _run(home, "tool", "notes_read", json.dumps({"note": NOTE["title"]}), wrap=wrap)
        if read.code:  # reading may need to write the store's lock files: then it says so too
            _one_sentence(read, "writable")
        else:
            assert json.loads(read.out)["result"]["body"] == NOTE["body"]
    _intact(home, seeded)
