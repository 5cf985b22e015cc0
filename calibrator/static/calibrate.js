// The operator's calibration page: click matching points on the camera still and on the plan,
// see each pair's residual and leave-one-out error, the floor grid on the image and the camera's
// coverage on the plan, then save. All fitting happens on the server (/api/preview), so the page
// never shows a number the saved calibration would not have.
//
// Pairs are made one at a time: while a pair has only one of its points, a click on the other
// pane completes it and a click on the same pane moves its point, so a pair can never take a
// point meant for another. A click outside the plan is refused, visibly. Both panes zoom (wheel,
// buttons, +/-) and pan (drag an empty spot); the plan shows the cursor's coordinates in metres,
// the station's plan drawing and landmarks (a click near one takes its exact coordinates), and
// plan coordinates measured on site can be typed in.
"use strict";

(function () {
  const SVG_NS = "http://www.w3.org/2000/svg";
  const tool = document.getElementById("tool");
  const lang = tool.dataset.lang === "ja" ? "ja" : "en";
  const T = window.CALIBRATOR_I18N[lang];
  const csrfToken = document.getElementById("csrf-token").content;
  const imageView = document.getElementById("image-view");
  const planView = document.getElementById("plan-view");
  const tableBody = document.querySelector("#pairs-table tbody");
  const statusBox = document.getElementById("status");
  const nextStep = document.getElementById("next-step");
  const summary = document.getElementById("summary");
  const saveButton = document.getElementById("save-button");
  const saveMessage = document.getElementById("save-message");
  const imageWidth = Number(imageView.dataset.width);
  const imageHeight = Number(imageView.dataset.height);
  const MARKER_PX = 7;
  const SNAP_PX = 10;
  const DRAG_PX = 5;
  const MAX_ZOOM = 16;
  const LANDMARK_NAMES_PX_PER_M = 12;

  // pairs[i] = {image_px: [u, v] | null, floor_m: [x, y] | null}; at most one is incomplete.
  const state = {
    pairs: [], selected: -1, preview: null, previewFor: [], floor: null, maxErrorM: 0.5, drag: null, stored: null,
    kind: "", landmarks: [], refusal: "",
  };
  // Each pane's view: its full extent and the current window onto it (user units).
  const views = { image: null, plan: null };
  let previewSequence = 0;
  let previewTimer = null;
  let refusalTimer = null;

  function el(name, attributes, parent) {
    const node = document.createElementNS(SVG_NS, name);
    for (const [key, value] of Object.entries(attributes || {})) node.setAttribute(key, value);
    if (parent) parent.appendChild(node);
    return node;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  function svgPoint(svg, event) {
    const point = svg.createSVGPoint();
    point.x = event.clientX;
    point.y = event.clientY;
    return point.matrixTransform(svg.getScreenCTM().inverse());
  }

  function round(value, decimals) {
    const factor = 10 ** decimals;
    return Math.round(value * factor) / factor;
  }

  function fmt(value, decimals) {
    return value === null || value === undefined ? "–" : value.toFixed(decimals);
  }

  function complete(pair) {
    return pair.image_px !== null && pair.floor_m !== null;
  }

  function pendingIndex() {
    return state.pairs.findIndex((pair) => !complete(pair));
  }

  async function api(path, body) {
    const response = await fetch(path, {
      method: body === undefined ? "GET" : "POST",
      credentials: "same-origin",
      headers: body === undefined ? {} : { "Content-Type": "application/json", "X-CSRFToken": csrfToken },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (response.status === 401) {
      window.location.assign("/login");
      throw new Error("logged out");
    }
    const data = await response.json();
    return { ok: response.ok, status: response.status, data: data };
  }

  // ---- zoom and pan ----------------------------------------------------------------------

  function setView(side, view) {
    const v = views[side];
    const svg = side === "image" ? imageView : planView;
    // Never smaller than 1/MAX_ZOOM of the whole, never larger than it, never off it.
    const w = Math.min(v.full.w, Math.max(v.full.w / MAX_ZOOM, view.w));
    const h = (w * v.full.h) / v.full.w;
    const x = Math.min(Math.max(view.x, v.full.x), v.full.x + v.full.w - w);
    const y = Math.min(Math.max(view.y, v.full.y), v.full.y + v.full.h - h);
    v.current = { x, y, w, h };
    svg.setAttribute("viewBox", [x, y, w, h].join(" "));
    drawPoints();
  }

  function zoomAt(side, factor, at) {
    const v = views[side];
    if (!v) return;
    const c = v.current;
    const [cx, cy] = at || [c.x + c.w / 2, c.y + c.h / 2];
    const w = c.w / factor;
    const h = c.h / factor;
    setView(side, { x: cx - ((cx - c.x) * w) / c.w, y: cy - ((cy - c.y) * h) / c.h, w, h });
  }

  // User units (pixels of the image, metres of the plan) per screen pixel, at the current zoom.
  function unitsPerPixel(side) {
    const svg = side === "image" ? imageView : planView;
    const ctm = svg.getScreenCTM();
    return ctm && ctm.a ? 1 / ctm.a : 1;
  }

  function attachZoom(side, svg) {
    svg.addEventListener("wheel", function (event) {
      event.preventDefault();
      const p = svgPoint(svg, event);
      zoomAt(side, Math.exp(-event.deltaY / 400), [p.x, p.y]);
    }, { passive: false });
    const tools = document.querySelector(`.zoom[data-view="${svg.id}"]`);
    tools.querySelector(".zoom-in").addEventListener("click", () => zoomAt(side, 1.6));
    tools.querySelector(".zoom-out").addEventListener("click", () => zoomAt(side, 1 / 1.6));
    tools.querySelector(".zoom-reset").addEventListener("click", () => setView(side, views[side].full));
    svg.tabIndex = 0;
    svg.addEventListener("keydown", function (event) {
      if (event.key === "+" || event.key === "=") zoomAt(side, 1.6);
      else if (event.key === "-") zoomAt(side, 1 / 1.6);
      else if (event.key === "0") setView(side, views[side].full);
      else return;
      event.preventDefault();
    });
  }

  // ---- drawing -------------------------------------------------------------------------

  function residualClass(index) {
    const preview = state.preview;
    const row = state.previewFor.indexOf(index);
    if (!preview || row < 0 || preview.residuals_m[row] === null) return "point";
    const residual = preview.residuals_m[row];
    if (residual > state.maxErrorM) return "point bad";
    if (residual > state.maxErrorM / 2) return "point warn";
    return "point good";
  }

  function drawPoints() {
    const imageLayer = document.getElementById("image-points");
    const planLayer = document.getElementById("plan-points");
    clear(imageLayer);
    clear(planLayer);
    // Markers keep their size on screen whatever the zoom.
    const imageRadius = MARKER_PX * unitsPerPixel("image");
    const planRadius = MARKER_PX * unitsPerPixel("plan");
    function marker(xy, radius, side, css, index, layer) {
      const group = el("g", { class: css, "data-index": index, "data-side": side }, layer);
      el("circle", { cx: xy[0], cy: xy[1], r: radius, id: side + "-point-" + index }, group);
      const label = el("text", { x: xy[0] + radius * 1.3, y: xy[1] - radius * 1.3, "font-size": radius * 2.4 }, group);
      label.textContent = String(index + 1);
    }
    state.pairs.forEach(function (pair, index) {
      const selected = index === state.selected ? " selected" : "";
      const pending = complete(pair) ? "" : " pending";
      const css = residualClass(index) + selected + pending;
      if (pair.image_px) marker(pair.image_px, imageRadius, "image", css, index, imageLayer);
      if (pair.floor_m) marker(pair.floor_m, planRadius, "plan", css, index, planLayer);
    });
    drawLandmarks();
    const zoneNames = document.getElementById("plan-zone-labels");
    if (zoneNames) zoneNames.setAttribute("font-size", 11 * planRadius / MARKER_PX);
  }

  function drawLandmarks() {
    const layer = document.getElementById("plan-landmarks");
    if (!layer) return;
    clear(layer);
    const s = unitsPerPixel("plan");
    for (const lm of state.landmarks) {
      const [x, y] = lm.point_m;
      const d = 6 * s;
      const g = el("g", { class: "landmark" }, layer);
      el("polygon", { points: [[x, y - d], [x + d, y], [x, y + d], [x - d, y]].map((p) => p.join(",")).join(" ") }, g);
      // Names only where the plan is large enough on screen; the cursor readout names any landmark.
      if (1 / s >= LANDMARK_NAMES_PX_PER_M) {
        const t = el("text", { x: x + d * 1.4, y: y + d * 0.5, "font-size": 12 * s }, g);
        t.textContent = lm.label[lang];
      }
      el("title", {}, g).textContent = lm.label[lang];
    }
  }

  function drawPreviewLayers() {
    const gridLayer = document.getElementById("image-grid");
    const coverageLayer = document.getElementById("plan-coverage");
    const residualLayer = document.getElementById("plan-residuals");
    clear(gridLayer);
    clear(coverageLayer);
    clear(residualLayer);
    const preview = state.preview;
    // Until the clicked pairs fit, show the stored calibration (dashed) so it can be judged too.
    const overlay = preview && preview.grid_px.length ? preview : state.stored;
    const overlayClass = overlay === state.stored ? "stored" : "";
    gridLayer.setAttribute("class", "grid " + overlayClass);
    coverageLayer.setAttribute("class", "coverage " + overlayClass);
    if (overlay && document.getElementById("show-grid").checked) {
      for (const line of overlay.grid_px) {
        el("polyline", { points: line.map((p) => p.join(",")).join(" ") }, gridLayer);
      }
    }
    if (overlay && document.getElementById("show-coverage").checked) {
      for (const polygon of overlay.coverage_m) {
        el("polygon", { points: polygon.map((p) => p.join(",")).join(" ") }, coverageLayer);
      }
    }
    if (!preview) return;
    // Where each clicked image point lands on the plan, joined to its plan point: the residual.
    preview.projected_floor_m.forEach(function (landed, row) {
      const pair = state.pairs[state.previewFor[row]];
      if (!landed || landed[0] === null || !pair || !pair.floor_m) return;
      el("line", { x1: pair.floor_m[0], y1: pair.floor_m[1], x2: landed[0], y2: landed[1], class: "residual" }, residualLayer);
    });
  }

  function drawPlan(floor, zones) {
    const base = document.getElementById("plan-base");
    clear(base);
    const [width, height] = floor.size_m;
    const margin = Math.max(width, height) * 0.03;
    views.plan = { full: { x: -margin, y: -margin, w: width + 2 * margin, h: height + 2 * margin } };
    // The pane takes the plan's proportions, but no flatter than 4:3, so a long plan has height
    // to zoom into (and no taller than square).
    const aspect = Math.min(Math.max((width + 2 * margin) / (height + 2 * margin), 1), 4 / 3);
    planView.style.aspectRatio = String(aspect);
    setView("plan", views.plan.full);
    el("rect", { x: 0, y: 0, width: width, height: height, class: "plan-outline" }, base);
    const polygonPoints = (points) => points.map((p) => p.join(",")).join(" ");
    const drawn = Boolean(floor.plan_image_url);
    document.getElementById("drawing-toggle").hidden = !drawn;
    const shapes = el("g", { class: drawn ? "plan-shapes over-drawing" : "plan-shapes" }, base);
    for (const area of floor.walkable_m) el("polygon", { points: polygonPoints(area), class: "walkable" }, shapes);
    if (drawn) {
      // The station's own drawing, stretched over the plan rectangle, under everything else.
      el("image", { href: floor.plan_image_url, x: 0, y: 0, width: width, height: height, preserveAspectRatio: "none",
        id: "plan-drawing", class: "plan-drawing" }, base);
      base.appendChild(shapes);
    }
    for (const area of floor.obstacles_m) el("polygon", { points: polygonPoints(area), class: "obstacle" }, shapes);
    for (const zone of zones) el("polygon", { points: polygonPoints(zone.polygon_m), class: "zone" }, shapes);
    for (const feature of floor.features) {
      el("polygon", { points: polygonPoints(feature.polygon_m), class: "feature feature-" + feature.kind }, shapes);
    }
    // Zone names at a fixed size on screen (drawPoints sizes them for the zoom).
    const names = el("g", { id: "plan-zone-labels" }, shapes);
    for (const zone of zones) {
      const xs = zone.polygon_m.map((p) => p[0]);
      const ys = zone.polygon_m.map((p) => p[1]);
      const label = el("text", { x: (Math.min(...xs) + Math.max(...xs)) / 2, y: (Math.min(...ys) + Math.max(...ys)) / 2,
        class: "zone-label", "text-anchor": "middle" }, names);
      label.textContent = (zone.names && zone.names[lang]) || zone.name;
    }
    el("g", { id: "plan-landmarks", class: "landmarks" }, base);
    // A 1 m reference grid (5 m lines stronger) so the operator can read plan coordinates.
    const grid = document.getElementById("plan-grid");
    clear(grid);
    const step = Math.max(width, height) > 80 ? 5 : 1;
    for (let x = 0; x <= width + 1e-9; x += step) {
      el("line", { x1: x, y1: 0, x2: x, y2: height, class: Math.round(x) % 5 === 0 ? "major" : "minor" }, grid);
    }
    for (let y = 0; y <= height + 1e-9; y += step) {
      el("line", { x1: 0, y1: y, x2: width, y2: y, class: Math.round(y) % 5 === 0 ? "major" : "minor" }, grid);
    }
  }

  function drawTable() {
    clear(tableBody);
    state.pairs.forEach(function (pair, index) {
      const row = document.createElement("tr");
      row.id = "pair-row-" + index;
      row.className = [index === state.selected ? "selected" : "", complete(pair) ? "" : "pending"].join(" ").trim();
      const previewRow = state.previewFor.indexOf(index);
      const preview = state.preview;
      const residual = preview && previewRow >= 0 ? preview.residuals_m[previewRow] : null;
      const loo = preview && previewRow >= 0 ? preview.loo_errors_m[previewRow] : null;
      const cells = [
        String(index + 1),
        pair.image_px ? pair.image_px.map((v) => v.toFixed(1)).join(", ") : T.clickImage,
        pair.floor_m ? pair.floor_m.map((v) => v.toFixed(2)).join(", ") : T.clickPlan,
        fmt(residual, 3),
        fmt(loo, 3),
      ];
      cells.forEach(function (text, column) {
        const cell = document.createElement("td");
        cell.textContent = text;
        if (column === 1 && !pair.image_px) cell.className = "missing";
        if (column === 2 && !pair.floor_m) cell.className = "missing";
        if (column === 3) cell.className = "residual-cell" + (residual !== null && residual > state.maxErrorM ? " bad" : "");
        if (column === 4) cell.className = "loo-cell" + (loo !== null && loo > state.maxErrorM ? " bad" : "");
        row.appendChild(cell);
      });
      const action = document.createElement("td");
      const remove = document.createElement("button");
      remove.type = "button";
      remove.textContent = T.deletePair;
      remove.id = "delete-" + index;
      remove.className = "delete";
      remove.addEventListener("click", function (event) {
        event.stopPropagation();
        deletePair(index);
      });
      action.appendChild(remove);
      row.appendChild(action);
      row.addEventListener("click", function () {
        state.selected = index;
        redraw();
      });
      tableBody.appendChild(row);
    });
  }

  // What to do next, said in the words of the table: the pending pair's missing side, or a new pair.
  function drawNextStep() {
    const pending = pendingIndex();
    nextStep.className = state.refusal ? "next-step refused" : "next-step";
    if (state.refusal) nextStep.textContent = state.refusal;
    else if (pending < 0) nextStep.textContent = T.start(state.pairs.length + 1);
    else if (state.pairs[pending].floor_m === null) nextStep.textContent = T.nowPlan(pending + 1);
    else nextStep.textContent = T.nowImage(pending + 1);
    const target = typeTarget();
    document.getElementById("type-target").textContent =
      target.create ? T.typeNext(state.pairs.length + 1) : T.typeTarget(target.index + 1);
  }

  function drawSummary() {
    const preview = state.preview;
    const completeCount = state.pairs.filter(complete).length;
    statusBox.className = "status";
    if (!preview) {
      statusBox.textContent = "";
      summary.textContent = state.stored ? T.stored(state.kind, state.stored.grid_step_m) : "";
      if (state.kind === "camera_model") summary.textContent += " " + T.replacesModel;
    } else if (preview.error) {
      statusBox.className = "status error";
      statusBox.textContent = T.cannotSave + T.fitError(preview.error);
      statusBox.title = preview.error;
    } else {
      statusBox.className = "status ok";
      statusBox.textContent = T.accepted;
    }
    if (preview && preview.rms_error_m !== null) {
      summary.textContent = T.summary(completeCount, fmt(preview.rms_error_m, 3), preview.max_error_m,
        fmt(preview.loo_rms_error_m, 3), preview.grid_step_m);
    }
    if (preview && preview.detector_range) {
      // How tall people look with this fit, and where the camera's detector finds people that size.
      summary.textContent += " · " + preview.detector_range.summary_text[lang];
    }
    if (preview && !preview.error) {
      // A pair whose leave-one-out error is over the limit is the only one holding that part of
      // the image: the fit there rests on a single click.
      const weak = [];
      preview.loo_errors_m.forEach(function (loo, row) {
        if (loo !== null && loo > preview.max_error_m) weak.push("#" + (state.previewFor[row] + 1));
      });
      if (weak.length) {
        statusBox.className = "status warn";
        statusBox.textContent = T.weak(weak.join(", "), preview.max_error_m);
      }
    }
    const incomplete = state.pairs.some((pair) => !complete(pair));
    saveButton.disabled = !(preview && !preview.error) || incomplete;
  }

  function redraw() {
    drawPreviewLayers();
    drawPoints();
    drawTable();
    drawNextStep();
    drawSummary();
  }

  // ---- preview -------------------------------------------------------------------------

  function completePairs() {
    const indices = [];
    const pairs = [];
    state.pairs.forEach(function (pair, index) {
      if (complete(pair)) {
        indices.push(index);
        pairs.push({ image_px: pair.image_px, floor_m: pair.floor_m });
      }
    });
    return { indices: indices, pairs: pairs };
  }

  async function runPreview() {
    const { indices, pairs } = completePairs();
    const sequence = ++previewSequence;
    if (pairs.length === 0) {
      state.preview = null;
      state.previewFor = [];
      redraw();
      return;
    }
    const result = await api("/api/preview", { pairs: pairs });
    if (sequence !== previewSequence) return; // a newer edit is already being fitted
    if (!result.ok) {
      state.preview = null;
      statusBox.className = "status error";
      statusBox.textContent = result.data.error || T.previewFailed;
      return;
    }
    state.preview = result.data;
    state.previewFor = indices;
    redraw();
  }

  function schedulePreview() {
    saveMessage.textContent = "";
    state.preview = null;
    redraw();
    clearTimeout(previewTimer);
    previewTimer = setTimeout(runPreview, 120);
  }

  // ---- editing -------------------------------------------------------------------------

  function refuse(text, side, at) {
    state.refusal = text;
    const layer = document.getElementById("plan-refused");
    clear(layer);
    if (side === "plan" && at) {
      // A red cross where the refused click landed, for a moment.
      const d = 8 * unitsPerPixel("plan");
      const g = el("g", { class: "refused-mark", id: "refused-mark" }, layer);
      el("line", { x1: at[0] - d, y1: at[1] - d, x2: at[0] + d, y2: at[1] + d }, g);
      el("line", { x1: at[0] - d, y1: at[1] + d, x2: at[0] + d, y2: at[1] - d }, g);
    }
    drawNextStep();
    clearTimeout(refusalTimer);
    refusalTimer = setTimeout(function () {
      state.refusal = "";
      clear(layer);
      drawNextStep();
    }, 6000);
  }

  function place(side, coordinates) {
    const key = side === "image" ? "image_px" : "floor_m";
    state.refusal = "";
    clear(document.getElementById("plan-refused"));
    let index = pendingIndex();
    // The pending pair takes the click: on its missing side it is completed, on the side it has
    // it is moved. A new pair starts only when every pair is complete.
    if (index < 0) {
      state.pairs.push({ image_px: null, floor_m: null });
      index = state.pairs.length - 1;
    }
    state.pairs[index][key] = coordinates;
    state.selected = index;
    schedulePreview();
  }

  function deletePair(index) {
    state.pairs.splice(index, 1);
    state.selected = -1;
    schedulePreview();
  }

  function insideImage(p) {
    return p.x >= 0 && p.y >= 0 && p.x <= imageWidth && p.y <= imageHeight;
  }

  function insidePlan(x, y) {
    const [width, height] = state.floor.size_m;
    return x >= 0 && y >= 0 && x <= width && y <= height;
  }

  function imageCoordinates(event) {
    const point = svgPoint(imageView, event);
    return [round(Math.min(Math.max(point.x, 0), imageWidth), 1), round(Math.min(Math.max(point.y, 0), imageHeight), 1)];
  }

  // A plan click near a landmark takes the landmark's exact coordinates.
  function snapToLandmark(x, y) {
    const reach = SNAP_PX * unitsPerPixel("plan");
    let best = null;
    for (const lm of state.landmarks) {
      const d = Math.hypot(lm.point_m[0] - x, lm.point_m[1] - y);
      if (d <= reach && (!best || d < best.d)) best = { d, point: lm.point_m };
    }
    return best ? best.point.slice() : null;
  }

  function planCoordinates(event) {
    const point = svgPoint(planView, event);
    return [round(point.x, 3), round(point.y, 3)];
  }

  function attachView(svg, side) {
    const key = side === "image" ? "image_px" : "floor_m";
    let press = null;
    svg.addEventListener("pointerdown", function (event) {
      if (event.button !== 0) return;
      const group = event.target.closest("g[data-index]");
      svg.setPointerCapture(event.pointerId);
      if (group && group.dataset.side === side) {
        state.drag = { index: Number(group.dataset.index), side: side, moved: false };
        state.selected = state.drag.index;
        event.preventDefault();
        return;
      }
      // An empty spot: a click places a point, a drag pans the view.
      press = { x: event.clientX, y: event.clientY, view: Object.assign({}, views[side].current), panning: false,
        unit: unitsPerPixel(side) };
    });
    svg.addEventListener("pointermove", function (event) {
      showCursor(side, event);
      if (state.drag && state.drag.side === side) {
        const point = svgPoint(svg, event);
        if (side === "plan" && !insidePlan(point.x, point.y)) return; // a point stays on the plan
        state.pairs[state.drag.index][key] = side === "image" ? imageCoordinates(event) : planCoordinates(event);
        state.drag.moved = true;
        drawPoints();
        return;
      }
      if (!press) return;
      const dx = event.clientX - press.x;
      const dy = event.clientY - press.y;
      if (!press.panning && Math.hypot(dx, dy) < DRAG_PX) return;
      press.panning = true;
      const s = press.unit;
      setView(side, { x: press.view.x - dx * s, y: press.view.y - dy * s, w: press.view.w, h: press.view.h });
    });
    svg.addEventListener("pointerleave", function () {
      document.getElementById(side + "-cursor").textContent = "";
    });
    svg.addEventListener("pointerup", function (event) {
      if (state.drag && state.drag.side === side) {
        const moved = state.drag.moved;
        state.drag = null;
        if (moved) schedulePreview();
        else redraw();
        return;
      }
      const wasPress = press;
      press = null;
      if (!wasPress || wasPress.panning || event.button !== 0) return;
      if (side === "image") {
        if (!insideImage(svgPoint(imageView, event))) { refuse(T.outsideImage, side, null); return; }
        place(side, imageCoordinates(event));
        return;
      }
      if (!state.floor) return;
      const [x, y] = planCoordinates(event);
      const snapped = snapToLandmark(x, y);
      if (snapped) { place(side, snapped); return; }
      if (!insidePlan(x, y)) {
        // Refused, visibly; the pending pair keeps waiting for its plan point.
        refuse(T.outsidePlan(state.floor.size_m[0], state.floor.size_m[1]), side, [x, y]);
        return;
      }
      place(side, [x, y]);
    });
  }

  function showCursor(side, event) {
    const out = document.getElementById(side + "-cursor");
    const p = svgPoint(side === "image" ? imageView : planView, event);
    if (side === "image") {
      out.textContent = T.cursorImage(p.x.toFixed(0), p.y.toFixed(0));
      return;
    }
    if (!state.floor) return;
    const snapped = snapToLandmark(p.x, p.y);
    if (snapped) {
      const lm = state.landmarks.find((l) => l.point_m[0] === snapped[0] && l.point_m[1] === snapped[1]);
      out.textContent = `${T.cursorPlan(snapped[0].toFixed(2), snapped[1].toFixed(2))} · ${T.landmark(lm.label[lang])}`;
    } else if (insidePlan(p.x, p.y)) out.textContent = T.cursorPlan(p.x.toFixed(2), p.y.toFixed(2));
    else out.textContent = T.cursorOutside;
  }

  // Typed plan coordinates go to the pending pair's plan point, else to the selected pair's,
  // else they start a new pair.
  function typeTarget() {
    const pending = pendingIndex();
    if (pending >= 0 && state.pairs[pending].floor_m === null) return { index: pending, create: false };
    if (pending < 0 && state.selected >= 0 && state.selected < state.pairs.length) return { index: state.selected, create: false };
    if (pending >= 0) return { index: pending, create: false };
    return { index: -1, create: true };
  }

  document.getElementById("type-form").addEventListener("submit", function (event) {
    event.preventDefault();
    const x = Number.parseFloat(document.getElementById("type-x").value);
    const y = Number.parseFloat(document.getElementById("type-y").value);
    if (!Number.isFinite(x) || !Number.isFinite(y)) { refuse(T.typedInvalid, "plan", null); return; }
    if (!state.floor || !insidePlan(x, y)) {
      refuse(T.typedOutside(state.floor.size_m[0], state.floor.size_m[1]), "plan", null);
      return;
    }
    const target = typeTarget();
    const point = [round(x, 3), round(y, 3)];
    if (target.create || state.pairs[target.index].floor_m === null) place("plan", point);
    else {
      state.pairs[target.index].floor_m = point;
      state.selected = target.index;
      schedulePreview();
    }
  });

  document.addEventListener("keydown", function (event) {
    if ((event.key === "Delete" || event.key === "Backspace") && state.selected >= 0 &&
        !(event.target instanceof HTMLInputElement)) {
      event.preventDefault();
      deletePair(state.selected);
    }
  });

  document.getElementById("show-grid").addEventListener("change", redraw);
  document.getElementById("show-coverage").addEventListener("change", redraw);
  document.getElementById("show-drawing").addEventListener("change", function (event) {
    const drawing = document.getElementById("plan-drawing");
    if (drawing) drawing.setAttribute("visibility", event.target.checked ? "visible" : "hidden");
  });

  saveButton.addEventListener("click", async function () {
    const { pairs } = completePairs();
    saveButton.disabled = true;
    saveMessage.className = "status";
    saveMessage.textContent = T.saving;
    const result = await api("/api/save", { pairs: pairs });
    if (result.ok) {
      saveMessage.className = "status ok";
      saveMessage.textContent = T.saved(pairs.length, result.data.camera_file, result.data.backup_file);
    } else {
      saveMessage.className = "status error";
      saveMessage.textContent = result.data.error ? T.fitError(result.data.error) : T.saveFailed;
    }
    drawSummary();
  });

  document.getElementById("refresh-still").addEventListener("click", async function () {
    const result = await api("/api/still", {});
    if (!result.ok) {
      statusBox.className = "status error";
      statusBox.textContent = result.data.error;
      return;
    }
    // A new URL, so the browser fetches the new still instead of reusing the old one in the page.
    document.getElementById("still").setAttribute("href", "/still.jpg?t=" + encodeURIComponent(result.data.grabbed_at));
  });

  async function loadState() {
    const result = await api("/api/state");
    const data = result.data;
    state.floor = data.floor;
    state.maxErrorM = data.camera.max_error_m;
    state.stored = data.stored;
    state.kind = data.camera.calibration_kind;
    state.landmarks = data.floor.landmarks || [];
    state.pairs = data.pairs.map((pair) => ({ image_px: pair.image_px, floor_m: pair.floor_m }));
    state.selected = -1;
    state.refusal = "";
    document.getElementById("plan-name").textContent = "(" + data.floor.name[lang] + ", " +
      data.floor.size_m[0] + " × " + data.floor.size_m[1] + " m)";
    drawPlan(data.floor, data.zones);
    if (data.camera.calibration_error) {
      statusBox.className = "status error";
      statusBox.textContent = T.storedBroken + data.camera.calibration_error;
    }
    schedulePreview();
  }

  views.image = { full: { x: 0, y: 0, w: imageWidth, h: imageHeight } };
  views.image.current = Object.assign({}, views.image.full);
  document.getElementById("reset-button").addEventListener("click", loadState);
  attachView(imageView, "image");
  attachView(planView, "plan");
  attachZoom("image", imageView);
  attachZoom("plan", planView);
  window.addEventListener("resize", drawPoints);
  window.calibrator = { state: state, views: views };
  loadState();
})();
