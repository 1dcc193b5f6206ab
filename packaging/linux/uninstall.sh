#!/bin/sh
# Removes what install.sh added (the menu entry and the icon) and the login entry if the app
# wrote one. The bundle folder and your data (notes, calendar, settings) are left alone.
set -eu
data=${XDG_DATA_HOME:-$HOME/.local/share}
config=${XDG_CONFIG_HOME:-$HOME/.config}
rm -f "$data/applications/call-me-maybe.desktop" \
      "$data/icons/hicolor/scalable/apps/callmemaybe.svg" \
      "$config/autostart/call-me-maybe.desktop"
echo "Call-Me-Maybe removed from the menu (delete this folder to remove the app itself)."
