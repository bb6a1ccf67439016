// The Portmaster web UI: plain DOM, no framework, nothing from elsewhere.
"use strict";

const $ = (sel, el = document) => el.querySelector(sel);
const state = { admin: false, flows: [], pending: [], rules: [], traffic: new Map() };

async function api(path, opts = {}) {
  const init = { credentials: "same-origin", headers: {} , ...opts };
  if (opts.body !== undefined) {
    init.body = JSON.stringify(opts.body);
    init.headers["Content-Type"] = "application/json";
  }
  const r = await fetch(path, init);
  const data = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error(data.error || r.statusText);
  return data;
}

function el(tag, attrs = {}, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") e.className = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else if (v === true) e.setAttribute(k, "");
    else if (v !== false && v !== null && v !== undefined) e.setAttribute(k, v);
  }
  for (const k of kids) e.append(k instanceof Node ? k : document.createTextNode(String(k)));
  return e;
}

function bytes(n) {
  if (n === undefined || n === null || n === "-") return "–";
  const u = ["B", "KiB", "MiB", "GiB"];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
  return (i ? n.toFixed(1) : n) + " " + u[i];
}

function peer(f) {
  const a = f.dir === "out" ? f.dst : f.src, p = f.dir === "out" ? f.dport : f.sport;
  const addr = (a.includes(":") ? "[" + a + "]" : a) + ":" + p;
  // the name its program resolved through portmasterd, where there is one
  return f.domain && f.domain !== "-" ? f.domain + " (" + addr + ")" : addr;
}

/* ---- tabs ---- */
function showTab() {
  const name = (location.hash || "#connections").slice(1);
  for (const s of document.querySelectorAll(".tab")) s.classList.toggle("active", s.id === name);
  for (const a of document.querySelectorAll("nav a")) a.classList.toggle("active", a.dataset.tab === name);
  if (name === "rules") loadRules();
  if (name === "history") loadHistory();
}

/* ---- connections, grouped by program ---- */
function renderFlows() {
  const groups = new Map();
  for (const f of state.flows) {
    const k = f.exe || "-";
    if (!groups.has(k)) groups.set(k, []);
    groups.get(k).push(f);
  }
  const box = $("#programs");
  box.replaceChildren();
  if (!groups.size) box.append(el("p", { class: "empty" }, "No connections yet."));
  const sorted = [...groups.entries()].sort((a, b) => b[1].length - a[1].length);
  for (const [exe, flows] of sorted) {
    const blocked = flows.filter(f => f.verdict === "block" || f.verdict === "drop").length;
    const t = state.traffic.get(exe);
    const rows = flows.slice(-50).reverse().map(f => el("tr", { "data-id": f.id },
      el("td", {}, f.dir), el("td", {}, f.proto), el("td", {}, peer(f)), el("td", {}, f.pid),
      el("td", { class: "v-" + f.verdict }, f.verdict), el("td", {}, f.packets ?? "")));
    box.append(el("div", { class: "program", "data-exe": exe },
      el("h2", {}, exe === "-" ? "(unknown program)" : exe,
        el("span", { class: "stats" }, `${flows.length} connections, ${blocked} blocked`),
        el("span", { class: "rate" }, t ? `↑ ${bytes(t.out)}/s ↓ ${bytes(t.in)}/s` : "")),
      el("table", {}, el("thead", {}, el("tr", {}, ...["Dir", "Proto", "Peer", "PID", "Verdict", "Packets"].map(h => el("th", {}, h)))),
        el("tbody", {}, ...rows))));
  }
}

async function loadFlows() {
  try { state.flows = await api("/api/flows"); renderFlows(); } catch (e) { console.error(e); }
}

/* ---- prompts ---- */
function renderPending() {
  const tb = $("#pending-table tbody");
  tb.replaceChildren();
  $("#prompt-count").textContent = state.pending.length || "";
  $("#no-prompts").hidden = state.pending.length > 0;
  for (const f of state.pending) {
    const answer = action => async () => {
      try {
        await api("/api/verdict", { method: "POST", body: {
          id: String(f.id), action, scope: $("#scope").value, for: $("#for").value, match: $("#match").value } });
      } catch (e) { alert(e.message); }
      loadPending(); loadFlows();
    };
    tb.append(el("tr", { "data-id": f.id },
      el("td", {}, f.exe, " [", f.pid, "]"), el("td", {}, f.dir), el("td", {}, peer(f) + " " + f.proto),
      el("td", {}, f.expires_in + " s"),
      el("td", {}, el("button", { class: "allow", onclick: answer("allow") }, "Allow"), " ",
        el("button", { class: "block", onclick: answer("block") }, "Block"))));
  }
  for (const b of tb.querySelectorAll("button")) if (!state.admin) b.disabled = true;
}

