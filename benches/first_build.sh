#!/usr/bin/env bash
# A newcomer's first build, timed: a fresh clone of this repository, the
# README's first command, and curl every half second until the reference
# server answers its first request. Prints the seconds and how many crates
# Cargo compiled. BENCHMARKS.md has the results.
#
#   benches/first_build.sh                      # crates.io's downloads cached
#   EMPTY_REGISTRY=1 benches/first_build.sh     # an empty CARGO_HOME: every crate downloaded
#   COMMIT=<rev> FIRST_COMMAND='cargo run --example server --features reference-server' \
#     benches/first_build.sh                    # an older revision and its command
set -euo pipefail
repo="$(git -C "$(dirname "$0")/.." rev-parse --show-toplevel)"
commit="${COMMIT:-HEAD}"
command="${FIRST_COMMAND:-cargo run -p tokenkeep-server}"
work="$(mktemp -d)"
trap 'pkill -f "$work/clone/target" 2>/dev/null || true; rm -rf "$work"' EXIT

git clone -q "$repo" "$work/clone"
git -C "$work/clone" checkout -q "$commit"
if [ "${EMPTY_REGISTRY:-0}" = 1 ]; then
  export CARGO_HOME="$work/cargo-home"
fi
port=$((20000 + RANDOM % 20000))

start="$(date +%s.%N)"
(cd "$work/clone" && exec $command -- --listen "127.0.0.1:$port" --data-dir "$work/data" >"$work/log" 2>&1) &
until curl -sf "http://127.0.0.1:$port/api/setup/status" >/dev/null; do
  if ! kill -0 $! 2>/dev/null; then
    echo "the server did not start:" >&2
    tail -n 20 "$work/log" >&2
    exit 1
  fi
  sleep 0.5
done
end="$(date +%s.%N)"

crates="$(grep -c '^ *Compiling ' "$work/log" || true)"
downloaded="$(grep -c '^ *Downloaded ' "$work/log" || true)"
printf 'command: %s\ncommit: %s\nempty registry: %s\nseconds to the first answer: %.1f\ncrates compiled: %s\ncrates downloaded: %s\n' \
  "$command" "$(git -C "$work/clone" rev-parse --short HEAD)" "${EMPTY_REGISTRY:-0}" \
  "$(echo "$end - $start" | bc)" "$crates" "$downloaded"
