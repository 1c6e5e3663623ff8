// The public board keeps itself current without reloading the page (a reload would lose the
// reader's place and, for assistive technology, announce the whole page again): every 15 s it
// reads the board's JSON and updates the figures in place.
(() => {
  "use strict";
  const port = document.body.dataset.port;
  const every = Number(document.body.dataset.refresh || "15") * 1000;
  const set = (row, cls, text) => { const el = row.querySelector("." + cls); if (el && el.textContent !== text) el.textContent = text; };
  async function refresh() {
    try {
      const res = await fetch(`/api/v1/board/${encodeURIComponent(port)}`, { cache: "no-store" });
      if (!res.ok) return;
      const board = await res.json();
      document.getElementById("at").textContent = board.at.slice(11, 16);
      for (const l of board.lines) {
        const row = document.getElementById(`line-${l.direction}-${l.lane_type}`);
        if (!row) continue;
        set(row, "waiting", String(l.waiting));
        set(row, "wait-minutes", String(l.expected_wait_minutes));
        set(row, "plates", l.last_called.join(" · "));
      }
    } catch (_) { /* offline for a moment: the figures stay until the next try */ }
  }
  setInterval(refresh, every);
})();