async function loadPending() {
  try { state.pending = await api("/api/pending"); renderPending(); } catch (e) { console.error(e); }
}

/* ---- rules ---- */
/* What a rule can ask, in the order the daemon prints them. */
const RULE_KEYS = ["exe", "cmdline", "parent", "unit", "cgroup", "uid", "gid", "local", "remote",
  "dst", "port", "proto", "icmp-type", "dir", "domain"];
/* What the form edits; the rest of a rule is kept as it was. */
const FORM_KEYS = ["action", "exe", "remote", "dst", "port", "proto", "dir", "note", "scope"];
/* Rules of rules.d are the admin's files: shown, not edited here. */
const ownFile = r => !r.file || r.file.endsWith("rules.conf");
function describe(r) {
  const parts = [];
  for (const k of RULE_KEYS) if (r[k] !== undefined) parts.push(k + "=" + r[k]);
  return (parts.join(" ") || "everything") + (r.note ? " \u2014 " + r.note : "");
}

/* The first rule that matches decides: moving one changes what it decides. */
async function moveRule(r, where) {
  try {
    await api("/api/rules/" + r.id + "/move", { method: "POST", body: where });
    $("#rule-error").textContent = "";
  } catch (e) { $("#rule-error").textContent = e.message; }
  loadRules();
}

function renderRules() {
  const tb = $("#rules-table tbody");
  const rules = state.rules;
  tb.replaceChildren();
  rules.forEach((r, i) => {
    /* up: before the one above; down: before the one below that, or last */
    const up = i > 0 ? { before: String(rules[i - 1].id) } : null;
    const down = i + 1 < rules.length ? (i + 2 < rules.length ? { before: String(rules[i + 2].id) } : { last: "yes" }) : null;
    tb.append(el("tr", { "data-id": r.id },
      el("td", {}, r.id), el("td", { class: "v-" + r.action }, r.action), el("td", {}, describe(r)),
      el("td", {}, r.scope + (r.expires_in !== undefined ? ` (${r.expires_in} s left)` : "")), el("td", {}, r.hits),
      ownFile(r) ? el("td", {},
        el("button", { class: "up", title: "Move up", disabled: !up, onclick: () => moveRule(r, up) }, "\u2191"), " ",
        el("button", { class: "down", title: "Move down", disabled: !down, onclick: () => moveRule(r, down) }, "\u2193"), " ",
        el("button", { class: "edit", onclick: () => editRule(r) }, "Edit"), " ",
        el("button", { class: "delete", onclick: async () => {
          try { await api("/api/rules/" + r.id, { method: "DELETE" }); } catch (e) { $("#rule-error").textContent = e.message; }
          loadRules();
        } }, "Delete")) : el("td", { class: "hint" }, "in " + r.file)));
  });
}

function editRule(r) {
  const f = $("#rule-form");
  f.edit.value = r.id;
  for (const k of FORM_KEYS) f[k].value = r[k] ?? "";
  /* the criteria the form has no field for go along unchanged */
  f.dataset.keep = JSON.stringify(Object.fromEntries(RULE_KEYS.filter(k => !FORM_KEYS.includes(k) && r[k] !== undefined).map(k => [k, r[k]])));
  $("#rule-submit").textContent = "Save rule " + r.id;
  $("#rule-cancel").hidden = false;
}

function resetRuleForm() {
  const f = $("#rule-form");
  f.reset();
  f.edit.value = "";
  f.dataset.keep = "{}";
  $("#rule-submit").textContent = "Add rule";
  $("#rule-cancel").hidden = true;
}

async function loadRules() {
  try { state.rules = await api("/api/rules"); renderRules(); } catch (e) { console.error(e); }
}

async function submitRule(ev) {
  ev.preventDefault();
  const f = ev.target, body = f.edit.value ? JSON.parse(f.dataset.keep || "{}") : {};
  for (const k of FORM_KEYS) if (f[k].value) body[k] = f[k].value;
  if (body.scope === "for") body.for = f.for.value || "1h";
  try {
    if (f.edit.value) await api("/api/rules/" + f.edit.value, { method: "PUT", body });
    else await api("/api/rules", { method: "POST", body });
    $("#rule-error").textContent = "";
    resetRuleForm();
  } catch (e) { $("#rule-error").textContent = e.message; }
  loadRules();
}

