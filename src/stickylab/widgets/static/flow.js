// The request-flow view (stickylab.widgets.flow.FlowView): a run played back on a canvas.
// Python sends the run as typed arrays (flow_data.FlowFrames.wire); this module only draws.

const W = 900, H = 430, AXIS = 40;            // canvas size in CSS pixels; the time strip below
const CLIENTS = { x: 16, y: 34, w: 190, h: H - AXIS - 50 };
const LB = { x: 360, y: (H - AXIS) / 2 - 40, w: 110, h: 80 };
const BOXES = { x: 640, w: 245, top: 30, bottom: H - AXIS - 12 };
const BIN = { x: LB.x + LB.w / 2, y: H - AXIS - 22 };
// A dot flies 0.8 s of playback and glows 0.6 s on arrival, at most 2.5 s and 4 s of the run (fast play).
const flight = (speed) => Math.min(0.8 * speed, 2.5), glow = (speed) => Math.min(0.6 * speed, 4);
const COLOR = { found: "#2e7d32", lost: "#d32f2f", login: "#1f77b4", failed: "#333", idle: "#d0d0d0" };
const STATE_FILL = { "healthy": "#ffffff", "draining": "#fff3e0", "failed": "#eeeeee",
  "removed": "#f5f5f5", "not yet": "#fafafa" };

function bytes(v) {
  if (v instanceof DataView || ArrayBuffer.isView(v)) {
    return v.buffer.slice(v.byteOffset, v.byteOffset + v.byteLength);
  }
  if (v instanceof ArrayBuffer) return v.slice(0);
  return new ArrayBuffer(0);
}

function decode(run) {
  const d = run.dots, s = run.series;
  const n = run.ids.length, f = run.frames + 1;
  const grid = (buf, Type) => { const a = new Type(bytes(buf)); return (k) => a.subarray(k * f, (k + 1) * f); };
  return {
    run, n, f,
    t: new Float32Array(bytes(d.t)), u: new Uint16Array(bytes(d.u)),
    inst: new Int16Array(bytes(d.i)), flags: new Uint8Array(bytes(d.f)),
    state: grid(s.state, Uint8Array), inFlight: grid(s.in_flight, Int32Array), recent: grid(s.recent, Int32Array),
    requests: new Int32Array(bytes(s.requests)), lost: new Int32Array(bytes(s.lost)),
    failed: new Int32Array(bytes(s.failed)),
  };
}

function lowerBound(a, x) {
  let lo = 0, hi = a.length;
  while (lo < hi) { const m = (lo + hi) >> 1; if (a[m] < x) lo = m + 1; else hi = m; }
  return lo;
}

function outcomeColor(flags, F) {
  if (flags & F.failed) return COLOR.failed;
  if (flags & F.lost) return COLOR.lost;
  return (flags & F.needed) ? COLOR.found : COLOR.login;
}

function clientPlaces(count) {
  let cell = Math.sqrt((CLIENTS.w * CLIENTS.h) / Math.max(count, 1)), cols = 1;
  for (; cell > 1; cell *= 0.95) {              // the largest cell whose grid fits the area
    cols = Math.max(1, Math.floor(CLIENTS.w / cell));
    if (Math.ceil(count / cols) * cell <= CLIENTS.h) break;
  }
  const places = [];
  for (let k = 0; k < count; k++) {
    places.push([CLIENTS.x + (k % cols + 0.5) * cell, CLIENTS.y + (Math.floor(k / cols) + 0.5) * cell]);
  }
  return { places, size: Math.max(1.5, Math.min(6, cell * 0.7)) };
}

function boxOf(k, n) {
  const gap = 8, h = Math.min(90, (BOXES.bottom - BOXES.top - gap * (n - 1)) / n);
  return { x: BOXES.x, y: BOXES.top + k * (h + gap), w: BOXES.w, h };
}

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function controls(root, model) {
  const bar = el("div", "sl-flow-bar");
  const play = el("button", "sl-flow-play", "▶ Play");
  const scrub = el("input", "sl-flow-scrub");
  Object.assign(scrub, { type: "range", min: "0", max: "1000", step: "1", value: "0" });
  scrub.setAttribute("aria-label", "time in the run");
  const clock = el("span", "sl-flow-clock", "t = 0.0 s");
  const speed = el("select", "sl-flow-speed");
  for (const v of model.get("speeds")) speed.append(new Option(`${v}× speed`, String(v)));
  speed.value = String(model.get("speed"));
  const pick = el("select", "sl-flow-run");
  for (const name of model.get("names")) pick.append(new Option(name, name));
  pick.value = model.get("choice");
  pick.style.display = model.get("names").length > 1 ? "" : "none";
  bar.append(play, scrub, clock, speed, pick);
  root.append(bar);
  return { play, scrub, clock, speed, pick };
}

