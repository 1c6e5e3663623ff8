#!/usr/bin/env python3
"""Signs in N Vietnamese drivers, each with a profile and a truck; prints "token vehicle_id" per
line. Bench setup only: python3 drivers.py PORT DB N

The first THROUGH_API (default 200) go through the public API as a driver would (the code read
from the outbox in the SQLite file, as from the mail); the rest are written into the file in
the same shape as those, since the API path signs in some 35 drivers a second on two cores and
a fair bookings run needs tens of thousands."""
import datetime, hashlib, json, os, secrets, sqlite3, sys, threading, urllib.request, uuid

port, db, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
base = f"http://127.0.0.1:{port}"


def call(method, path, body=None, token=None):
    req = urllib.request.Request(base + path, method=method, data=json.dumps(body).encode() if body is not None else None)
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    with urllib.request.urlopen(req) as r:
        return json.loads(r.read() or b"null")


def letters(i):
    out = ""
    while True:
        out = chr(65 + i % 26) + out
        i //= 26
        if i == 0:
            return out


out, lock = [], threading.Lock()


def one(i):
    email = f"bench{i}@example.vn"
    call("POST", "/api/v1/driver/codes", {"email": email, "lang": "vi"})
    con = sqlite3.connect(db, timeout=30)
    text = con.execute(
        "SELECT body_text FROM mail_outbox WHERE recipient = ? AND kind = 'driver_code' ORDER BY created_at DESC, id DESC LIMIT 1",
        (email,),
    ).fetchone()[0]
    con.close()
    code = next(w for w in "".join(c if c.isdigit() else " " for c in text).split() if len(w) == 6)
    token = call("POST", "/api/v1/driver/sessions", {"email": email, "code": code, "lang": "vi"})["token"]
    call("PUT", "/api/v1/driver/profile", {"name_latin": "Nguyen Van " + letters(i), "nationality": "VNM",
         "id_type": "vn_citizen_id", "id_number": f"0011900{i:05d}"}, token)
    v = call("POST", "/api/v1/driver/vehicles", {"plate": f"12C{10000 + i:05d}", "vehicle_type": "truck"}, token)
    with lock:
        out.append(f"{token} {v['id']}")


def worker(k, threads, upto):
    for i in range(k, upto, threads):
        one(i)


through_api = min(n, int(os.environ.get("THROUGH_API", "200")))
threads = [threading.Thread(target=worker, args=(k, 8, through_api)) for k in range(8)]
for t in threads:
    t.start()
for t in threads:
    t.join()

# The rest, shaped as the API shaped the first ones (their session length, plate spelling).
con = sqlite3.connect(db, timeout=30)
created, expires = con.execute(
    "SELECT created_at, expires_at FROM driver_sessions ORDER BY created_at LIMIT 1"
).fetchone()
fmt = "%Y-%m-%d %H:%M:%S.%f"
ttl = datetime.datetime.fromisoformat(expires) - datetime.datetime.fromisoformat(created)
now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
stamp = now.strftime(fmt)
until = (now + ttl).strftime(fmt)
drivers, sessions, vehicles = [], [], []
for i in range(through_api, n):
    did, vid, token = str(uuid.uuid4()), str(uuid.uuid4()), "bdd_" + secrets.token_urlsafe(32)
    plate = f"{10000 + i:05d}"
    drivers.append((did, f"bench{i}@example.vn", "vi", "Nguyen Van " + letters(i), "VNM", "vn_citizen_id",
                    f"0011900{i:05d}", stamp, stamp))
    sessions.append((hashlib.sha256(token.encode()).hexdigest(), did, secrets.token_urlsafe(32), stamp, until))
    vehicles.append((vid, did, f"12C-{plate[:3]}.{plate[3:]}", "VN", "truck", stamp))
    out.append(f"{token} {vid}")
with con:
    con.executemany("INSERT INTO drivers (id, email, lang, name_latin, nationality, id_type, id_number, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?)", drivers)
    con.executemany("INSERT INTO driver_sessions (id_hash, driver_id, csrf_token, created_at, expires_at) VALUES (?,?,?,?,?)", sessions)
    con.executemany("INSERT INTO vehicles (id, driver_id, plate, country, vehicle_type, created_at) VALUES (?,?,?,?,?,?)", vehicles)
print("\n".join(out))
