// The edge operator console: plain JavaScript, no libraries, nothing loaded
// from outside this server. Pictures are the masked JPEGs of the API.
"use strict";

const $ = (sel, root = document) => root.querySelector(sel);
const el = (tag, props = {}, ...kids) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === "class") e.className = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else if (k === "text") e.textContent = v;
    else e.setAttribute(k, v);
  }
  for (const k of kids) if (k != null) e.append(k);
  return e;
};

async function api(method, path, body) {
  const opt = { method, headers: {} };
  if (body !== undefined) {
    opt.headers["Content-Type"] = "application/json";
    opt.body = JSON.stringify(body);
  }
  const r = await fetch(path, opt);
  let data = null;
  const ct = r.headers.get("Content-Type") || "";
  if (ct.startsWith("application/json")) data = await r.json();
  else data = { problems: [{ path: "", message: (await r.text()).trim() }] };
  return { ok: r.ok, status: r.status, data };
}

const state = { cameras: [], signs: [], view: "cameras", editor: null, timers: [] };

function stopTimers() {
  state.timers.forEach(clearInterval);
  state.timers = [];
}

// ---- routing ---------------------------------------------------------------

function route() {
  const h = location.hash.replace(/^#/, "") || "cameras";
  const [view, arg] = h.split("/");
  stopTimers();
  document.querySelectorAll(".view").forEach((v) => (v.hidden = true));
  document.querySelectorAll("nav a").forEach((a) => a.classList.toggle("active", a.dataset.view === view));
  state.view = view;
  if (view === "edit" && arg) return openEditor(decodeURIComponent(arg));
  const sec = $("#view-" + view) || $("#view-cameras");
  sec.hidden = false;
  ({ cameras: showCameras, events: showEvents, signage: showSignage, audit: showAudit }[view] || showCameras)();
}

// ---- camera grid -----------------------------------------------------------

function signBadge(s) {
  if (!s) return el("span", { class: "badge bad", text: "no camera sign" });
  const cls = s.status !== "valid" ? "bad" : s.days_left < 30 ? "warn" : "ok";
  const txt = s.status === "valid" ? `sign ${s.id}: ${s.days_left} days left` : `sign ${s.id}: ${s.status}`;
  return el("span", { class: "badge " + cls, text: txt });
}

function statusBadge(c) {
  const cls = c.status === "streaming" ? "ok" : c.status === "connecting" ? "warn" : "bad";
  return el("span", { class: "badge status " + cls, text: c.status, title: c.reason || "" });
}

// refresher keeps an <img> showing the camera's newest masked frame.
function refresher(img, id, onStatus) {
  let url = null;
  let busy = false;
  const tick = async () => {
    if (busy) return;
    busy = true;
    try {
      const r = await fetch(`/api/cameras/${encodeURIComponent(id)}/frame.jpg`, { cache: "no-store" });
      if (!r.ok) {
        onStatus && onStatus((await r.text()).trim());
        return;
      }
      const u = URL.createObjectURL(await r.blob());
      img.src = u;
      if (url) URL.revokeObjectURL(url);
      url = u;
      onStatus && onStatus("");
    } catch (e) {
      onStatus && onStatus("console unreachable");
    } finally {
      busy = false;
    }
  };
  tick();
  state.timers.push(setInterval(tick, 1000));
}

async function showCameras() {
  const r = await api("GET", "/api/cameras");
  if (!r.ok) return;
  state.cameras = r.data;
  const grid = $("#grid");
  grid.replaceChildren();
  for (const c of r.data) {
    const img = el("img", { alt: `masked view of ${c.id}` });
    const msg = el("p");
    const pic = el("div", { class: "pic" }, img, msg);
    img.hidden = !c.view_allowed;
    msg.textContent = c.view_allowed ? "" : c.view_reason;
    const stats = el("div", { class: "stats", text: `${c.width || "?"}x${c.height || "?"} · ${c.input_fps.toFixed(1)} fps · ${c.frames_masked} masked · ${c.frames_dropped} dropped` });
    const card = el("div", { class: "card", id: "cam-" + c.id },
      pic,
      el("div", { class: "body" },
        el("h2", {}, el("span", { text: c.id }), el("a", { href: "#edit/" + encodeURIComponent(c.id), class: "edit", text: "Edit zones" })),
        el("div", { class: "badges" }, statusBadge(c), signBadge(c.signage),
          ...c.zones.filter((z) => z.kind === "monitored").map((z) =>
            el("span", { class: "badge " + (z.detection_active ? "ok" : "warn"), text: `${z.id}: ${z.occupancy} ${z.detection_active ? "" : "(not analysed: sign " + z.signage_status + ")"}` }))),
        stats));
    grid.append(card);
    if (c.view_allowed) refresher(img, c.id, (m) => { msg.textContent = m; img.hidden = !!m; });
  }
  state.timers.push(setInterval(() => { if (state.view === "cameras") refreshCards(); }, 5000));
}

async function refreshCards() {
  const r = await api("GET", "/api/cameras");
  if (!r.ok) return;
  for (const c of r.data) {
    const card = $("#cam-" + CSS.escape(c.id));
    if (!card) continue;
    const badges = $(".badges", card);
    badges.replaceChildren(statusBadge(c), signBadge(c.signage),
      ...c.zones.filter((z) => z.kind === "monitored").map((z) =>
        el("span", { class: "badge " + (z.detection_active ? "ok" : "warn"), text: `${z.id}: ${z.occupancy}` })));
    $(".stats", card).textContent = `${c.width || "?"}x${c.height || "?"} · ${c.input_fps.toFixed(1)} fps · ${c.frames_masked} masked · ${c.frames_dropped} dropped`;
  }
}

// ---- zone editor -----------------------------------------------------------

const HIT = 9; // pixels (on screen) within which a click takes a vertex

async function openEditor(id) {
  $("#view-editor").hidden = false;
  const [cr, sr] = await Promise.all([api("GET", "/api/cameras/" + encodeURIComponent(id)), api("GET", "/api/signage")]);
  if (!cr.ok) {
    $("#ed-status").textContent = "camera not found";
    return;
  }
  state.signs = sr.ok ? sr.data : [];
  const cam = cr.data;
  const ed = {
    cam,
    zones: cam.zones.map((z) => ({ id: z.id, kind: z.kind, signage: z.signage || "", polygon: z.polygon.map((p) => [p[0], p[1]]), problems: [] })),
    sel: cam.zones.length ? 0 : -1,
    vertex: -1,
    drag: null,
    img: new Image(),
  };
  state.editor = ed;
  $("#ed-camera").textContent = cam.id;
  $("#ed-state").replaceChildren(statusBadge(cam), signBadge(cam.signage));
  $("#ed-status").textContent = "";
  $("#ed-general").replaceChildren();
  const nv = $("#ed-noview");
  nv.hidden = cam.view_allowed;
  nv.textContent = cam.view_allowed ? "" : "No picture: " + cam.view_reason;
  ed.img.onload = () => {
    const cv = $("#ed-canvas");
    if (cv.width !== ed.img.naturalWidth || cv.height !== ed.img.naturalHeight) {
      cv.width = ed.img.naturalWidth;
      cv.height = ed.img.naturalHeight;
    }
    draw();
  };
  if (cam.view_allowed) refresher(ed.img, cam.id, (m) => { if (m) { nv.hidden = false; nv.textContent = m; } else nv.hidden = true; });
  renderZones();
  draw();
}

function fillColour(cam) {
  const c = cam.mask_color || [0, 0, 0];
  return `rgb(${c[0]}, ${c[1]}, ${c[2]})`;
}

function draw() {
  const ed = state.editor;
  if (!ed) return;
  const cv = $("#ed-canvas");
  const g = cv.getContext("2d");
  const W = cv.width, H = cv.height;
  g.clearRect(0, 0, W, H);
  if (ed.img.complete && ed.img.naturalWidth) g.drawImage(ed.img, 0, 0, W, H);
  else { g.fillStyle = "#2a2f3a"; g.fillRect(0, 0, W, H); }
  const scale = W / cv.getBoundingClientRect().width || 1;
  ed.zones.forEach((z, i) => {
    const pts = z.polygon.map(([x, y]) => [x * W, y * H]);
    if (!pts.length) return;
    g.beginPath();
    pts.forEach(([x, y], k) => (k ? g.lineTo(x, y) : g.moveTo(x, y)));
    if (pts.length > 2) g.closePath();
    if (z.kind === "privacy") {
      // Drawn as the mask paints it: solid.
      g.fillStyle = fillColour(ed.cam);
      if (pts.length > 2) g.fill();
      g.strokeStyle = i === ed.sel ? "#ffb000" : "#ff5a4f";
    } else {
      g.fillStyle = "rgba(36, 86, 200, 0.18)";
      if (pts.length > 2) g.fill();
      g.strokeStyle = i === ed.sel ? "#ffb000" : "#4f8bff";
    }
    g.lineWidth = (i === ed.sel ? 3 : 2) * scale;
    g.stroke();
    if (i === ed.sel) {
      pts.forEach(([x, y], k) => {
        g.beginPath();
        g.arc(x, y, (k === ed.vertex ? 7 : 5) * scale, 0, 2 * Math.PI);
        g.fillStyle = k === ed.vertex ? "#ffb000" : "#fff";
        g.fill();
        g.strokeStyle = "#000";
        g.lineWidth = scale;
        g.stroke();
      });
    }
    g.fillStyle = "#fff";
    g.font = `${13 * scale}px system-ui, sans-serif`;
    g.fillText(z.id, pts[0][0] + 6 * scale, pts[0][1] + 16 * scale);
  });
}

function norm(ev) {
  const cv = $("#ed-canvas");
  const r = cv.getBoundingClientRect();
  const clamp = (v) => Math.min(1, Math.max(0, v));
  return [clamp((ev.clientX - r.left) / r.width), clamp((ev.clientY - r.top) / r.height), r];
}

function round(v) {
  return Math.round(v * 10000) / 10000;
}

function hitVertex(ev) {
  const ed = state.editor;
  if (ed.sel < 0) return -1;
  const [x, y, r] = norm(ev);
  const pts = ed.zones[ed.sel].polygon;
  for (let k = pts.length - 1; k >= 0; k--) {
    const dx = (pts[k][0] - x) * r.width, dy = (pts[k][1] - y) * r.height;
    if (dx * dx + dy * dy <= HIT * HIT) return k;
  }
  return -1;
}

function setupCanvas() {
  const cv = $("#ed-canvas");
  cv.addEventListener("mousedown", (ev) => {
    const ed = state.editor;
    if (!ed) return;
    cv.focus();
    const k = hitVertex(ev);
    if (k >= 0) {
      ed.vertex = k;
      ed.drag = { k, moved: false };
      draw();
      renderZones();
      return;
    }
    if (ed.sel < 0) newZone();
    const [x, y] = norm(ev);
    ed.zones[ed.sel].polygon.push([round(x), round(y)]);
    ed.vertex = ed.zones[ed.sel].polygon.length - 1;
    markDirty();
  });
  cv.addEventListener("mousemove", (ev) => {
    const ed = state.editor;
    if (!ed || !ed.drag) return;
    const [x, y] = norm(ev);
    ed.zones[ed.sel].polygon[ed.drag.k] = [round(x), round(y)];
    ed.drag.moved = true;
    markDirty();
  });
  window.addEventListener("mouseup", () => { if (state.editor) state.editor.drag = null; });
  cv.addEventListener("keydown", (ev) => {
    if (ev.key === "Delete" || ev.key === "Backspace") {
      deleteVertex();
      ev.preventDefault();
    }
  });
}

function deleteVertex() {
  const ed = state.editor;
  if (!ed || ed.sel < 0 || ed.vertex < 0) return;
  ed.zones[ed.sel].polygon.splice(ed.vertex, 1);
  ed.vertex = -1;
  markDirty();
}

function markDirty() {
  $("#ed-status").textContent = "unsaved changes";
  $("#ed-status").className = "";
  draw();
  renderZones();
}

function newZone() {
  const ed = state.editor;
  let n = ed.zones.length + 1;
  while (ed.zones.some((z) => z.id === "zone-" + n)) n++;
  ed.zones.push({ id: "zone-" + n, kind: "privacy", signage: "", polygon: [], problems: [] });
  ed.sel = ed.zones.length - 1;
  ed.vertex = -1;
  markDirty();
}

function renderZones() {
  const ed = state.editor;
  const box = $("#ed-zones");
  box.replaceChildren();
  ed.zones.forEach((z, i) => {
    const kind = el("select", { name: "kind" }, el("option", { value: "privacy", text: "privacy (painted over)" }), el("option", { value: "monitored", text: "monitored (analysed under a sign)" }));
    kind.value = z.kind;
    kind.addEventListener("change", () => { z.kind = kind.value; markDirty(); });
    const sign = el("select", { name: "signage" }, el("option", { value: "", text: "(no sign)" }), ...state.signs.map((s) => el("option", { value: s.id, text: `${s.id} (${s.status})` })));
    sign.value = z.signage;
    sign.disabled = z.kind !== "monitored";
    sign.addEventListener("change", () => { z.signage = sign.value; markDirty(); });
    const idIn = el("input", { name: "id", value: z.id, "aria-label": "zone id" });
    idIn.addEventListener("change", () => { z.id = idIn.value.trim(); markDirty(); });
    const del = el("button", { type: "button", class: "danger", text: "Delete zone" });
    del.addEventListener("click", (e) => { e.stopPropagation(); ed.zones.splice(i, 1); ed.sel = Math.min(ed.sel, ed.zones.length - 1); ed.vertex = -1; markDirty(); });
    const delPt = el("button", { type: "button", text: "Delete point" });
    delPt.disabled = !(i === ed.sel && ed.vertex >= 0);
    delPt.addEventListener("click", (e) => { e.stopPropagation(); deleteVertex(); });
    const pts = el("div", { class: "pts", text: z.polygon.length ? z.polygon.map(([x, y]) => `[${x.toFixed(4)}, ${y.toFixed(4)}]`).join(" ") : "no points yet: click on the picture" });
    const probs = el("ul", { class: "problems" }, ...z.problems.map(problemItem));
    const card = el("div", { class: "zone" + (i === ed.sel ? " selected" : ""), "data-zone": z.id },
      el("div", { class: "row" }, idIn, kind),
      el("div", { class: "row" }, el("span", { text: "sign" }), sign),
      pts,
      el("div", { class: "row" }, delPt, del),
      probs);
    card.addEventListener("click", () => { if (ed.sel !== i) { ed.sel = i; ed.vertex = -1; draw(); renderZones(); } });
    box.append(card);
  });
}

function problemItem(p) {
  return el("li", {}, el("span", { class: "msg", text: (p.path ? p.path + ": " : "") + p.message }), p.fix ? el("span", { class: "fix", text: "fix: " + p.fix }) : null);
}

// zoneOf finds which zone a problem path names: by id, or by #index.
function zoneOf(path, zones) {
  const m = /\.zones\[([^\]]+)\]/.exec(path || "");
  if (!m) return -1;
  if (m[1].startsWith("#")) return Number(m[1].slice(1));
  return zones.findIndex((z) => z.id === m[1]);
}

