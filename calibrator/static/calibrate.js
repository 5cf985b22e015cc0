// The operator's calibration page: click matching points on the camera still and on the plan,
// see each pair's residual and leave-one-out error, the floor grid on the image and the camera's
// coverage on the plan, then save. All fitting happens on the server (/api/preview), so the page
// never shows a number the saved calibration would not have.
"use strict";

(function () {
  const SVG_NS = "http://www.w3.org/2000/svg";
  const csrfToken = document.getElementById("csrf-token").content;
  const imageView = document.getElementById("image-view");
  const planView = document.getElementById("plan-view");
  const tableBody = document.querySelector("#pairs-table tbody");
  const statusBox = document.getElementById("status");
  const summary = document.getElementById("summary");
  const saveButton = document.getElementById("save-button");
  const saveMessage = document.getElementById("save-message");
  const imageWidth = Number(imageView.dataset.width);
  const imageHeight = Number(imageView.dataset.height);

  // pairs[i] = {image_px: [u, v] | null, floor_m: [x, y] | null}
  const state = {
    pairs: [], selected: -1, preview: null, previewFor: [], floor: null, maxErrorM: 0.5, drag: null, stored: null, kind: "",
  };
  let previewSequence = 0;
  let previewTimer = null;

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
    const imageRadius = Math.max(imageWidth, imageHeight) / 110;
    const planSize = state.floor ? Math.max(state.floor.size_m[0], state.floor.size_m[1]) : 10;
    const planRadius = planSize / 90;
    // One numbered marker; the image side is in pixels, the plan side in metres.
    function marker(xy, radius, side, css, index, layer) {
      const group = el("g", { class: css, "data-index": index, "data-side": side }, layer);
      el("circle", { cx: xy[0], cy: xy[1], r: radius, id: side + "-point-" + index }, group);
      const label = el("text", { x: xy[0] + radius * 1.3, y: xy[1] - radius * 1.3, "font-size": radius * 2.6 }, group);
      label.textContent = String(index + 1);
    }
    state.pairs.forEach(function (pair, index) {
      const selected = index === state.selected ? " selected" : "";
      const css = residualClass(index) + selected;
      if (pair.image_px) marker(pair.image_px, imageRadius, "image", css, index, imageLayer);
      if (pair.floor_m) marker(pair.floor_m, planRadius, "plan", css, index, planLayer);
    });
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
    planView.setAttribute("viewBox", [-margin, -margin, width + 2 * margin, height + 2 * margin].join(" "));
    el("rect", { x: 0, y: 0, width: width, height: height, class: "plan-outline" }, base);
    const polygonPoints = (points) => points.map((p) => p.join(",")).join(" ");
    for (const area of floor.walkable_m) el("polygon", { points: polygonPoints(area), class: "walkable" }, base);
    for (const area of floor.obstacles_m) el("polygon", { points: polygonPoints(area), class: "obstacle" }, base);
    for (const zone of zones) {
      el("polygon", { points: polygonPoints(zone.polygon_m), class: "zone" }, base);
    }
    for (const feature of floor.features) {
      el("polygon", { points: polygonPoints(feature.polygon_m), class: "feature feature-" + feature.kind }, base);
    }
    // A 1 m reference grid (5 m lines stronger) so the operator can read plan coordinates.
    const step = Math.max(width, height) > 80 ? 5 : 1;
    const grid = el("g", { class: "plan-grid" }, base);
    for (let x = 0; x <= width + 1e-9; x += step) {
      el("line", { x1: x, y1: 0, x2: x, y2: height, class: Math.round(x) % 5 === 0 ? "major" : "minor" }, grid);
    }
    for (let y = 0; y <= height + 1e-9; y += step) {
      el("line", { x1: 0, y1: y, x2: width, y2: y, class: Math.round(y) % 5 === 0 ? "major" : "minor" }, grid);
    }
    const fontSize = Math.max(width, height) / 45;
    for (const zone of zones) {
      const xs = zone.polygon_m.map((p) => p[0]);
      const ys = zone.polygon_m.map((p) => p[1]);
      const label = el("text", { x: (Math.min(...xs) + Math.max(...xs)) / 2, y: (Math.min(...ys) + Math.max(...ys)) / 2,
        "font-size": fontSize, class: "zone-label", "text-anchor": "middle" }, base);
      label.textContent = zone.name;
    }
  }

  function drawTable() {
    clear(tableBody);
    state.pairs.forEach(function (pair, index) {
      const row = document.createElement("tr");
      row.id = "pair-row-" + index;
      if (index === state.selected) row.className = "selected";
      const previewRow = state.previewFor.indexOf(index);
      const preview = state.preview;
      const residual = preview && previewRow >= 0 ? preview.residuals_m[previewRow] : null;
      const loo = preview && previewRow >= 0 ? preview.loo_errors_m[previewRow] : null;
      const cells = [
        String(index + 1),
        pair.image_px ? pair.image_px.map((v) => v.toFixed(1)).join(", ") : "click the image",
        pair.floor_m ? pair.floor_m.map((v) => v.toFixed(2)).join(", ") : "click the plan",
        fmt(residual, 3),
        fmt(loo, 3),
      ];
      cells.forEach(function (text, column) {
        const cell = document.createElement("td");
        cell.textContent = text;
        if (column === 3) cell.className = "residual-cell" + (residual !== null && residual > state.maxErrorM ? " bad" : "");
        if (column === 4) cell.className = "loo-cell" + (loo !== null && loo > state.maxErrorM ? " bad" : "");
        row.appendChild(cell);
      });
      const action = document.createElement("td");
      const remove = document.createElement("button");
      remove.type = "button";
      remove.textContent = "Delete";
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

  function drawSummary() {
    const preview = state.preview;
    const completeCount = state.pairs.filter(complete).length;
    statusBox.className = "status";
    if (!preview) {
      statusBox.textContent = completeCount === 0 ? "Click a point on the image or the plan to start." : "";
      summary.textContent = state.stored ? "Dashed: the stored calibration (" + state.kind + "), grid every " +
        state.stored.grid_step_m + " m." : "";
      if (state.kind === "camera_model") {
        summary.textContent += " Saving point pairs replaces this camera model (its lens is kept).";
      }
    } else if (preview.error) {
      statusBox.className = "status error";
      statusBox.textContent = "Cannot save: " + preview.error;
    } else {
      statusBox.className = "status ok";
      statusBox.textContent = "Fit accepted.";
    }
    if (preview && preview.rms_error_m !== null) {
      summary.textContent = completeCount + " pairs · RMS residual " + fmt(preview.rms_error_m, 3) + " m (limit " +
        preview.max_error_m + " m) · leave-one-out RMS " + fmt(preview.loo_rms_error_m, 3) + " m · grid every " +
        preview.grid_step_m + " m";
    }
    if (preview && preview.detector_range) {
      // How tall people look with this fit, and where the camera's detector finds people that size.
      summary.textContent += " · " + preview.detector_range.summary;
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
        statusBox.textContent = "Fit accepted, but it rests on single points there: add pairs near " +
          weak.join(", ") + " (leave-one-out error above " + preview.max_error_m + " m).";
      }
    }
    const incomplete = state.pairs.some((pair) => !complete(pair));
    saveButton.disabled = !(preview && !preview.error) || incomplete;
  }

  function redraw() {
    drawPreviewLayers();
    drawPoints();
    drawTable();
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
      statusBox.textContent = result.data.error || "preview failed";
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

  function place(side, coordinates) {
    const key = side === "image" ? "image_px" : "floor_m";
    let index = state.pairs.findIndex((pair) => pair[key] === null);
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

  function imageCoordinates(event) {
    const point = svgPoint(imageView, event);
    return [round(Math.min(Math.max(point.x, 0), imageWidth), 1), round(Math.min(Math.max(point.y, 0), imageHeight), 1)];
  }

  function planCoordinates(event) {
    const point = svgPoint(planView, event);
    const [width, height] = state.floor.size_m;
    return [round(Math.min(Math.max(point.x, 0), width), 3), round(Math.min(Math.max(point.y, 0), height), 3)];
  }

  function attachView(svg, side, toCoordinates) {
    const key = side === "image" ? "image_px" : "floor_m";
    svg.addEventListener("pointerdown", function (event) {
      const group = event.target.closest("g[data-index]");
      if (group && group.dataset.side === side) {
        state.drag = { index: Number(group.dataset.index), side: side, moved: false };
        state.selected = state.drag.index;
        svg.setPointerCapture(event.pointerId);
        event.preventDefault();
      }
    });
    svg.addEventListener("pointermove", function (event) {
      if (!state.drag || state.drag.side !== side) return;
      state.pairs[state.drag.index][key] = toCoordinates(event);
      state.drag.moved = true;
      drawPoints();
    });
    svg.addEventListener("pointerup", function (event) {
      if (state.drag && state.drag.side === side) {
        const moved = state.drag.moved;
        state.drag = null;
        if (moved) schedulePreview();
        else redraw();
        return;
      }
      if (event.button !== 0 || (side === "plan" && !state.floor)) return;
      place(side, toCoordinates(event));
    });
  }

  document.addEventListener("keydown", function (event) {
    if ((event.key === "Delete" || event.key === "Backspace") && state.selected >= 0 &&
        !(event.target instanceof HTMLInputElement)) {
      event.preventDefault();
      deletePair(state.selected);
    }
  });

  document.getElementById("show-grid").addEventListener("change", redraw);
  document.getElementById("show-coverage").addEventListener("change", redraw);

  saveButton.addEventListener("click", async function () {
    const { pairs } = completePairs();
    saveButton.disabled = true;
    saveMessage.className = "status";
    saveMessage.textContent = "Saving…";
    const result = await api("/api/save", { pairs: pairs });
    if (result.ok) {
      saveMessage.className = "status ok";
      saveMessage.textContent = "Saved " + pairs.length + " pairs to " + result.data.camera_file +
        " (previous version: " + result.data.backup_file + ").";
    } else {
      saveMessage.className = "status error";
      saveMessage.textContent = result.data.error || "save failed";
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
    state.pairs = data.pairs.map((pair) => ({ image_px: pair.image_px, floor_m: pair.floor_m }));
    state.selected = -1;
    document.getElementById("plan-name").textContent = "(" + data.floor.name.en + ", " +
      data.floor.size_m[0] + " × " + data.floor.size_m[1] + " m)";
    drawPlan(data.floor, data.zones);
    if (data.camera.calibration_error) {
      statusBox.className = "status error";
      statusBox.textContent = "The stored calibration does not load: " + data.camera.calibration_error;
    }
    schedulePreview();
  }

  document.getElementById("reset-button").addEventListener("click", loadState);
  attachView(imageView, "image", imageCoordinates);
  attachView(planView, "plan", planCoordinates);
  loadState();
})();
