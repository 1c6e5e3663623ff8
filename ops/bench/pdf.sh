#!/usr/bin/env bash
# Median milliseconds per permit PDF: the service (GET /api/v1/permits/{number}/pdf, warm
# server, the whole request) beside the same card laid out in HTML and printed by headless
# Chromium, in the same run: a new `chromium --headless --print-to-pdf` process each time (cold),
# and one warm browser driven over the DevTools protocol (puppeteer-core) reusing one page. The
# HTML card has the permit's fields in the same A6 frame, the photo and the signed QR code (segno);
# the CJK font is the one the PDF embeds. Prints each median and its ratio to the service's.
#   ops/bench/pdf.sh            N=30 (requests per way)   BIN=path (a built binary)
#                               OUT=dir (keeps the PDFs and the HTML, to look at)
# Needs chromium, curl, jq, node/npm and python3; segno and puppeteer-core are installed into a
# temporary directory (PyPI, npm).
set -euo pipefail
cd "$(dirname "$0")/../.."
. ops/bench/common.sh
build_bin
N=${N:-30}
work=$(mktemp -d /tmp/borderdesk-pdf.XXXXXX)
server=
stop() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap stop EXIT

python3 -m pip install --quiet --target "$work/py" segno==1.6.6
npm install --silent --prefix "$work/node" puppeteer-core@25.16.0 >/dev/null

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
BORDERDESK_DATA_DIR="$work/data" BORDERDESK_BIND="127.0.0.1:$port" BORDERDESK_SECURE_COOKIES=false \
  "$BIN" serve --demo >"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 1 100); do curl -fsS -o /dev/null "$base/readyz" 2>/dev/null && break; sleep 0.1; done
token=$(grep -o "API token for 'officer': bdt_[A-Za-z0-9_-]*" "$work/server.log" | sed 's/.*: //')
api() { curl -fsS -H "Authorization: Bearer $token" "$@"; }

# A border-tourism pass with its photo, as the window issues one.
app=$(api -H 'Content-Type: application/json' -X POST "$base/api/v1/applications" --data \
  '{"kind":"border_tourism","traveller":{"name_zh":"张伟","name_latin":"ZHANG WEI","nationality":"CHN","sex":"M","birth_date":"1990-03-07","id_type":"cn_resident_id","id_number":"450681199003070019","phone":"+8613800000000"}}' | jq -r .id)
