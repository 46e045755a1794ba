#!/usr/bin/env bash
# Issue and revoke per second on SQLite and PostgreSQL, 0.2 against this
# tree, alternated in one run: the last 0.2 commit (5f1369e) is built from
# a worktree with its own management bench, and the two bench binaries run
# in turn, round after round (the order swapped every other round), so the
# machine's drift falls on both alike. Each row is one client issuing 500
# tokens and then revoking them, each durable when it returns.
#
#   bash benches/against_0_2.sh                          # 1,000 tokens, 5 rounds
#   ROUNDS=1 TOKENKEEP_BENCH_SIZES=1000000 bash benches/against_0_2.sh
#
# Needs PostgreSQL (TOKENKEEP_POSTGRES_URL, the local server by default)
# and python3 for the summary. MariaDB is left out: 0.2 had no MySQL store.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${ROUNDS:-5}"
export TOKENKEEP_BENCH_SIZES="${TOKENKEEP_BENCH_SIZES:-1000}"
export TOKENKEEP_POSTGRES_URL="${TOKENKEEP_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}"
unset TOKENKEEP_MYSQL_URL
old="${TOKENKEEP_V02_TREE:-${TMPDIR:-/tmp}/tokenkeep-0.2}"
[ -d "$old" ] || git worktree add --detach "$old" 5f1369e

# The management bench binary cargo builds in `$1` with the features `$2`
# (this tree's bench also covers MySQL, which it skips here).
bench_binary() {
  (cd "$1" && cargo bench -p tokenkeep --features "$2" --bench management --no-run \
    --message-format=json 2>/dev/null) |
    grep -o '"executable":"[^"]*"' | tail -n 1 | cut -d '"' -f 4
}
declare -A binary=(
  [0.2]="$(bench_binary "$old" sqlite,postgres,management)"
  [now]="$(bench_binary . sqlite,postgres,mysql,management)"
)
for version in 0.2 now; do
  [ -x "${binary[$version]}" ] || { echo "the $version bench did not build"; exit 1; }
done
results="$(mktemp)"
for ((round = 1; round <= rounds; round++)); do
  order=(0.2 now)
  ((round % 2 == 0)) && order=(now 0.2)
  for version in "${order[@]}"; do
    echo "round $round: $version" >&2
    # Rows: | store | tokens | issued/s | revoked/s | …
    "${binary[$version]}" --bench 2>/dev/null |
      awk -F'|' -v version="$version" -v round="$round" \
        '{ gsub(/ /, "") } $2 ~ /^(SQLite|PostgreSQL)$/ && $3 ~ /^[0-9]+$/ && $4 ~ /^[0-9.]+$/ { print round, version, $2, $3, $4, $5 }' \
      >> "$results"
  done
done
python3 - "$results" <<'PY'
import collections, statistics, sys
runs = collections.defaultdict(list)
for line in open(sys.argv[1]):
    round_, version, store, size, issue, revoke = line.split()
    runs[(store, int(size), version)].append((int(round_), float(issue), float(revoke)))
print("| store | tokens | operation | 0.2 median | now median | now / 0.2 | now faster in |")
print("| --- | ---: | --- | ---: | ---: | ---: | ---: |")
for store, size in sorted({(s, n) for s, n, _ in runs}):
    old, new = runs[(store, size, "0.2")], runs[(store, size, "now")]
    for column, name in ((1, "issue"), (2, "revoke")):
        before = {r[0]: r[column] for r in old}
        after = {r[0]: r[column] for r in new}
        wins = sum(after[r] > before[r] for r in after if r in before)
        a, b = statistics.median(before.values()), statistics.median(after.values())
        print(f"| {store} | {size:,} | {name} | {a:,.0f}/s | {b:,.0f}/s | {b / a:.2f} | {wins} of {len(after)} rounds |")
PY
rm -f "$results"
