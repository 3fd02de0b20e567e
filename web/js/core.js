// Core of every page: API calls, i18n (ru default, en switch), header, websocket with reconnect, events.

const listeners = new Map();
export function on(name, fn) {
  if (!listeners.has(name)) listeners.set(name, new Set());
  listeners.get(name).add(fn);
  return () => listeners.get(name).delete(fn);
}
export function emit(name, payload) {
  for (const fn of listeners.get(name) || []) {
    try { fn(payload); } catch (e) { console.error(name, e); }
  }
}

// ---- i18n -------------------------------------------------------------------------------------------
// One table per namespace: a module registers its own strings with ``strings(ns, {ru, en})`` and gets a
// translator that looks in that namespace, then in the common one below. Two modules may both say
// "call.ringing" and mean different things without overwriting each other. Server errors are translated
// from one table, /i18n/errors.json (``err.<error_id>`` and ``field.<name>``), which a test checks
// against every error_id in the code.
const tables = new Map(); // namespace → { ru: {}, en: {} }
let lang = localStorage.getItem("lang") || "ru";
function lookup(ns, key) {
  const d = tables.get(ns);
  return d ? (d[lang] && d[lang][key]) ?? d.ru[key] : undefined;
}
function fill(s, vars) {
  if (vars) for (const [k, v] of Object.entries(vars)) s = s.replaceAll(`{${k}}`, String(v));
  return s;
}
/** Register a module's strings under ``ns``; returns its translator ``t(key, vars)`` (key itself when missing). */
export function strings(ns, dicts) {
  const d = tables.get(ns) || { ru: {}, en: {} };
  for (const [l, table] of Object.entries(dicts)) Object.assign(d[l] || (d[l] = {}), table);
  tables.set(ns, d);
  const tr = (key, vars) => fill(lookup(ns, key) ?? lookup("common", key) ?? key, vars);
  tr.has = (key) => (lookup(ns, key) ?? lookup("common", key)) !== undefined;
  tr.or = (key, raw, vars) => (tr.has(key) ? tr(key, vars) : raw); // a code the table may not know: shown as it is
  return tr;
}
export function language() { return lang; }
export async function setLanguage(l, persist = true) {
  lang = l;
  localStorage.setItem("lang", l);
  document.documentElement.lang = l;
  if (persist) { try { await api("/api/auth/language", { method: "POST", body: { language: l } }); } catch (_) {} }
  emit("lang", l);
}

/** The common table: the header, presence, roles, generic errors. */
export const t = strings("common", {
  ru: {
    "app.title": "АРМ оператора", "nav.logout": "Выйти", "ws.online": "На связи", "ws.offline": "Нет связи",
    "ws.connecting": "Подключение…", "presence.ready": "Готов", "presence.paused": "Перерыв",
    "presence.offline": "Не в сети", "presence.on_call": "Разговор", "presence.wrap_up": "Постобработка",
    "presence.ringing": "Звонок", "err.generic": "Ошибка", "help.title": "Горячие клавиши",
    "role.operator": "Оператор", "role.tech_support": "Техподдержка", "role.supervisor": "Супервизор",
    "role.analyst": "Аналитик", "role.marketing": "Маркетинг", "role.admin": "Администратор",
    "saving.delayed": "Сохранение задерживается: история звонков записывается локально и будет сохранена позже",
    "saving.ok": "Сохранение восстановлено",
    "ws.back": "Связь с сервером восстановлена",
  },
  en: {
    "app.title": "Operator workstation", "nav.logout": "Sign out", "ws.online": "Online", "ws.offline": "Offline",
    "ws.connecting": "Connecting…", "presence.ready": "Ready", "presence.paused": "Paused",
    "presence.offline": "Offline", "presence.on_call": "On call", "presence.wrap_up": "After-call work",
    "presence.ringing": "Ringing", "err.generic": "Error", "help.title": "Keyboard shortcuts",
    "role.operator": "Operator", "role.tech_support": "Tech support", "role.supervisor": "Supervisor",
    "role.analyst": "Analyst", "role.marketing": "Marketing", "role.admin": "Administrator",
    "saving.delayed": "Saving delayed: call history is kept locally and will be saved later",
    "saving.ok": "Saving is back to normal",
    "ws.back": "Connection to the server restored",
  },
});

