#!/usr/bin/env bash
# Kill one of two instances under load and count what is lost: two instances of one binary on
# one PostgreSQL database (each with its own data directory, one shared key-encryption key),
# clients issuing permits and scanning them on both, one instance killed with SIGKILL halfway;
# clients that lose their instance go on with the other, as behind nginx. Then every permit and
# every scan an instance acknowledged (answered 201 / 200) is looked for in the database, and
# each permit series is checked gapless. Exit status 1 if anything acknowledged is missing.
#   DATABASE_URL=postgres://…/empty_db ops/failover/run.sh   (BIN=target/debug/borderdesk
#   SECONDS_=12 CLIENTS=8 PORT_A=18181 PORT_B=18182)
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${DATABASE_URL:?set DATABASE_URL to an empty PostgreSQL database}"
BIN=${BIN:-target/debug/borderdesk}
PORT_A=${PORT_A:-18181}
PORT_B=${PORT_B:-18182}
[ -x "$BIN" ] || { echo "no binary at $BIN (cargo build first, or set BIN)"; exit 2; }
command -v psql >/dev/null || PATH=$PATH:$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)

DIR=$(mktemp -d /tmp/borderdesk-failover.XXXXXX)
export BORDERDESK_DATABASE_URL=$DATABASE_URL BORDERDESK_LOG=error BORDERDESK_MAIL_POLL_SECONDS=0
BORDERDESK_KEK=$(head -c32 /dev/urandom | od -An -tx1 | tr -d ' \n')
export BORDERDESK_KEK
mkdir -p "$DIR/a" "$DIR/b"
echo 'failover-password-01' | BORDERDESK_DATA_DIR=$DIR/a "$BIN" officer add --username window --role officer --grant border_tourism --office YYG --password-stdin >/dev/null
echo 'failover-password-01' | BORDERDESK_DATA_DIR=$DIR/a "$BIN" officer add --username gate --role checkpoint --office YYG --password-stdin >/dev/null
WINDOW=$(BORDERDESK_DATA_DIR=$DIR/a "$BIN" token create --username window 2>/dev/null)
GATE=$(BORDERDESK_DATA_DIR=$DIR/a "$BIN" token create --username gate 2>/dev/null)

BORDERDESK_DATA_DIR=$DIR/a BORDERDESK_BIND=127.0.0.1:$PORT_A "$BIN" serve >"$DIR/a.log" 2>&1 &
A=$!
BORDERDESK_DATA_DIR=$DIR/b BORDERDESK_BIND=127.0.0.1:$PORT_B "$BIN" serve >"$DIR/b.log" 2>&1 &
B=$!
trap 'kill $A $B 2>/dev/null; wait 2>/dev/null; rm -rf "$DIR"' EXIT
for port in "$PORT_A" "$PORT_B"; do
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done
done

export WINDOW GATE PORT_A PORT_B A
python3 ops/failover/clients.py "$DIR/acked.json"

# What the instances acknowledged, looked for in the database.
python3 - "$DIR/acked.json" >"$DIR/check.sql" <<'PY'
import json, sys
acked = json.load(open(sys.argv[1]))
print("CREATE TEMP TABLE acked_permits (number TEXT PRIMARY KEY);")
print("CREATE TEMP TABLE acked_scans (id TEXT PRIMARY KEY);")
for n in acked["permits"]:
    print(f"INSERT INTO acked_permits VALUES ('{n}');")
for c in acked["scans"]:
    print(f"INSERT INTO acked_scans VALUES ('{c}');")
print("SELECT 'permits acknowledged', count(*), 'found', count(p.number) FROM acked_permits a LEFT JOIN permits p ON p.number = a.number;")
print("SELECT 'scans acknowledged', count(*), 'found', count(c.id) FROM acked_scans a LEFT JOIN crossings c ON c.id = a.id;")
print("SELECT 'series', series, 'permits', count(*), 'highest serial', max(serial) FROM permits GROUP BY series;")
PY
psql -qAt -F ' ' -v ON_ERROR_STOP=1 "$DATABASE_URL" -f "$DIR/check.sql" | tee "$DIR/check.out"
awk '$1 == "permits" || $1 == "scans" { if ($3 != $5) lost = 1 } $1 == "series" { if ($4 != $7) gap = 1 }
     END { if (lost) print "LOST: an acknowledged write is missing"; if (gap) print "GAP in a series";
           if (!lost && !gap) print "nothing acknowledged was lost; every series gapless"; exit (lost || gap) }' "$DIR/check.out"