function legend(root) {
  const row = el("div", "sl-flow-legend");
  for (const [name, color] of [["session found", COLOR.found], ["session lost: logged out", COLOR.lost],
    ["login (new visit)", COLOR.login], ["failed", COLOR.failed]]) {
    const item = el("span", "sl-flow-key");
    const sw = el("i");
    sw.style.background = color;
    item.append(sw, document.createTextNode(name));
    row.append(item);
  }
  const counts = el("span", "sl-flow-counts");
  row.append(counts);
  root.append(row);
  return counts;
}

function drawBalancer(ctx, D) {
  ctx.fillStyle = "#fafafa"; ctx.strokeStyle = "#555"; ctx.lineWidth = 1.5;
  ctx.beginPath(); ctx.roundRect(LB.x, LB.y, LB.w, LB.h, 8); ctx.fill(); ctx.stroke();
  ctx.fillStyle = "#222"; ctx.font = "bold 12px sans-serif"; ctx.textAlign = "center";
  ctx.fillText("balancer", LB.x + LB.w / 2, LB.y + 34);
  ctx.font = "11px sans-serif";
  ctx.fillText(D.run.router, LB.x + LB.w / 2, LB.y + 52);
  ctx.fillText("clients", CLIENTS.x + CLIENTS.w / 2, 18);
  ctx.fillText(`${D.run.users_shown} of ${D.run.users_total} users shown`, CLIENTS.x + CLIENTS.w / 2,
    CLIENTS.y + CLIENTS.h + 14);
}

function drawBoxes(ctx, D, frame, maxFlight) {
  const states = D.run.states, span = D.run.recent_span;
  for (let k = 0; k < D.n; k++) {
    const b = boxOf(k, D.n), state = states[D.state(k)[frame]];
    const flying = D.inFlight(k)[frame], recent = D.recent(k)[frame];
    ctx.fillStyle = STATE_FILL[state] || "#fff";
    ctx.strokeStyle = state === "healthy" || state === "draining" ? D.run.colors[k] : "#aaa";
    ctx.lineWidth = 2;
    ctx.setLineDash(state === "draining" ? [6, 4] : []);
    ctx.beginPath(); ctx.roundRect(b.x, b.y, b.w, b.h, 6); ctx.fill(); ctx.stroke();
    ctx.setLineDash([]);
    const bar = maxFlight > 0 ? Math.log1p(flying) / Math.log1p(maxFlight) : 0;
    ctx.fillStyle = flying > 40 ? "#e57373" : "#90caf9";
    ctx.fillRect(b.x + 8, b.y + b.h - 12, (b.w - 16) * bar, 6);
    ctx.fillStyle = "#222"; ctx.textAlign = "left"; ctx.font = "bold 12px sans-serif";
    ctx.fillText(`${D.run.ids[k]} · ${state}`, b.x + 8, b.y + 15);
    ctx.font = "11px sans-serif";
    if (b.h > 40) ctx.fillText(`in flight ${flying.toLocaleString()} · users ${recent} (last ${span} s)`, b.x + 8, b.y + 30);
    if (state === "failed") { ctx.fillStyle = "#b71c1c"; ctx.font = "bold 18px sans-serif"; ctx.fillText("✗", b.x + b.w - 22, b.y + 20); }
  }
}

function drawBin(ctx, D, frame) {
  ctx.fillStyle = "#333"; ctx.textAlign = "center"; ctx.font = "11px sans-serif";
  ctx.fillText(`✗ failed: ${D.failed[frame].toLocaleString()}`, BIN.x, BIN.y + 14);
}

function lerp(a, b, p) { return [a[0] + (b[0] - a[0]) * p, a[1] + (b[1] - a[1]) * p]; }