/* ---- history ---- */
function drawChart(canvas, points, since, now) {
  const dpr = window.devicePixelRatio || 1, w = canvas.clientWidth || 600, h = canvas.clientHeight || 70;
  canvas.width = w * dpr; canvas.height = h * dpr;
  const g = canvas.getContext("2d");
  g.scale(dpr, dpr);
  const max = Math.max(1, ...points.map(p => p.flows));
  const span = Math.max(1, now - since), bw = Math.max(2, w * 3600000 / span - 1);
  for (const p of points) {
    const x = (p.time - since) / span * w, hAll = p.flows / max * (h - 4), hBad = p.blocked / max * (h - 4);
    g.fillStyle = "#1f8a4c"; g.fillRect(x, h - hAll, bw, hAll - hBad);
    g.fillStyle = "#c0392b"; g.fillRect(x, h - hBad, bw, hBad);
  }
}

const SPANS = { "1h": 3600e3, "1d": 86400e3, "7d": 7 * 86400e3, "30d": 30 * 86400e3 };

async function loadHistory(ev) {
  if (ev) ev.preventDefault();
  const f = $("#history-form"), q = new URLSearchParams();
  for (const k of ["exe", "domain", "since", "verdict"]) if (f[k].value) q.set(k, f[k].value);
  try {
    const [rows, series] = await Promise.all([api("/api/history?" + q),
      api("/api/series?" + new URLSearchParams({ since: f.since.value, ...(f.exe.value ? { exe: f.exe.value } : {}) }))]);
    const tb = $("#history-table tbody");
    tb.replaceChildren(...rows.slice().reverse().map(r => el("tr", {},
      el("td", {}, new Date(r.start).toLocaleString()), el("td", {}, r.exe), el("td", {}, r.dir),
      el("td", {}, r.peer === "-" ? "" : r.peer + ":" + r.port), el("td", {}, r.domain === "-" ? "" : r.domain),
      el("td", { class: "v-" + r.verdict }, r.verdict), el("td", {}, bytes(r.bytes_out)), el("td", {}, bytes(r.bytes_in)))));
    const now = Date.now(), since = now - SPANS[f.since.value], byExe = new Map();
    for (const p of series) { if (!byExe.has(p.exe)) byExe.set(p.exe, []); byExe.get(p.exe).push(p); }
    const charts = $("#charts");
    charts.replaceChildren();
    for (const [exe, pts] of byExe) {
      const total = pts.reduce((a, p) => a + p.flows, 0), out = pts.reduce((a, p) => a + p.bytes_out, 0), inn = pts.reduce((a, p) => a + p.bytes_in, 0);
      const c = el("canvas", {});
      charts.append(el("div", { class: "chart", "data-exe": exe }, el("h3", {}, exe, " — ", total, " connections, ", bytes(out), " out, ", bytes(inn), " in"), c));
      drawChart(c, pts, since, now);
    }
  } catch (e) { console.error(e); }
}

/* ---- live updates ---- */
function live() {
  const es = new EventSource("/api/events");
  const on = () => $("#live").classList.add("on");
  es.onopen = () => { on(); $("#live").textContent = "live"; };
  es.onerror = () => { $("#live").classList.remove("on"); $("#live").textContent = "reconnecting…"; };
  let t = null;
  const refresh = () => { if (!t) t = setTimeout(() => { t = null; loadFlows(); loadPending(); }, 200); };
  for (const type of ["flow", "prompt", "answer", "end", "lost"]) es.addEventListener(type, refresh);
  // Each second, per program: its rates in the connections view.
  let round = 0;
  es.addEventListener("traffic", ev => {
    const t = JSON.parse(ev.data);
    if (t.time !== round) { round = t.time; state.traffic.clear(); }
    const ms = t.interval_ms || 1000;
    state.traffic.set(t.exe, { out: Math.round(t.bytes_out * 1000 / ms), in: Math.round(t.bytes_in * 1000 / ms) });
    const box = document.querySelector(`.program[data-exe="${CSS.escape(t.exe)}"] .rate`);
    if (box) box.textContent = `↑ ${bytes(state.traffic.get(t.exe).out)}/s ↓ ${bytes(state.traffic.get(t.exe).in)}/s`;
  });
}

document.addEventListener("DOMContentLoaded", async () => {
  try { state.admin = (await api("/api/session")).admin; } catch (e) { document.body.textContent = e.message; return; }
  window.addEventListener("hashchange", showTab);
  $("#rule-form").addEventListener("submit", submitRule);
  $("#rule-cancel").addEventListener("click", resetRuleForm);
  $("#history-form").addEventListener("submit", loadHistory);
  showTab();
  loadFlows(); loadPending();
  live();
  setInterval(() => { loadFlows(); loadPending(); }, 5000);
});