async function saveZones() {
  const ed = state.editor;
  if (!ed) return;
  const body = ed.zones.map((z) => {
    const o = { id: z.id, kind: z.kind, polygon: z.polygon };
    if (z.kind === "monitored") o.signage = z.signage;
    return o;
  });
  $("#ed-status").textContent = "saving...";
  const r = await api("PUT", `/api/cameras/${encodeURIComponent(ed.cam.id)}/zones`, body);
  ed.zones.forEach((z) => (z.problems = []));
  const general = [];
  if (r.ok) {
    $("#ed-status").textContent = "Saved: in force from the next frame.";
    $("#ed-status").className = "ok";
    const cam = r.data.find((c) => c.id === ed.cam.id);
    if (cam) ed.cam = cam;
  } else {
    for (const p of (r.data && r.data.problems) || []) {
      const i = zoneOf(p.path, ed.zones);
      if (i >= 0 && i < ed.zones.length) ed.zones[i].problems.push(p);
      else general.push(p);
    }
    $("#ed-status").textContent = "Not saved: the config file is unchanged. Fix the problems shown.";
    $("#ed-status").className = "bad";
  }
  $("#ed-general").replaceChildren(...general.map(problemItem));
  renderZones();
  draw();
  const bad = document.querySelector("#ed-zones .problems li");
  if (bad) bad.scrollIntoView({ block: "center" });
}

