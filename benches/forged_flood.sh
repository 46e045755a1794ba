#!/usr/bin/env bash
# A flood of forged tokens against the reference server on PostgreSQL,
# under wrk: requests per second, and the database transactions the flood
# cost (pg_stat_database's commits during the run), without and with
# `--mint-key-file`. Beside each, a flood of tokens with a bad checksum,
# which never cost a query: the rate a refusal without a lookup reaches.
#
#   sudo apt-get install wrk
#   bash benches/forged_flood.sh            # TOKENKEEP_FLOOD_SECONDS=10 by default
#
# A forged token is the service's prefix, random base64url of the minted
# length and a valid CRC-32: what anyone can make, since the checksum is
# public. Without keys it is looked up; with keys the server mints tagged
# tokens and refuses a forged one (of the tagged length) before any query.
# The untagged length is refused without a query once untagged tokens are
# refused too (`--refuse-untagged-tokens`).
set -euo pipefail
cd "$(dirname "$0")/.."

url="${TOKENKEEP_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}"
seconds="${TOKENKEEP_FLOOD_SECONDS:-10}"
database="${url##*/}"
command -v wrk >/dev/null || { echo "SKIPPED: wrk is not installed (sudo apt-get install wrk)"; exit 0; }
command -v psql >/dev/null || { echo "SKIPPED: psql is not installed"; exit 0; }

cargo build --release --quiet -p tokenkeep-server
server=target/release/tokenkeep-server
work="$(mktemp -d)"
trap 'kill "${pid:-}" 2>/dev/null || true; rm -rf "$work"' EXIT

# Tokens of `length` secret characters (24 random bytes: 32; tagged: 44),
# `kind` forged (valid CRC-32) or bad (a wrong one), one per line.
tokens() {
  python3 - "$1" "$2" <<'PY'
import base64, os, sys, zlib
length, kind = int(sys.argv[1]), sys.argv[2]
alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
for _ in range(10000):
    secret = base64.urlsafe_b64encode(os.urandom(length)).rstrip(b"=")[:length]
    body = b"tk_" + secret
    bits = zlib.crc32(body) << 4
    if kind == "bad":
        bits ^= 1 << 4
    body += bytes(alphabet[(bits >> (6 * (5 - i))) & 0x3F] for i in range(6))
    print(body.decode())
PY
}

cat > "$work/flood.lua" <<'LUA'
local tokens = {}
for line in io.lines(os.getenv("FLOOD_TOKENS")) do tokens[#tokens + 1] = line end
local n = 0
request = function()
  n = n % #tokens + 1
  return wrk.format("GET", "/api/whoami", { ["Authorization"] = "Bearer " .. tokens[n] })
end
LUA

commits() {
  psql "$url" -tAc "SELECT xact_commit FROM pg_stat_database WHERE datname = '$database'"
}

# Serves a fresh schema with `$@`, floods it with the tokens in $1, prints
# one table row.
flood() {
  local label="$1" file="$2"; shift 2
  local schema="tokenkeep_flood_$$_$RANDOM"
  psql "$url" -qc "CREATE SCHEMA $schema"
  TOKENKEEP_SETUP_TOKEN=flood-setup-token "$server" --data-dir "$work/data" \
    --database-url "$url?options=-c%20search_path%3D$schema" --listen 127.0.0.1:18989 "$@" \
    2>"$work/server.log" &
  pid=$!
  for _ in $(seq 100); do curl -fs http://127.0.0.1:18989/api/setup/status >/dev/null && break; sleep 0.1; done
  local before after rate
  before="$(commits)"
  rate="$(FLOOD_TOKENS="$file" wrk -t1 -c16 -d"${seconds}s" -s "$work/flood.lua" http://127.0.0.1:18989 \
    | awk '/Requests\/sec/ { print $2 }')"
  after="$(commits)"
  kill "$pid"; wait "$pid" 2>/dev/null || true
  psql "$url" -qc "DROP SCHEMA $schema CASCADE" 2>/dev/null
  local total per
  total=$((after - before))
  per="$(python3 -c "print(f'{$total / ($rate * $seconds):.3f}')")"
  printf '| %s | %.0f | %d | %s |\n' "$label" "$rate" "$total" "$per"
}

key="$work/mint.keys"
python3 -c 'import os; print(os.urandom(32).hex())' > "$key"
chmod 600 "$key"
tokens 32 forged > "$work/forged-untagged"
tokens 44 forged > "$work/forged-tagged"
tokens 32 bad > "$work/bad-checksum"

echo "| flood (${seconds} s, wrk -t1 -c16, PostgreSQL) | requests/s | database transactions | per request |"
echo "| --- | ---: | ---: | ---: |"
flood "bad checksum, no key" "$work/bad-checksum"
flood "forged, no key (each one looked up)" "$work/forged-untagged"
flood "forged tagged length, --mint-key-file" "$work/forged-tagged" --mint-key-file "$key"
flood "forged untagged length, --mint-key-file" "$work/forged-untagged" --mint-key-file "$key"
flood "forged untagged length, --refuse-untagged-tokens" "$work/forged-untagged" \
  --mint-key-file "$key" --refuse-untagged-tokens
flood "bad checksum, --mint-key-file" "$work/bad-checksum" --mint-key-file "$key"
