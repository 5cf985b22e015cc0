// The floor plan renderer shared by the public map and the staff dashboard: one FloorView per
// floor draws the plan (from /api/v1/stations/<id>/plan) into an <svg>, shows each frame's dots
// and zone levels, and places the zone labels at a legible size whatever the zoom.
//
// Labels are sized in screen pixels, not metres: at least MIN_LABEL_PX tall on any screen. A
// label is shown only where it fits inside its own zone, inside the plan and the view, clear of
// every other label; a zone whose label does not fit gets a numbered badge instead (the number
// of its row in the list), and a tap or Enter on any zone opens a callout with its name and
// level. Zoom (buttons, pinch, Ctrl+wheel, +/- keys) gives small zones room for their words.
"use strict";
(function () {
  const SVG = "http://www.w3.org/2000/svg";
  const LABEL_PX = 14;
  const MIN_LABEL_PX = 12;
  const FEATURE_PX = 11;
  const BADGE_R_PX = 11;
  const PAD_PX = 2;
  const MAX_ZOOM = 8;
  const TAP_SLOP_PX = 8;
  // Shifts of a label from its anchor, in label widths and heights (the anchor stays under the
  // label), nearest first.
  const STEPS = Array.from({ length: 19 }, (_, i) => (i - 9) / 20);
  const SHIFTS = STEPS.flatMap((fx) => STEPS.map((fy) => [fx, fy]))
    .sort((a, b) => Math.hypot(a[0], a[1]) - Math.hypot(b[0], b[1]));

  function el(tag, attrs, parent) {
    const node = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    if (parent) parent.appendChild(node);
    return node;
  }

  function points(poly) {
    return poly.map((p) => `${p[0]},${p[1]}`).join(" ");
  }

  function ringsPath(polygons) {
    let d = "";
    for (const rings of polygons) for (const ring of rings) d += "M" + ring.map((p) => `${p[0]},${p[1]}`).join("L") + "Z";
    return d;
  }

  // ---- plane geometry (plan metres) -----------------------------------------------------

  function pointInPolygon(x, y, poly) {
    let inside = false;
    for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
      const [xi, yi] = poly[i];
      const [xj, yj] = poly[j];
      if ((yi > y) !== (yj > y) && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
    }
    return inside;
  }

  function cross(ax, ay, bx, by, cx, cy) {
    return (bx - ax) * (cy - ay) - (by - ay) * (cx - ax);
  }

  function segmentsCross(a, b, c, d) {
    const d1 = cross(c[0], c[1], d[0], d[1], a[0], a[1]);
    const d2 = cross(c[0], c[1], d[0], d[1], b[0], b[1]);
    const d3 = cross(a[0], a[1], b[0], b[1], c[0], c[1]);
    const d4 = cross(a[0], a[1], b[0], b[1], d[0], d[1]);
    return ((d1 > 0) !== (d2 > 0)) && ((d3 > 0) !== (d4 > 0));
  }

  // A rectangle {x, y, w, h} lies inside a simple polygon: its corners inside, no edge crossing.
  function rectInPolygon(r, poly) {
    const corners = [[r.x, r.y], [r.x + r.w, r.y], [r.x + r.w, r.y + r.h], [r.x, r.y + r.h]];
    if (!corners.every(([x, y]) => pointInPolygon(x, y, poly))) return false;
    for (let i = 0; i < poly.length; i++) {
      const a = poly[i];
      const b = poly[(i + 1) % poly.length];
      for (let k = 0; k < 4; k++) if (segmentsCross(a, b, corners[k], corners[(k + 1) % 4])) return false;
    }
    return true;
  }

  function rectInRect(r, outer) {
    return r.x >= outer.x && r.y >= outer.y && r.x + r.w <= outer.x + outer.w && r.y + r.h <= outer.y + outer.h;
  }

  function rectsOverlap(a, b) {
    return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
  }

  function grow(r, by) {
    return { x: r.x - by, y: r.y - by, w: r.w + 2 * by, h: r.h + 2 * by };
  }

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

  function bounds(poly) {
    const xs = poly.map((p) => p[0]);
    const ys = poly.map((p) => p[1]);
    const x = Math.min(...xs), y = Math.min(...ys);
    return { x, y, w: Math.max(...xs) - x, h: Math.max(...ys) - y };
  }

  // Where a zone name may break over two lines: before a parenthesis, at the space nearest the
  // middle, after a "・", or (Japanese without either) in the middle. null: keep it on one line.
  function splitName(name) {
    const paren = name.search(/[(（]/);
    if (paren > 0) return [name.slice(0, paren).trim(), name.slice(paren)];
    const spaces = [...name.matchAll(/ /g)].map((m) => m.index);
    if (spaces.length) {
      const at = spaces.reduce((best, i) => (Math.abs(i - name.length / 2) < Math.abs(best - name.length / 2) ? i : best));
      return [name.slice(0, at), name.slice(at + 1)];
    }
    const dot = name.indexOf("・");
    if (dot > 0 && dot < name.length - 1) return [name.slice(0, dot + 1), name.slice(dot + 1)];
    if (name.length >= 6) return [name.slice(0, Math.ceil(name.length / 2)), name.slice(Math.ceil(name.length / 2))];
    return null;
  }

  // A name on one line, then on two, then on three (the longer half broken again).
  function nameLayouts(name) {
    const layouts = [[name]];
    const two = splitName(name);
    if (!two) return layouts;
    layouts.push(two);
    const longer = two[0].length >= two[1].length ? 0 : 1;
    const again = splitName(two[longer]);
    if (again) layouts.push(longer === 0 ? [...again, two[1]] : [two[0], ...again]);
    return layouts;
  }

  let uid = 0;

  /**
   * One floor of a station, drawn into `svg`.
   *
   * options: lang, T (texts of static/i18n.js), idPrefix (for ids, "" on the public map),
   * numbers ({zoneId: number shown in badges and the list}), tall (let the plan use the
   * screen's height on a narrow screen), onSelect (zone id or null, when a callout opens/closes).
   */
  function FloorView(svg, floor, options) {
    this.svg = svg;
    this.floor = floor;
    this.lang = options.lang;
    this.T = options.T;
    this.prefix = options.idPrefix || "";
    this.numbers = options.numbers || {};
    this.tall = Boolean(options.tall);
    this.zoom = 1;
    this.centre = [floor.size_m[0] / 2, floor.size_m[1] / 2];
    this.zones = {}; // id -> {zone, g, area, label, badge, state}
    this.busier = {};
    this.state = {}; // id -> latest public zone state
    this.dots = [];
    this.selected = null;
    this.uid = ++uid;
    this.build();
  }

  FloorView.prototype.id = function (name) {
    return this.prefix + name;
  };

  FloorView.prototype.build = function () {
    const svg = this.svg;
    const floor = this.floor;
    const [w, h] = floor.size_m;
    const wrap = svg.parentElement;
    wrap.classList.add("plan-view");
    svg.setAttribute("preserveAspectRatio", "xMidYMid meet");
    svg.setAttribute("tabindex", "0");
    const defs = el("defs", {}, svg);
    this.hatch = el("pattern", { id: `hatch-${this.uid}`, patternUnits: "userSpaceOnUse", width: 1, height: 1,
      patternTransform: "rotate(45)" }, defs);
    this.hatchBg = el("rect", { class: "hatch-bg", x: 0, y: 0, width: 1, height: 1 }, this.hatch);
    this.hatchLine = el("rect", { class: "hatch-line", x: 0, y: 0, width: 0.5, height: 1 }, this.hatch);
    this.dotted = el("pattern", { id: `uncovered-${this.uid}`, patternUnits: "userSpaceOnUse", width: 1, height: 1 }, defs);
    this.dottedBg = el("rect", { class: "uncovered-bg", x: 0, y: 0, width: 1, height: 1 }, this.dotted);
    this.dottedDot = el("circle", { class: "uncovered-dot", cx: 0.5, cy: 0.5, r: 0.15 }, this.dotted);

    const base = el("g", { class: "base" }, svg);
    el("rect", { x: 0, y: 0, width: w, height: h, class: "ground" }, base);
    for (const poly of floor.walkable_m) el("polygon", { points: points(poly), class: "walkable" }, base);
    for (const poly of floor.obstacles_m) el("polygon", { points: points(poly), class: "obstacle" }, base);
    this.features = [];
    for (const f of floor.features) {
      el("polygon", { points: points(f.polygon_m), class: `feature feature-${f.kind}` }, base);
      if (f.label) this.features.push(f);
    }
    this.zoneLayer = el("g", { class: "zones" }, svg);
    if (floor.uncovered_m && floor.uncovered_m.length) {
      el("path", { class: "uncovered", d: ringsPath(floor.uncovered_m), "fill-rule": "evenodd",
        fill: `url(#uncovered-${this.uid})`, id: this.id(`uncovered-${floor.id}`) }, svg);
    }
    this.dotLayer = el("g", { class: "dots", id: this.id(`dots-${floor.id}`) }, svg);
    this.featureLabels = el("g", { class: "feature-labels", "aria-hidden": "true" }, svg);
    this.labelLayer = el("g", { class: "zone-labels" }, svg);
    for (const f of this.features) {
      const [x, y] = centroid(f.polygon_m);
      const text = el("text", { x, y, class: "feature-label", "dominant-baseline": "central" }, this.featureLabels);
      text.textContent = f.label[this.lang];
      f.text = text;
      f.box = bounds(f.polygon_m);
    }
    for (const z of floor.zones) {
      const g = el("g", { class: "zone stale", id: this.id(`zone-${z.id}`), "data-zone": z.id, tabindex: "0",
        role: "button" }, this.zoneLayer);
      const area = el("polygon", { points: points(z.polygon_m), class: "zone-area", fill: `url(#hatch-${this.uid})` }, g);
      const [ax, ay] = z.label_m || centroid(z.polygon_m);
      const label = el("text", { x: ax, y: ay, class: "zone-label", id: this.id(`label-${z.id}`), "data-zone": z.id,
        "data-anchor-x": ax, "data-anchor-y": ay, "aria-hidden": "true" }, this.labelLayer);
      const name = el("tspan", { x: ax, class: "zone-name", "dominant-baseline": "central" }, label);
      const name2 = el("tspan", { x: ax, class: "zone-name", "dominant-baseline": "central" }, label);
      const name3 = el("tspan", { x: ax, class: "zone-name", "dominant-baseline": "central" }, label);
      const names = nameLayouts(z.name[this.lang]);
      const level = el("tspan", { x: ax, class: "zone-level", "dominant-baseline": "central" }, label);
      level.textContent = this.T.noData;
      const busier = el("tspan", { x: ax, class: "zone-busier", "dominant-baseline": "central" }, label);
      const badge = el("g", { class: "badge", id: this.id(`badge-${z.id}`), "data-zone": z.id, "aria-hidden": "true" },
        this.labelLayer);
      el("circle", { cx: ax, cy: ay, r: 1 }, badge);
      const number = el("text", { x: ax, y: ay, "dominant-baseline": "central", "text-anchor": "middle" }, badge);
      number.textContent = String(this.numbers[z.id] || "");
      this.zones[z.id] = { zone: z, g, area, label, nameLines: [name, name2, name3], names, level, busier, badge, anchor: [ax, ay] };
      g.addEventListener("keydown", (e) => {
        if (e.key === "Enter" || e.key === " ") { e.preventDefault(); this.select(z.id, null, true); }
      });
      this.describe(z.id);
    }
    this.callout = document.createElement("div");
    this.callout.className = "callout";
    this.callout.hidden = true;
    this.callout.setAttribute("role", "dialog");
    this.callout.setAttribute("aria-modal", "false");
    this.callout.tabIndex = -1;
    this.callout.id = this.id(`callout-${floor.id}`);
    wrap.appendChild(this.callout);
    this.controls = document.createElement("div");
    this.controls.className = "zoom-controls";
    for (const [cls, text, label, act] of [
      ["zoom-in", "+", this.T.zoomIn, () => this.zoomBy(1.6)],
      ["zoom-out", "−", this.T.zoomOut, () => this.zoomBy(1 / 1.6)],
      ["zoom-reset", "⤢", this.T.zoomReset, () => this.resetView()],
    ]) {
      const b = document.createElement("button");
      b.type = "button";
      b.className = cls;
      b.textContent = text;
      b.setAttribute("aria-label", label);
      b.title = label;
      b.addEventListener("click", act);
      this.controls.appendChild(b);
    }
    wrap.appendChild(this.controls);
    this.attachGestures();
    this.observer = new ResizeObserver(() => this.relayout());
    this.observer.observe(wrap);
  };

  // ---- view: size, zoom and pan ---------------------------------------------------------

  FloorView.prototype.visible = function () {
    return this.svg.getClientRects().length > 0 && this.svg.parentElement.clientWidth > 0;
  };

  // The box the plan gets on screen: the plan's own proportions; zoomed in on a narrow screen, at
  // least three quarters as tall as wide, so the zoomed plan uses the screen's height; never
  // taller than most of the screen.
  FloorView.prototype.boxSize = function () {
    const [w, h] = this.floor.size_m;
    const boxW = this.svg.parentElement.clientWidth;
    let boxH = (boxW * h) / w;
    const screenH = window.innerHeight || 800;
    if (this.tall && boxW < 640 && this.zoom > 1.001) boxH = Math.max(boxH, Math.min(0.45 * screenH, 0.75 * boxW));
    boxH = Math.min(boxH, 0.75 * screenH);
    return [boxW, Math.max(80, Math.round(boxH))];
  };

  FloorView.prototype.fullView = function (aspect) {
    const [w, h] = this.floor.size_m;
    if (w / h >= aspect) return { w, h: w / aspect };
    return { w: h * aspect, h };
  };

  FloorView.prototype.applyView = function () {
    const [boxW, boxH] = this.boxSize();
    this.svg.style.height = `${boxH}px`;
    const full = this.fullView(boxW / boxH);
    const vw = full.w / this.zoom;
    const vh = full.h / this.zoom;
    const [w, h] = this.floor.size_m;
    const clamp = (c, size, total) => (size >= total ? total / 2 : Math.min(Math.max(c, size / 2), total - size / 2));
    this.centre = [clamp(this.centre[0], vw, w), clamp(this.centre[1], vh, h)];
    this.view = { x: this.centre[0] - vw / 2, y: this.centre[1] - vh / 2, w: vw, h: vh };
    this.scale = boxW / vw; // screen pixels per metre
    this.svg.setAttribute("viewBox", `${this.view.x} ${this.view.y} ${vw} ${vh}`);
    this.svg.classList.toggle("zoomed", this.zoom > 1.001);
    this.controls.querySelector(".zoom-out").disabled = this.zoom <= 1.001;
    this.controls.querySelector(".zoom-reset").disabled = this.zoom <= 1.001;
    this.controls.querySelector(".zoom-in").disabled = this.zoom >= MAX_ZOOM - 1e-3;
  };

  FloorView.prototype.zoomBy = function (factor, atPlan) {
    const before = this.zoom;
    this.zoom = Math.min(MAX_ZOOM, Math.max(1, this.zoom * factor));
    if (atPlan) {
      // Keep the plan point under the fingers (or the pointer) where it is.
      const k = before / this.zoom;
      this.centre = [atPlan[0] + (this.centre[0] - atPlan[0]) * k, atPlan[1] + (this.centre[1] - atPlan[1]) * k];
    }
    this.relayout();
  };

  FloorView.prototype.resetView = function () {
    this.zoom = 1;
    this.centre = [this.floor.size_m[0] / 2, this.floor.size_m[1] / 2];
    this.relayout();
  };

  FloorView.prototype.toPlan = function (clientX, clientY) {
    const box = this.svg.getBoundingClientRect();
    return [this.view.x + (clientX - box.left) / this.scale, this.view.y + (clientY - box.top) / this.scale];
  };

  FloorView.prototype.attachGestures = function () {
    const svg = this.svg;
    const pointers = new Map();
    let pinch = null;
    let pan = null;
    let moved = false;
    svg.addEventListener("pointerdown", (e) => {
      if (e.pointerType === "mouse" && e.button !== 0) return;
      pointers.set(e.pointerId, [e.clientX, e.clientY]);
      svg.setPointerCapture(e.pointerId);
      moved = false;
      if (pointers.size === 2) {
        const [a, b] = [...pointers.values()];
        pinch = { distance: Math.hypot(a[0] - b[0], a[1] - b[1]), zoom: this.zoom };
        pan = null;
      } else if (pointers.size === 1) {
        pan = { start: [e.clientX, e.clientY], centre: this.centre.slice() };
      }
    });
    svg.addEventListener("pointermove", (e) => {
      if (!pointers.has(e.pointerId)) return;
      pointers.set(e.pointerId, [e.clientX, e.clientY]);
      if (pinch && pointers.size === 2) {
        const [a, b] = [...pointers.values()];
        const distance = Math.hypot(a[0] - b[0], a[1] - b[1]);
        const mid = this.toPlan((a[0] + b[0]) / 2, (a[1] + b[1]) / 2);
        this.zoomBy((pinch.zoom * distance) / pinch.distance / this.zoom, mid);
        moved = true;
      } else if (pan && this.zoom > 1.001) {
        const dx = e.clientX - pan.start[0];
        const dy = e.clientY - pan.start[1];
        if (Math.hypot(dx, dy) > TAP_SLOP_PX) moved = true;
        if (moved) {
          this.centre = [pan.centre[0] - dx / this.scale, pan.centre[1] - dy / this.scale];
          this.relayout();
        }
      }
    });
    const end = (e) => {
      const wasTap = pointers.size === 1 && !moved && !pinch;
      pointers.delete(e.pointerId);
      if (pointers.size < 2) pinch = null;
      if (pointers.size === 0) pan = null;
      if (wasTap && e.type === "pointerup") this.tap(e);
    };
    svg.addEventListener("pointerup", end);
    svg.addEventListener("pointercancel", end);
    svg.addEventListener("wheel", (e) => {
      // Ctrl+wheel (a trackpad pinch) zooms; a plain wheel keeps scrolling the page.
      if (!e.ctrlKey) return;
      e.preventDefault();
      this.zoomBy(Math.exp(-e.deltaY / 300), this.toPlan(e.clientX, e.clientY));
    }, { passive: false });
    svg.addEventListener("keydown", (e) => {
      if (e.target !== svg) return;
      if (e.key === "+" || e.key === "=") this.zoomBy(1.6);
      else if (e.key === "-") this.zoomBy(1 / 1.6);
      else if (e.key === "0") this.resetView();
      else if (this.zoom > 1.001 && e.key.startsWith("Arrow")) {
        const step = 40 / this.scale;
        const d = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] }[e.key];
        this.centre = [this.centre[0] + d[0], this.centre[1] + d[1]];
        this.relayout();
      } else return;
      e.preventDefault();
    });
    document.addEventListener("keydown", (e) => {
      if (e.key === "Escape" && !this.callout.hidden) {
        const id = this.selected;
        const inside = this.callout.contains(document.activeElement);
        this.select(null);
        if (inside && this.zones[id]) this.zones[id].g.focus();
      }
    });
  };

  FloorView.prototype.tap = function (e) {
    const target = document.elementFromPoint(e.clientX, e.clientY);
    const hit = target && target.closest("[data-zone]");
    let zoneId = hit && this.svg.contains(hit) ? hit.getAttribute("data-zone") : null;
    if (!zoneId) {
      const [x, y] = this.toPlan(e.clientX, e.clientY);
      for (const [id, z] of Object.entries(this.zones)) if (pointInPolygon(x, y, z.zone.polygon_m)) zoneId = id;
    }
    this.select(zoneId, zoneId ? this.toPlan(e.clientX, e.clientY) : null, false);
  };

  // ---- zone state, labels and the callout -----------------------------------------------

  FloorView.prototype.levelWord = function (state) {
    if (!state || state.stale) return this.T.noData;
    return this.T.levels[state.level];
  };

  FloorView.prototype.isBusier = function (id) {
    const state = this.state[id];
    const from = this.busier[id];
    return Boolean(state && !state.stale && from !== null && from !== undefined && state.density_per_m2 >= from);
  };

  FloorView.prototype.describe = function (id) {
    const z = this.zones[id];
    let text = `${z.zone.name[this.lang]}: ${this.levelWord(this.state[id])}`;
    if (this.isBusier(id)) text += ` (${this.T.busier})`;
    z.g.setAttribute("aria-label", text);
  };

  // Open the callout of a zone (null closes it), next to `atPlan` (plan metres) or the zone's
  // label anchor; `focus` moves the keyboard focus into it (opened from the keyboard).
  FloorView.prototype.select = function (id, atPlan, focus) {
    const box = this.callout;
    if (this.selected && this.zones[this.selected]) this.zones[this.selected].g.classList.remove("selected");
    if (!id) {
      box.hidden = true;
      this.selected = null;
      return;
    }
    this.selected = id;
    this.calloutAt = atPlan || this.zones[id].anchor;
    this.zones[id].g.classList.add("selected");
    box.replaceChildren();
    const title = document.createElement("p");
    title.className = "callout-name";
    title.id = this.id(`callout-title-${this.floor.id}`);
    box.setAttribute("aria-labelledby", title.id);
    const level = document.createElement("p");
    const busier = document.createElement("p");
    busier.className = "callout-busier";
    const close = document.createElement("button");
    close.type = "button";
    close.className = "callout-close";
    close.textContent = "×";
    close.setAttribute("aria-label", this.T.close);
    close.addEventListener("click", () => {
      this.select(null);
      if (this.zones[id]) this.zones[id].g.focus();
    });
    box.append(title, level, busier, close);
    this.calloutParts = { title, level, busier };
    this.refreshCallout();
    box.hidden = false;
    this.positionCallout();
    if (focus) box.focus();
  };

  FloorView.prototype.refreshCallout = function () {
    const id = this.selected;
    if (!id || !this.calloutParts) return;
    const { title, level, busier } = this.calloutParts;
    const state = this.state[id];
    const number = this.numbers[id];
    title.textContent = (number ? `${number}. ` : "") + this.zones[id].zone.name[this.lang];
    level.className = state && !state.stale ? `callout-level level-${state.level}` : "callout-level stale";
    level.textContent = this.levelWord(state);
    busier.textContent = this.isBusier(id) ? `▲ ${this.T.busier}` : "";
    busier.hidden = !this.isBusier(id);
  };

  FloorView.prototype.positionCallout = function () {
    const box = this.callout;
    if (box.hidden || !this.view) return;
    const wrap = this.svg.parentElement;
    const cx = this.svg.offsetLeft + (this.calloutAt[0] - this.view.x) * this.scale;
    const cy = this.svg.offsetTop + (this.calloutAt[1] - this.view.y) * this.scale;
    const w = box.offsetWidth;
    const hgt = box.offsetHeight;
    const left = Math.max(4, Math.min(cx - w / 2, wrap.clientWidth - w - 4));
    let top = cy - hgt - 12;
    if (top < 4) top = Math.min(cy + 12, wrap.clientHeight - hgt - 4);
    box.style.left = `${left}px`;
    box.style.top = `${Math.max(4, top)}px`;
  };

  // One floor of a public payload: dots and zone states (busier: {zoneId: density from which
  // the zone reads "busier than usual", null without enough history}).
  FloorView.prototype.update = function (floorPayload, busier) {
    if (busier) this.busier = busier;
    this.dots = floorPayload.dots;
    for (const zone of floorPayload.zones) {
      const z = this.zones[zone.id];
      if (!z) continue;
      this.state[zone.id] = zone;
      let cls = zone.stale ? "zone stale" : `zone level-${zone.level}`;
      if (this.isBusier(zone.id)) cls += " busier";
      if (this.selected === zone.id) cls += " selected";
      z.g.setAttribute("class", cls);
      z.level.textContent = this.levelWord(zone);
      z.busier.textContent = this.isBusier(zone.id) ? `▲ ${this.T.busier}` : "";
      z.badge.classList.toggle("busier", this.isBusier(zone.id));
      this.describe(zone.id);
    }
    this.drawDots();
    this.refreshCallout();
    this.relayout();
  };

  FloorView.prototype.drawDots = function () {
    if (!this.scale) return;
    // A person's own size where the map is big enough, never under 2.5 screen pixels.
    const r = Math.max(0.3, 2.5 / this.scale);
    this.dotLayer.setAttribute("stroke-width", r * 0.35);
    const fragment = document.createDocumentFragment();
    for (const [x, y, moving] of this.dots) {
      const c = document.createElementNS(SVG, "circle");
      c.setAttribute("cx", x);
      c.setAttribute("cy", y);
      c.setAttribute("r", r);
      c.setAttribute("class", moving ? "dot moving" : "dot stopped");
      fragment.appendChild(c);
    }
    this.dotLayer.replaceChildren(fragment);
    this.dotR = r;
  };

  FloorView.prototype.setLines = function (z, sizeM, names, withBusier, at) {
    z.nameLines.forEach((tspan, i) => {
      tspan.textContent = i < names.length ? names[i] : "";
      tspan.setAttribute("display", i < names.length ? "inline" : "none");
    });
    const lines = [...z.nameLines.slice(0, names.length), z.level];
    if (withBusier) lines.push(z.busier);
    z.busier.setAttribute("display", withBusier ? "inline" : "none");
    const lineH = sizeM * 1.2;
    const [ax, ay] = at || z.anchor;
    z.label.setAttribute("font-size", sizeM);
    lines.forEach((tspan, i) => {
      tspan.setAttribute("x", ax);
      tspan.setAttribute("y", ay + (i - (lines.length - 1) / 2) * lineH);
    });
  };

  // Place every label for the current size and zoom (see the top of this file).
  FloorView.prototype.relayout = function () {
    if (!this.visible()) return;
    this.applyView();
    const s = this.scale;
    const pad = PAD_PX / s;
    const [w, h] = this.floor.size_m;
    const plan = { x: 0, y: 0, w, h };
    const room = { x: Math.max(plan.x, this.view.x), y: Math.max(plan.y, this.view.y) };
    room.w = Math.min(plan.x + plan.w, this.view.x + this.view.w) - room.x;
    room.h = Math.min(plan.y + plan.h, this.view.y + this.view.h) - room.y;
    for (const p of [this.hatch, this.dotted]) { p.setAttribute("width", 8 / s); p.setAttribute("height", 8 / s); }
    for (const r of [this.hatchBg, this.dottedBg]) { r.setAttribute("width", 8 / s); r.setAttribute("height", 8 / s); }
    this.hatchLine.setAttribute("width", 3.5 / s);
    this.hatchLine.setAttribute("height", 8 / s);
    this.dottedDot.setAttribute("cx", 4 / s);
    this.dottedDot.setAttribute("cy", 4 / s);
    this.dottedDot.setAttribute("r", 1.3 / s);
    if (Math.abs((this.dotR || 0) - Math.max(0.3, 2.5 / s)) > 1e-6) this.drawDots();
    const placed = [];
    // Biggest zones first: they have the most room, and their words matter to the most people.
    const order = Object.values(this.zones).sort((a, b) => bounds(b.zone.polygon_m).w * bounds(b.zone.polygon_m).h -
      bounds(a.zone.polygon_m).w * bounds(a.zone.polygon_m).h);
    for (const z of order) {
      const busier = this.isBusier(z.zone.id);
      let shown = false;
      const fits = (box) => rectInPolygon(box, z.zone.polygon_m) && rectInRect(box, room) &&
        !placed.some((p) => rectsOverlap(p, box));
      search: for (const px of [LABEL_PX, MIN_LABEL_PX]) {
        for (const names of z.names) {
          this.setLines(z, px / s, names, busier);
          z.label.removeAttribute("display");
          const b = z.label.getBBox();
          const box = grow({ x: b.x, y: b.y, w: b.width, h: b.height }, pad);
          // At the anchor, else shifted by up to half its size, as long as it still covers the
          // anchor: a label may lean away from an edge of its zone, never leave the zone.
          for (const [fx, fy] of SHIFTS) {
            const dx = fx * b.width;
            const dy = fy * b.height;
            const moved = { x: box.x + dx, y: box.y + dy, w: box.w, h: box.h };
            if (!fits(moved)) continue;
            if (dx || dy) this.setLines(z, px / s, names, busier, [z.anchor[0] + dx, z.anchor[1] + dy]);
            placed.push(moved);
            shown = true;
            break search;
          }
        }
      }
      z.label.setAttribute("display", shown ? "inline" : "none");
      z.label.classList.toggle("placed", shown);
      // No room for words: the zone's number, whose row in the list (and callout) says the rest.
      const r = BADGE_R_PX / s;
      const circle = z.badge.querySelector("circle");
      const number = z.badge.querySelector("text");
      circle.setAttribute("r", r);
      number.setAttribute("font-size", MIN_LABEL_PX / s);
      const badgeBox = grow({ x: z.anchor[0] - r, y: z.anchor[1] - r, w: 2 * r, h: 2 * r }, pad);
      const badge = !shown && Boolean(this.numbers[z.zone.id]) && rectInRect(badgeBox, room) &&
        !placed.some((p) => rectsOverlap(p, badgeBox));
      if (badge) placed.push(badgeBox);
      z.badge.setAttribute("display", badge ? "inline" : "none");
      z.badge.classList.toggle("placed", badge);
    }
    // Feature names (shops, exits) only where they fit their shape and leave the zones' words clear.
    for (const f of this.features) {
      f.text.setAttribute("font-size", FEATURE_PX / s);
      f.text.removeAttribute("display");
      const b = f.text.getBBox();
      const box = grow({ x: b.x, y: b.y, w: b.width, h: b.height }, pad);
      const fits = b.width <= f.box.w + 2 * pad && rectInRect(box, room) && !placed.some((p) => rectsOverlap(p, box));
      if (fits) placed.push(box);
      f.text.setAttribute("display", fits ? "inline" : "none");
    }
    this.positionCallout();
  };

  window.CrowdmapPlan = { FloorView, pointInPolygon, rectInPolygon };
})();