// the error table: {"errors": {id: {ru, en}}, "fields": {name: {ru, en}}}
const errorTable = await fetch("/i18n/errors.json").then((r) => r.json()).catch(() => ({ errors: {}, fields: {} }));
const inLang = (entry) => (entry ? entry[lang] ?? entry.ru : undefined);
/** The user's sentence for a server ``error_id`` (with the error's details filled in), or undefined. */
export function errorMessage(id, details) {
  const s = inLang(errorTable.errors[id]);
  return s === undefined ? undefined : fill(s, details || {});
}
const fieldName = (f) => inLang(errorTable.fields[f]) || f;

// ---- API --------------------------------------------------------------------------------------------
// The message a user reads: the error_id's sentence in the page's language (server messages are English);
// the fields a 422 names, by their names in /i18n/errors.json.
function errorText(status, body) {
  const id = body?.error_id || "http_" + status;
  const text = errorMessage(id, body?.details);
  if (!text) return body?.message || `HTTP ${status}`;
  const fields = (body?.details?.errors || []).map((e) => String((e.loc || []).slice(-1)[0] ?? "")).filter(Boolean);
  return fields.length ? `${errorMessage(id)}: ${[...new Set(fields)].map(fieldName).join(", ")}` : text;
}
export class ApiError extends Error {
  constructor(status, body) {
    super(errorText(status, body));
    this.status = status; this.error_id = body?.error_id || "http_" + status; this.details = body?.details || {};
    this.serverMessage = body?.message || "";
  }
}
export async function api(path, { method = "GET", body, raw = false } = {}) {
  const opts = { method, headers: {}, credentials: "same-origin" };
  if (body instanceof FormData) opts.body = body;
  else if (body !== undefined) { opts.headers["Content-Type"] = "application/json"; opts.body = JSON.stringify(body); }
  let res;
  try { res = await fetch(path, opts); } catch (e) { throw new ApiError(0, { error_id: "network" }); }
  if (res.status === 401 && !path.startsWith("/api/auth/login")) { location.href = "/index.html"; throw new ApiError(401, {}); }
  if (raw) return res;
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (_) { data = { message: text }; }
  if (!res.ok) throw new ApiError(res.status, data);
  return data;
}

/** Loads of which only the latest may reach the screen: ``const still = loads.start()`` begins one and
 * ``still()`` stays true until a later one begins (or ``loads.drop()`` is called, e.g. when the card it was for
 * is closed), so a slower answer to an earlier request never replaces a newer one. */
export function latest() {
  let n = 0;
  return { start() { const mine = ++n; return () => mine === n; }, drop() { n++; } };
}

