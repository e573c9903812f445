// chainrule's interactive graph page. The numbers and the words come from Python
// (chainrule.page.data); this script only shows them: the steps of both passes,
// the details of a vertex or an edge, zoom and pan. No request leaves the page.
(function () {
  "use strict";
  const D = JSON.parse(document.getElementById("chainrule-data").textContent);
  const $ = (sel, root) => (root || document).querySelector(sel);
  const $$ = (sel, root) => Array.from((root || document).querySelectorAll(sel));
  const svg = $("svg.graph");
  const viewport = $(".viewport", svg);
  const stage = $('[data-role="stage"]');
  const narration = $('[data-role="narration"]');
  const details = $('[data-role="details"]');
  const counter = $('[data-role="counter"]');
  const button = (a) => $(`[data-action="${a}"]`);
  const vertexEl = (i) => $(`[data-vertex="${i}"]`, svg);
  const edgeEl = (j, i) => $(`[data-edge="${j}-${i}"]`, svg);
  const V = {};
  D.vertices.forEach((v) => { V[v.i] = v; });
  const steps = D.steps;
  let step = 0;        // index into steps: what has been computed so far
  let timer = null;    // the play loop

  // ----- stepping --------------------------------------------------------------------
  function show() {
    const u = {}, p = {}, final = {};
    for (let k = 0; k <= step && k < steps.length; k++) {
      for (const [i, s] of Object.entries(steps[k].set)) {
        if (s.u !== undefined) u[i] = s.u;
        if (s.p !== undefined) { p[i] = s.p; final[i] = !!s.final; }
      }
    }
    for (const v of D.vertices) {
      const el = vertexEl(v.i);
      $('[data-role="u"]', el).textContent = u[v.i] !== undefined ? "u = " + u[v.i] : "";
      const tp = $('[data-role="p"]', el);
      tp.textContent = p[v.i] === undefined ? "" :
        "p = " + p[v.i] + (final[v.i] ? " \u2713" : " \u2026");
      tp.classList.toggle("final", !!final[v.i]);
      tp.classList.toggle("partial", p[v.i] !== undefined && !final[v.i]);
      el.classList.toggle("pfinal", !!final[v.i]);
    }
    $$(".current", svg).forEach((el) => el.classList.remove("current"));
    const s = steps[step];
    if (!s) {
      narration.textContent = D.values ? "" :
        "This graph has no values yet: call g.forward(u1, ..., ul) and write the page again.";
      counter.textContent = "";
      ["next", "prev", "play", "reset"].forEach((a) => { button(a).disabled = true; });
      return;
    }
    s.vertices.forEach((i) => vertexEl(i).classList.add("current"));
    s.edges.forEach(([j, i]) => edgeEl(j, i).classList.add("current"));
    narration.textContent = s.say;
    const pass = s.kind === "forward" ? "forward pass" : s.kind === "backward" ? "backward pass" : "start";
    counter.textContent = `step ${step} of ${steps.length - 1} (${pass})`;
    button("prev").disabled = step === 0;
    button("reset").disabled = step === 0;
    button("next").disabled = step >= steps.length - 1;
    button("play").disabled = steps.length < 2;
    follow(s.vertices);
  }

  function go(k) {
    step = Math.max(0, Math.min(steps.length - 1, k));
    show();
  }

  function play(on) {
    if (on && step >= steps.length - 1) go(0);
    if (timer) { clearInterval(timer); timer = null; }
    if (on) {
      timer = setInterval(() => {
        if (step >= steps.length - 1) { play(false); return; }
        go(step + 1);
      }, 1100);
    }
    const b = button("play");
    b.setAttribute("aria-pressed", on ? "true" : "false");
    b.setAttribute("aria-label", on ? "Pause" : "Play");
    b.textContent = on ? "\u23F8 Pause" : "\u25B6 Play";
  }

  // ----- details: a vertex, its paths to n; an edge, its Jacobian ------------------------
  function el(tag, text, cls) {
    const e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = text;
    if (cls) e.className = cls;
    return e;
  }

  function clearMarks() {
    $$(".selected, .onpath, .hot", svg).forEach((e) => e.classList.remove("selected", "onpath", "hot"));
  }

  function markPath(path, cls) {
    for (let k = 0; k + 1 < path.length; k++) edgeEl(path[k], path[k + 1]).classList.add(cls);
    path.forEach((i) => vertexEl(i).classList.add(cls));
  }

  function pathsFrom(j) {
    // every edge on some path from j to n: the edges out of j's descendants (all reach n)
    const seen = new Set([j]), todo = [j];
    while (todo.length) {
      const a = todo.pop();
      for (const c of V[a].children) {
        edgeEl(a, c).classList.add("onpath");
        if (!seen.has(c)) { seen.add(c); todo.push(c); vertexEl(c).classList.add("onpath"); }
      }
    }
  }

  function reveal() {
    // below the graph on narrow windows: bring the panel's top into view
    const r = details.getBoundingClientRect();
    if (r.top > window.innerHeight - 80) details.scrollIntoView({ block: "nearest" });
  }

  function showVertex(i) {
    const v = V[i];
    clearMarks();
    vertexEl(i).classList.add("selected");
    details.replaceChildren();
    details.append(el("h2", v.title || `Vertex ${i}`));
    details.append(el("p", v.formula, "formula"));
    const dl = el("dl");
    const row = (k, val) => { dl.append(el("dt", k)); dl.append(el("dd", val)); };
    row(`\u03c0(${i})`, v.parents.length ? "{" + v.parents.join(", ") + "}" : "{} (a leaf)");
    row("children", v.children.length ? "{" + v.children.join(", ") + "}" : "{} (none)");
    if (D.values) {
      row(`d${i}`, String(v.d) + (v.shape && v.shape.length > 1 ? ` (shape ${v.shape.join(" \u00d7 ")}, row-major)` : ""));
      row(`u${i}`, v.u);
      if (v.p !== null) row(`p${i}`, v.p);
    }
    details.append(dl);
    if (v.sum) {
      details.append(el("h3", "The backward pass: sum over the children"));
      details.append(el("p", v.sum, "mono"));
    }
    if (v.paths && v.paths.length) {
      details.append(el("h3", `Paths from ${i} to ${D.n}: the theorem`));
      const ul = el("ul");
      v.paths.forEach((pa) => {
        const li = el("li", pa.text, "path");
        li.tabIndex = 0;
        li.dataset.path = pa.path.join("-");
        const on = () => markPath(pa.path, "hot");
        const off = () => $$(".hot", svg).forEach((e) => e.classList.remove("hot"));
        li.addEventListener("mouseenter", on);
        li.addEventListener("mouseleave", off);
        li.addEventListener("focus", on);
        li.addEventListener("blur", off);
        ul.append(li);
      });
      details.append(ul);
    }
    if (v.pathsum) details.append(el("p", v.pathsum, "sum"));
    pathsFrom(i);
    vertexEl(i).classList.add("selected");
    reveal();
  }

  function showEdge(j, i) {
    const e = D.edges.find((x) => x.j === j && x.i === i);
    clearMarks();
    edgeEl(j, i).classList.add("selected");
    details.replaceChildren();
    details.append(el("h2", `Edge (${j}, ${i})`));
    if (!D.values) {
      details.append(el("p", `J^{${j}->${i}} = \u2202f^${i}/\u2202u${j}: no values yet.`));
      return;
    }
    details.append(el("p", e.title));
    // the formula and/or the number on one line; a bigger J as a table below
    const one = e.table && e.table.length === 1 && e.table[0].length === 1;
    if (e.symbolic || one) {
      let line = `J^{${j}->${i}}`;
      if (e.symbolic) line += " = " + e.symbolic;
      if (one) line += " = " + e.J;
      details.append(el("p", line, "sum"));
    }
    if (e.table && !one) {
      const wrap = el("div", null, "jtable");
      const t = el("table");
      t.setAttribute("aria-label", `J^{${j}->${i}}`);
      e.table.forEach((r) => {
        const tr = el("tr");
        r.forEach((x) => tr.append(el("td", x)));
        t.append(tr);
      });
      wrap.append(t);
      details.append(wrap);
    }
    if (e.note) details.append(el("p", e.note, "note"));
    if (e.term) details.append(el("p", e.term, "mono"));
    reveal();
  }

  // ----- zoom and pan (the SVG's viewBox) ---------------------------------------------
  const W = +svg.dataset.width, H = +svg.dataset.height;
  let view = { x: 0, y: 0, s: 1 };   // top-left corner in graph units, pixels per unit
  const MIN_READABLE = 0.55;          // below this scale, start zoomed in and pan instead

  function apply() {
    const w = stage.clientWidth, h = svg.clientHeight || 1;
    svg.setAttribute("viewBox", `${view.x} ${view.y} ${w / view.s} ${h / view.s}`);
  }

  function fit() {
    const w = Math.max(stage.clientWidth, 1);
    const maxH = Math.max(260, window.innerHeight * 0.62);
    let s = Math.min(w / W, maxH / H, 1.4);
    if (s < MIN_READABLE) s = Math.min(MIN_READABLE, maxH / H > 0.3 ? MIN_READABLE : maxH / H);
    const h = Math.min(H * s, maxH);
    svg.style.height = Math.max(h, 120) + "px";
    view = { x: Math.min(0, -(w / s - W) / 2), y: Math.min(0, -(Math.max(h, 120) / s - H) / 2), s };
    apply();
  }

  function zoom(f, cx, cy) {
    const w = stage.clientWidth, h = svg.clientHeight;
    cx = cx === undefined ? w / 2 : cx;
    cy = cy === undefined ? h / 2 : cy;
    const gx = view.x + cx / view.s, gy = view.y + cy / view.s;
    view.s = Math.max(0.05, Math.min(6, view.s * f));
    view.x = gx - cx / view.s;
    view.y = gy - cy / view.s;
    apply();
  }

  function follow(ids) {
    // keep the current step's vertices in sight on a graph wider than the window
    const w = stage.clientWidth / view.s, h = svg.clientHeight / view.s;
    for (const i of ids) {
      const m = /translate\(([-\d.]+),([-\d.]+)\)/.exec(vertexEl(i).getAttribute("transform"));
      const x = +m[1], y = +m[2];
      if (x < view.x + 40 || x > view.x + w - 40 || y < view.y + 20 || y > view.y + h - 20) {
        view.x = x - w / 2;
        view.y = Math.min(Math.max(y - h / 2, -h / 2), H - h / 2);
        apply();
        return;
      }
    }
  }

  let drag = null;
  svg.addEventListener("pointerdown", (ev) => {
    if (ev.target.closest("[data-vertex], [data-edge]")) return;
    drag = { x: ev.clientX, y: ev.clientY, vx: view.x, vy: view.y };
    svg.classList.add("dragging");
    svg.setPointerCapture(ev.pointerId);
  });
  svg.addEventListener("pointermove", (ev) => {
    if (!drag) return;
    view.x = drag.vx - (ev.clientX - drag.x) / view.s;
    view.y = drag.vy - (ev.clientY - drag.y) / view.s;
    apply();
  });
  const endDrag = () => { drag = null; svg.classList.remove("dragging"); };
  svg.addEventListener("pointerup", endDrag);
  svg.addEventListener("pointercancel", endDrag);
  svg.addEventListener("wheel", (ev) => {
    ev.preventDefault();
    const r = svg.getBoundingClientRect();
    zoom(ev.deltaY < 0 ? 1.15 : 1 / 1.15, ev.clientX - r.left, ev.clientY - r.top);
  }, { passive: false });

  // ----- wiring ----------------------------------------------------------------------------
  button("next").addEventListener("click", () => { play(false); go(step + 1); });
  button("prev").addEventListener("click", () => { play(false); go(step - 1); });
  button("reset").addEventListener("click", () => { play(false); go(0); });
  button("play").addEventListener("click", () => play(!timer));
  button("zoom-in").addEventListener("click", () => zoom(1.25));
  button("zoom-out").addEventListener("click", () => zoom(1 / 1.25));
  button("fit").addEventListener("click", fit);

  function activate(target) {
    const v = target.closest("[data-vertex]");
    if (v) { showVertex(+v.dataset.vertex); return true; }
    const e = target.closest("[data-edge]");
    if (e) {
      const [j, i] = e.dataset.edge.split("-").map(Number);
      showEdge(j, i);
      return true;
    }
    return false;
  }
  svg.addEventListener("click", (ev) => activate(ev.target));
  svg.addEventListener("keydown", (ev) => {
    if ((ev.key === "Enter" || ev.key === " ") && activate(ev.target)) ev.preventDefault();
  });
  document.addEventListener("keydown", (ev) => {
    if (ev.altKey || ev.ctrlKey || ev.metaKey) return;
    const inSvg = ev.target.closest && ev.target.closest("svg");
    if (ev.key === "ArrowRight") { play(false); go(step + 1); ev.preventDefault(); }
    else if (ev.key === "ArrowLeft") { play(false); go(step - 1); ev.preventDefault(); }
    else if (ev.key === "Home") { play(false); go(0); ev.preventDefault(); }
    else if (ev.key === " " && !inSvg && ev.target.tagName !== "BUTTON") { play(!timer); ev.preventDefault(); }
  });
  window.addEventListener("resize", fit);

  fit();
  show();
})();
