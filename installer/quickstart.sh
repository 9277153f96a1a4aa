#!/usr/bin/env bash
# Set up Cellwright in ./.venv (first run only) and run the main job on built-in demo data:
# train -> evaluate -> report -> export, a few minutes on a laptop CPU.
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
export TF_CPP_MIN_LOG_LEVEL=3
.venv/bin/cellwright doctor || true   # information only
.venv/bin/cellwright validate "$recipe"
# Train on built-in demo data (generated on first use), evaluate on the held-out test images,
# write the report and export the model: everything lands in runs/<name>-<time>/.
.venv/bin/cellwright train "$recipe"
