// The photo page: the crop box follows a finger or the mouse; letting go asks the server for the
// quality lines of the new box (the same GET the nudge buttons make), so what is saved is what
// was checked. Without this script the nudge buttons do the same in steps.
"use strict";
(function () {
  const box = document.getElementById("crop-box");
  const frame = document.getElementById("frame");
  const form = document.getElementById("nudge-form");
  if (!box || !frame || !form) return;
  const W = Number(box.dataset.width), H = Number(box.dataset.height);
  const h = Number(box.dataset.boxHeight), w = Math.round(h * 33 / 48);
  let x = Number(box.dataset.x), y = Number(box.dataset.y);
  let start = null;
  const place = () => {
    box.style.left = (x * 100 / W) + "%";
    box.style.top = (y * 100 / H) + "%";
  };
  box.addEventListener("pointerdown", (e) => {
    start = { px: e.clientX, py: e.clientY, x, y, scale: W / frame.getBoundingClientRect().width };
    box.setPointerCapture(e.pointerId);
    e.preventDefault();
  });
  box.addEventListener("pointermove", (e) => {
    if (!start) return;
    x = Math.round(Math.min(Math.max(start.x + (e.clientX - start.px) * start.scale, 0), W - w));
    y = Math.round(Math.min(Math.max(start.y + (e.clientY - start.py) * start.scale, 0), H - h));
    place();
  });
  const drop = () => {
    if (!start) return;
    const moved = x !== start.x || y !== start.y;
    start = null;
    if (!moved) return;
    form.elements.x.value = String(x);
    form.elements.y.value = String(y);
    form.submit();
  };
  box.addEventListener("pointerup", drop);
  box.addEventListener("pointercancel", drop);
})();
