#!/usr/bin/env bash
# Run the lim_ros demo without a ROS install: `bash scripts/demo.sh [options]`
# (options are passed to `lim-ros demo`; `bash scripts/demo.sh --help` lists them).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/env.sh
exec .venv/bin/lim-ros demo "$@"
