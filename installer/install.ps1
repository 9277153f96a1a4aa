<#
.SYNOPSIS
  Install Cellwright for your Windows account (no administrator rights).

.DESCRIPTION
  Finds Python 3.10-3.12, creates a private environment (default %LOCALAPPDATA%\Cellwright), installs Cellwright
  with TensorFlow's CPU build (TensorFlow has no GPU build for native Windows; use WSL2 and install.sh for the GPU),
  runs 'cellwright doctor', adds a Start-menu entry and prints the line that starts the app. Running it again
  upgrades in place and keeps your runs, recipes and weights. Every step is printed; the log file keeps the details.

.EXAMPLE
  powershell -ExecutionPolicy Bypass -File installer\install.ps1
.EXAMPLE
  powershell -ExecutionPolicy Bypass -File installer\install.ps1 -DownloadOnly D:\cellwright-offline
.EXAMPLE
  powershell -ExecutionPolicy Bypass -File installer\install.ps1 -From D:\cellwright-offline
.EXAMPLE
  powershell -ExecutionPolicy Bypass -File installer\install.ps1 -Uninstall
#>
[CmdletBinding()]
param(
  [string]$Prefix,
  [ValidateSet("auto", "cuda", "cpu")][string]$Gpu = "auto",
  [string]$Python,
  [switch]$NoLauncher,
  [switch]$Uninstall,
  [string]$DownloadOnly,
  [string]$From,
  [ValidateSet("linux-x86_64", "linux-aarch64", "macos-arm64", "macos-x86_64", "windows-amd64")][string]$Target,
  [string]$PythonVersion,
  [string]$Weights
)
$ErrorActionPreference = "Stop"
$here = Split-Path -Parent $MyInvocation.MyCommand.Path

function Test-SuitablePython([string[]]$Command) {
  # A Python 3.10-3.12 with the venv module. The Microsoft Store's 'python' placeholder fails this test.
  try {
    $exe = $Command[0]
    $rest = @($Command | Select-Object -Skip 1)
    & $exe @rest -c "import sys, venv; sys.exit(0 if (3, 10) <= sys.version_info[:2] <= (3, 12) else 1)" 2>$null
    return ($LASTEXITCODE -eq 0)
  } catch {
    return $false
  }
}

$found = $null
if ($Python) {
  if (-not (Test-SuitablePython @($Python))) {
    Write-Host "FAILED at finding Python: '$Python' (given with -Python) is not a Python 3.10-3.12." -ForegroundColor Red
    Write-Host "  Fix: give the path of a Python 3.10, 3.11 or 3.12 (python.exe), or leave -Python out."
    exit 1
  }
  $found = @($Python)
} else {
  $wanted = @()
  if ($From -and (Test-Path (Join-Path $From "cellwright-offline.json"))) {
    # An offline folder holds wheels for one Python version: look for that one first.
    $wanted += "-" + (Get-Content (Join-Path $From "cellwright-offline.json") -Raw | ConvertFrom-Json).python
  }
  $candidates = @()
  if (Get-Command py -ErrorAction SilentlyContinue) {
    foreach ($v in ($wanted + @("-3.12", "-3.11", "-3.10"))) { $candidates += ,@("py", $v) }
  }
  foreach ($name in @("python", "python3")) {
    $cmd = Get-Command $name -ErrorAction SilentlyContinue
    if ($cmd) { $candidates += ,@($cmd.Source) }
  }
  foreach ($candidate in $candidates) {
    if (Test-SuitablePython $candidate) { $found = $candidate; break }
  }
}

if (-not $found) {
  Write-Host "FAILED at finding Python." -ForegroundColor Red
  Write-Host "  Cause: no Python 3.10-3.12 was found on this computer."
  Write-Host "  Fix: install Python 3.12 for your account only (no administrator rights): run"
  Write-Host "       'winget install --scope user Python.Python.3.12', or download the 'Windows installer (64-bit)'"
  Write-Host "       from https://www.python.org/downloads/windows/ and leave 'Install for all users' unticked."
  Write-Host "       Then open a new PowerShell window and run this installer again."
  exit 1
}

# Resolve 'py -3.12' to the python.exe it runs, so the environment is made from that exact Python.
$exe = $found[0]
$rest = @($found | Select-Object -Skip 1)
$pythonExe = (& $exe @rest -c "import sys; print(sys.executable)").Trim()

$argv = @("$here\main.py", "--python", $pythonExe, "--gpu", $Gpu)
if ($Prefix) { $argv += @("--prefix", $Prefix) }
if ($NoLauncher) { $argv += "--no-launcher" }
if ($Uninstall) { $argv += "--uninstall" }
if ($DownloadOnly) { $argv += @("--download-only", $DownloadOnly) }
if ($From) { $argv += @("--from", $From) }
if ($Target) { $argv += @("--target", $Target) }
if ($PythonVersion) { $argv += @("--python-version", $PythonVersion) }
if ($Weights) { $argv += @("--weights", $Weights) }

& $pythonExe @argv
exit $LASTEXITCODE
