"""Clients for ops/failover/run.sh: each takes an application, issues it (with an idempotency key,
retried on the other instance when its instance is gone) and scans the permit out, for
SECONDS_ seconds; halfway, instance A is killed (SIGKILL). Writes what was acknowledged."""
import json, os, signal, sys, threading, time, urllib.error, urllib.request, uuid

PORTS = [int(os.environ["PORT_A"]), int(os.environ["PORT_B"])]
WINDOW, GATE = os.environ["WINDOW"], os.environ["GATE"]
SECONDS = float(os.environ.get("SECONDS_", "12"))
CLIENTS = int(os.environ.get("CLIENTS", "8"))

lock = threading.Lock()
acked = {"permits": [], "scans": []}
counts = {"requests": 0, "refused_connections": 0, "errors": 0, "retried_on_other": 0}
dead = set()


def post(port, token, path, body, key=None):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=json.dumps(body).encode(), method="POST")
    req.add_header("Content-Type", "application/json")
    req.add_header("Authorization", f"Bearer {token}")
    if key:
        req.add_header("Idempotency-Key", key)
    with urllib.request.urlopen(req, timeout=10) as res:
        return res.status, json.loads(res.read())


def send(first, token, path, body, key=None):
    """Like a proxy: the client's instance, else the other one when the connection fails."""
    order = [first, 1 - first]
    for attempt, i in enumerate(order):
        if PORTS[i] in dead and attempt == 0:
            continue
        try:
            with lock:
                counts["requests"] += 1
            return post(PORTS[i], token, path, body, key)
        except urllib.error.HTTPError as e:
            with lock:
                counts["errors"] += 1
            return e.code, None
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            with lock:
                counts["refused_connections"] += 1
                counts["retried_on_other"] += attempt == 0
                dead.add(PORTS[i])
    return None, None


def client(n, stop):
    seq = 0
    while not stop.is_set():
        seq += 1
        first = (n + seq) % 2
        body = {"kind": "border_tourism", "confirm_duplicate": True, "traveller": {
            "name_zh": "张伟", "name_latin": "ZHANG WEI", "nationality": "CHN", "sex": "M",
            "birth_date": "1990-03-07", "id_type": "cn_resident_id", "id_number": "450681199003071230",
            "phone": "+8613800000000"}}
        status, app = send(first, WINDOW, "/api/v1/applications", body)
        if status != 201:
            continue
        status, permit = send(first, WINDOW, f"/api/v1/applications/{app['id']}/issue", {}, key=str(uuid.uuid4()))
        if status != 201:
            continue
        with lock:
            acked["permits"].append(permit["number"])
        status, out = send(first, GATE, "/api/v1/checkpoint/scans",
                           {"code": permit["number"], "lane": "YYG-C1", "direction": "exit"})
        if status == 200:
            with lock:
                acked["scans"].append(out["crossing_id"])


stop = threading.Event()
threads = [threading.Thread(target=client, args=(n, stop)) for n in range(CLIENTS)]
for t in threads:
    t.start()
time.sleep(SECONDS / 2)
os.kill(int(os.environ["A"]), signal.SIGKILL)
killed_at = len(acked["permits"])
time.sleep(SECONDS / 2)
stop.set()
for t in threads:
    t.join()
json.dump(acked, open(sys.argv[1], "w"))
print(f"{CLIENTS} clients, {SECONDS:.0f} s, instance A killed after {killed_at} permits; "
      f"{len(acked['permits'])} permits and {len(acked['scans'])} scans acknowledged; "
      f"{counts['requests']} requests, {counts['refused_connections']} refused connections "
      f"({counts['retried_on_other']} retried on B), {counts['errors']} error answers")
