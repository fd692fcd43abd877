// The touchable ring (stickylab.widgets.ring_touch.TouchRing). The browser sends an action
// (add at a place, remove a node, move a point); Python recomputes and sends the picture back.

const SVG = "http://www.w3.org/2000/svg";
const SIZE = 380, C = SIZE / 2, R = 150, KEY_R = 0.84 * R, BAND = 18;

function svg(tag, attrs, parent) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (parent) parent.append(e);
  return e;
}

function xy(fraction, radius) {              // clockwise from the top, as the package's plots
  const a = fraction * 2 * Math.PI;
  return [C + radius * Math.sin(a), C - radius * Math.cos(a)];
}

function fractionAt(svgEl, event) {
  const box = svgEl.getBoundingClientRect();
  const x = (event.clientX - box.left) * SIZE / box.width - C, y = (event.clientY - box.top) * SIZE / box.height - C;
  let f = Math.atan2(x, -y) / (2 * Math.PI);
  if (f < 0) f += 1;
  return { f: f >= 1 ? 0 : f, r: Math.hypot(x, y) };
}

function arcPath(from, to, radius) {          // clockwise arc from one fraction to the next
  const span = ((to - from) % 1 + 1) % 1 || 1;
  const [x0, y0] = xy(from, radius), [x1, y1] = xy(from + span, radius);
  if (span >= 0.999999) {
    const [xm, ym] = xy(from + 0.5, radius);
    return `M ${x0} ${y0} A ${radius} ${radius} 0 1 1 ${xm} ${ym} A ${radius} ${radius} 0 1 1 ${x0} ${y0}`;
  }
  return `M ${x0} ${y0} A ${radius} ${radius} 0 ${span > 0.5 ? 1 : 0} 1 ${x1} ${y1}`;
}

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function pct(x) { return `${(100 * x).toFixed(1)}%`; }

function describe(last) {
  if (!last) return "Click the ring to add a node, drag a point to move it, or remove a node.";
  const verb = { add: "Added", remove: "Removed", move: "Moved" }[last.action];
  const place = last.at === null || last.at === undefined ? "" : `${(360 * last.at).toFixed(0)}°`;
  const where = place ? (last.action === "move" ? ` to ${place}` : ` at ${place}`) : "";
  const to = last.to.length ? `, now on ${last.to.join(", ")}` : "";
  const arc = { add: "its arcs", remove: "its arcs", move: "the arc it swept" }[last.action];
  return `${verb} ${last.node}${where}: ${last.moved} of ${last.keys} keys moved (${pct(last.share)})${to}. ` +
    `The circle that changed node (${arc}): ${pct(last.circle)}.`;
}

