#!/usr/bin/env bash
# Installs the coding agents the tests in tests/agents drive, pinned, once, into a cache outside the clone
# ($AGENTS_DIR, default ~/.cache/workers-ai-gateway/agents), so every clone on a machine (CI's included) shares
# one install. Idempotent: an agent whose stamp file names the pinned
# version is left alone, so a second run costs a few milliseconds. The npm agents go under one --prefix, aider
# into a venv of its own (its pins clash with the project's). Nothing here runs an agent.
# (The OpenAI Agents SDK is a dev dependency in pyproject.toml: `make install` brings it.)
# Usage: tests/agents/install.sh [claude codex opencode qwen aider]   (default: all). `make test` runs it
# (tests/tools.py); strace, which every agent test runs under, is one of that table's apt packages.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
DIR="${AGENTS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/workers-ai-gateway/agents}"
PYTHON="${PYTHON:-python3}"
mkdir -p "$DIR"

# name -> package@version: a bump is one line here (the stamp files make the next run reinstall).
declare -A NPM=(
  [claude]="@anthropic-ai/claude-code@2.1.337"
  [codex]="@openai/codex@0.169.1"
  [opencode]="opencode-ai@1.18.33"
  [qwen]="@qwen-code/qwen-code@0.15.10"
)
AIDER="aider-chat==0.86.2"

stamp_ok() { [ -f "$DIR/$1.stamp" ] && [ "$(cat "$DIR/$1.stamp")" = "$2" ]; }

install_npm() {  # $1 = name
  local spec="${NPM[$1]}"
  stamp_ok "$1" "$spec" && return 0
  echo "installing $spec into $DIR/npm"
  # --no-fund/--no-audit: no calls beyond the registry's package downloads.
  npm install --prefix "$DIR/npm" --no-fund --no-audit --loglevel=error "$spec"
  echo "$spec" > "$DIR/$1.stamp"
}

install_aider() {
  stamp_ok aider "$AIDER" && return 0
  echo "installing $AIDER into $DIR/aider"
  "$PYTHON" -m venv "$DIR/aider"
  # uv resolves and installs aider's ~100 dependencies in about 10 s where pip took almost 6 minutes.
  "$DIR/aider/bin/pip" install --quiet "uv>=0.5,<1"
  "$DIR/aider/bin/uv" pip install --quiet --python "$DIR/aider/bin/python" "$AIDER"
  echo "$AIDER" > "$DIR/aider.stamp"
}

names=("$@")
[ ${#names[@]} -eq 0 ] && names=(claude codex opencode qwen aider)
for name in "${names[@]}"; do
  case "$name" in
    aider) install_aider ;;
    *) [ -n "${NPM[$name]:-}" ] || { echo "unknown agent: $name" >&2; exit 2; }; install_npm "$name" ;;
  esac
done
