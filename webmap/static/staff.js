// The staff dashboard: per-zone density, LOS, trends, alerts with acknowledgement, camera health.
// First paint from /staff/api/stations/<id>; live updates from the Socket.IO namespace /staff
// (which refuses connections without a staff session).
"use strict";
(function () {
  const root = document.getElementById("staff");
  if (!root) return;
  const lang = root.dataset.lang === "en" ? "en" : "ja";
  const T = window.CROWDMAP_I18N[lang];
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const stations = {}; // id -> {section, zones: {id: info}, alerts: {id: alert}, staleAfter, receivedAt}

  function cell(tr, text, cls) {
    const td = document.createElement("td");
    td.textContent = text;
    if (cls) td.className = cls;
    tr.appendChild(td);
    return td;
  }

  function header(table, names) {
    const tr = table.querySelector("thead tr");
    tr.replaceChildren();
    for (const name of names) {
      const th = document.createElement("th");
      th.scope = "col";
      th.textContent = name;
      tr.appendChild(th);
    }
  }

  // A tiny line chart; values may be null (gaps). dashed: the usual day.
  function sparkline(series, max) {
    const ns = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(ns, "svg");
    svg.setAttribute("class", "spark");
    svg.setAttribute("viewBox", "0 0 100 20");
    svg.setAttribute("preserveAspectRatio", "none");
    svg.setAttribute("aria-hidden", "true");
    for (const { values, dashed } of series) {
      const n = values.length;
      let pts = [];
      const flush = () => {
        if (pts.length > 1) {
          const line = document.createElementNS(ns, "polyline");
          line.setAttribute("points", pts.join(" "));
          if (dashed) line.setAttribute("stroke-dasharray", "3 2");
          svg.appendChild(line);
        }
        pts = [];
      };
      values.forEach((v, i) => {
        if (v === null || v === undefined) { flush(); return; }
        const x = n > 1 ? (100 * i) / (n - 1) : 50;
        const y = 19 - (18 * Math.min(v, max)) / max;
        pts.push(`${x.toFixed(1)},${y.toFixed(1)}`);
      });
      flush();
    }
    return svg;
  }

  function renderZones(st, latest) {
    const byId = {};
    if (latest) for (const f of latest.floors) for (const z of f.zones) byId[z.id] = z;
    const body = st.section.querySelector("table.zones tbody");
    body.replaceChildren();
    for (const info of Object.values(st.zones)) {
      const z = byId[info.id];
      const tr = document.createElement("tr");
      tr.dataset.zone = info.id;
      const th = document.createElement("th");
      th.scope = "row";
      th.textContent = info.name[lang];
      tr.appendChild(th);
      const stale = !z || z.stale;
      cell(tr, stale ? "—" : String(z.count), "count");
      cell(tr, stale ? "—" : z.density_per_m2.toFixed(2), "density");
      cell(tr, stale ? "—" : z.los, "los");
      cell(tr, stale ? T.noData : T.levels[z.level], stale ? "level-cell stale" : `level-cell level-${z.level}`);
      cell(tr, info.usual_density_per_m2 === null ? "—" : info.usual_density_per_m2.toFixed(2), "usual");
      const trend = cell(tr, "", "trend");
      const values = info.trend.map((m) => m.mean_density_per_m2);
      if (values.length === 1) values.unshift(values[0]); // one minute so far: a flat line, not nothing
      const max = Math.max(info.los_bounds_per_m2[3], ...values, 0.1);
      trend.appendChild(sparkline([{ values: values }], max));
      const day = cell(tr, "", "day");
      const hasDay = info.day && [...info.day.today, ...info.day.usual].some((v) => v !== null);
      if (!hasDay) day.textContent = "—";
      else {
        const dmax = Math.max(info.los_bounds_per_m2[3], ...info.day.today.filter((v) => v !== null),
          ...info.day.usual.filter((v) => v !== null), 0.1);
        day.appendChild(sparkline([{ values: info.day.usual, dashed: true }, { values: info.day.today }], dmax));
      }
      body.appendChild(tr);
    }
    if (latest && latest.timestamp) {
      const time = st.section.querySelector(".station-updated");
      const when = new Date(latest.timestamp * 1000);
      time.dateTime = when.toISOString();
      time.textContent = when.toLocaleTimeString(lang === "ja" ? "ja-JP" : "en-GB");
    }
  }

  function alertText(st, a) {
    const zone = st.zones[a.zone] ? st.zones[a.zone].name[lang] : a.zone;
    const when = new Date(a.raised_at * 1000).toLocaleTimeString(lang === "ja" ? "ja-JP" : "en-GB");
    let text = `${when} ${zone}: ${T.levels[a.level]} (${a.density_per_m2.toFixed(2)}/m²)`;
    if (!a.active) text += ` · ${T.cleared}`;
    if (a.acknowledged_by) text += ` · ${T.acked(a.acknowledged_by)}`;
    return text;
  }

  function renderAlerts(st) {
    const list = st.section.querySelector("ul.alerts");
    list.replaceChildren();
    const alerts = Object.values(st.alerts).sort((a, b) => (b.active - a.active) || (b.id - a.id));
    if (!alerts.length) {
      const li = document.createElement("li");
      li.className = "none";
      li.textContent = T.noAlerts;
      list.appendChild(li);
      return;
    }
    for (const a of alerts) {
      const li = document.createElement("li");
      li.dataset.alert = a.id;
      li.className = [a.active ? "active" : "cleared", a.acknowledged_by ? "acknowledged" : ""].join(" ").trim();
      const span = document.createElement("span");
      span.textContent = alertText(st, a);
      li.appendChild(span);
      if (!a.acknowledged_by) {
        const button = document.createElement("button");
        button.type = "button";
        button.className = "ack";
        button.textContent = T.ack;
        button.setAttribute("aria-label", `${T.ack}: ${span.textContent}`);
        button.addEventListener("click", () => acknowledge(st, a.id, button));
        li.append(" ", button);
      }
      list.appendChild(li);
    }
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

  function renderCameras(st) {
    const body = st.section.querySelector("table.cameras tbody");
    body.replaceChildren();
    for (const c of Object.values(st.cameras)) {
      const tr = document.createElement("tr");
      tr.dataset.camera = c.camera;
      const th = document.createElement("th");
      th.scope = "row";
      th.textContent = c.camera;
      tr.appendChild(th);
      cell(tr, T.states[c.state] || c.state, `state state-${c.state}`);
      cell(tr, c.fps === null ? "—" : String(c.fps));
      cell(tr, c.last_frame_age_s === null ? "—" : String(c.last_frame_age_s));
      cell(tr, (c.error_text && c.error_text[lang]) || c.error || "");
      body.appendChild(tr);
    }
  }

  async function load(id) {
    const section = document.getElementById(`station-${id}`);
    section.querySelector(".alerts-title").textContent = T.alerts;
    section.querySelector(".zones-title").textContent = T.zonesTitle;
    section.querySelector(".cameras-title").textContent = T.camerasTitle;
    header(section.querySelector("table.zones"),
      [T.zone, T.count, T.density, T.los, T.level, T.usual, T.trend, lang === "ja" ? "今日といつも" : "Today vs usual"]);
    header(section.querySelector("table.cameras"), [T.camera, T.state, T.fps, T.age, T.error]);
    const state = await (await fetch(`/staff/api/stations/${encodeURIComponent(id)}`)).json();
    const st = { id, section, zones: {}, alerts: {}, cameras: {}, latest: state.latest, staleAfter: state.stale_after_s };
    for (const z of state.zones) st.zones[z.id] = z;
    for (const a of state.alerts) st.alerts[a.id] = a;
    for (const c of state.cameras) st.cameras[c.camera] = c;
    stations[id] = st;
    renderZones(st, st.latest);
    renderAlerts(st);
    renderCameras(st);
    try {
      const day = await (await fetch(`/staff/api/stations/${encodeURIComponent(id)}/day`)).json();
      for (const z of day.zones) if (st.zones[z.id]) st.zones[z.id].day = z;
      renderZones(st, st.latest);
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
    const ids = root.dataset.stations.split(",").filter(Boolean);
    const socket = io("/staff", { transports: ["websocket", "polling"], tryAllTransports: true });
    window.crowdmapStaff = { socket: socket, loaded: false };
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
      st.latest = payload;
      // The last-hour trend is refreshed from the server once a minute; the table updates live.
      renderZones(st, payload);
    });
    socket.on("alert", (alert) => {
      const st = stations[alert.station];
      if (!st) return;
      st.alerts[alert.id] = alert;
      renderAlerts(st);
    });
    socket.on("camera", (camera) => {
      const st = stations[camera.station];
      if (!st) return;
      st.cameras[camera.camera] = camera;
      renderCameras(st);
    });
    setInterval(async () => {
      for (const id of Object.keys(stations)) {
        const state = await (await fetch(`/staff/api/stations/${encodeURIComponent(id)}`)).json();
        for (const z of state.zones) {
          const day = stations[id].zones[z.id] && stations[id].zones[z.id].day;
          stations[id].zones[z.id] = Object.assign(z, { day });
        }
        renderZones(stations[id], stations[id].latest);
      }
    }, 60000);
  }

  document.addEventListener("DOMContentLoaded", start);
})();
