#!/usr/bin/env bash
# What a user sees, made by the project's own commands: an archive of sample transcripts, its
# list, a search, the handoff a new session would get, the status line, an exported page, the
# static site and the stats report, the pages screenshotted by headless Chromium.
#
#   bash docs/demo.sh [TRANSCRIPTS_DIR]     (default: ../shared/transcripts)
#
# TRANSCRIPTS_DIR is any folder of Claude Code transcripts (*.jsonl), such as
# ~/.claude/projects/<your project>; the repository's CI keeps a set of real, public ones in
# ../shared/transcripts beside the checkout. Everything is written under $DEMO
# (default /tmp/session-core-demo); with SHOTS=DIR the screenshots also go to DIR.
set -euo pipefail
cd "$(dirname "$0")/.."
SOURCE=${1:-../shared/transcripts}
DEMO=${DEMO:-/tmp/session-core-demo}
if [ ! -x .venv/bin/session-core ]; then
  python3 -m venv .venv && .venv/bin/pip install -q .
fi
SC=".venv/bin/session-core --project $DEMO"
rm -rf "$DEMO" && mkdir -p "$DEMO"
# Sample transcripts may carry payload logs beside them: import refuses those, so leave them out.
find "$SOURCE" -name '*.jsonl' ! -name '*hook_logs*' -print0 | xargs -0 $SC import
echo; echo '$ session-core list'; $SC list
echo; echo '$ session-core search "otel trace"'; $SC search "otel trace" --limit 4
echo; echo '$ session-core handoff'; $SC handoff
pick() {  # the newest session with a prompt, or the longest
  $SC list --json | .venv/bin/python -c "import json,sys; s=json.load(sys.stdin); print($1)"
}
newest=$(pick 'next(x for x in s if x["prompts"])["uuid"]')
latest=$(pick 'max(s, key=lambda x: x["messages"])["uuid"]')
echo; echo '$ (the status line, as Claude Code shows it under the prompt)'
# A Stop hook of that session leaves the status line its numbers, as in a live session.
transcript=$(find "$SOURCE" -name "$newest.jsonl" | head -1)
printf '{"session_id":"%s","transcript_path":"%s","cwd":"%s","hook_event_name":"Stop"}' \
  "$newest" "$transcript" "$DEMO" | CLAUDE_PROJECT_DIR="$DEMO" .venv/bin/python hooks/run.py Stop
sed -e "s#/home/dev/demo project#$DEMO#g" -e "s#8f49909c-331d-42c0-a8a4-9c2e5622b546#$newest#g" \
  tests/fixtures/statusline-2.1.330.json | NO_COLOR=1 .venv/bin/python hooks/status_line.py
echo
$SC export "$latest" --format html -o "$DEMO/session.html"
$SC export --all --format html -o "$DEMO/site"
$SC stats --html "$DEMO/stats.html"
browser=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
if [ -n "$browser" ]; then
  shoot() {  # page, png, width, height
    "$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars \
      --window-size="$3,$4" --screenshot="$2" "file://$1" >/dev/null 2>&1
  }
  shoot "$DEMO/session.html" "$DEMO/session.png" 1280 900
  shoot "$DEMO/session.html" "$DEMO/session-phone.png" 390 844
  shoot "$DEMO/site/index.html" "$DEMO/site.png" 1280 700
  shoot "$DEMO/stats.html" "$DEMO/stats.png" 1280 1100
  if [ -n "${SHOTS:-}" ]; then mkdir -p "$SHOTS" && cp "$DEMO"/*.png "$SHOTS"/; fi
  echo "Screenshots: $DEMO/*.png"
fi
echo "Pages: $DEMO/session.html $DEMO/site/index.html $DEMO/stats.html"