// ---- events ----------------------------------------------------------------

function eventRow(e) {
  return el("tr", {}, el("td", { text: new Date(e.ts).toLocaleString() }), el("td", { text: e.camera }), el("td", { text: e.zone }),
    el("td", { text: e.type }), el("td", { text: String(e.track_id) }), el("td", { text: String(e.occupancy) }),
    el("td", { text: e.signage_id }), el("td", { text: e.purpose }));
}

async function showEvents() {
  const q = new URLSearchParams(new FormData($("#ev-filter")));
  for (const [k, v] of [...q]) if (!v) q.delete(k);
  const r = await api("GET", "/api/events?" + q);
  $("#ev-rows").replaceChildren(...(r.ok ? r.data.events.map(eventRow) : []));
}

function matchesFilter(e) {
  const f = new FormData($("#ev-filter"));
  return f.get("source") !== "audit" && (!f.get("camera") || f.get("camera") === e.camera) && (!f.get("zone") || f.get("zone") === e.zone) && (!f.get("type") || f.get("type") === e.type);
}

function startStream() {
  const es = new EventSource("/api/events/stream");
  const live = $("#live");
  es.onopen = () => { live.textContent = "live"; live.className = "badge ok"; };
  es.onerror = () => { live.textContent = "live: reconnecting"; live.className = "badge off"; };
  es.addEventListener("event", (m) => {
    const e = JSON.parse(m.data);
    if (state.view === "events" && matchesFilter(e)) {
      const rows = $("#ev-rows");
      rows.prepend(eventRow(e));
      while (rows.children.length > 500) rows.lastChild.remove();
    }
  });
}

