#!/usr/bin/env bash
# Install Cellwright for your user account on Linux or macOS (no root): a private Python environment with the
# right TensorFlow (CUDA build when an NVIDIA GPU with a recent driver is found), `cellwright doctor`, and an
# app-menu entry. Running it again upgrades in place; your runs, recipes and weights are kept.
#
#   bash installer/install.sh                       install or upgrade (default folder: ~/.local/share/cellwright)
#   bash installer/install.sh --prefix DIR          install into DIR
#   bash installer/install.sh --uninstall           remove exactly what the installer created
#   bash installer/install.sh --download-only DIR   collect every file for a computer without internet
#   bash installer/install.sh --from DIR            install from such a folder, without network
#   bash installer/install.sh --help                every option
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

suitable() {  # a Python 3.10-3.12 that can create virtual environments
  "$1" -c 'import sys, venv; sys.exit(0 if (3, 10) <= sys.version_info[:2] <= (3, 12) else 1)' >/dev/null 2>&1
}

python="" from="" previous=""
for arg in "$@"; do
  case "$previous" in --python) python="$arg" ;; --from) from="$arg" ;; esac
  case "$arg" in --python=*) python="${arg#--python=}" ;; --from=*) from="${arg#--from=}" ;; esac
  previous="$arg"
done

if [ -n "$python" ]; then
  if ! suitable "$python"; then
    echo "FAILED at finding Python: '$python' (given with --python) is not a Python 3.10-3.12 with the venv module." >&2
    echo "  Fix: give the path of a Python 3.10, 3.11 or 3.12, or leave --python out to search for one." >&2
    exit 1
  fi
else
  candidates=(python3 python3.12 python3.11 python3.10 python)
  if [ -n "$from" ] && [ -f "$from/cellwright-offline.json" ]; then
    # An offline folder holds wheels for one Python version: look for that one first.
    wanted="$(sed -n 's/.*"python": *"\(3\.[0-9]*\)".*/\1/p' "$from/cellwright-offline.json" | head -n 1)"
    [ -n "$wanted" ] && candidates=("python$wanted" "${candidates[@]}")
  fi
  for candidate in "${candidates[@]}"; do
    found="$(command -v "$candidate" 2>/dev/null || true)"
    if [ -n "$found" ] && suitable "$found"; then python="$found"; break; fi
  done
fi

if [ -z "$python" ]; then
  echo "FAILED at finding Python." >&2
  any="$(command -v python3 2>/dev/null || true)"
  if [ -n "$any" ] && "$any" "$here/detect.py" --python-advice >&2; then
    # That Python has a suitable version but no venv module.
    echo "  Cause: $any cannot create virtual environments (the venv module is missing)." >&2
    echo "  Fix: Debian/Ubuntu: ask your administrator for 'sudo apt install python3-venv', then run this again." >&2
  elif [ -z "$any" ]; then
    echo "  Cause: no Python 3.10-3.12 was found on this computer." >&2
    if [ "$(uname -s)" = "Darwin" ]; then
      echo "  Fix: install Python 3.12 from https://www.python.org/downloads/macos/, then run this again." >&2
    else
      echo "  Fix: ask your administrator for 'python3.11' and 'python3.11-venv' (Debian/Ubuntu: sudo apt install" >&2
      echo "       python3.11 python3.11-venv), or install Miniforge (https://conda-forge.org/download/) into" >&2
      echo "       your home folder; then run this again (add --python /path/to/python3 if it is not on PATH)." >&2
    fi
  fi
  exit 1
fi

exec "$python" "$here/main.py" "$@"
