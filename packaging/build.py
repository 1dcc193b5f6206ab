"""Build the desktop bundle for the platform this runs on (Linux, macOS or Windows).

    python packaging/build.py                 # clean build environment in build/<os>/venv
    python packaging/build.py --python .venv/bin/python   # reuse an environment that has
                                                          # the app, llama.cpp and PyInstaller

Steps: an environment with ``.[llama,model,package]`` (``package``: the pinned PyInstaller;
``mlx`` too on macOS); llama-cpp-python compiled portable (Linux and Windows:
``PORTABLE_CMAKE_ARGS``, no ``-march=native``, every CPU variant, the best one loaded at run
time; macOS: Metal, CPU code at the M1 baseline) and kept in ``build/wheels/`` so later builds
skip the compile; PyInstaller (``packaging/callmemaybe.spec``, onedir); then per platform: on
Linux the .desktop file, the icon, ``install.sh`` and a ``.tar.gz``; on macOS the ``.app``; on
Windows the folder the Inno Setup script (``packaging/windows/installer.iss``) turns into an
installer.

pip's wheel cache is keyed by the source archive only, not by ``CMAKE_ARGS``: a machine that
once built llama-cpp-python natively would silently get that native wheel again. So the
portable wheel is built with ``--no-cache-dir`` into its own folder, and the llama.cpp that
ends up in the bundle is checked (its CPU variant libraries must be there) before PyInstaller
runs. The last line printed is a JSON report (sizes in bytes, seconds per step).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tarfile
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LLAMA_REQUIREMENT = "llama-cpp-python==0.3.36"
PORTABLE_CMAKE_ARGS = "-DGGML_NATIVE=OFF -DGGML_BACKEND_DL=ON -DGGML_CPU_ALL_VARIANTS=ON"
# Apple Silicon: Metal does the heavy work; NATIVE off keeps the CPU code to the M1 baseline, so
# a build made on an M3 does not use instructions an M1 lacks.
MACOS_CMAKE_ARGS = "-DGGML_NATIVE=OFF -DGGML_METAL=ON"
EXEC_PLACEHOLDER = "@CALLMEMAYBE_EXEC@"
NAME = "callmemaybe"


class BuildError(Exception):
    """A step failed; the message says which and what to do."""


def target_os() -> str:
    if sys.platform.startswith("linux"):
        return "linux"
    if sys.platform == "darwin":
        return "macos"
    if sys.platform == "win32":
        return "windows"
    raise BuildError(f"no bundle recipe for {sys.platform}")


def project_version() -> str:
    text = (ROOT / "app" / "__init__.py").read_text(encoding="utf-8")
    for line in text.splitlines():
        if line.startswith("__version__"):
            return line.split("=", 1)[1].strip().strip("\"'")
    raise BuildError("app/__init__.py has no __version__")


def _run(cmd: list[str], **kwargs: object) -> None:
    print("+", " ".join(str(c) for c in cmd), flush=True)
    try:
        subprocess.run(cmd, check=True, **kwargs)  # type: ignore[call-overload]
    except subprocess.CalledProcessError as exc:
        raise BuildError(f"{cmd[0]} failed with exit status {exc.returncode}") from exc


def _pip(python: Path, *args: str, env: dict[str, str] | None = None) -> None:
    _run([str(python), "-m", "pip", *args], env=env)


def _venv_python(folder: Path) -> Path:
    return folder / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")


# ---------------------------------------------------------------------------------------------
# The build environment
# ---------------------------------------------------------------------------------------------


def cmake_args() -> str:
    return MACOS_CMAKE_ARGS if target_os() == "macos" else PORTABLE_CMAKE_ARGS


def portable_llama_wheel(python: Path, wheels: Path) -> Path:
    """Build (once) the portable llama-cpp-python wheel, kept per version and CMake arguments."""
    key = hashlib.sha256(f"{LLAMA_REQUIREMENT} {cmake_args()}".encode()).hexdigest()[:12]
    folder = wheels / f"llama-portable-{key}"
    found = sorted(folder.glob("llama_cpp_python-*.whl"))
    if found:
        print(f"reusing {found[-1]}", flush=True)
        return found[-1]
    folder.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, CMAKE_ARGS=cmake_args())
    _pip(
        python,
        "wheel",
        "--no-cache-dir",
        "--no-deps",
        "-w",
        str(folder),
        LLAMA_REQUIREMENT,
        env=env,
    )
    found = sorted(folder.glob("llama_cpp_python-*.whl"))
    if not found:
        raise BuildError(f"pip wheel left no llama-cpp-python wheel in {folder}")
    return found[-1]


def make_environment(build: Path) -> Path:
    """A fresh venv with the app, its runtime extras, llama.cpp (portable) and PyInstaller."""
    folder = build / "venv"
    if not _venv_python(folder).exists():
        venv.create(folder, with_pip=True)
    python = _venv_python(folder)
    wheel = portable_llama_wheel(python, build.parent / "wheels")
    # --force-reinstall: a reused venv may hold a native build of the same version
    _pip(python, "install", "-q", "--force-reinstall", "--no-deps", str(wheel))
    extras = "llama,model,package,mlx" if target_os() == "macos" else "llama,model,package"
    _pip(python, "install", "-q", f"{ROOT}[{extras}]")
    return python


def check_portable_llama(python: Path, allow_native: bool = False) -> list[str]:
    """The CPU variants the environment's llama.cpp carries; refuse a native build unless
    ``allow_native`` (a bundle for this machine's kind of CPU only, as CI's smoke build)."""
    code = (
        "import json, llama_cpp\n"
        "from backends.ggml_backends import cpu_variant_libraries, variant_folders\n"
        "print(json.dumps([p.name for f in variant_folders(llama_cpp)"
        " for p in cpu_variant_libraries(f)]))\n"
    )
    out = subprocess.run(
        [str(python), "-c", code], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout
    variants = json.loads(out.strip().splitlines()[-1])
    if target_os() != "macos" and not variants and not allow_native:
        raise BuildError(
            "the llama-cpp-python in this environment was built for this machine's CPU only "
            "(no libggml-cpu-*.so variants): a bundle built from it would crash on older "
            "processors. Build without --python, or reinstall it portable:\n"
            f'  CMAKE_ARGS="{PORTABLE_CMAKE_ARGS}" {python} -m pip install --no-cache-dir '
            f"--force-reinstall --no-deps {LLAMA_REQUIREMENT}"
        )
    return variants


# ---------------------------------------------------------------------------------------------
# PyInstaller and what goes around it
# ---------------------------------------------------------------------------------------------


def run_pyinstaller(python: Path, dist: Path, work: Path) -> Path:
    env = dict(os.environ, CALLMEMAYBE_VERSION=project_version())
    if target_os() == "macos":
        env["CALLMEMAYBE_WITH_MLX"] = "1"
    spec = str(ROOT / "packaging" / "callmemaybe.spec")
    options = ["--noconfirm", "--clean", "--log-level", "WARN"]
    places = ["--distpath", str(dist), "--workpath", str(work)]
    _run([str(python), "-m", "PyInstaller", *options, *places, spec], env=env, cwd=ROOT)
    return dist / NAME


def add_linux_files(bundle: Path, python: Path) -> None:
    """The menu entry (its Exec filled in by install.sh), the icon, install.sh itself."""
    code = (
        "from app.autostart import desktop_entry\n"
        f"print(desktop_entry([{EXEC_PLACEHOLDER!r}, 'gui'], autostart=False), end='')\n"
    )
    entry = subprocess.run(
        [str(python), "-c", code], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout
    apps = bundle / "share" / "applications"
    icons = bundle / "share" / "icons" / "hicolor" / "scalable" / "apps"
    apps.mkdir(parents=True, exist_ok=True)
    icons.mkdir(parents=True, exist_ok=True)
    (apps / "call-me-maybe.desktop").write_text(entry, encoding="utf-8")
    shutil.copy2(ROOT / "resources" / "icons" / "callmemaybe.svg", icons / "callmemaybe.svg")
    for name in ("install.sh", "uninstall.sh"):
        shutil.copy2(ROOT / "packaging" / "linux" / name, bundle / name)
        (bundle / name).chmod(0o755)


def make_tarball(bundle: Path, out: Path) -> Path:
    """``NAME-VERSION-linux-ARCH.tar.gz`` with one top folder of the same name. gzip level 1:
    most of the bytes are the quantized model, which no level compresses much."""
    stem = f"{NAME}-{project_version()}-linux-{platform.machine()}"
    archive = out / f"{stem}.tar.gz"
    archive.unlink(missing_ok=True)
    with tarfile.open(archive, "w:gz", compresslevel=1) as tar:
        tar.add(bundle, arcname=stem)
    return archive


def folder_size(folder: Path) -> int:
    return sum(p.lstat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--python",
        type=Path,
        help="use this environment (it must have the app, a portable llama-cpp-python and "
        "PyInstaller) instead of making build/<os>/venv",
    )
    parser.add_argument("--dist", type=Path, default=ROOT / "dist", help="output folder")
    parser.add_argument("--build", type=Path, default=ROOT / "build", help="work folder")
    parser.add_argument("--no-archive", action="store_true", help="skip the .tar.gz (Linux)")
    parser.add_argument(
        "--allow-native",
        action="store_true",
        help="accept a llama.cpp built for this machine's CPU only (with --python; the bundle "
        "then may crash on older processors: for tests, not for release)",
    )
    args = parser.parse_args(argv)
    os_name = target_os()
    build = args.build / os_name
    dist = args.dist / os_name
    times: dict[str, float] = {}
    try:
        start = time.monotonic()
        python = args.python.absolute() if args.python else make_environment(build)
        times["environment_s"] = time.monotonic() - start
        variants = check_portable_llama(python, allow_native=args.allow_native)
        start = time.monotonic()
        bundle = run_pyinstaller(python, dist, build / "pyinstaller")
        times["pyinstaller_s"] = time.monotonic() - start
        report: dict[str, object] = {
            "os": os_name,
            "bundle": str(bundle),
            "cpu_variants": variants,
            "portable": bool(variants) or os_name == "macos",
        }
        if os_name == "linux":
            add_linux_files(bundle, python)
            if not args.no_archive:
                start = time.monotonic()
                archive = make_tarball(bundle, args.dist)
                times["archive_s"] = time.monotonic() - start
                report["archive"] = str(archive)
                report["archive_bytes"] = archive.stat().st_size
        report["bundle_bytes"] = folder_size(bundle)
        report.update({k: round(v, 1) for k, v in times.items()})
    except BuildError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
