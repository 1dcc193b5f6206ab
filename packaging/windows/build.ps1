# Builds dist\windows\callmemaybe\ (PyInstaller onedir, portable llama.cpp) and, when Inno Setup 6
# is installed, dist\Call-Me-Maybe-Setup-<version>.exe from installer.iss.
#
# NOT RUN YET: this project has no Windows machine. The Python side (packaging\build.py and
# packaging\callmemaybe.spec) is the one CI runs for the Linux bundle; the Windows branches of
# both, this script and installer.iss have only been read, not executed.
#
# Needs: Python 3.11+ (python.org build), Visual Studio 2022 Build Tools with "Desktop
# development with C++" and CMake (llama-cpp-python compiles llama.cpp, with every CPU variant
# MSVC supports), and optionally Inno Setup 6 (ISCC.exe on PATH or in its default folder).
# Signing: signtool sign /fd SHA256 /tr http://timestamp.digicert.com /td SHA256 /a <file> for
# dist\windows\callmemaybe\callmemaybe.exe before packing and for the setup .exe after.
$ErrorActionPreference = "Stop"
$root = Resolve-Path "$PSScriptRoot\..\.."
Set-Location $root
python packaging\build.py @args
if ($LASTEXITCODE -ne 0) { exit $LASTEXITCODE }
$version = (Select-String -Path app\__init__.py -Pattern '__version__ = "(.+)"').Matches[0].Groups[1].Value
$iscc = Get-Command ISCC.exe -ErrorAction SilentlyContinue
if (-not $iscc) { $iscc = Get-Item "${env:ProgramFiles(x86)}\Inno Setup 6\ISCC.exe" -ErrorAction SilentlyContinue }
if ($iscc) {
    & $iscc.Source "/DAppVersion=$version" "/DSourceDir=$root\dist\windows\callmemaybe" "/O$root\dist" packaging\windows\installer.iss
    if ($LASTEXITCODE -ne 0) { exit $LASTEXITCODE }
} else {
    Write-Host "Inno Setup 6 not found: the bundle is in dist\windows\callmemaybe (no installer made)."
}