// ---- signage ---------------------------------------------------------------

async function showSignage() {
  const r = await api("GET", "/api/signage");
  if (!r.ok) return;
  state.signs = r.data;
  $("#sg-rows").replaceChildren(...r.data.map((s) => {
    const edit = el("button", { type: "button", text: "Edit" });
    edit.addEventListener("click", () => fillSign(s));
    const del = el("button", { type: "button", class: "danger", text: "Delete" });
    del.addEventListener("click", async () => {
      const res = await api("DELETE", "/api/signage/" + encodeURIComponent(s.id));
      showProblems(res);
      if (res.ok) showSignage();
    });
    const cls = s.status !== "valid" ? "bad" : s.days_left < 30 ? "warn" : "ok";
    return el("tr", { "data-sign": s.id }, el("td", { text: s.id }), el("td", {}, el("span", { class: "badge " + cls, text: s.status })),
      el("td", { text: String(s.days_left) }), el("td", { text: s.purpose + (s.purpose_detail ? ": " + s.purpose_detail : "") }),
      el("td", { text: s.text || "" }), el("td", { text: s.location || "" }), el("td", { text: s.verified_at.slice(0, 10) }),
      el("td", { text: s.expires_at.slice(0, 10) }), el("td", { text: s.used_by.join(", ") }), el("td", {}, edit, del));
  }));
}

