#!/usr/bin/env bash
# The eval gate: runs the smoke and red-flag suites on the rules-only backend,
# single-message and conversation modes, and compares each run with the
# committed baseline in evals/baselines/. Fails when any suite's emergency
# recall is below 1.0 or accuracy falls below the baseline.
# Refresh the baselines after an intended change with scripts/eval-baseline.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
LOCKED=()
if [ -f Cargo.lock ]; then LOCKED=(--locked); fi
cargo build -q "${LOCKED[@]}" --bin triage
TRIAGE="$TARGET_DIR/debug/triage"
SUITES=(--suite evals/suites/smoke.jsonl --suite evals/suites/red_flags.jsonl)
status=0
for mode in single conversation; do
    out="$TARGET_DIR/evals/gate-none-$mode"
    rm -rf "$out"
    "$TRIAGE" eval run "${SUITES[@]}" --backend none --mode "$mode" --out "$out" --quiet
    if ! "$TRIAGE" eval compare "evals/baselines/none-$mode" "$out" \
        --max-accuracy-drop 0 --min-emergency-recall 1.0; then
        echo "eval gate failed for $mode mode (report: $out/report.md)" >&2
        status=1
    fi
done
exit "$status"
