#!/usr/bin/env bash
# The project's test command (README, .ci/run): makes its own virtualenv on a fresh machine,
# installs the package with its test tools, then lint, types, tests.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test]'
export PATH="$PWD/.venv/bin:$PATH"
echo "== ruff"; ruff check session_core tests bench
echo "== mypy"; mypy session_core
echo "== pytest"; python -m pytest -q -p no:cacheprovider "$@"