function fillSign(s) {
  const f = $("#sg-form");
  for (const k of ["id", "purpose", "purpose_detail", "text", "location", "operator"]) f.elements[k].value = s[k] || "";
  f.elements.verified_at.value = s.verified_at.slice(0, 10);
  f.elements.expires_at.value = s.expires_at.slice(0, 10);
  f.elements.id.readOnly = true;
  f.dataset.editing = s.id;
  $("#sg-title").textContent = "Edit sign " + s.id;
}

function showProblems(res) {
  $("#sg-problems").replaceChildren(...(res.ok ? [] : (res.data.problems || []).map(problemItem)));
}

async function saveSign(ev) {
  ev.preventDefault();
  const f = ev.target;
  const body = Object.fromEntries(new FormData(f));
  const editing = f.dataset.editing;
  const res = editing ? await api("PUT", "/api/signage/" + encodeURIComponent(editing), body) : await api("POST", "/api/signage", body);
  showProblems(res);
  if (res.ok) {
    f.reset();
    showSignage();
  }
}

// ---- audit -----------------------------------------------------------------

function auditWhat(rec) {
  // The plain log keeps the payload beside the kind, the chained one under "data".
  const r = rec.data && typeof rec.data === "object" ? { ...rec.data, ...rec } : rec;
  if (r.change) return r.change.action;
  if (r.error) return r.error;
  if (r.config) return `${r.config.reason}: started ${r.config.started || []}, restarted ${r.config.replaced || []}, stopped ${r.config.stopped || []}`;
  if (r.event) return `${r.event.type} ${r.event.camera}/${r.event.zone} track ${r.event.track_id}`;
  if (r.masking) return `${r.masking.camera}: ${r.masking.frames_masked} of ${r.masking.frames_decoded} frames masked, ${r.masking.frames_mask_failed} failed`;
  const { ts, kind, seq, prev, hash, data, ...rest } = r;
  return JSON.stringify(data || rest);
}