// ---- DOM --------------------------------------------------------------------------------------------
/** The element with this id (the one shorthand every page uses). */
export const $ = (id) => document.getElementById(id);
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") el.className = v;
    else if (k === "html") el.innerHTML = v; // only for server-sanitised HTML
    else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "dataset") Object.assign(el.dataset, v);
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}
/** The same for SVG (charts): ``svg("rect", {x: 1, width: 4}, child…)``; attribute values as given. */
export function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  for (const c of children) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}
/** Seconds as a running clock, ``mm:ss`` (minutes go past 59: ``75:03``). */
export function fmtClock(s) { return `${String(Math.floor(s / 60)).padStart(2, "0")}:${String(Math.floor(s % 60)).padStart(2, "0")}`; }
export function fmtMoney(v) {
  if (v === null || v === undefined) return "—";
  return new Intl.NumberFormat(lang === "ru" ? "ru-RU" : "en-GB", { style: "currency", currency: "RUB", maximumFractionDigits: 2 }).format(v);
}
export function fmtDate(v) { if (!v) return "—"; const d = new Date(v); return isNaN(d) ? String(v) : d.toLocaleDateString(lang === "ru" ? "ru-RU" : "en-GB"); }
export function fmtDateTime(v) {
  if (!v) return "—"; const d = typeof v === "number" ? new Date(v * 1000) : new Date(v);
  return isNaN(d) ? String(v) : d.toLocaleString(lang === "ru" ? "ru-RU" : "en-GB");
}
export function toast(text, kind = "info") {
  let box = document.getElementById("toasts");
  if (!box) { box = h("div", { id: "toasts", role: "status", "aria-live": "polite" }); document.body.append(box); }
  const el = h("div", { class: `toast ${kind}` }, text);
  box.append(el); setTimeout(() => el.remove(), 5000);
}

// ---- keyboard ---------------------------------------------------------------------------------------
const shortcuts = [];
/** A key binding; ``describe()`` gives its line in the "?" help, in the page's language. */
export function shortcut(combo, fn, describe) { shortcuts.push({ combo: combo.toLowerCase(), fn, describe }); }
document.addEventListener("keydown", (e) => {
  const combo = [e.ctrlKey && "ctrl", e.altKey && "alt", e.shiftKey && e.key.length > 1 && "shift", e.key.toLowerCase()].filter(Boolean).join("+");
  const typing = ["INPUT", "TEXTAREA", "SELECT"].includes(document.activeElement?.tagName);
  if (combo === "?" && !typing) { showHelp(); return; }
  if (combo === "escape" && document.getElementById("help")) { document.getElementById("help").remove(); return; }
  for (const s of shortcuts) {
    if (s.combo === combo && (!typing || combo.includes("alt+") || combo.includes("ctrl+") || combo === "escape")) { e.preventDefault(); s.fn(e); return; }
  }
});
function showHelp() {
  const old = document.getElementById("help"); if (old) { old.remove(); return; }
  document.body.append(h("div", { id: "help", class: "modal", onclick: (e) => e.currentTarget.remove() },
    h("div", { class: "modal-box" }, h("h3", {}, t("help.title")),
      h("table", {}, helpRows().map(([combos, text]) => h("tr", {}, h("td", {}, combos.flatMap((c, i) => [i ? " " : "", h("kbd", {}, c)])), h("td", {}, text)))))));
}
// one row per action: "1 alt+1 2 alt+2 3 alt+3 — pick suggestion 1/2/3", not six rows saying the same
function helpRows() {
  const rows = new Map();
  for (const s of shortcuts) { const text = s.describe(); if (!rows.has(text)) rows.set(text, []); rows.get(text).push(s.combo); }
  return [...rows].map(([text, combos]) => [combos, text]);
}

// ---- websocket --------------------------------------------------------------------------------------
let ws = null, wsDelay = 250, wsWanted = false, wsWasDown = false;
export function send(msg) { if (ws && ws.readyState === 1) { ws.send(JSON.stringify(msg)); return true; } return false; }
function setIndicator(state) {
  const el = document.getElementById("ws-indicator");
  if (el) { el.dataset.state = state; el.textContent = t("ws." + state); }
}
export function connect() {
  wsWanted = true;
  setIndicator("connecting");
  ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws");
  ws.onopen = () => {
    wsDelay = 250; setIndicator("online"); emit("ws:open");
    if (wsWasDown) { wsWasDown = false; toast(t("ws.back")); emit("ws:reconnected"); }
  };
  ws.onmessage = (ev) => {
    let msg; try { msg = JSON.parse(ev.data); } catch (_) { return; }
    emit("ws:" + msg.type, msg); emit("ws:*", msg);
  };
  ws.onclose = (ev) => {
    wsWasDown = true;
    setIndicator("offline"); emit("ws:close", ev);
    if (ev.code === 4401) { location.href = "/index.html"; return; }
    // when a node restarts its whole floor retries at once: each tab waits between half and all of its
    // back-off, at random, so they spread out (the server paces handshakes too); it doubles up to 5 s
    if (wsWanted) { setTimeout(connect, wsDelay * (0.5 + Math.random() / 2)); wsDelay = Math.min(wsDelay * 2, 5000); }
  };
}

