#!/usr/bin/env bash
# Runs every fuzz target for SECONDS seconds (default 30), two at a time.
# New inputs go to a scratch corpus; the seeds in fuzz/corpus are read only.
#   bash fuzz/run.sh          # the smoke run .ci/run does
#   bash fuzz/run.sh 600      # the long run of SECURITY.md
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-30}"
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
  fuzz=(cargo +nightly fuzz)
else
  # cargo-fuzz needs nightly flags; the stable compiler accepts them so.
  fuzz=(env RUSTC_BOOTSTRAP=1 cargo fuzz)
fi
scratch="$(mktemp -d)"
"${fuzz[@]}" build --fuzz-dir fuzz
run() {
  local target="$1"
  mkdir -p "$scratch/$target"
  "${fuzz[@]}" run --fuzz-dir fuzz "$target" "$scratch/$target" "fuzz/corpus/$target" -- \
    -max_total_time="$seconds" -rss_limit_mb=2048 -max_len=4096 -print_final_stats=1 \
    > "$scratch/$target.log" 2>&1 || { tail -40 "$scratch/$target.log"; echo "fuzz target $target FAILED"; return 1; }
  echo "fuzz target $target: $(grep -E 'stat::number_of_executed_units' "$scratch/$target.log" | tail -1 | awk '{print $2}') runs in ${seconds}s, no crash"
}
status=0
targets=($("${fuzz[@]}" list --fuzz-dir fuzz))
for ((i = 0; i < ${#targets[@]}; i += 2)); do
  run "${targets[i]}" & first=$!
  if ((i + 1 < ${#targets[@]})); then run "${targets[i+1]}" & second=$!; wait $second || status=1; fi
  wait $first || status=1
done
rm -rf "$scratch"
exit $status
