"""The database key in the real Secret Service (gnome-keyring on a private D-Bus session).

This is the path a Linux desktop user takes; the other store tests use an in-memory keyring.
CI installs gnome-keyring and dbus; the daemon is unlocked with a non-empty password, without
which it refuses to create the login collection headless.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

needs_keyring_daemon = pytest.mark.skipif(
    not (shutil.which("gnome-keyring-daemon") and shutil.which("dbus-run-session")),
    reason="gnome-keyring-daemon and dbus-run-session are not installed (CI installs them)",
)


@needs_keyring_daemon
def test_store_key_lives_in_the_secret_service(tmp_path: Path) -> None:
    probe = textwrap.dedent(
        f"""
        import keyring
        from pathlib import Path
        from sqlalchemy import text
        from connectors.store.database import open_store
        from connectors.store.keys import SERVICE, secure_keyring

        backend = secure_keyring()
        print("BACKEND", type(backend).__module__, type(backend).__name__)
        directory = Path({str(tmp_path)!r})
        store = open_store(directory)
        with store.transaction() as session:
            session.execute(text("INSERT INTO store_info VALUES ('probe', 'kept')"))
        store.close()
        store = open_store(directory)  # the key comes back from the Secret Service
        with store.reading() as session:
            print("VALUE", session.execute(text("SELECT value FROM store_info "
                                                "WHERE key='probe'")).scalar())
        store.close()
        account = "database:" + str((directory / "store.db").resolve())
        print("KEYLEN", len(bytes.fromhex(keyring.get_password(SERVICE, account))))
        """
    )
    script = tmp_path / "probe.py"
    script.write_text(probe)
    shell = (
        "printf 'test-password' | gnome-keyring-daemon --unlock --components=secrets "
        f">/dev/null && {sys.executable} {script}"
    )
    done = subprocess.run(
        ["dbus-run-session", "--", "sh", "-c", shell],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "BACKEND keyring.backends.SecretService" in done.stdout
    assert "VALUE kept" in done.stdout
    assert "KEYLEN 32" in done.stdout
    assert not any(p.suffix == ".key" for p in tmp_path.iterdir())
