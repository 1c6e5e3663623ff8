#!/usr/bin/env python3
"""Signs in N Vietnamese drivers through the public API (code read from the outbox in the SQLite
file, as the driver would read the mail), fills their profiles and adds a truck each; prints
"token vehicle_id" per line. Bench setup only: python3 drivers.py PORT DB N"""
import json, sqlite3, sys, threading, urllib.request

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


def worker(k, threads):
    for i in range(k, n, threads):
        one(i)


threads = [threading.Thread(target=worker, args=(k, 8)) for k in range(8)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print("\n".join(out))
