// The public crowding map: draws the plan from /api/v1/stations/<id>/plan, then shows each
// `crowding` frame from the Socket.IO namespace /public (the real socket.io-client from npm).
"use strict";
(function () {
  const app = document.getElementById("app");
  if (!app) return;
  const station = app.dataset.station;
  const lang = app.dataset.lang === "en" ? "en" : "ja";
  const T = window.CROWDMAP_I18N[lang];

  let plan = null;
  let latest = null; // last payload received
  let receivedAt = 0; // local time it arrived (ms): staleness must not trust the client's clock vs the server's
  let connection = "live"; // "live" or "lost"
  // Zone id -> density from which it reads "busier than usual" (the server decides the rule;
  // null without enough history).
  let busierFrom = {};
  const views = {}; // floor id -> CrowdmapPlan.FloorView
  const numbers = {}; // zone id -> its number on its floor (badges and list rows)

  function drawPlan() {
    for (const floor of plan.floors) {
      floor.zones.forEach((z, i) => { numbers[z.id] = i + 1; });
      const svg = document.getElementById(`plan-${floor.id}`);
      views[floor.id] = new window.CrowdmapPlan.FloorView(svg, floor, { lang, T, numbers, tall: true });
      buildTable(floor);
    }
    buildLegend();
    for (const view of Object.values(views)) view.relayout();
  }

  function legendItem(list, swatch, word) {
    const li = document.createElement("li");
    li.innerHTML = swatch;
    li.append(word);
    list.appendChild(li);
    return li;
  }

  function buildLegend() {
    const list = document.getElementById("legend-list");
    T.levels.forEach((word, level) => legendItem(list, `<span class="swatch level-${level}" aria-hidden="true"></span>`, word));
    legendItem(list, '<span class="swatch stale" aria-hidden="true"></span>', T.noData);
    if (plan.floors.some((f) => f.uncovered_m && f.uncovered_m.length)) {
      legendItem(list, '<span class="swatch uncovered" aria-hidden="true"></span>', T.notCovered).id = "legend-uncovered";
    }
    for (const [cls, word] of [["moving", T.moving], ["stopped", T.stopped]]) {
      legendItem(list, `<svg class="dot-sample" viewBox="0 0 10 10" aria-hidden="true"><circle cx="5" cy="5" r="3.2" class="dot ${cls}"/></svg>`, word);
    }
    legendItem(list, '<span class="busier-sample" aria-hidden="true">▲</span>', T.busier);
  }

  function buildTable(floor) {
    const table = document.getElementById(`zones-${floor.id}`);
    table.querySelector(".col-number").textContent = T.number;
    table.querySelector(".col-zone").textContent = T.zone;
    table.querySelector(".col-level").textContent = T.level;
    const body = table.querySelector("tbody");
    for (const z of floor.zones) {
      const tr = document.createElement("tr");
      tr.id = `row-${z.id}`;
      tr.dataset.zone = z.id;
      const number = document.createElement("td");
      number.className = "number-cell";
      number.textContent = String(numbers[z.id]);
      const th = document.createElement("th");
      th.scope = "row";
      th.textContent = z.name[lang];
      const tdLevel = document.createElement("td");
      tdLevel.className = "level-cell stale";
      const word = document.createElement("span");
      word.className = "level-word";
      word.textContent = T.noData;
      const busier = document.createElement("span");
      busier.className = "busier-note";
      tdLevel.append(word, busier);
      tr.append(number, th, tdLevel);
      body.appendChild(tr);
    }
  }

  function levelWord(zone) {
    return zone.stale ? T.noData : T.levels[zone.level];
  }

  function render(payload) {
    if (!plan || !payload || payload.station !== station) return;
    for (const floor of payload.floors) {
      const view = views[floor.floor];
      if (!view) continue;
      view.update(floor, busierFrom);
      const title = document.querySelector(`#plan-${floor.floor} > title`);
      title.textContent = T.mapOf(zoneFloorName(floor.floor), floor.dots.length);
      for (const zone of floor.zones) {
        const row = document.getElementById(`row-${zone.id}`);
        if (!row) continue;
        const cell = row.querySelector(".level-cell");
        cell.querySelector(".level-word").textContent = levelWord(zone);
        cell.querySelector(".busier-note").textContent = view.isBusier(zone.id) ? ` ▲ ${T.busier}` : "";
        cell.className = zone.stale ? "level-cell stale" : `level-cell level-${zone.level}`;
      }
    }
    showUpdated();
  }

  // The time of the last frame received stays shown whatever happens after it; a note says
  // when no newer one is coming (connection lost, or the feed stopped).
  function showUpdated() {
    const updated = document.getElementById("updated");
    const note = document.getElementById("updated-note");
    if (latest && latest.timestamp) {
      const when = new Date(latest.timestamp * 1000);
      updated.dateTime = when.toISOString();
      updated.textContent = when.toLocaleTimeString(lang === "ja" ? "ja-JP" : "en-GB");
    }
    let text = "";
    if (connection === "lost") text = T.notLive;
    else if (latest && Date.now() - receivedAt > plan.stale_after_s * 1000) text = T.noNewData;
    note.textContent = text ? ` (${text})` : "";
  }

  function showHistoryState(usual) {
    const box = document.getElementById("history-state");
    const enough = usual.zones.some((z) => z.busier_from_per_m2 !== null);
    box.hidden = enough;
    if (!enough) box.textContent = T.notEnoughHistory(usual.min_weeks);
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
    else showUpdated();
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
        const view = views[t.dataset.floor];
        if (on && view) view.relayout();
        if (!on && view) view.select(null);
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
    // The page's state for tests and the curious, from the moment the plan is drawn; the socket joins below.
    window.crowdmap = { socket: null, latest: () => latest, views: views };
    try {
      const u = await (await fetch(`${base}/usual`)).json();
      for (const z of u.zones) busierFrom[z.id] = z.busier_from_per_m2;
      showHistoryState(u);
    } catch (e) { busierFrom = {}; }
    const first = await (await fetch(`${base}/crowding`)).json();
    if (first.timestamp !== null) receive(first);
    else render(first);
    // WebSocket first (no polling handshake, no upgrade); long-polling only where WebSocket fails.
    const socket = io("/public", { transports: ["websocket", "polling"], tryAllTransports: true });
    let wasConnected = false;
    let lost = false;
    const setLost = (isLost) => {
      lost = isLost;
      connection = isLost ? "lost" : "live";
      showUpdated();
    };
    socket.on("connect", () => {
      socket.emit("join", { station: station, encoding: "compact" });
      if (lost) connectionNotice(T.restored, false);
      wasConnected = true;
      setLost(false);
    });
    socket.on("disconnect", () => {
      if (wasConnected) { setLost(true); connectionNotice(T.lost, true); }
    });
    socket.on("connect_error", () => {
      if (wasConnected && !lost) { setLost(true); connectionNotice(T.lost, true); }
    });
    socket.on("crowding", receive);
    setInterval(watchStaleness, 1000);
    window.crowdmap.socket = socket;
  }

  document.addEventListener("DOMContentLoaded", start);
})();
