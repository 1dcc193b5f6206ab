#!/bin/sh
# Builds dist/macos/Call-Me-Maybe.app on a Mac with Apple Silicon (the MLX extra is included and
# llama.cpp is built with Metal, its default there).
#
# NOT RUN YET: this project has no Mac. It uses the same packaging/build.py and
# packaging/callmemaybe.spec as the Linux bundle, which CI builds and runs; the macOS branch of
# both (BUNDLE, Info.plist, CALLMEMAYBE_WITH_MLX) has only been read, not executed.
#
# Signing and notarization (needs an Apple Developer ID; run after the build):
#   codesign --force --deep --timestamp --options runtime \
#       --entitlements packaging/macos/entitlements.plist \
#       --sign "Developer ID Application: NAME (TEAMID)" dist/macos/Call-Me-Maybe.app
#   ditto -c -k --keepParent dist/macos/Call-Me-Maybe.app dist/Call-Me-Maybe.zip
#   xcrun notarytool submit dist/Call-Me-Maybe.zip --keychain-profile NOTARY --wait
#   xcrun stapler staple dist/macos/Call-Me-Maybe.app
# Unsigned, the app runs after a right-click > Open (Gatekeeper asks once). The hardened
# runtime needs the entitlement in entitlements.plist because ctypes callbacks (the Carbon
# hotkey handler, llama.cpp's log callback) are built in writable memory by libffi.
set -eu
cd "$(dirname "$0")/../.."
exec python3 packaging/build.py "$@"