function render({ model, el: host }) {
  const root = el("div", "stickylab-ring");
  const bar = el("div", "sl-ring-modes");
  const modes = {};
  for (const [mode, label] of [["add", "Add: click the ring"], ["move", "Move: drag a point"],
    ["remove", "Remove: click a point"]]) {
    modes[mode] = el("button", "sl-ring-mode", label);
    modes[mode].dataset.mode = mode;
    bar.append(modes[mode]);
  }
  const body = el("div", "sl-ring-body");
  const picture = svg("svg", { viewBox: `0 0 ${SIZE} ${SIZE}`, width: SIZE, height: SIZE, class: "sl-ring-svg" });
  const side = el("div", "sl-ring-side");
  const said = el("p", "sl-ring-moved");
  const error = el("p", "sl-ring-error");
  const table = el("table", "sl-ring-shares");
  side.append(said, error, table);
  body.append(picture, side);
  root.append(bar, body);
  host.append(root);

  let mode = "add", drag = null, pending = false;
  const setMode = (m) => {
    mode = m;
    for (const [k, b] of Object.entries(modes)) b.classList.toggle("sl-active", k === m);
    root.dataset.mode = m;
  };
  for (const [k, b] of Object.entries(modes)) b.addEventListener("click", () => setMode(k));
  const again = el("button", "sl-ring-reset", "Start again");
  again.addEventListener("click", () => send({ action: "reset" }));
  bar.append(again);
  setMode("add");

  function draw() {
    const p = model.get("picture");
    picture.replaceChildren();
    svg("circle", { cx: C, cy: C, r: R, fill: "none", stroke: "#ddd", "stroke-width": BAND, class: "sl-ring-band" }, picture);
    const points = [];
    p.nodes.forEach((n, k) => n.points.forEach((f, i) => points.push({ f, node: n.id, color: n.color, i, k })));
    if (drag) { const q = points.find((q) => q.node === drag.node && q.i === drag.i); if (q) q.f = drag.f; }
    points.sort((a, b) => a.f - b.f);
    points.forEach((q, j) => {             // the arc before each point is its node's
      const prev = points[(j - 1 + points.length) % points.length];
      svg("path", { d: arcPath(prev.f, q.f, R), fill: "none", stroke: q.color, "stroke-width": 8,
        "stroke-opacity": 0.85, "pointer-events": "none" }, picture);
    });
    const colorOf = Object.fromEntries(p.nodes.map((n) => [n.id, n.color]));
    p.keys.forEach((f, j) => {
      const [x, y] = xy(f, KEY_R);
      const moved = p.moved[j] && !drag;
      svg("circle", { cx: x, cy: y, r: moved ? 4.5 : 3, fill: p.nodes[p.owner[j]].color,
        class: moved ? "sl-ring-key sl-moved" : "sl-ring-key" }, picture);
      if (moved) svg("circle", { cx: x, cy: y, r: 8, fill: "none", stroke: "#000", "stroke-width": 1.5 }, picture);
    });
    for (const q of points) {
      const [x, y] = xy(q.f, R);
      const dot = svg("circle", { cx: x, cy: y, r: 9, fill: colorOf[q.node], stroke: "#fff", "stroke-width": 2,
        class: "sl-ring-point", "data-node": q.node, "data-point": q.i }, picture);
      dot.addEventListener("pointerdown", (ev) => pointDown(ev, q));
      const [lx, ly] = xy(q.f, R + 24);
      const label = svg("text", { x: lx, y: ly + 4, "text-anchor": "middle", "font-size": 12, fill: "#222",
        "pointer-events": "none" }, picture);
      label.textContent = q.node;
    }
    const centre = svg("text", { x: C, y: C + 4, "text-anchor": "middle", "font-size": 12, fill: "#777" }, picture);
    centre.textContent = "hash space, clockwise";
    said.textContent = describe(p.last);
    error.textContent = model.get("error");
    table.replaceChildren();
    const head = table.insertRow();
    for (const h of ["node", "points", "share of the circle"]) head.append(el("th", "", h));
    for (const n of p.nodes) {
      const row = table.insertRow();
      const name = row.insertCell(); name.textContent = n.id; name.style.color = n.color;
      row.insertCell().textContent = String(n.points.length);
      row.insertCell().textContent = pct(n.share);
    }
    const last = p.last || {};
    Object.assign(root.dataset, { nodes: String(p.nodes.length), moved: String(last.moved ?? ""),
      keys: String(p.keys.length), share: last.share === undefined ? "" : String(last.share),
      at: last.at === null || last.at === undefined ? "" : String(last.at), action: last.action || "",
      node: last.node || "", pending: String(pending) });
  }

  function send(action) { pending = true; root.dataset.pending = "true"; model.send(action); }

  function pointDown(ev, q) {
    ev.stopPropagation();
    if (mode === "remove") { send({ action: "remove", node: q.node }); return; }
    drag = { node: q.node, i: q.i, f: q.f, from: q.f };
    picture.setPointerCapture(ev.pointerId);
  }
  picture.addEventListener("pointermove", (ev) => {
    if (!drag) return;
    drag.f = fractionAt(picture, ev).f;
    draw();
  });
  picture.addEventListener("pointerup", (ev) => {
    if (drag) {
      const d = drag;
      drag = null;
      if (Math.abs(d.f - d.from) > 1e-9) send({ action: "move", node: d.node, point: d.i, to: d.f });
      else draw();
      return;
    }
    if (mode !== "add") return;
    const { f, r } = fractionAt(picture, ev);
    if (Math.abs(r - R) <= BAND) send({ action: "add", at: f });
  });
  const onChange = () => { pending = false; draw(); };
  model.on("change:picture", onChange);
  model.on("change:error", onChange);
  draw();
  return () => { model.off("change:picture", onChange); model.off("change:error", onChange); };
}

export default { render };
