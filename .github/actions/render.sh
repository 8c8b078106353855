#!/usr/bin/env bash
# The action's render step (action.yml), kept in a file so that tests run it as CI would.
# Reads INPUT_* from the environment; writes exit-code and output-dir to $GITHUB_OUTPUT.
set -euo pipefail
PIXBATCH="${PIXBATCH:-pixbatch}"
out="${GITHUB_OUTPUT:-/dev/null}"
manifest="${INPUT_MANIFEST:?the manifest input is required}"
dir=$("$PIXBATCH" plan "$manifest" --format json | sed -n 's/^  "output_dir": "\(.*\)",$/\1/p' | head -n 1)
echo "output-dir=$dir" >> "$out"
args=(run "$manifest" --json --junit "${INPUT_JUNIT:-pixbatch-junit.xml}")
if [ -n "${INPUT_SHARD:-}" ]; then args+=(--shard "$INPUT_SHARD"); fi
if [ -n "${INPUT_MAX_COST:-}" ]; then args+=(--max-cost "$INPUT_MAX_COST"); fi
# shellcheck disable=SC2206 # extra flags are words, as a user writes them
if [ -n "${INPUT_ARGS:-}" ]; then args+=(${INPUT_ARGS}); fi
code=0
"$PIXBATCH" "${args[@]}" > "${INPUT_JSON_REPORT:-pixbatch-report.json}" || code=$?
echo "exit-code=$code" >> "$out"
exit "$code"
