#!/usr/bin/env bash
# The checkpoint scan path under load, beside GET /healthz of the same binary in the same run,
# with PERMITS permits in the database (default 1,000,000). SQLite by default; set
# DATABASE_URL=postgres://… for PostgreSQL (the database must exist and be empty).
# Loopback only, bounded: two wrk runs of $DURATION seconds. Needs wrk, python3 (and psql for PG).
#   ops/bench/scan.sh          (PERMITS=1000000 DURATION=10 CONNS=64 THREADS=2 PORT=18091 EXTRA_SQL=…)
set -euo pipefail
cd "$(dirname "$0")/../.."
PERMITS=${PERMITS:-1000000}
DURATION=${DURATION:-10}
CONNS=${CONNS:-64}
THREADS=${THREADS:-2}
PORT=${PORT:-18091}
command -v wrk >/dev/null || { echo "wrk is required (apt-get install wrk)"; exit 1; }

. ops/bench/common.sh
build_bin
DIR=$(mktemp -d /tmp/borderdesk-scanbench.XXXXXX)
export BORDERDESK_DATA_DIR=$DIR BORDERDESK_BIND=127.0.0.1:$PORT BORDERDESK_LOG=warn BORDERDESK_METRICS_TOKEN=bench-metrics-token-0123456789abcdef0123
[ -n "${DATABASE_URL:-}" ] && export BORDERDESK_DATABASE_URL=$DATABASE_URL
echo 'bench-password-0123' | "$BIN" officer add --username bench --role officer --grant border_tourism --password-stdin >/dev/null
echo 'bench-password-0123' | "$BIN" officer add --username gate --role checkpoint --password-stdin >/dev/null
TOKEN=$("$BIN" token create --username gate 2>/dev/null)
# Filler permits carry the real signing key's id: a permit whose key is not in the ring is
# rejected as unknown_key before any trip is recorded, which would measure only the reject path.
KID=$("$BIN" keys list | awk '$2 == "active" {print $1}')
export TOKEN PERMITS KID THREADS

# Filler permits: multiple-entry, valid for years, numbered BN-YYG-2026-0000001…; the scan looks
# them up by number exactly as it does a Code128 read.
seed_started=$(date +%s)
if [ -n "${DATABASE_URL:-}" ]; then
  psql -q -v ON_ERROR_STOP=1 "$DATABASE_URL" <<SQL
INSERT INTO travellers SELECT 'bt-' || i, '张伟', 'ZHANG WEI', 'CHN', 'M', DATE '1990-03-07', 'cn_resident_id', '45068119900307' || lpad((i % 10000)::text, 4, '0'), NULL, NULL, now()::timestamp FROM generate_series(1, $PERMITS) AS i;
INSERT INTO applications (id, kind, traveller_id, office, status, created_by, created_at, updated_at) SELECT 'ba-' || i, 'border_tourism', 'bt-' || i, 'YYG', 'issued', (SELECT id FROM officers WHERE username = 'bench'), now()::timestamp, now()::timestamp FROM generate_series(1, $PERMITS) AS i;
INSERT INTO permits (number, series, serial, application_id, kind, status, traveller_id, office, valid_from, valid_until, entries_allowed, entries_used, key_id, signed_code, issued_by, issued_at) SELECT 'BN-YYG-2026-' || lpad(i::text, 7, '0'), 'BN-YYG-2026', i, 'ba-' || i, 'border_tourism', 'issued', 'bt-' || i, 'YYG', TIMESTAMP '2026-01-01 00:00:00', TIMESTAMP '2030-01-01 00:00:00', 0, 0, '$KID', 'bench', (SELECT id FROM officers WHERE username = 'bench'), now()::timestamp FROM generate_series(1, $PERMITS) AS i;
-- Vacuumed now rather than by autovacuum in the middle of the measured runs: the fresh tables'
-- first vacuum (a million rows each) took one of the two cores for seconds, run to run at random.
VACUUM (FREEZE, ANALYZE) travellers, applications, permits;
SQL
else
  python3 - "$DIR/borderdesk.db" "$PERMITS" "$KID" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1]); n = int(sys.argv[2]); kid = sys.argv[3]
officer = db.execute("SELECT id FROM officers WHERE username = 'bench'").fetchone()[0]
cte = f"WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {n})"
db.execute(f"{cte} INSERT INTO travellers SELECT 'bt-' || i, '张伟', 'ZHANG WEI', 'CHN', 'M', '1990-03-07', 'cn_resident_id', '45068119900307' || printf('%04d', i % 10000), NULL, NULL, '2026-01-01 00:00:00' FROM s")
db.execute(f"{cte} INSERT INTO applications (id, kind, traveller_id, office, status, created_by, created_at, updated_at) SELECT 'ba-' || i, 'border_tourism', 'bt-' || i, 'YYG', 'issued', ?, '2026-01-01 00:00:00', '2026-01-01 00:00:00' FROM s", (officer,))
db.execute(f"{cte} INSERT INTO permits (number, series, serial, application_id, kind, status, traveller_id, office, valid_from, valid_until, entries_allowed, entries_used, key_id, signed_code, issued_by, issued_at) SELECT 'BN-YYG-2026-' || printf('%07d', i), 'BN-YYG-2026', i, 'ba-' || i, 'border_tourism', 'issued', 'bt-' || i, 'YYG', '2026-01-01 00:00:00', '2030-01-01 00:00:00', 0, 0, ?, 'bench', ?, '2026-01-01 00:00:00' FROM s", (kid, officer))
db.commit()
db.execute("ANALYZE")
PY
fi
echo "seeded $PERMITS permits in $(( $(date +%s) - seed_started ))s"
# EXTRA_SQL: statements run on the seeded database before the server starts, for experiments
# (an index or a trigger dropped, a setting changed), compared in turns with a run without.
if [ -n "${EXTRA_SQL:-}" ]; then
  echo "extra SQL: $EXTRA_SQL"
  if [ -n "${DATABASE_URL:-}" ]; then psql -q -v ON_ERROR_STOP=1 "$DATABASE_URL" -c "$EXTRA_SQL"
  else python3 -c "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.executescript(sys.argv[2]); c.commit()" "$DIR/borderdesk.db" "$EXTRA_SQL"; fi
