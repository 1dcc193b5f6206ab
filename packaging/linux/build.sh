#!/bin/sh
# Builds dist/linux/callmemaybe/ (PyInstaller onedir with a portable llama.cpp, the .desktop
# file, the icon, install.sh) and dist/callmemaybe-<version>-linux-x86_64.tar.gz.
# Options go to packaging/build.py (--python, --no-archive, --dist, --build); see its --help.
set -eu
cd "$(dirname "$0")/../.."
exec python3 packaging/build.py "$@"
