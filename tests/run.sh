#!/usr/bin/env bash
# The project's test command (README, .ci/run): makes its own virtualenv on a fresh machine,
# installs the package with its test tools, then lint, types, tests.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
# The end-to-end tests drive git and (for the status line) tmux; pages are rendered by headless
# chromium; the search benchmark's baseline is ripgrep. A fresh machine may lack them.
missing=""
for pair in git:git tmux:tmux chromium:chromium rg:ripgrep; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || missing="$missing ${pair#*:}"
done
if [ -n "$missing" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  apt-get update -qq && apt-get install -y -qq $missing >/dev/null
fi
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test]'
# The e2e tests drive the real Claude Code client pinned in tests/e2e/package.json. Its npm
# postinstall swaps in the native binary and may be skipped (npm install-scripts policy): run it.
E2E_CLAUDE=tests/e2e/node_modules/.bin/claude
if ! "$E2E_CLAUDE" --version >/dev/null 2>&1; then
  if [ -f tests/e2e/package-lock.json ]; then NPM_CMD=ci; else NPM_CMD=install; fi
  (cd tests/e2e && npm "$NPM_CMD" --no-audit --no-fund --loglevel=error)
  if ! "$E2E_CLAUDE" --version >/dev/null 2>&1; then
    (cd tests/e2e && node node_modules/@anthropic-ai/claude-code/install.cjs)
  fi
  "$E2E_CLAUDE" --version
fi
export PATH="$PWD/.venv/bin:$PATH"
echo "== ruff"; ruff check session_core install.py tests bench
echo "== mypy"; mypy session_core install.py tests
echo "== layers"; python -m session_core.tools.layers
echo "== pytest"; python -m pytest -q -p no:cacheprovider "$@"
