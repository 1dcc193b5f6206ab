; Inno Setup 6 script: a per-user installer (no administrator rights) for the PyInstaller folder.
; Built by build.ps1:  ISCC /DAppVersion=0.1.0 /DSourceDir=...\dist\windows\callmemaybe installer.iss
; NOT RUN YET (no Windows machine in this project); see build.ps1.
;
; The "start at login" option is the app's own setting (a value under HKCU\...\Run written by
; app/autostart.py); the uninstaller removes that value too, so nothing starts a deleted app.
; The user's data (notes, calendar, the joined model: the platformdirs data folder under
; %LOCALAPPDATA%) is kept.

#ifndef AppVersion
  #define AppVersion "0.0.0"
#endif
#ifndef SourceDir
  #define SourceDir "..\..\dist\windows\callmemaybe"
#endif

[Setup]
AppId={{6B0C5D4E-2F1A-4C3B-9E8D-CA11AE0BE001}
AppName=Call-Me-Maybe
AppVersion={#AppVersion}
AppPublisher=Call-Me-Maybe
DefaultDirName={localappdata}\Programs\Call-Me-Maybe
DefaultGroupName=Call-Me-Maybe
PrivilegesRequired=lowest
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputBaseFilename=Call-Me-Maybe-Setup-{#AppVersion}
Compression=lzma2/fast
SolidCompression=no
DisableProgramGroupPage=yes
UninstallDisplayIcon={app}\callmemaybe.exe
WizardStyle=modern

[Tasks]
Name: "desktopicon"; Description: "Create a desktop shortcut"; Flags: unchecked

[Files]
Source: "{#SourceDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\Call-Me-Maybe"; Filename: "{app}\callmemaybe.exe"; Parameters: "gui"
Name: "{autodesktop}\Call-Me-Maybe"; Filename: "{app}\callmemaybe.exe"; Parameters: "gui"; Tasks: desktopicon

[Run]
Filename: "{app}\callmemaybe.exe"; Parameters: "gui"; Description: "Start Call-Me-Maybe"; Flags: nowait postinstall skipifsilent

[Code]
procedure CurUninstallStepChanged(CurUninstallStep: TUninstallStep);
begin
  if CurUninstallStep = usUninstall then
    RegDeleteValue(HKEY_CURRENT_USER, 'Software\Microsoft\Windows\CurrentVersion\Run', 'Call-Me-Maybe');
end;