python3 - "$work/photo.png" <<'PY'
import struct, sys, zlib
w, h = 660, 960
rows = b"".join(b"\x00" + bytes(v for x in range(w) for v in (x * 255 // w, y * 255 // h, 200)) for y in range(h))
def chunk(t, d): return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)
png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")
open(sys.argv[1], "wb").write(png)
PY
api -X PUT -H 'Content-Type: image/png' --data-binary @"$work/photo.png" "$base/api/v1/applications/$app/portrait" >/dev/null
permit=$(api -X POST "$base/api/v1/applications/$app/issue" > "$work/permit.json"; jq -r .number "$work/permit.json")
api "$base/api/v1/applications/$app/portrait" >"$work/photo.jpg"

# The service: N requests, one at a time, each timed by curl.
api -o /dev/null "$base/api/v1/permits/$permit/pdf" # warm
for _ in $(seq 1 "$N"); do
  api -o "$work/service.pdf" -w '%{time_total}\n' "$base/api/v1/permits/$permit/pdf"
done >"$work/service.times"

# The same card in HTML.
PYTHONPATH="$work/py" python3 - "$work/permit.json" "$work/photo.jpg" "$PWD/fixtures/fonts/NotoSansCJKsc-Regular.otf" >"$work/card.html" <<'PY'
import base64, html, json, sys, segno
p = json.load(open(sys.argv[1]))
photo = base64.b64encode(open(sys.argv[2], "rb").read()).decode()
qr = segno.make(p["code"], error="m").svg_inline(scale=1, border=0, omitsize=True)
e = html.escape
t = p.get("holder", {})
def f(label, value): return f'<div class="f"><div class="l">{label}</div><div class="v">{e(str(value))}</div></div>'
print(f"""<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><style>
@font-face {{ font-family: cjk; src: url("file://{sys.argv[3]}"); }}
@page {{ size: 148mm 105mm; margin: 0; }}
body {{ margin: 0; font-family: cjk, sans-serif; }}
.card {{ position: relative; width: 148mm; height: 105mm; box-sizing: border-box; padding: 5mm 6mm; }}
h1 {{ font-size: 13pt; margin: 0; }} .sub {{ font-size: 7pt; color: #333; }}
.grid {{ display: grid; grid-template-columns: 1fr 1fr; gap: 1mm 3mm; width: 108mm; margin-top: 3mm; }}
.f .l {{ font-size: 5.5pt; color: #555; }} .f .v {{ font-size: 9pt; }}
.photo {{ position: absolute; right: 6mm; top: 14mm; width: 26mm; height: 37.8mm; object-fit: cover; }}
.qr {{ position: absolute; right: 6mm; bottom: 6mm; width: 30mm; height: 30mm; }} .qr svg {{ width: 100%; height: 100%; }}
.no {{ position: absolute; left: 6mm; bottom: 6mm; font: 11pt monospace; }}
</style></head><body><div class="card">
<h1>边境旅游通行证</h1><div class="sub">Giấy thông hành du lịch biên giới · Border Tourism Pass</div>
<img class="photo" src="data:image/jpeg;base64,{photo}" alt="">
<div class="grid">
{f("姓名 Họ tên Name", (t.get("name_zh") or "") + " " + t.get("name_latin", ""))}
{f("国籍 Quốc tịch Nationality", t.get("nationality", ""))}
{f("性别 Giới tính Sex", t.get("sex", ""))}
{f("出生日期 Ngày sinh Date of birth", t.get("birth_date", ""))}
{f("证件号码 Số giấy tờ ID No.", t.get("id_number_masked") or t.get("id_number", ""))}
{f("有效期限 Thời hạn hiệu lực Validity", p.get("valid_from", "") + " — " + p.get("valid_until", ""))}
{f("次数 Số lần Entries", p.get("entries_allowed", ""))}
{f("签发机关 Cơ quan cấp Issued by", p.get("office", ""))}
</div>
<div class="no">{e(p["number"])}</div>
<div class="qr">{qr}</div>
</div></body></html>""")
PY

# Cold: a new Chromium process per print.
for _ in $(seq 1 "$N"); do
  start=$(date +%s.%N)
  chromium --headless --no-sandbox --disable-gpu --no-pdf-header-footer \
    --print-to-pdf="$work/cold.pdf" "file://$work/card.html" >/dev/null 2>&1
  end=$(date +%s.%N)
  echo "$end - $start" | bc -l
done >"$work/cold.times"

# Warm: one browser, one page, over the DevTools protocol.
# Beside its node_modules, so that the import resolves.
cat >"$work/node/warm.mjs" <<'JS'
import puppeteer from "puppeteer-core";
import { readFileSync } from "node:fs";
const [html, n] = [readFileSync(process.argv[2], "utf8"), Number(process.argv[3])];
const browser = await puppeteer.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox", "--disable-gpu"], headless: true });
const page = await browser.newPage();
await page.setContent(html, { waitUntil: "load" });
await page.pdf({ width: "148mm", height: "105mm", printBackground: true }); // warm
for (let i = 0; i < n; i++) {
  const t = performance.now();
  await page.setContent(html, { waitUntil: "load" });
  await page.pdf({ width: "148mm", height: "105mm", printBackground: true });
  console.log(((performance.now() - t) / 1000).toFixed(6));
}
await browser.close();
JS
node "$work/node/warm.mjs" "$work/card.html" "$N" >"$work/warm.times"

if [ -n "${OUT:-}" ]; then mkdir -p "$OUT" && cp "$work"/{service.pdf,cold.pdf,card.html} "$OUT"/; fi

median() { sort -n "$1" | awk '{ a[NR] = $1 } END { m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2; printf "%.1f", m * 1000 }'; }
svc=$(median "$work/service.times"); cold=$(median "$work/cold.times"); warm=$(median "$work/warm.times")
echo "permit PDF, median of $N ($(nproc) cores):"
printf '  service (GET …/pdf)           %8s ms\n' "$svc"
printf '  chromium --print-to-pdf (cold) %8s ms  = %s x service\n' "$cold" "$(echo "$cold / $svc" | bc -l | xargs printf '%.1f')"
printf '  chromium DevTools, warm page   %8s ms  = %s x service\n' "$warm" "$(echo "$warm / $svc" | bc -l | xargs printf '%.1f')"
printf '  sizes: service %s bytes, chromium %s bytes\n' "$(stat -c %s "$work/service.pdf")" "$(stat -c %s "$work/cold.pdf")"
