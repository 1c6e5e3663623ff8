#!/usr/bin/env bash
# End-to-end throughput of the release binary (SQLite; DATABASE_URL=postgres://… for an empty
# PostgreSQL database): taking applications, issuing permits and
# printing PDFs, each beside GET /healthz of the same binary in the same run (the baseline).
# Loopback only, bounded: four wrk runs of $DURATION seconds. Needs wrk and python3.
#   ops/bench/run.sh            (DURATION=5 CONNS=32 THREADS=2 PORT=18090 to change)
set -euo pipefail
cd "$(dirname "$0")/../.."
DURATION=${DURATION:-5}
CONNS=${CONNS:-64}
THREADS=${THREADS:-2}
PORT=${PORT:-18090}
command -v wrk >/dev/null || { echo "wrk is required (apt-get install wrk)"; exit 1; }

. ops/bench/common.sh
build_bin
DIR=$(mktemp -d /tmp/borderdesk-bench.XXXXXX)
export BORDERDESK_DATA_DIR=$DIR BORDERDESK_BIND=127.0.0.1:$PORT BORDERDESK_LOG=warn
[ -n "${DATABASE_URL:-}" ] && export BORDERDESK_DATABASE_URL=$DATABASE_URL
# One SQL answer per line, from whichever database is in use.
sql() {
  if [ -n "${DATABASE_URL:-}" ]; then
    psql -Atq "$DATABASE_URL" -c "$1"
  else
    python3 -c "import sqlite3,sys; [print(*r) for r in sqlite3.connect(sys.argv[1]).execute(sys.argv[2])]" "$DIR/borderdesk.db" "$1"
  fi
}
echo 'bench-password-0123' | "$BIN" officer add --username bench --role officer --grant border_tourism --password-stdin >/dev/null
TOKEN=$("$BIN" token create --username bench 2>/dev/null | grep -o 'bdt_[A-Za-z0-9_-]*' | head -1)
export TOKEN
"$BIN" serve >"$DIR/serve.log" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null; rm -rf "$DIR"' EXIT
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done

run() { # name, wrk args...
  local name=$1; shift
  local out
  out=$(wrk -t"$THREADS" -c"$CONNS" -d"${DURATION}s" --latency "$@")
  local rps p50 p99 non2xx
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1=="50%" {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  non2xx=$(awk '/Non-2xx/ {print $5}' <<<"$out")
  printf '%-28s %10s req/s   p50 %-9s p99 %-9s non-2xx %s\n' "$name" "$rps" "$p50" "$p99" "${non2xx:-0}"
  echo "$rps" >"$DIR/$name.rps"
}

store=SQLite; [ -n "${DATABASE_URL:-}" ] && store=PostgreSQL
echo "wrk -t$THREADS -c$CONNS -d${DURATION}s, $store, $(nproc) cores"
run healthz "http://127.0.0.1:$PORT/healthz"
run create_application -s ops/bench/create.lua "http://127.0.0.1:$PORT"
sql "SELECT id FROM applications WHERE status = 'submitted'" >"$DIR/ids"
export IDS=$DIR/ids THREADS
before=$(sql "SELECT COUNT(*) FROM permits")
profile_start "$PID" "$DURATION"
run issue_permit -s ops/bench/issue.lua "http://127.0.0.1:$PORT"
profile_wait
after=$(sql "SELECT COUNT(*) FROM permits")
NUMBER=$(sql "SELECT number FROM permits LIMIT 1")
# Gapless serials: every series runs 1..n with no hole and no repeat.
holes=$(sql "SELECT COUNT(*) FROM (SELECT series FROM permits GROUP BY series HAVING COUNT(*) <> MAX(serial) OR COUNT(DISTINCT serial) <> COUNT(*)) AS s")
run permit_pdf -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT/api/v1/permits/$NUMBER/pdf"

echo
echo "applications available: $(wc -l <"$DIR/ids"); permits issued in the run: $((after - before)) ($(python3 -c "print(round($((after - before))/$DURATION))")/s); series with a gap or a repeat: $holes"
for n in create_application issue_permit permit_pdf; do
  python3 -c "import sys; h=float(open(sys.argv[1]).read()); x=float(open(sys.argv[2]).read()); print(f'{sys.argv[3]:<28} {x/h:8.4f} x healthz  ({h/x:7.1f} times slower)')" "$DIR/healthz.rps" "$DIR/$n.rps" "$n"
done