fi

"$BIN" serve >"$DIR/serve.log" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null; [ -n "${KEEP_LOG:-}" ] && cp "$DIR/serve.log" "$KEEP_LOG"; rm -rf "$DIR"' EXIT
started=$(date +%s.%N)
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done
ready=$(date +%s.%N)
# Steady state is measured: the scan index loads in the background after start (scans meanwhile
# read their permits from the database); wait for it, and say how long start and load took.
indexed=0
for _ in $(seq 1200); do
  indexed=$(curl -sf -H "Authorization: Bearer bench-metrics-token-0123456789abcdef0123" "http://127.0.0.1:$PORT/metrics" | awk '/^borderdesk_scan_index_permits / {print $2}' || true)
  [ "${indexed:-0}" -ge "$PERMITS" ] && break
  sleep 0.1
done
loaded=$(date +%s.%N)
python3 -c "import sys; s,r,l=map(float,sys.argv[1:4]); print(f'serve ready in {r-s:.2f}s; scan index {sys.argv[4]} permits in {l-s:.1f}s; RSS {sys.argv[5]} MB')" "$started" "$ready" "$loaded" "${indexed:-0}" "$(( $(awk '/VmRSS/ {print $2}' /proc/$PID/status) / 1024 ))"

run() { # name, wrk args...
  local name=$1; shift
  local out rps p50 p99 non2xx
  out=$(wrk -t"$THREADS" -c"$CONNS" -d"${DURATION}s" --latency "$@")
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1=="50%" {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  non2xx=$(awk '/Non-2xx/ {print $5}' <<<"$out")
  printf '%-10s %10s req/s   p50 %-9s p99 %-9s non-2xx %s\n' "$name" "$rps" "$p50" "$p99" "${non2xx:-0}"
  echo "$rps" >"$DIR/$name.rps"
}
store=SQLite; [ -n "${DATABASE_URL:-}" ] && store=PostgreSQL
echo "wrk -t$THREADS -c$CONNS -d${DURATION}s, $store, $(nproc) cores, $PERMITS permits"
run healthz "http://127.0.0.1:$PORT/healthz"
# CPU time of the server and of its scan writer thread (`ticks`, common.sh).
count_scans() {
  if [ -n "${DATABASE_URL:-}" ]; then psql -Atq "$DATABASE_URL" -c "SELECT COUNT(*) FROM crossings"
  else python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('SELECT COUNT(*) FROM crossings').fetchone()[0])" "$DIR/borderdesk.db"; fi
}
# Each batch of scans (one transaction) takes one trust version: versions taken = commits.
version() {
  if [ -n "${DATABASE_URL:-}" ]; then psql -Atq "$DATABASE_URL" -c "SELECT version FROM trust_version"
  else python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('SELECT version FROM trust_version').fetchone()[0])" "$DIR/borderdesk.db"; fi
}
before=($(ticks) $(ticks scan-writer) $(count_scans) $(version))
profile_start "$PID" "$DURATION"
run scan -s ops/bench/scan.lua "http://127.0.0.1:$PORT"
profile_wait
after=($(ticks) $(ticks scan-writer) $(count_scans) $(version))
python3 -c "import os,sys; hz=os.sysconf('SC_CLK_TCK'); b=list(map(int,sys.argv[1:5])); a=list(map(int,sys.argv[5:9])); n=max(a[2]-b[2],1); print(f'CPU per scan: server {(a[0]-b[0])/hz/n*1e6:.0f} us, of which scan writer {(a[1]-b[1])/hz/n*1e6:.0f} us ({n} scans, {n/max(a[3]-b[3],1):.1f} per commit)')" "${before[@]}" "${after[@]}"
# The scan writer maps the SQLite file: the pages of it in memory count in RSS as file pages
# (the kernel's page cache, shared and reclaimable), apart from the process's own memory.
echo "RSS after the scan load: $(awk '/^(VmRSS|RssAnon|RssFile):/ {v[$1]=int($2/1024)} END {printf "%d MB (own memory %d MB, mapped database file %d MB)", v["VmRSS:"], v["RssAnon:"], v["RssFile:"]}' /proc/$PID/status)"
if [ -n "${DATABASE_URL:-}" ]; then
  psql -Atq -F ' ' "$DATABASE_URL" -c "SELECT verdict, reason, COUNT(*) FROM crossings GROUP BY verdict, reason ORDER BY 1, 2" | sed 's/^/  recorded /'
else
  python3 -c "import sqlite3,sys; [print(f'  recorded {v} {r}: {n}') for v,r,n in sqlite3.connect(sys.argv[1]).execute('SELECT verdict, reason, COUNT(*) FROM crossings GROUP BY 1, 2')]" "$DIR/borderdesk.db"
fi
python3 -c "import sys; h=float(open(sys.argv[1]).read()); x=float(open(sys.argv[2]).read()); print(f'scan = {x/h:.4f} x healthz ({h/x:.1f} times slower)')" "$DIR/healthz.rps" "$DIR/scan.rps"
