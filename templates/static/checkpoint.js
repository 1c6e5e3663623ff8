// Scan page: online, each scan goes to the hall (as JSON, shown in place); when the hall cannot
// be reached, the permit's signed code is verified here from the last trust bundle (Ed25519 in
// WebCrypto), the decision is queued, and the queue is uploaded once the hall answers again.
// After every verdict the scan field is empty and focused for the next scan (a keyboard-wedge
// scanner types into whatever has focus); each verdict carries the code's tail and the time, and
// greys then clears as it ages so it is not taken for the next vehicle's. A camera button decodes
// QR codes with BarcodeDetector, or with jsQR (served by the app) where the browser has none.
"use strict";
(function () {
  const form = document.getElementById("scan-form");
  if (!form) return;
  const csrf = form.querySelector("input[name=csrf]").value;
  const STALE_MS = 24 * 3600 * 1000;
  const B45 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";
  const store = {
    get: (k) => { try { return JSON.parse(localStorage.getItem(k)); } catch (_) { return null; } },
    set: (k, v) => localStorage.setItem(k, JSON.stringify(v)),
  };
  const b64url = (s) => Uint8Array.from(atob(s.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((s.length + 3) % 4)), (c) => c.charCodeAt(0));
  const hex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");

  function base45(text) {
    const out = [];
    for (let i = 0; i < text.length; i += 3) {
      const c = [...text.slice(i, i + 3)].map((ch) => B45.indexOf(ch));
      if (c.some((v) => v < 0)) throw new Error("malformed");
      const n = c[0] + c[1] * 45 + (c.length === 3 ? c[2] * 2025 : 0);
      if (c.length === 3) { if (n > 65535) throw new Error("malformed"); out.push(n >> 8, n & 255); }
      else if (c.length === 2) { if (n > 255) throw new Error("malformed"); out.push(n); }
      else throw new Error("malformed");
    }
    return new Uint8Array(out);
  }

  // The body is postcard: u8 as one byte, strings and integers as LEB128 varints (i32 zigzag).
  function parseBody(b) {
    let i = 0;
    const need = (n) => { if (i + n > b.length) throw new Error("malformed"); };
    const u8 = () => { need(1); return b[i++]; };
    const varint = () => { let v = 0, s = 0; for (;;) { const x = u8(); v += (x & 127) * 2 ** s; if (!(x & 128)) return v; s += 7; if (s > 35) throw new Error("malformed"); } };
    const str = () => { const n = varint(); need(n); const t = new TextDecoder("utf-8", { fatal: true }).decode(b.slice(i, i + n)); i += n; return t; };
    const i32 = () => { const z = varint(); return z % 2 ? -(z + 1) / 2 : z / 2; };
    const body = { version: u8(), kid: hex([u8(), u8(), u8(), u8()]), kind: u8(), number: str(), holder: str(), nationality: str(), from: i32(), until: i32(), entries: u8() };
    if (i !== b.length || body.version !== 1) throw new Error("malformed");
    return body;
  }

  const KINDS = { 1: "border_tourism", 2: "border_trade", 3: "passport" };
  const MESSAGES = {
    ok: "准予通行（离线核验） / admit (verified offline)", malformed: "无法识别的条码，请扫描二维码 / not a permit QR code",
    bad_signature: "签名无效 / signature invalid", unknown_key: "签发密钥未知 / unknown key", key_not_allowed: "密钥无权签发此类证件 / key not allowed",
    not_yet_valid: "尚未生效 / not yet valid", expired: "已过期 / expired", revoked: "已吊销 / revoked", used: "次数已用完 / used up",
    pending: "材料或照片待补 / materials/portrait pending", suspended: "材料逾期，已中止 / suspended",
    wrong_direction: "出入境方向不符 / wrong direction",
    unverifiable_offline: "离线无法核验证件号码，请扫描二维码 / the number cannot be verified offline — scan the QR code",
  };
  const BOOKING_OFFLINE = "离线无法核验通关预约：请联网查验或让车辆到候检区 / a booking cannot be checked offline: check online, or send the vehicle to the waiting area";
  const OVERSTAY = "准予入境（离线核验）：通行证已过期，逾期滞留须登记 / admit home (verified offline): the pass has expired (overstay, to be recorded)";
  // A permit number as printed (BT-YYG-2026-000123): the hall can check it, this device cannot.
  const NUMBER = /^[A-Z0-9]{1,8}-[A-Z0-9]{1,8}-[0-9]{4}-[0-9]{1,12}$/i;

  const DAY = 86400000, CHINA = 8 * 3600 * 1000;
  const chinaDay = (ms) => Math.floor((ms + CHINA) / DAY); // days since 1970, China date
  const dateDay = (iso) => Math.floor(Date.parse(iso + "T00:00:00Z") / DAY);

  // Verifies a signed bundle under an anchor key; the payload only if the signature holds.
  async function openSigned(signed, anchors) {
    const anchor = anchors.find((k) => k.kid === signed.key_id);
    if (!anchor) return null;
    const key = await crypto.subtle.importKey("raw", b64url(anchor.public_key), { name: "Ed25519" }, false, ["verify"]);
    const ok = await crypto.subtle.verify("Ed25519", key, b64url(signed.signature), new TextEncoder().encode(signed.payload));
    return ok ? JSON.parse(signed.payload) : null;
  }

  // The device's trust data: a full bundle, then deltas merged in (what changed since the version
  // held; "clear" removes an entry). Kept in localStorage as {version, issued_at, keys, permits}.
  function merge(held, next) {
    // A full bundle replaces what is held unless it is older; a delta must not leave a gap.
    if (next.since == null && held && Date.parse(next.issued_at) < Date.parse(held.issued_at)) return held;
    if (next.since != null && held && next.version < held.version) return held;
    if (next.since != null && (!held || next.since > held.version)) return null; // a gap: fetch in full
    const permits = next.since == null || !held ? {} : { ...held.permits };
    for (const p of next.permits) { if (p.standing === "clear") delete permits[p.number]; else permits[p.number] = p; }
    // Entries past their permit's last day can no longer matter: forget them.
    const today = chinaDay(Date.now());
    for (const n of Object.keys(permits)) { if (dateDay(permits[n].until) < today) delete permits[n]; }
    return { version: next.version, issued_at: next.issued_at, keys: next.keys, permits, booking_lanes: next.booking_lanes || [] };
  }

  // The device's own admitted crossing, held until the permit's last day (`untilDay`, days
  // since 1970) like the hall's entries.
  function note(number, direction, entries, untilDay) {
    const trust = store.get("bd-trust");
    if (!trust) return;
    const until = new Date(untilDay * DAY).toISOString().slice(0, 10);
    if (direction === "exit") trust.permits[number] = { number, standing: "out", until };
    else if (entries === 1) trust.permits[number] = { number, standing: "used", until };
    else delete trust.permits[number];
    store.set("bd-trust", trust);
  }

  async function decideOffline(code, direction, lane) {
    const d = await decideCode(code, direction);
    // A freight lane admits a vehicle only with a booking called to it, which a device cannot
    // know offline: it says so instead of admitting on the pass alone.
    const bundle = store.get("bd-trust");
    if (bundle && (bundle.booking_lanes || []).includes(lane)) return { ...d, reason: "unverifiable_offline", note: BOOKING_OFFLINE + (d.age ? " · " + d.age : "") };
    return d;
  }

  async function decideCode(code, direction) {
    const bundle = store.get("bd-trust");
    if (!bundle) return { reason: "unknown_key", note: "无可用信任数据 / no trust bundle on this device" };
    const issued = Date.parse(bundle.issued_at);
    const now = Math.max(Date.now(), issued); // never a clock earlier than the bundle
    const ageMin = Math.round((now - issued) / 60000);
    const age = `信任数据 bundle v${bundle.version} ${Math.floor(ageMin / 60)}h${String(ageMin % 60).padStart(2, "0")}m` + (now - issued > STALE_MS ? " — 已过期，请联网更新 STALE" : "");
    const res = (reason, body) => ({ reason, body, age });
    let bytes, body;
    try {
      if (NUMBER.test(code)) return res("unverifiable_offline");
      if (!code.startsWith("BD1:")) return res("malformed");
      bytes = base45(code.slice(4));
      if (bytes.length <= 64) return res("malformed");
      body = parseBody(bytes.slice(0, bytes.length - 64));
    } catch (_) { return res("malformed"); }
    const k = bundle.keys.find((x) => x.kid === body.kid);
    if (!k) return res("unknown_key", body);
    const key = await crypto.subtle.importKey("raw", b64url(k.public_key), { name: "Ed25519" }, false, ["verify"]);
    if (!(await crypto.subtle.verify("Ed25519", key, bytes.slice(bytes.length - 64), bytes.slice(0, bytes.length - 64)))) return res("bad_signature", body);
    // The key must be allowed the kind, and no permit may outlive its key.
    if (!k.kinds.includes(KINDS[body.kind]) || body.until > chinaDay(Date.parse(k.not_after))) return res("key_not_allowed", body);
    const listed = bundle.permits[body.number];
    const standing = listed ? listed.standing : null;
    const today = chinaDay(now);
    if (standing === "revoked") return res("revoked", body);
    // A return on a pass that expired abroad is admitted with a warning, as the hall does; the
    // exit need not be known here (it may have left the bundle).
    if (today > body.until && direction === "entry") return standing === "used" ? res("used", body) : { ...res("ok", body), warning: "overstay" };
    if (today > body.until) return res("expired", body);
    if (standing === "used" || standing === "suspended") return res(standing, body);
    if (standing === "pending") return res(!listed.due || today > dateDay(listed.due) ? "suspended" : "pending", body);
    if (today < body.from) return res("not_yet_valid", body);
    // A second exit is refused; an entry is not refused for want of a recorded exit (it may
    // have been at another lane after this bundle).
    if (direction === "exit" && standing === "out") return res("wrong_direction", body);
    return res("ok", body);
  }

  // One verdict card, the same for online and offline answers: {kind: admit|reject|unverified,
  // title, message, warning, offline, code, holder, photo, until, trips, number, vehicle, note}.
  const box = document.getElementById("verdict");
  const codeField = form.querySelector("input[name=code]");
  const errorLine = document.getElementById("scan-error");
  const CLEAR_S = Number(form.dataset.clearSeconds || 0);
  const AGE_S = CLEAR_S > 0 ? CLEAR_S / 2 : 20; // greyed from here on
  let shownAt = null, ageTimer = null;
  const el = (tag, cls, text) => { const e = document.createElement(tag); if (cls) e.className = cls; if (text != null) e.textContent = text; return e; };
  const pad = (n) => String(n).padStart(2, "0");
  const tail = (code) => (code.length > 6 ? "…" : "") + code.slice(-6);

  function render(v) {
    const card = el("div", "card");
    if (v.offline) card.id = "offline-result";
    const banner = el("p", "verdict " + v.kind, v.title);
    banner.appendChild(el("small", null, v.message + (v.offline ? " · 离线 OFFLINE" : "")));
    card.appendChild(banner);
    if (v.warning === "overstay") card.appendChild(el("p", "warning", "逾期滞留，须登记 Overstay: record it"));
    const at = new Date();
    const stamp = el("p", "stamp");
    const c = el("span", null, "条码 Code "); c.appendChild(el("span", "mono", tail(v.code))); stamp.appendChild(c);
    const t = el("span", null, "时间 Time "); t.appendChild(el("time", null, `${pad(at.getHours())}:${pad(at.getMinutes())}:${pad(at.getSeconds())}`)); stamp.appendChild(t);
    // The age changes every second: hidden from screen readers so the live region does not
    // announce the verdict again with each tick.
    const ago = el("span", "ago", "0 秒前 s ago");
    ago.setAttribute("aria-hidden", "true");
    stamp.appendChild(ago);
    card.appendChild(stamp);
    if (v.holder) {
      const holder = el("div", "holder");
      if (v.photo) {
        const img = el("img", "portrait"); img.src = v.photo; img.alt = "持证人照片 Holder's photo"; img.width = 132; img.height = 192;
        holder.appendChild(img);
      } else {
        const none = el("p", "portrait none", "无照片"); none.appendChild(document.createElement("br")); none.appendChild(document.createTextNode("No photo"));
        holder.appendChild(none);
      }
      const facts = el("div", "facts");
      const who = el("p", "who"); who.appendChild(el("strong", null, v.holder)); facts.appendChild(who);
      if (v.until) {
        const valid = el("p", "valid", "有效至 Valid until "); valid.appendChild(el("strong", null, v.until));
        if (v.trips) valid.appendChild(document.createTextNode(" · 次数 Trips " + v.trips));
        facts.appendChild(valid);
      }
      if (v.number) facts.appendChild(el("p", "mono", v.number));
      if (v.vehicle) { const veh = el("p", "vehicle", "车辆 Vehicle "); veh.appendChild(el("strong", "mono", v.vehicle)); facts.appendChild(veh); }
      holder.appendChild(facts);
      card.appendChild(holder);
    }
    if (v.note) card.appendChild(el("p", "en", v.note));
    box.replaceChildren(card);
    startAging();
  }

  // "n s ago", greyed past AGE_S, cleared at CLEAR_S (never when 0).
  function startAging() {
    shownAt = Date.now();
    clearInterval(ageTimer);
    const tick = () => {
      const card = box.querySelector(".card");
      if (!card) { clearInterval(ageTimer); return; }
      const s = Math.floor((Date.now() - shownAt) / 1000);
      if (CLEAR_S > 0 && s >= CLEAR_S) {
        clearInterval(ageTimer);
        const idle = el("p", "idle", "等待扫描 ");
        idle.appendChild(el("span", "en", "Waiting for a scan"));
        box.replaceChildren(idle);
        return;
      }
      const ago = card.querySelector(".ago");
      if (ago) ago.textContent = `${s} 秒前 s ago`;
      card.classList.toggle("aged", s >= AGE_S);
    };
    tick();
    ageTimer = setInterval(tick, 1000);
  }

  // Ready for the next scan, whatever happened to this one.
  function ready() {
    codeField.value = "";
    codeField.focus();
  }

  function showError(text) {
    errorLine.textContent = text;
    errorLine.hidden = !text;
  }

  function fromHall(out, code) {
    const p = out.permit, h = out.holder;
    return {
      kind: out.verdict === "admit" ? "admit" : "reject",
      title: out.verdict === "admit" ? "放行 ADMIT" : "拒绝 REJECT",
      message: out.message, warning: out.warning, offline: false, code,
      holder: h ? `${h.name_zh ? h.name_zh + " " : ""}${h.name_latin} · ${h.nationality}` : null,
      photo: h && h.photo,
      until: p ? String(p.valid_until).slice(0, 10) : null,
      trips: p ? `${p.entries_used}/${p.entries_allowed === 0 ? "∞" : p.entries_allowed}` : null,
      number: p && p.number,
      vehicle: out.vehicle ? out.vehicle.plates.join(" ") : null,
    };
  }

  function fromDevice(d, code) {
    const admit = d.reason === "ok", unverified = d.reason === "unverifiable_offline";
    return {
      kind: admit ? "admit" : unverified ? "unverified" : "reject",
      title: admit ? "放行 ADMIT" : unverified ? "无法核验 CANNOT VERIFY" : "拒绝 REJECT",
      message: d.warning === "overstay" ? OVERSTAY : d.note && d.note.startsWith(BOOKING_OFFLINE) ? BOOKING_OFFLINE : MESSAGES[d.reason] || d.reason,
      warning: d.warning, offline: true, code,
      holder: d.body ? `${d.body.holder} · ${d.body.nationality}` : null,
      photo: null,
      until: d.body ? new Date(d.body.until * DAY).toISOString().slice(0, 10) : null,
      trips: d.body ? (d.body.entries === 0 ? "∞" : String(d.body.entries)) : null,
      number: d.body && d.body.number,
      note: d.age || d.note || "",
    };
  }

  function addRecent(out, direction) {
    const table = document.getElementById("recent");
    if (!table) return;
    const at = new Date(out.scanned_at);
    const row = document.createElement("tr");
    const cells = [`${pad(at.getHours())}:${pad(at.getMinutes())}:${pad(at.getSeconds())}`, out.permit ? out.permit.number : "—", direction === "exit" ? "出境" : "入境", `${out.verdict === "admit" ? "放行" : "拒绝"} · ${out.message_zh || out.message}`];
    cells.forEach((text, i) => row.appendChild(el("td", i === 1 ? "mono" : i === 3 ? (out.verdict === "admit" ? "status-issued" : "status-revoked") : null, text)));
    table.tBodies[0].prepend(row);
    while (table.tBodies[0].rows.length > 10) table.tBodies[0].lastElementChild.remove();
    table.hidden = false;
    const none = document.getElementById("recent-none");
    if (none) none.remove();
  }

  async function uploadQueue() {
    const queue = store.get("bd-queue") || [];
    if (!queue.length) return;
    const res = await fetch("/checkpoint/upload", { method: "POST", headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf }, body: JSON.stringify({ crossings: queue }) });
    if (!res.ok) return;
    store.set("bd-queue", []);
    // The hall re-dated crossings this device dated ahead of the hall's clock: say so, once.
    const out = await res.json().catch(() => ({}));
    if (out.redated > 0) showError(`本机时钟快于大厅时间：${out.redated} 条离线记录已按大厅时间登记，请校准时钟 / this device's clock is ahead of the hall's: ${out.redated} offline crossings were recorded at the hall's time — set the clock`);
  }

  async function refresh() {
    const keys = await fetch("/api/v1/keys");
    if (!keys.ok) return;
    const anchors = await keys.json();
    store.set("bd-anchors", anchors);
    const held = store.get("bd-trust");
    for (const since of held ? [held.version, null] : [null]) {
      const trust = await fetch("/api/v1/checkpoint/trust" + (since == null ? "" : "?since=" + since));
      if (!trust.ok) return;
      const next = await openSigned(await trust.json(), anchors);
      if (!next) return;
      const merged = merge(held, next);
      if (merged) { store.set("bd-trust", merged); return; }
    }
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const code = String(data.get("code") || "").trim(), lane = String(data.get("lane")), direction = String(data.get("direction"));
    let res = null;
    try {
      res = await fetch("/checkpoint", { method: "POST", headers: { Accept: "application/json" }, body: new URLSearchParams(data) });
    } catch (_) { res = null; }
    try {
      const json = res && (res.headers.get("Content-Type") || "").includes("json");
      if (res && (res.redirected || (res.ok && !json))) {
        showError("登录已失效，请重新登录 / session ended: log in again");
      } else if (res && res.ok) {
        const out = await res.json();
        showError("");
        render(fromHall(out, code));
        addRecent(out, direction);
      } else if (res && res.status < 500) {
        // The hall answered but refused the request itself (a field, or the session).
        let text = `请求被拒绝 (${res.status}) / refused`;
        if (res.status === 403) text = "登录已失效或无权查验，请重新登录 / session ended or not a checkpoint account: log in again";
        else try { const p = await res.json(); text = (p.errors || []).map((e) => e.message).join("；") || p.title || text; } catch (_) {}
        showError(text);
      } else {
        const decision = await decideOffline(code, direction, lane);
        if (decision.reason === "ok") note(decision.body.number, direction, decision.body.entries, decision.body.until);
        showError("");
        render(fromDevice(decision, code));
        const queue = store.get("bd-queue") || [];
        queue.push({ client_id: crypto.randomUUID(), code, lane, direction, at: new Date().toISOString(), verdict: decision.reason === "ok" ? "admit" : "reject", reason: decision.reason, warning: decision.warning || null });
        store.set("bd-queue", queue);
      }
    } finally {
      ready();
    }
  });

  // Camera scanning: the browser's BarcodeDetector where it reads QR codes, else jsQR (loaded
  // from the app on first use). A decoded code is submitted exactly as a typed scan.
  const camOpen = document.getElementById("camera-open"), camView = document.getElementById("camera-view");
  const video = document.getElementById("camera-video"), camStatus = document.getElementById("camera-status");
  let stream = null, decoder = null;

  async function getDecoder() {
    if (decoder) return decoder;
    if ("BarcodeDetector" in window) {
      try {
        const formats = await window.BarcodeDetector.getSupportedFormats();
        if (formats.includes("qr_code")) {
          const d = new window.BarcodeDetector({ formats: formats.filter((f) => f === "qr_code" || f === "code_128") });
          decoder = { name: "BarcodeDetector", read: async (v) => { const found = await d.detect(v); return found.length ? found[0].rawValue : null; } };
          return decoder;
        }
      } catch (_) { /* fall back to jsQR */ }
    }
    if (!window.jsQR) {
      await new Promise((resolve, reject) => {
        const s = document.createElement("script");
        s.src = "/static/jsqr-1.4.0.js";
        s.onload = resolve; s.onerror = () => reject(new Error("decoder not loaded"));
        document.head.appendChild(s);
      });
    }
    const canvas = document.createElement("canvas"), ctx = canvas.getContext("2d", { willReadFrequently: true });
    decoder = {
      name: "jsQR",
      read: async (v) => {
        if (!v.videoWidth) return null;
        canvas.width = v.videoWidth; canvas.height = v.videoHeight;
        ctx.drawImage(v, 0, 0);
        const img = ctx.getImageData(0, 0, canvas.width, canvas.height);
        const found = window.jsQR(img.data, img.width, img.height, { inversionAttempts: "dontInvert" });
        return found ? found.data : null;
      },
    };
    return decoder;
  }

  function closeCamera() {
    if (stream) stream.getTracks().forEach((t) => t.stop());
    stream = null;
    video.srcObject = null;
    camView.hidden = true;
    camOpen.hidden = false;
  }

  async function openCamera() {
    camStatus.textContent = "";
    try {
      const d = await getDecoder();
      stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false });
      video.srcObject = stream;
      camView.hidden = false;
      camOpen.hidden = true;
      await video.play();
      camStatus.textContent = "对准二维码 Point the camera at the QR code";
      form.dataset.decoder = d.name;
      const look = async () => {
        if (!stream) return;
        let text = null;
        try { text = await d.read(video); } catch (_) { text = null; }
        if (text) {
          closeCamera();
          codeField.value = text.trim();
          form.requestSubmit();
          return;
        }
        setTimeout(look, 120);
      };
      look();
    } catch (e) {
      closeCamera();
      showError("无法使用摄像头，请用扫描枪或手动输入 / camera unavailable: use the scanner or type the code" + (e && e.name ? ` (${e.name})` : ""));
      ready();
    }
  }

  if (navigator.mediaDevices && navigator.mediaDevices.getUserMedia) {
    camOpen.hidden = false;
    camOpen.addEventListener("click", openCamera);
    document.getElementById("camera-close").addEventListener("click", () => { closeCamera(); ready(); });
  }

  // A verdict the server rendered (a form posted without this script) ages like any other.
  if (box.querySelector(".card")) startAging();

  uploadQueue().catch(() => {});
  refresh().catch(() => {});
})();
