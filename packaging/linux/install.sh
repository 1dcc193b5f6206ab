#!/bin/sh
# Adds this unpacked bundle to the desktop menu of the current user (no root needed):
# ~/.local/share/applications/call-me-maybe.desktop pointing at this folder's executable, and
# the icon under ~/.local/share/icons. Run it again after moving the folder.
# Usage: ./install.sh            (XDG_DATA_HOME is honoured when set)
set -eu
here=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd -P)
data=${XDG_DATA_HOME:-$HOME/.local/share}
case $data in /*) ;; *) data=$HOME/.local/share ;; esac
exe=$here/callmemaybe
[ -x "$exe" ] || { echo "install.sh: $exe is missing; run me from the unpacked bundle" >&2; exit 1; }

# The Exec value per the Desktop Entry spec: the path in double quotes with " ` $ \ escaped by a
# backslash, % doubled, then every backslash doubled again (the string-value escaping).
quoted=$(printf '%s' "$exe" | sed -e 's/[\\"`$]/\\&/g' -e 's/%/%%/g' -e 's/\\/\\\\/g')

mkdir -p "$data/applications" "$data/icons/hicolor/scalable/apps"
cp "$here/share/icons/hicolor/scalable/apps/callmemaybe.svg" "$data/icons/hicolor/scalable/apps/"
tmp=$data/applications/.call-me-maybe.desktop.$$
# awk with the value from the environment, not sed or awk -v: both would interpret the
# backslashes (and sed the &) in the replacement
CALLMEMAYBE_EXEC="\"$quoted\"" awk '{ n = index($0, "@CALLMEMAYBE_EXEC@");
  if (n) $0 = substr($0, 1, n - 1) ENVIRON["CALLMEMAYBE_EXEC"] substr($0, n + 18); print }' \
  "$here/share/applications/call-me-maybe.desktop" > "$tmp"
mv "$tmp" "$data/applications/call-me-maybe.desktop"
command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database -q "$data/applications" || true
echo "Call-Me-Maybe added to the menu: $data/applications/call-me-maybe.desktop"