function drawDots(ctx, D, now, flight, glow, places, size) {
  const F = D.run.flags, lb = [LB.x + LB.w / 2, LB.y + LB.h / 2];
  const first = lowerBound(D.t, now - D.run.start - 2 * glow), last = lowerBound(D.t, now - D.run.start + flight);
  let drawn = 0;
  for (let j = first; j < last; j++) {
    const at = D.t[j] + D.run.start, k = D.inst[j], flags = D.flags[j];
    const target = k >= 0 ? (() => { const b = boxOf(k, D.n); return [b.x + 14 + (j * 37 % (b.w - 28)), b.y + b.h * 0.62]; })()
      : [BIN.x, BIN.y];
    const from = places[D.u[j]];
    let xy, r = 2.6, color = "#9e9e9e", alpha = 1;
    if (now < at) {
      const p = 1 - (at - now) / flight;
      xy = p < 0.5 ? lerp(from, lb, p * 2) : lerp(lb, target, (p - 0.5) * 2);
    } else {
      const lost = (flags & F.lost) !== 0;
      if (now - at > (lost ? 2 : 1) * glow) continue;
      xy = target; r = lost ? 5.5 : 3.5; color = outcomeColor(flags, F);
      alpha = 1 - (now - at) / ((lost ? 2 : 1) * glow);
    }
    ctx.globalAlpha = Math.max(0.05, alpha);
    ctx.fillStyle = color;
    ctx.beginPath(); ctx.arc(xy[0], xy[1], r, 0, 2 * Math.PI); ctx.fill();
    if (r > 5) { ctx.strokeStyle = "#000"; ctx.lineWidth = 1; ctx.stroke(); }
    drawn++;
  }
  ctx.globalAlpha = 1;
  return drawn;
}

function drawClients(ctx, D, pinned, lastLost, now, places, size) {
  for (let s = 0; s < places.length; s++) {
    const k = pinned[s];
    ctx.fillStyle = k >= 0 ? D.run.colors[k] : COLOR.idle;
    ctx.fillRect(places[s][0] - size / 2, places[s][1] - size / 2, size, size);
    if (now - lastLost[s] < 20) {
      ctx.strokeStyle = COLOR.lost; ctx.lineWidth = 1.5;
      ctx.strokeRect(places[s][0] - size / 2 - 1.5, places[s][1] - size / 2 - 1.5, size + 3, size + 3);
    }
  }
}

function drawAxis(ctx, D, now) {
  const x0 = 30, x1 = W - 20, y = H - AXIS + 8, r = D.run, span = r.end - r.start;
  const X = (t) => x0 + (x1 - x0) * (t - r.start) / span;
  ctx.strokeStyle = "#999"; ctx.lineWidth = 1;
  ctx.beginPath(); ctx.moveTo(x0, y + 14); ctx.lineTo(x1, y + 14); ctx.stroke();
  const lost = D.lost, most = Math.max(1, ...lost.slice(1).map((v, i) => v - lost[i]));
  ctx.fillStyle = COLOR.lost;
  for (let i = 1; i < D.f; i++) {
    const h = 12 * (lost[i] - lost[i - 1]) / most;
    ctx.fillRect(X(r.start + span * (i - 1) / (D.f - 1)), y + 14 - h, Math.max(1, (x1 - x0) / (D.f - 1)), h);
  }
  ctx.fillStyle = "#555"; ctx.font = "10px sans-serif"; ctx.textAlign = "left";
  for (const e of r.events) {
    ctx.fillRect(X(e.at) - 0.5, y, 1.5, 18);
    ctx.fillText(`${e.at} s: ${e.text}`, X(e.at) + 3, y + 28);
  }
  ctx.fillText(`${r.start} s`, x0, y + 28);
  ctx.textAlign = "right"; ctx.fillText(`${r.end} s`, x1, y + 28);
  ctx.fillStyle = "#000"; ctx.fillRect(X(now) - 1, y, 2, 20);
}

