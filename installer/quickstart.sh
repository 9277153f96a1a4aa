#!/usr/bin/env bash
# Set up Cellwright in ./.venv (first run only) and run the main job on built-in demo data.
# Usage: bash installer/quickstart.sh [RECIPE]   (default: recipes/examples/nuclei_instances.yaml)
set -euo pipefail
cd "$(dirname "$0")/.."
recipe="${1:-recipes/examples/nuclei_instances.yaml}"
if [ ! -x .venv/bin/cellwright ]; then
  echo "Setting up Cellwright in .venv (one time, a few minutes)..."
  python3 -m venv .venv
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e '.[dev]'
fi
export TF_CPP_MIN_LOG_LEVEL=2
.venv/bin/cellwright doctor --no-gpu-check
.venv/bin/cellwright validate "$recipe"
.venv/bin/cellwright explain --no-comments "$recipe" | head -20
