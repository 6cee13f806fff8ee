#!/usr/bin/env bash
# Lint and test lim_ros: `bash scripts/test.sh [pytest arguments]`.
# Runs `ruff check` over the code, then pytest (arguments go to pytest, e.g. a test path or
# `-m 'not ros'`). Both always run; the exit status is non-zero if either failed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/env.sh

ruff_paths=(lim_ros test setup.py)
if [[ -d launch ]]; then
    ruff_paths+=(launch)
fi

ruff_rc=0
echo "== ruff check ${ruff_paths[*]}"
ruff check "${ruff_paths[@]}" || ruff_rc=$?

pytest_rc=0
echo "== python -m pytest -q $*"
python -m pytest -q "$@" || pytest_rc=$?

status() {
    if (($1 == 0)); then echo passed; else echo "FAILED (exit $1)"; fi
}
echo "== ruff: $(status "${ruff_rc}"); pytest: $(status "${pytest_rc}")"
exit $((ruff_rc != 0 ? ruff_rc : pytest_rc))