function render({ model, el: host }) {
  const root = el("div", "stickylab-flow");
  const ui = controls(root, model);
  const canvas = el("canvas", "sl-flow-canvas");
  const ratio = window.devicePixelRatio || 1;
  canvas.width = W * ratio; canvas.height = H * ratio;
  canvas.style.width = `${W}px`; canvas.style.height = `${H}px`;
  root.append(canvas);
  const counts = legend(root);
  host.append(root);
  const ctx = canvas.getContext("2d");
  ctx.scale(ratio, ratio);

  let D, now, playing = false, last = null, raf = null, places, size, pinned, lastLost, scanned, maxFlight;
  function load() {
    D = decode(model.get("run"));
    ({ places, size } = clientPlaces(D.run.users_shown));
    maxFlight = 1;
    for (let k = 0; k < D.n; k++) maxFlight = Math.max(maxFlight, ...D.inFlight(k));
    now = Math.min(Math.max(model.get("time"), D.run.start), D.run.end);
    resetPins();
  }
  function resetPins() {
    pinned = new Int16Array(D.run.users_shown).fill(-1);
    lastLost = new Float64Array(D.run.users_shown).fill(-Infinity);
    scanned = 0;
  }
  function pinUpTo(t) {          // each shown user's instance: where their last request landed
    if (scanned > 0 && D.t[scanned - 1] + D.run.start > t) resetPins();
    const F = D.run.flags;
    while (scanned < D.t.length && D.t[scanned] + D.run.start <= t) {
      const s = D.u[scanned];
      if (D.inst[scanned] >= 0) pinned[s] = D.inst[scanned];
      if (D.flags[scanned] & F.lost) lastLost[s] = D.t[scanned] + D.run.start;
      scanned++;
    }
  }
  function draw() {
    const r = D.run, speed = model.get("speed");
    const frame = Math.min(D.f - 1, Math.max(0, Math.round((now - r.start) / (r.end - r.start) * (D.f - 1))));
    pinUpTo(now);
    ctx.clearRect(0, 0, W, H);
    drawBoxes(ctx, D, frame, maxFlight);
    drawBin(ctx, D, frame);
    drawClients(ctx, D, pinned, lastLost, now, places, size);
    const dots = drawDots(ctx, D, now, flight(speed), glow(speed), places, size);
    drawBalancer(ctx, D);
    drawAxis(ctx, D, now);
    ui.clock.textContent = `t = ${now.toFixed(1)} s`;
    ui.scrub.value = String(Math.round(1000 * (now - r.start) / (r.end - r.start)));
    counts.textContent = `requests ${D.requests[frame].toLocaleString()} · lost session ${D.lost[frame].toLocaleString()} · failed ${D.failed[frame].toLocaleString()}`;
    Object.assign(root.dataset, { time: now.toFixed(2), dots: String(dots), requests: String(D.requests[frame]),
      lost: String(D.lost[frame]), failed: String(D.failed[frame]), playing: String(playing) });
  }
  function tell() { model.set("time", now); model.save_changes(); }
  function tick(stamp) {
    if (!playing) return;
    if (last !== null) now = Math.min(D.run.end, now + (stamp - last) / 1000 * model.get("speed"));
    last = stamp;
    draw();
    if (now >= D.run.end) { setPlaying(false); return; }
    raf = requestAnimationFrame(tick);
  }
  function setPlaying(on) {
    if (on && now >= D.run.end) now = D.run.start;
    playing = on; last = null;
    ui.play.textContent = on ? "❚❚ Pause" : "▶ Play";
    if (raf !== null) { cancelAnimationFrame(raf); raf = null; }
    if (on) raf = requestAnimationFrame(tick); else tell();
    if (model.get("playing") !== on) { model.set("playing", on); model.save_changes(); }
    draw();
  }
  ui.play.addEventListener("click", () => setPlaying(!playing));
  ui.scrub.addEventListener("input", () => {
    now = D.run.start + (D.run.end - D.run.start) * Number(ui.scrub.value) / 1000;
    draw();
  });
  ui.scrub.addEventListener("change", tell);
  ui.speed.addEventListener("change", () => { model.set("speed", Number(ui.speed.value)); model.save_changes(); });
  ui.pick.addEventListener("change", () => { model.set("choice", ui.pick.value); model.save_changes(); });
  const onRun = () => { setPlaying(false); load(); ui.pick.value = model.get("choice"); draw(); };
  const onTime = () => {
    const t = model.get("time");
    if (!playing && Math.abs(t - now) > 1e-6) { now = Math.min(Math.max(t, D.run.start), D.run.end); draw(); }
  };
  const onPlaying = () => { if (model.get("playing") !== playing) setPlaying(model.get("playing")); };
  const onSpeed = () => { ui.speed.value = String(model.get("speed")); };
  model.on("change:run", onRun);
  model.on("change:time", onTime);
  model.on("change:playing", onPlaying);
  model.on("change:speed", onSpeed);
  load();
  draw();
  return () => {
    playing = false;
    if (raf !== null) cancelAnimationFrame(raf);
    model.off("change:run", onRun);
    model.off("change:time", onTime);
    model.off("change:playing", onPlaying);
    model.off("change:speed", onSpeed);
  };
}

export default { render };
