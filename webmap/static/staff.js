// The staff dashboard: alerts (zones and cameras) with acknowledgement, a live map (the public
// map's renderer, static/plan.js), one card per area with both scales and its last hour against
// the usual day, and camera health. First paint from /staff/api/stations/<id>; live updates
// from the Socket.IO namespace /staff (which refuses connections without a staff session).
"use strict";
(function () {
  const root = document.getElementById("staff");
  if (!root) return;
  const SVG = "http://www.w3.org/2000/svg";
  const lang = root.dataset.lang === "en" ? "en" : "ja";
  const T = window.CROWDMAP_I18N[lang];
  const locale = lang === "ja" ? "ja-JP" : "en-GB";
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const baseTitle = document.title;
  const stations = {}; // id -> state of one station (see load)
  const seenAlerts = new Set(); // alert ids already announced (title, sound)
  const SOUND_KEY = "crowdmap-alert-sound";
  let audio = null;

  function node(tag, cls, text) {
    const n = document.createElement(tag);
    if (cls) n.className = cls;
    if (text !== undefined) n.textContent = text;
    return n;
  }

  function svgEl(tag, attrs, parent) {
    const n = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) n.setAttribute(k, v);
    if (parent) parent.appendChild(n);
    return n;
  }

  function clock(t) {
    return new Date(t * 1000).toLocaleTimeString(locale, { hour: "2-digit", minute: "2-digit" });
  }

  function fixed(v) {
    return v === null || v === undefined ? "—" : v.toFixed(2);
  }

  // ---- charts ----------------------------------------------------------------------------

  // A line chart with axes in a 300 x 150 box (text stays about 12 px at the cards' widths).
  // spec: xMin, xMax, xTicks [[x, label]], yMax, bounds [[value, level]], series
  // [{points: [[x, y|null]], cls}], label (for screen readers).
  function chart(spec) {
    const W = 300, H = 150, L = 36, R = 8, TOP = 8, B = 22;
    const svg = svgEl("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart", role: "img", "aria-label": spec.label });
    const x = (v) => L + ((v - spec.xMin) / (spec.xMax - spec.xMin)) * (W - L - R);
    const y = (v) => H - B - (Math.min(v, spec.yMax) / spec.yMax) * (H - B - TOP);
    // Level bounds: the public level starts above each line.
    for (const [value, level] of spec.bounds) {
      if (value > spec.yMax) continue;
      svgEl("rect", { x: L, y: y(value) - 1, width: W - L - R, height: 2, class: `bound level-${level}` }, svg);
    }
    // Density axis with a few round values.
    const step = [0.05, 0.1, 0.2, 0.25, 0.5, 1, 2].find((s) => spec.yMax / s <= 4) || 5;
    for (let v = 0; v <= spec.yMax + 1e-9; v += step) {
      svgEl("line", { x1: L, x2: W - R, y1: y(v), y2: y(v), class: "grid" }, svg);
      const t = svgEl("text", { x: L - 4, y: y(v), class: "tick y", "dominant-baseline": "central" }, svg);
      t.textContent = v.toFixed(step < 0.1 ? 2 : 1);
    }
    for (const [v, label] of spec.xTicks) {
      svgEl("line", { x1: x(v), x2: x(v), y1: TOP, y2: H - B, class: "grid" }, svg);
      const t = svgEl("text", { x: x(v), y: H - B + 14, class: "tick x" }, svg);
      t.textContent = label;
    }
    svgEl("line", { x1: L, x2: L, y1: TOP, y2: H - B, class: "axis" }, svg);
    svgEl("line", { x1: L, x2: W - R, y1: H - B, y2: H - B, class: "axis" }, svg);
    for (const s of spec.series) {
      let run = [];
      const flush = () => {
        if (run.length === 1) svgEl("circle", { cx: run[0][0], cy: run[0][1], r: 2.5, class: `point ${s.cls}` }, svg);
        if (run.length > 1) svgEl("polyline", { points: run.map((p) => p.join(",")).join(" "), class: `line ${s.cls}` }, svg);
        run = [];
      };
      for (const [px, py] of s.points) {
        if (py === null || py === undefined || px < spec.xMin || px > spec.xMax) { flush(); continue; }
        run.push([x(px).toFixed(1), y(py).toFixed(1)]);
      }
      flush();
    }
    return svg;
  }

  function yMaxFor(zone, values) {
    const top = Math.max(...values.filter((v) => v !== null && v !== undefined), 0);
    return Math.max(zone.public_bounds_per_m2[2] * 1.2, top * 1.1, 0.1);
  }

  function legendRow(items) {
    const p = node("p", "chart-legend");
    for (const [cls, word] of items) {
      const item = node("span", `key ${cls}`);
      item.appendChild(node("span", "key-line"));
      item.append(word);
      p.appendChild(item);
    }
    return p;
  }

  // The last hour: per-minute means from the server, the running minute from live frames,
  // the usual day's line, and the area's level bounds.
  function lastHourChart(st, zone) {
    const now = st.now();
    // Each minute's mean sits at the minute's middle; the running minute at most at "now".
    const at = (minute) => Math.min(minute + 30, now);
    const points = zone.trend.map((m) => [m.minute_start, m.mean_density_per_m2]);
    const live = st.live[zone.id];
    if (live && live.n) {
      const i = points.findIndex((p) => p[0] === live.minute);
      if (i >= 0) points.splice(i, 1);
      points.push([live.minute, live.sum / live.n]);
    }
    points.sort((a, b) => a[0] - b[0]);
    for (const p of points) p[0] = at(p[0]);
    const usual = zone.usual_last_hour.filter((p) => p[1] !== null);
    const ticks = [];
    const quarter = 900;
    for (let t = Math.ceil((now - 3600) / quarter) * quarter; t <= now; t += quarter) ticks.push([t, clock(t)]);
    const box = node("figure", "chart-box");
    const caption = node("figcaption", "", T.lastHour);
    box.appendChild(caption);
    box.appendChild(chart({
      xMin: now - 3600, xMax: now, xTicks: ticks,
      yMax: yMaxFor(zone, [...points.map((p) => p[1]), ...usual.map((p) => p[1])]),
      bounds: zone.public_bounds_per_m2.map((v, i) => [v, i + 1]),
      series: [{ points: usual, cls: "usual" }, { points, cls: "today" }],
      label: `${T.lastHour}: ${zone.name[lang]}`,
    }));
    box.appendChild(legendRow([["today", T.nowLine], ["usual", T.usualLine],
      ...T.levels.slice(1).map((word, i) => [`bound-key level-${i + 1}`, word])]));
    if (!points.length) box.appendChild(node("p", "chart-note", T.noTrendYet));
    if (zone.usual_density_per_m2 === null) {
      box.appendChild(node("p", "chart-note history-note", T.notEnoughHistoryShort(st.minWeeks, zone.usual_weeks)));
    }
    return box;
  }

  function dayChart(st, zone) {
    const box = node("div", "day-chart");
    const day = zone.day;
    if (!day) return box;
    const start = st.dayStart;
    const today = day.today.map((v, h) => [start + (h + 0.5) * 3600, v]);
    const usual = day.usual.map((v, h) => [start + (h + 0.5) * 3600, v]);
    const ticks = [0, 6, 12, 18, 24].map((h) => [start + h * 3600, `${h}:00`]);
    box.appendChild(chart({
      xMin: start, xMax: start + 86400, xTicks: ticks,
      yMax: yMaxFor(zone, [...day.today, ...day.usual]),
      bounds: zone.public_bounds_per_m2.map((v, i) => [v, i + 1]),
      series: [{ points: usual, cls: "usual" }, { points: today, cls: "today" }],
      label: `${T.todayVsUsual}: ${zone.name[lang]}`,
    }));
    box.appendChild(legendRow([["today", T.todayLine], ["usual", T.usualLine]]));
    if (day.usual.every((v) => v === null)) {
      box.appendChild(node("p", "chart-note history-note", T.notEnoughHistoryShort(st.minWeeks, zone.usual_weeks)));
    }
    return box;
  }

  // ---- area cards ------------------------------------------------------------------------

  function losText(zone, grade) {
    const i = "ABCDEF".indexOf(grade);
    const b = zone.los_bounds_per_m2;
    const from = i === 0 ? "0" : b[i - 1].toFixed(2);
    return T.losOf(grade, from, i >= b.length ? null : b[i].toFixed(2));
  }

  function isBusier(zone, live) {
    return Boolean(live && !live.stale && zone.busier_from_per_m2 !== null && live.density_per_m2 >= zone.busier_from_per_m2);
  }

  function renderCard(st, zone) {
    const live = st.zoneState[zone.id];
    const stale = !live || live.stale;
    let card = st.cards[zone.id];
    if (!card) {
      card = node("article", "zone-card");
      card.dataset.zone = zone.id;
      st.cards[zone.id] = card;
      st.section.querySelector(".zone-cards").appendChild(card);
    }
    card.className = `zone-card ${stale ? "stale" : `level-${live.level}`}`;
    card.replaceChildren();
    const h = node("h4", "", zone.name[lang]);
    h.appendChild(node("span", "floor-name", ` ${T.floorOf(st.floorNames[zone.floor])}`));
    card.appendChild(h);
    const level = node("p", "level-line");
    level.appendChild(node("span", `level-word level-cell ${stale ? "stale" : `level-${live.level}`}`, stale ? T.noData : T.levels[live.level]));
    if (isBusier(zone, live)) level.appendChild(node("span", "busier-note", ` ▲ ${T.busier}`));
    card.appendChild(level);
    const facts = node("dl", "zone-facts");
    const fact = (term, value, cls) => {
      const d = node("div", cls);
      d.append(node("dt", "", term), node("dd", "", value));
      facts.appendChild(d);
    };
    fact(T.densityShort, stale ? "—" : `${live.density_per_m2.toFixed(2)} /m²`, "density");
    fact(T.countShort, stale ? "—" : String(live.count), "count");
    fact(T.losShort, stale ? "—" : losText(zone, live.los), "los");
    fact(T.usual, zone.usual_density_per_m2 === null ? "—" : fixed(zone.usual_density_per_m2), "usual");
    card.appendChild(facts);
    card.appendChild(node("p", "bounds-note", T.bounds(zone.public_bounds_per_m2.map((v) => v.toFixed(2)))));
    card.appendChild(lastHourChart(st, zone));
    const details = node("details", "day");
    details.open = st.dayOpen.has(zone.id);
    details.addEventListener("toggle", () => {
      if (details.open) st.dayOpen.add(zone.id); else st.dayOpen.delete(zone.id);
    });
    details.appendChild(node("summary", "", T.todayVsUsual));
    details.appendChild(dayChart(st, zone));
    card.appendChild(details);
  }

  function renderZones(st) {
    for (const zone of Object.values(st.zones)) renderCard(st, zone);
    const time = st.section.querySelector(".station-updated");
    if (st.latest && st.latest.timestamp) {
      const when = new Date(st.latest.timestamp * 1000);
      time.dateTime = when.toISOString();
      time.textContent = when.toLocaleTimeString(locale);
    }
    const note = st.section.querySelector(".updated-note");
    const old = st.latest && st.latest.timestamp && Date.now() - st.receivedAt > st.staleAfter * 1000;
    note.textContent = old ? ` (${T.noNewData})` : "";
  }

  // ---- alerts ----------------------------------------------------------------------------

  function zoneNames(st, ids) {
    return ids.map((id) => (st.zones[id] ? st.zones[id].name[lang] : id)).join(", ");
  }

  function alertText(st, a) {
    const floor = st.floorNames[a.floor] || a.floor;
    const end = a.cleared_at === null ? st.now() : a.cleared_at;
    const lasted = T.duration(Math.max(0, end - a.raised_at));
    const parts = [];
    if (a.kind === "camera") {
      parts.push(`${clock(a.raised_at)} ${T.cameraAlert(a.camera)} ${T.floorOf(floor)}: ${T.cameraDown[a.camera_state] || a.camera_state}`);
      parts.push(a.zones.length ? T.affects(zoneNames(st, a.zones)) : T.noZonesKnown);
    } else {
      const zone = st.zones[a.zone] ? st.zones[a.zone].name[lang] : a.zone;
      parts.push(`${clock(a.raised_at)} ${zone} ${T.floorOf(floor)}: ${T.levels[a.level]} (${a.density_per_m2.toFixed(2)}/m²)`);
      parts.push(T.peak(a.peak_density_per_m2.toFixed(2)));
    }
    parts.push(a.active ? T.forDuration(lasted) : T.clearedAfter(lasted));
    if (a.acknowledged_by) parts.push(T.acked(a.acknowledged_by));
    return parts.join(" · ");
  }

  function alertItem(st, a) {
    const li = node("li", [a.active ? "active" : "cleared", a.kind, a.acknowledged_by ? "acknowledged" : ""].join(" ").trim());
    li.dataset.alert = a.id;
    const span = node("span", "alert-text", alertText(st, a));
    li.appendChild(span);
    if (!a.acknowledged_by) {
      const button = node("button", "ack", T.ack);
      button.type = "button";
      button.setAttribute("aria-label", `${T.ack}: ${span.textContent}`);
      button.addEventListener("click", () => acknowledge(st, a.id, button));
      li.append(" ", button);
    }
    return li;
  }

  function renderAlerts(st) {
    const all = Object.values(st.alerts).sort((a, b) => b.raised_at - a.raised_at);
    const active = all.filter((a) => a.active);
    const cleared = all.filter((a) => !a.active);
    const list = st.section.querySelector("ul.alerts");
    list.replaceChildren(...active.map((a) => alertItem(st, a)));
    if (!active.length) list.appendChild(node("li", "none", T.noAlerts));
    st.section.querySelector("ul.alerts-cleared").replaceChildren(...cleared.map((a) => alertItem(st, a)));
    st.section.querySelector(".history-count").textContent = String(cleared.length);
    updateTitle();
  }

  // The tab's title counts the active alerts nobody acknowledged yet, so a new one shows in a
  // background tab; a sound too, when the user asked for it.
  function updateTitle() {
    let n = 0;
    for (const st of Object.values(stations)) {
      for (const a of Object.values(st.alerts)) if (a.active && !a.acknowledged_by) n += 1;
    }
    document.title = n ? `${T.alertTitle(n)} · ${baseTitle}` : baseTitle;
  }

  function announce(alert) {
    if (seenAlerts.has(alert.id)) return;
    seenAlerts.add(alert.id);
    if (!alert.active || alert.acknowledged_by) return;
    if (document.getElementById("alert-sound").checked) beep();
  }

  function beep() {
    window.crowdmapStaff.beeps += 1;
    if (!audio) return;
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    osc.frequency.value = 880;
    gain.gain.setValueAtTime(0.15, audio.currentTime);
    gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + 0.6);
    osc.connect(gain).connect(audio.destination);
    osc.start();
    osc.stop(audio.currentTime + 0.6);
  }

  function setupSound() {
    const box = document.getElementById("alert-sound");
    box.checked = window.localStorage.getItem(SOUND_KEY) === "on";
    // Browsers let a page play sound only after a user gesture: this checkbox is one.
    const prepare = () => {
      if (box.checked && !audio && window.AudioContext) audio = new window.AudioContext();
      if (audio && audio.state === "suspended") audio.resume();
    };
    box.addEventListener("change", () => {
      window.localStorage.setItem(SOUND_KEY, box.checked ? "on" : "off");
      prepare();
    });
    document.addEventListener("pointerdown", prepare, { once: true });
  }

  async function acknowledge(st, id, button) {
    button.disabled = true;
    const body = new URLSearchParams({ csrf_token: csrf });
    const response = await fetch(`/staff/alerts/${encodeURIComponent(st.id)}/${encodeURIComponent(id)}/ack`, {
      method: "POST",
      headers: { "X-CSRFToken": csrf },
      body: body,
      credentials: "same-origin",
    });
    if (response.ok) {
      const alert = await response.json();
      st.alerts[alert.id] = alert;
      renderAlerts(st);
    } else {
      button.disabled = false;
    }
  }

  // ---- cameras ---------------------------------------------------------------------------

  function renderCameras(st) {
    const list = st.section.querySelector("ul.camera-list");
    list.replaceChildren();
    for (const c of Object.values(st.cameras)) {
      const li = node("li", `camera cam-${c.state}`);
      li.dataset.camera = c.camera;
      const head = node("p", "camera-head");
      head.append(node("strong", "", c.camera), " ", node("span", `state state-${c.state}`, T.states[c.state] || c.state));
      li.appendChild(head);
      const facts = node("dl", "zone-facts");
      const fact = (term, value, cls) => {
        const d = node("div", cls);
        d.append(node("dt", "", term), node("dd", "", value));
        facts.appendChild(d);
      };
      // A camera that is not live has no current frame rate: the last one would mislead.
      fact(T.fps, c.state === "live" && c.fps !== null ? String(c.fps) : "—", "fps");
      fact(T.age, c.last_frame_age_s === null ? "—" : String(c.last_frame_age_s), "age");
      fact(T.statusAge, c.status_age_s === null ? "—" : String(c.status_age_s), "status-age");
      if (c.zones && c.zones.length) fact(T.covers, zoneNames(st, c.zones), "covers");
      li.appendChild(facts);
      const error = (c.error_text && c.error_text[lang]) || c.error;
      if (error) li.appendChild(node("p", "camera-error", `${T.error}: ${error}`));
      list.appendChild(li);
    }
  }

  // ---- live map --------------------------------------------------------------------------

  function buildMap(st, plan) {
    const numbers = {};
    for (const floor of plan.floors) floor.zones.forEach((z, i) => { numbers[z.id] = i + 1; });
    for (const floor of plan.floors) {
      const svg = document.getElementById(`staff-plan-${st.id}-${floor.id}`);
      if (!svg) continue;
      st.views[floor.id] = new window.CrowdmapPlan.FloorView(svg, floor, {
        lang, T, numbers, idPrefix: `staff-${st.id}-`,
      });
      st.views[floor.id].relayout();
    }
    drawMap(st);
  }

  function busierMap(st) {
    const out = {};
    for (const z of Object.values(st.zones)) out[z.id] = z.busier_from_per_m2;
    return out;
  }

  function drawMap(st) {
    if (!st.latest) return;
    for (const floor of st.latest.floors) {
      const view = st.views[floor.floor];
      if (view) view.update(floor, busierMap(st));
    }
  }

  // ---- data ------------------------------------------------------------------------------

  function takeFrame(st, payload) {
    st.latest = payload;
    st.receivedAt = Date.now();
    for (const floor of payload.floors) {
      for (const z of floor.zones) {
        st.zoneState[z.id] = z;
        if (z.stale) continue;
        const minute = payload.timestamp - (payload.timestamp % 60);
        let live = st.live[z.id];
        if (!live || live.minute !== minute) live = st.live[z.id] = { minute, sum: 0, n: 0 };
        live.sum += z.density_per_m2;
        live.n += 1;
      }
    }
  }

  async function load(id) {
    const section = document.getElementById(`station-${id}`);
    const state = await (await fetch(`/staff/api/stations/${encodeURIComponent(id)}`)).json();
    const offset = state.now - Date.now() / 1000; // the server's clock, for durations and chart axes
    const st = stations[id] || {
      id, section, zones: {}, alerts: {}, cameras: {}, cards: {}, views: {}, live: {}, zoneState: {},
      dayOpen: new Set(), floorNames: {}, receivedAt: 0,
    };
    Object.assign(st, {
      staleAfter: state.stale_after_s, minWeeks: state.min_weeks, now: () => Date.now() / 1000 + offset,
    });
    for (const z of state.zones) st.zones[z.id] = Object.assign(st.zones[z.id] || {}, z);
    for (const a of state.alerts) { st.alerts[a.id] = a; seenAlerts.add(a.id); }
    for (const c of state.cameras) st.cameras[c.camera] = c;
    if (state.latest && !st.latest) takeFrame(st, state.latest);
    stations[id] = st;
    if (!st.planLoaded) {
      // Once per station, however many loads run at once: the floors' names and the live map.
      st.planLoaded = fetch(`/api/v1/stations/${encodeURIComponent(id)}/plan`).then((r) => r.json()).then((plan) => {
        for (const floor of plan.floors) st.floorNames[floor.id] = floor.name[lang];
        buildMap(st, plan);
      });
    }
    await st.planLoaded;
    renderZones(st);
    renderAlerts(st);
    renderCameras(st);
    try {
      const day = await (await fetch(`/staff/api/stations/${encodeURIComponent(id)}/day`)).json();
      st.dayStart = day.day_start;
      for (const z of day.zones) if (st.zones[z.id]) st.zones[z.id].day = z;
      renderZones(st);
    } catch (e) { /* the day chart is optional */ }
  }

  function notice(text, lost) {
    const box = document.getElementById("connection");
    box.textContent = text;
    box.className = lost ? "connection lost" : "connection restored";
    box.hidden = false;
    if (!lost) setTimeout(() => { box.hidden = true; }, 5000);
  }

  async function start() {
    setupSound();
    const ids = root.dataset.stations.split(",").filter(Boolean);
    const socket = io("/staff", { transports: ["websocket", "polling"], tryAllTransports: true });
    window.crowdmapStaff = { socket: socket, loaded: false, beeps: 0, stations: stations };
    let lost = false;
    socket.on("connect", async () => {
      if (lost) notice(T.restored, false);
      lost = false;
      // (Re)load the state once live events flow, so nothing raised in between is missed.
      await Promise.all(ids.map(load));
      window.crowdmapStaff.loaded = true;
    });
    socket.on("disconnect", () => { lost = true; notice(T.lost, true); });
    socket.on("crowding", (payload) => {
      const st = stations[payload.station];
      if (!st) return;
      takeFrame(st, payload);
      renderZones(st);
      drawMap(st);
    });
    socket.on("alert", (alert) => {
      const st = stations[alert.station];
      if (!st) return;
      st.alerts[alert.id] = alert;
      announce(alert);
      renderAlerts(st);
    });
    socket.on("camera", (camera) => {
      const st = stations[camera.station];
      if (!st) return;
      st.cameras[camera.camera] = Object.assign(st.cameras[camera.camera] || {}, camera);
      renderCameras(st);
    });
    // Durations tick, and the server's per-minute trend and usual line are fetched again.
    setInterval(() => { for (const st of Object.values(stations)) { renderAlerts(st); renderZones(st); } }, 10000);
    setInterval(() => { for (const id of Object.keys(stations)) load(id); }, 60000);
  }

  document.addEventListener("DOMContentLoaded", start);
})();