async function showAudit() {
  const r = await api("GET", "/api/audit?limit=300");
  if (!r.ok) return;
  $("#au-off").hidden = r.data.enabled;
  $("#au-rows").replaceChildren(...r.data.records.map((rec) =>
    el("tr", { "data-kind": rec.kind }, el("td", { text: new Date(rec.ts).toLocaleString() }), el("td", { text: rec.kind }),
      el("td", { text: ((rec.change || (rec.data && rec.data.change) || (rec.data && rec.data.user && rec.data) || {}).user) || "" }), el("td", { class: "what", text: auditWhat(rec) }))));
}

// ---- start -----------------------------------------------------------------

document.addEventListener("DOMContentLoaded", async () => {
  setupCanvas();
  $("#ed-new").addEventListener("click", newZone);
  $("#ed-save").addEventListener("click", saveZones);
  $("#ed-revert").addEventListener("click", () => state.editor && openEditor(state.editor.cam.id));
  $("#ev-filter").addEventListener("submit", (e) => { e.preventDefault(); showEvents(); });
  $("#sg-form").addEventListener("submit", saveSign);
  $("#sg-form").addEventListener("reset", (e) => { const f = e.target; f.elements.id.readOnly = false; delete f.dataset.editing; $("#sg-title").textContent = "Register a sign"; });
  window.addEventListener("hashchange", route);
  window.addEventListener("resize", draw);
  const c = await api("GET", "/api/config");
  if (c.ok && c.data.config) $("#site").textContent = c.data.config.site || "";
  startStream();
  route();
});