// ---- the operator's remembered layout (server-side, so it follows them to another workstation) ---------
let prefsSaving = Promise.resolve(); // one save at a time, in the order the operator made the changes
export const prefs = {
  get(key, fallback) { const p = currentUser?.ui_prefs || {}; return key in p ? p[key] : fallback; },
  set(key, value) {
    if (!currentUser || prefs.get(key) === value) return;
    currentUser.ui_prefs = { ...(currentUser.ui_prefs || {}), [key]: value };
    prefsSaving = prefsSaving.then(() => api("/api/auth/prefs", { method: "POST", body: { prefs: { [key]: value } } }))
      .catch((e) => console.warn("prefs", e.error_id));
  },
};

// the workstation DB is away: history and audit wait in the server's outbox; say so until it is back
on("ws:saving.state", (msg) => {
  let el = document.getElementById("saving-banner");
  if (!msg.delayed) { if (el) { el.remove(); toast(t("saving.ok")); } return; }
  if (!el) { el = h("div", { id: "saving-banner", class: "banner warn", role: "status" }); document.body.prepend(el); }
  el.textContent = t("saving.delayed");
});
// the bus came back after an outage: ask for this tab's state again (a pop may have gone elsewhere)
on("ws:resync", () => { send({ type: "resync" }); emit("resync"); });

// ---- page boot --------------------------------------------------------------------------------------
export let currentUser = null;
/** Sign-in guard, header and websocket for a page; ``title()`` is the page's name in the current language. */
export async function boot({ roles = null, title = () => t("app.title"), ws: useWs = true } = {}) {
  let me;
  // leaving the page: the module waits for the navigation instead of throwing (no console error)
  const leave = (url) => { location.href = url; return new Promise(() => {}); };
  try { me = await api("/api/auth/me"); } catch (e) { return leave("/index.html"); }
  if (roles && !roles.includes(me.role) && me.role !== "admin") return leave("/index.html?wrong_role=1");
  currentUser = me;
  if (!localStorage.getItem("lang") && me.language) await setLanguage(me.language, false);
  document.documentElement.lang = lang;
  renderHeader(me, title);
  on("lang", () => renderHeader(me, title));
  if (useWs) connect();
  return me;
}
function renderHeader(me, title) {
  if (!document.title.startsWith("☎")) document.title = title(); // the operator's tab shows the caller while ringing
  let header = document.querySelector("header.topbar");
  if (!header) { header = h("header", { class: "topbar" }); document.body.prepend(header); }
  header.replaceChildren(
    h("strong", { class: "brand" }, title()),
    h("span", { class: "spacer" }),
    h("span", { id: "ws-indicator", class: "ws", "data-state": ws && ws.readyState === 1 ? "online" : "connecting" }, t(ws && ws.readyState === 1 ? "ws.online" : "ws.connecting")),
    h("span", { class: "who" }, `${me.display_name} · ${t("role." + me.role)}`),
    h("span", { class: "lang" },
      h("button", { class: lang === "ru" ? "on" : "", "data-lang": "ru", onclick: () => setLanguage("ru") }, "RU"),
      h("button", { class: lang === "en" ? "on" : "", "data-lang": "en", onclick: () => setLanguage("en") }, "EN")),
    h("button", { class: "link", onclick: async () => { wsWanted = false; await api("/api/auth/logout", { method: "POST" }); location.href = "/index.html"; } }, t("nav.logout")),
  );
}
