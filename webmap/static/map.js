// The public crowding map: draws the plan from /api/v1/stations/<id>/plan, then shows each
// `crowding` frame from the Socket.IO namespace /public (the real socket.io-client from npm).
"use strict";
(function () {
  const SVG = "http://www.w3.org/2000/svg";
  const app = document.getElementById("app");
  if (!app) return;
  const station = app.dataset.station;
  const lang = app.dataset.lang === "en" ? "en" : "ja";
  const T = window.CROWDMAP_I18N[lang];

  let plan = null;
  let latest = null; // last payload received
  let receivedAt = 0; // local time it arrived (ms): staleness must not trust the client's clock vs the server's
  // Zone id -> density from which it reads "busier than usual" (the server decides the rule;
  // null without enough history).
  let busierFrom = {};
  const zoneInfo = {}; // zone id -> {name, floor}

  function el(tag, attrs, parent) {
    const node = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    if (parent) parent.appendChild(node);
    return node;
  }

  function points(poly) {
    return poly.map((p) => `${p[0]},${p[1]}`).join(" ");
  }

  // Area centroid of a simple polygon, for the zone label.
  function centroid(poly) {
    let a = 0, cx = 0, cy = 0;
    for (let i = 0; i < poly.length; i++) {
      const [x0, y0] = poly[i];
      const [x1, y1] = poly[(i + 1) % poly.length];
      const f = x0 * y1 - x1 * y0;
      a += f; cx += (x0 + x1) * f; cy += (y0 + y1) * f;
    }
    if (Math.abs(a) < 1e-9) return poly[0];
    return [cx / (3 * a), cy / (3 * a)];
  }

  // Shrink each zone label until it fits its zone's width (measured on the floor that is shown:
  // hidden floors have no layout, so they are measured when their tab opens).
  function fitLabels(svg, labels, textM) {
    svg.fitLabels = () => {
      for (const [label, poly] of labels) {
        const xs = poly.map((p) => p[0]);
        const width = 0.92 * (Math.max(...xs) - Math.min(...xs));
        let size = textM;
        label.setAttribute("font-size", size);
        label.querySelector(".zone-level").setAttribute("dy", size * 1.2);
        let box = label.getBBox();
        if (box.width > width && box.width > 0) {
          size = Math.max(textM * 0.45, (size * width) / box.width);
          label.setAttribute("font-size", size);
          label.querySelector(".zone-level").setAttribute("dy", size * 1.2);
        }
      }
    };
    if (!svg.closest("[hidden]")) svg.fitLabels();
  }

  function drawPlan() {
    for (const floor of plan.floors) {
      const svg = document.getElementById(`plan-${floor.id}`);
      const [w, h] = floor.size_m;
      svg.setAttribute("viewBox", `0 0 ${w} ${h}`);
      const unit = Math.max(w, h) / 60; // line widths scale with the plan, in metres
      const textM = w / 75; // about 15 px on a desktop-wide map; labels are shrunk to fit below
      const labels = [];
      el("rect", { x: 0, y: 0, width: w, height: h, class: "ground" }, svg);
      for (const poly of floor.walkable_m) el("polygon", { points: points(poly), class: "walkable" }, svg);
      for (const poly of floor.obstacles_m) el("polygon", { points: points(poly), class: "obstacle" }, svg);
      for (const f of floor.features) {
        el("polygon", { points: points(f.polygon_m), class: `feature feature-${f.kind}` }, svg);
        if (f.label) {
          const [x, y] = centroid(f.polygon_m);
          const text = el("text", { x, y, class: "feature-label", "font-size": textM * 0.85 }, svg);
          text.textContent = f.label[lang];
        }
      }
      const zones = el("g", { class: "zones", "stroke-width": unit * 0.15 }, svg);
      // Drawn in three layers: zone colours, then the dots, then the zone labels on top, so a
      // crowd never hides the words that say how crowded it is.
      const dotR = Math.min(0.6, Math.max(0.25, Math.max(w, h) / 160));
      el("g", { class: "dots", id: `dots-${floor.id}`, "data-r": dotR, "stroke-width": dotR * 0.35 }, svg);
      const labelLayer = el("g", { class: "zone-labels" }, svg);
      for (const z of floor.zones) {
        zoneInfo[z.id] = { name: z.name[lang], floor: floor.id, floorName: floor.name[lang] };
        const g = el("g", { class: "zone stale", id: `zone-${z.id}`, "data-zone": z.id }, zones);
        el("polygon", { points: points(z.polygon_m), class: "zone-area" }, g);
        const [x, y] = centroid(z.polygon_m);
        const label = el("text", { x, y, class: "zone-label", id: `label-${z.id}`, "font-size": textM }, labelLayer);
        const name = el("tspan", { x, dy: 0, class: "zone-name" }, label);
        name.textContent = z.name[lang];
        const word = el("tspan", { x, dy: textM * 1.2, class: "zone-level" }, label);
        word.textContent = T.noData;
        labels.push([label, z.polygon_m]);
      }
      fitLabels(svg, labels, textM);
    }
    buildLegend();
    buildTable();
  }

  function buildLegend() {
    const list = document.getElementById("legend-list");
    T.levels.forEach((word, level) => {
      const li = document.createElement("li");
      li.innerHTML = `<span class="swatch level-${level}" aria-hidden="true"></span>`;
      li.append(word);
      list.appendChild(li);
    });
    const stale = document.createElement("li");
    stale.innerHTML = '<span class="swatch stale" aria-hidden="true"></span>';
    stale.append(T.noData);
    list.appendChild(stale);
    for (const [cls, word] of [["moving", T.moving], ["stopped", T.stopped]]) {
      const li = document.createElement("li");
      li.innerHTML = `<svg class="dot-sample" viewBox="0 0 10 10" aria-hidden="true"><circle cx="5" cy="5" r="3.2" class="dot ${cls}"/></svg>`;
      li.append(word);
      list.appendChild(li);
    }
  }

  function buildTable() {
    document.getElementById("col-zone").textContent = T.zone;
    document.getElementById("col-floor").textContent = T.floor;
    document.getElementById("col-level").textContent = T.level;
    const body = document.querySelector("#zone-table tbody");
    for (const floor of plan.floors) {
      for (const z of floor.zones) {
        const tr = document.createElement("tr");
        tr.id = `row-${z.id}`;
        tr.dataset.zone = z.id;
        const th = document.createElement("th");
        th.scope = "row";
        th.textContent = z.name[lang];
        const tdFloor = document.createElement("td");
        tdFloor.textContent = floor.name[lang];
        const tdLevel = document.createElement("td");
        tdLevel.className = "level-cell";
        tdLevel.textContent = T.noData;
        tr.append(th, tdFloor, tdLevel);
        body.appendChild(tr);
      }
    }
  }

  function levelWord(zone) {
    return zone.stale ? T.noData : T.levels[zone.level];
  }

  function render(payload) {
    if (!plan || !payload || payload.station !== station) return;
    for (const floor of payload.floors) {
      const dots = document.getElementById(`dots-${floor.floor}`);
      if (!dots) continue;
      const r = dots.getAttribute("data-r");
      const fragment = document.createDocumentFragment();
      for (const [x, y, moving] of floor.dots) {
        const c = document.createElementNS(SVG, "circle");
        c.setAttribute("cx", x);
        c.setAttribute("cy", y);
        c.setAttribute("r", r);
        c.setAttribute("class", moving ? "dot moving" : "dot stopped");
        fragment.appendChild(c);
      }
      dots.replaceChildren(fragment);
      const svg = document.getElementById(`plan-${floor.floor}`);
      const title = svg.querySelector("title");
      title.textContent = T.mapOf(zoneFloorName(floor.floor), floor.dots.length);
      for (const zone of floor.zones) {
        const g = document.getElementById(`zone-${zone.id}`);
        if (!g) continue;
        g.setAttribute("class", zone.stale ? "zone stale" : `zone level-${zone.level}`);
        document.querySelector(`#label-${zone.id} .zone-level`).textContent = levelWord(zone);
        const row = document.getElementById(`row-${zone.id}`);
        if (row) {
          const cell = row.querySelector(".level-cell");
          let text = levelWord(zone);
          const from = busierFrom[zone.id];
          if (!zone.stale && from !== null && from !== undefined && zone.density_per_m2 >= from) {
            text += ` (${T.busier})`;
          }
          cell.textContent = text;
          cell.className = zone.stale ? "level-cell stale" : `level-cell level-${zone.level}`;
        }
      }
    }
    const updated = document.getElementById("updated");
    if (payload.timestamp) {
      const when = new Date(payload.timestamp * 1000);
      updated.dateTime = when.toISOString();
      updated.textContent = when.toLocaleTimeString(lang === "ja" ? "ja-JP" : "en-GB");
    }
  }

  function zoneFloorName(floorId) {
    const floor = plan.floors.find((f) => f.id === floorId);
    return floor ? floor.name[lang] : floorId;
  }

  function staleCopy(payload) {
    return {
      station: payload.station,
      timestamp: payload.timestamp,
      floors: payload.floors.map((f) => ({
        floor: f.floor, dots: [], zones: f.zones.map((z) => Object.assign({}, z, { stale: true })),
      })),
    };
  }

  // A feed that stops must not keep showing old dots as if live.
  function watchStaleness() {
    if (!latest || !plan) return;
    if (Date.now() - receivedAt > plan.stale_after_s * 1000) render(staleCopy(latest));
  }

  // Dots arrive packed on the socket ("encoding": "compact-1", see webmap/payload.py) and as
  // [x_m, y_m, moving] arrays from the REST API; everything below sees the arrays.
  function unpackDots(dots) {
    if (Array.isArray(dots)) return dots;
    const bin = atob(dots.packed);
    const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    const n = dots.count;
    if (bytes.length !== 4 * n + Math.ceil(n / 8)) throw new Error(`packed dots: ${n} dots, ${bytes.length} bytes`);
    const view = new DataView(bytes.buffer);
    const out = new Array(n);
    for (let i = 0; i < n; i++) {
      out[i] = [
        view.getUint16(4 * i, true) / dots.per_m,
        view.getUint16(4 * i + 2, true) / dots.per_m,
        (bytes[4 * n + (i >> 3)] >> (i & 7)) & 1,
      ];
    }
    return out;
  }

  function receive(payload) {
    for (const floor of payload.floors) floor.dots = unpackDots(floor.dots);
    latest = payload;
    receivedAt = Date.now();
    render(payload);
  }

  // Floors as tabs (WAI-ARIA tabs pattern: arrows, Home, End).
  function setupTabs() {
    const tabs = Array.from(document.querySelectorAll('[role="tab"]'));
    function select(tab) {
      for (const t of tabs) {
        const on = t === tab;
        t.setAttribute("aria-selected", on ? "true" : "false");
        t.tabIndex = on ? 0 : -1;
        const panel = document.getElementById(t.getAttribute("aria-controls"));
        panel.hidden = !on;
        const svg = panel.querySelector("svg.plan");
        if (on && svg && svg.fitLabels) svg.fitLabels();
      }
    }
    tabs.forEach((tab, i) => {
      tab.addEventListener("click", () => select(tab));
      tab.addEventListener("keydown", (e) => {
        let next = null;
        if (e.key === "ArrowRight") next = tabs[(i + 1) % tabs.length];
        if (e.key === "ArrowLeft") next = tabs[(i - 1 + tabs.length) % tabs.length];
        if (e.key === "Home") next = tabs[0];
        if (e.key === "End") next = tabs[tabs.length - 1];
        if (next) { e.preventDefault(); select(next); next.focus(); }
      });
    });
  }

  function setupStationSelect() {
    const select = document.getElementById("station-select");
    if (!select) return;
    select.addEventListener("change", () => {
      window.location.search = `?station=${encodeURIComponent(select.value)}&lang=${lang}`;
    });
  }

  function connectionNotice(text, lost) {
    const box = document.getElementById("connection");
    box.textContent = text;
    box.className = lost ? "connection lost" : "connection restored";
    box.hidden = false;
    if (!lost) setTimeout(() => { box.hidden = true; }, 5000);
  }

  async function start() {
    setupTabs();
    setupStationSelect();
    const base = `/api/v1/stations/${encodeURIComponent(station)}`;
    plan = await (await fetch(`${base}/plan`)).json();
    drawPlan();
    try {
      const u = await (await fetch(`${base}/usual`)).json();
      for (const z of u.zones) busierFrom[z.id] = z.busier_from_per_m2;
    } catch (e) { busierFrom = {}; }
    const first = await (await fetch(`${base}/crowding`)).json();
    if (first.timestamp !== null) receive(first);
    else render(first);
    // WebSocket first (no polling handshake, no upgrade); long-polling only where WebSocket fails.
    const socket = io("/public", { transports: ["websocket", "polling"], tryAllTransports: true });
    let wasConnected = false;
    let lost = false;
    socket.on("connect", () => {
      socket.emit("join", { station: station, encoding: "compact" });
      if (lost) connectionNotice(T.restored, false);
      wasConnected = true;
      lost = false;
    });
    socket.on("disconnect", () => {
      if (wasConnected) { lost = true; connectionNotice(T.lost, true); }
    });
    socket.on("connect_error", () => {
      if (wasConnected && !lost) { lost = true; connectionNotice(T.lost, true); }
    });
    socket.on("crowding", receive);
    setInterval(watchStaleness, 1000);
    window.crowdmap = { socket: socket, latest: () => latest };
  }

  document.addEventListener("DOMContentLoaded", start);
})();
