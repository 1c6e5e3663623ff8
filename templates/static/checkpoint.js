// Scan page: online, each scan goes to the hall; when the hall cannot be reached, the permit's
// signed code is verified here from the last trust bundle (Ed25519 in WebCrypto), the decision
// is queued, and the queue is uploaded once the hall answers again.
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
  };

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
    return { version: next.version, issued_at: next.issued_at, keys: next.keys, permits };
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

  async function decideOffline(code, direction) {
    const bundle = store.get("bd-trust");
    if (!bundle) return { reason: "unknown_key", note: "无可用信任数据 / no trust bundle on this device" };
    const issued = Date.parse(bundle.issued_at);
    const now = Math.max(Date.now(), issued); // never a clock earlier than the bundle
    const ageMin = Math.round((now - issued) / 60000);
    const age = `信任数据 bundle v${bundle.version} ${Math.floor(ageMin / 60)}h${String(ageMin % 60).padStart(2, "0")}m` + (now - issued > STALE_MS ? " — 已过期，请联网更新 STALE" : "");
    const res = (reason, body) => ({ reason, body, age });
    let bytes, body;
    try {
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
    if (today > body.until) return res("expired", body);
    if (standing === "used" || standing === "suspended") return res(standing, body);
    if (standing === "pending") return res(!listed.due || today > dateDay(listed.due) ? "suspended" : "pending", body);
    if (today < body.from) return res("not_yet_valid", body);
    // A second exit is refused; an entry is not refused for want of a recorded exit (it may
    // have been at another lane after this bundle).
    if (direction === "exit" && standing === "out") return res("wrong_direction", body);
    return res("ok", body);
  }

  function show(decision, lane, direction) {
    const admit = decision.reason === "ok";
    const panel = document.createElement("section");
    panel.id = "offline-result";
    const v = document.createElement("p");
    v.className = "verdict " + (admit ? "admit" : "reject");
    v.textContent = admit ? "放行 ADMIT" : "拒绝 REJECT";
    const small = document.createElement("small");
    small.textContent = `${MESSAGES[decision.reason] || decision.reason} · 离线 OFFLINE`;
    v.appendChild(small);
    panel.appendChild(v);
    for (const line of [decision.body ? `${decision.body.holder} · ${decision.body.nationality} · ${decision.body.number}` : "", decision.age || decision.note || ""]) {
      const p = document.createElement("p");
      p.className = "who";
      p.textContent = line;
      panel.appendChild(p);
    }
    // One verdict on screen: drop the previous one, online or offline.
    document.querySelectorAll("section").forEach((s) => { if (s.querySelector(".verdict")) s.remove(); });
    form.closest("section").after(panel);
  }

  async function uploadQueue() {
    const queue = store.get("bd-queue") || [];
    if (!queue.length) return;
    const res = await fetch("/checkpoint/upload", { method: "POST", headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf }, body: JSON.stringify({ crossings: queue }) });
    if (res.ok) store.set("bd-queue", []);
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
    try {
      const res = await fetch("/checkpoint", { method: "POST", body: new URLSearchParams(data) });
      if (res.status >= 500) throw new Error("hall unavailable");
      const html = await res.text();
      document.open(); document.write(html); document.close();
    } catch (_) {
      const code = String(data.get("code") || "").trim(), lane = String(data.get("lane")), direction = String(data.get("direction"));
      const decision = await decideOffline(code, direction);
      if (decision.reason === "ok") note(decision.body.number, direction, decision.body.entries, decision.body.until);
      show(decision, lane, direction);
      const queue = store.get("bd-queue") || [];
      queue.push({ client_id: crypto.randomUUID(), code, lane, direction, at: new Date().toISOString(), verdict: decision.reason === "ok" ? "admit" : "reject", reason: decision.reason });
      store.set("bd-queue", queue);
      form.querySelector("input[name=code]").value = "";
      form.querySelector("input[name=code]").focus();
    }
  });

  uploadQueue().catch(() => {});
  refresh().catch(() => {});
})();
