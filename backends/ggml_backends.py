"""Loading llama.cpp's CPU backend when it was built portable (``GGML_BACKEND_DL``).

A portable build (what the bundles ship: ``-DGGML_NATIVE=OFF -DGGML_BACKEND_DL=ON
-DGGML_CPU_ALL_VARIANTS=ON``) compiles the CPU backend once per instruction-set level
(``libggml-cpu-x64.so``, ``-sse42``, ``-haswell``, ``-skylakex`` ... ``-sapphirerapids``); at
run time ggml scores each against the processor and loads the best. ggml only looks for them
beside the executable and in the current folder, which is neither where the wheel installs them
(``site-packages/bin``) nor where a bundle keeps them (``llama_cpp/lib``), and llama-cpp-python
does not expose ``ggml_backend_load_all``. Without this module such a build loads no backend
and every model fails with "no backends are loaded".

A native build registers its CPU backend statically: :func:`ensure_cpu_backend` sees it and does
nothing.
"""

from __future__ import annotations

import ctypes
import sys
from pathlib import Path
from typing import Any

from backends.errors import BackendError

_PREFIX = "ggml-cpu-" if sys.platform == "win32" else "libggml-cpu-"
_SUFFIX = ".dll" if sys.platform == "win32" else ".so"


def _libggml(llama_cpp: Any) -> ctypes.CDLL:
    """ggml as libllama sees it.

    Not ``llama_cpp._ggml.libggml``: the wheel stores ``libggml.so`` and ``libggml.so.0`` as two
    files (zip has no symlinks), ``_ggml`` opens the first and libllama links the second, so the
    process holds two ggml instances with two backend registries, and a backend loaded into
    ``_ggml``'s stays invisible to llama.cpp. Looking the functions up through libllama's handle
    (``dlsym`` searches its dependencies) reaches the instance llama.cpp uses.
    """
    lib = ctypes.CDLL(llama_cpp.llama_cpp._lib._name)
    lib.ggml_backend_reg_count.restype = ctypes.c_size_t
    lib.ggml_backend_reg_count.argtypes = []
    lib.ggml_backend_load_all_from_path.restype = None
    lib.ggml_backend_load_all_from_path.argtypes = [ctypes.c_char_p]
    return lib


def variant_folders(llama_cpp: Any) -> list[Path]:
    """Folders that may hold the CPU variant libraries, most specific first."""
    package = Path(llama_cpp.__file__).resolve().parent
    return [package / "lib", package.parent / "bin"]


def cpu_variant_libraries(folder: Path) -> list[Path]:
    """The CPU variant libraries in ``folder`` (empty for a native build)."""
    try:
        return sorted(
            p for p in folder.iterdir() if p.name.startswith(_PREFIX) and p.name.endswith(_SUFFIX)
        )
    except OSError:
        return []


def ensure_cpu_backend(llama_cpp: Any) -> Path | None:
    """Load the best CPU variant before the first model, when llama.cpp was built portable.

    Returns the folder the variants were loaded from, or None when nothing had to be loaded
    (a native build, or already done).

    Raises:
        BackendError: a portable build whose variants are missing, or none of which this
            processor can run.
    """
    lib = _libggml(llama_cpp)
    if lib.ggml_backend_reg_count() > 0:
        return None
    for folder in variant_folders(llama_cpp):
        if cpu_variant_libraries(folder):
            lib.ggml_backend_load_all_from_path(str(folder).encode())
            if lib.ggml_backend_reg_count() == 0:
                raise BackendError(
                    f"llama.cpp found CPU backends in {folder} but none runs on this "
                    "processor; reinstall llama-cpp-python for this machine."
                )
            return folder
    raise BackendError(
        "llama.cpp was built with loadable backends (GGML_BACKEND_DL) but no CPU backend "
        f"library ({_PREFIX}*{_SUFFIX}) is installed beside it; reinstall llama-cpp-python."
    )


def loaded_cpu_variant() -> str | None:
    """Which CPU variant this process runs (``"haswell"``, ``"icelake"``...), read from the
    libraries mapped into it; None for a native build or where that cannot be read (only
    Linux has ``/proc/self/maps``)."""
    try:
        maps = Path("/proc/self/maps").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    for line in maps.splitlines():
        name = line.rsplit("/", 1)[-1]
        if name.startswith(_PREFIX) and _SUFFIX in name:
            return name[len(_PREFIX) :].split(_SUFFIX, 1)[0]
    return None
