// The contact-center wallboard: live figures per queue and window, operators in their states, alerts.
// Mounted by the floor page (supervisor.js); frames arrive over the websocket ("kpis.board"), operator
// states with "floor.changed"; times tick locally every second.
import { strings, api, on, h, toast, language, fmtClock } from "/js/core.js";

const t = strings("wallboard", {
  ru: {
    title: "Табло", all: "Все очереди", full: "На весь экран", "full.exit": "Выйти из полноэкранного режима",
    "w.15m": "15 мин", "w.30m": "30 мин", "w.60m": "60 мин", "w.today": "Сегодня",
    offered: "Поступило", answered: "Отвечено", abandoned: "Потеряно", short: "из них до {s} с: {n}",
    sl: "Уровень обслуживания", "sl.target": "цель {p} % за {s} с", asa: "Среднее ожидание ответа", waiting: "Ждут сейчас",
    longest: "Дольше всех ждёт", aht: "Среднее время обработки", "aht.split": "разговор {talk} + постобработка {acw}",
    occupancy: "Занятость", ready: "Готовы", on_call: "На звонке", wrap_up: "Постобработка", paused: "Перерыв",
    operators: "Операторы", "col.name": "Имя", "col.state": "Состояние", "col.for": "Сколько", formula: "Как считается",
    "alert.sl_below_target": "Очередь «{queue}»: уровень обслуживания {value} % ниже цели",
    "alert.long_wait": "Очередь «{queue}»: звонок ждёт {value} с",
    "mode.missed": "потерянные после {g} с считаются невыполненными",
    "mode.ignored": "потерянные не учитываются", "mode.met_within_threshold": "потерянные до порога считаются выполненными",
    "f.sl": "УО = отвечено за ≤ {s} с / (отвечено + ждут дольше {s} с + потерянные) — {mode}",
    "f.aht": "Время обработки = средний разговор + средняя постобработка",
    "f.occ": "Занятость = (разговор + постобработка) / (то же + готовность); перерывы не в счёт",
    none: "—", reports: "Отчёты",
  },
  en: {
    title: "Wallboard", all: "All queues", full: "Full screen", "full.exit": "Leave full screen",
    "w.15m": "15 min", "w.30m": "30 min", "w.60m": "60 min", "w.today": "Today",
    offered: "Offered", answered: "Answered", abandoned: "Abandoned", short: "within {s} s: {n}",
    sl: "Service level", "sl.target": "target {p} % in {s} s", asa: "Average speed of answer", waiting: "Waiting now",
    longest: "Longest wait", aht: "Average handle time", "aht.split": "talk {talk} + after-call work {acw}",
    occupancy: "Occupancy", ready: "Ready", on_call: "On a call", wrap_up: "After-call work", paused: "Paused",
    operators: "Operators", "col.name": "Name", "col.state": "State", "col.for": "For", formula: "How it is counted",
    "alert.sl_below_target": "Queue “{queue}”: service level {value} % is below target",
    "alert.long_wait": "Queue “{queue}”: a call has waited {value} s",
    "mode.missed": "calls abandoned after {g} s count as missed",
    "mode.ignored": "abandoned calls are left out", "mode.met_within_threshold": "calls abandoned within the threshold count as met",
    "f.sl": "SL = answered within ≤ {s} s / (answered + waiting over {s} s + abandoned) — {mode}",
    "f.aht": "Handle time = average talk + average after-call work",
    "f.occ": "Occupancy = (talk + after-call work) / (that + ready); pauses excluded",
    none: "—", reports: "Reports",
  },
});

const state = { board: null, operators: new Map(), window: localStorage.getItem("wb.window") || "15m", queue: "*" };
let root = null;
const parts = {};
let controlsKey = "", formulaKey = "";

const mmss = (s) => (s === null || s === undefined ? t("none") : fmtClock(s));
const secs = (v) => (v === null || v === undefined ? t("none") : mmss(Math.round(v)));
const pct = (v) => (v === null || v === undefined ? t("none") : `${v} %`);
const now = () => Date.now() / 1000;

function tile(id, label, value, extra, cls = "") {
  return h("div", { class: `wb-tile ${cls}`, id: `wb-${id}-tile` }, h("span", { class: "wb-label" }, label),
    h("b", { id: `wb-${id}` }, value), extra ? h("small", {}, extra) : null);
}

function threshold(rules, queue) { return queue !== "*" && rules.queue_thresholds[queue] !== undefined ? rules.queue_thresholds[queue] : rules.threshold_s; }

function controls(b) {
  return [
    ...["15m", "30m", "60m", "today"].map((w) => h("button", { class: w === state.window ? "on" : "", "data-window": w,
      onclick: () => { state.window = w; localStorage.setItem("wb.window", w); paint(); } }, t("w." + w))),
    h("select", { id: "wb-queue", onchange: (e) => { state.queue = e.target.value; paint(); } },
      h("option", { value: "*", selected: state.queue === "*" }, t("all")),
      ...b.queues.map((q) => h("option", { value: q, selected: state.queue === q }, q))),
    h("button", { id: "wb-full", onclick: toggleFull }, document.fullscreenElement ? t("full.exit") : t("full")),
    h("a", { href: "/supervisor-kpis.html" }, t("reports"))];
}

function paint() {
  const b = state.board;
  if (!root || !b) return;
  const rules = b.rules;
  const fig = (b.figures[state.window] || {})[state.queue] || (b.figures[state.window] || {})["*"] || {};
  const qn = b.queue_now[state.queue] || { waiting: 0, oldest_since: null };
  const longest = qn.oldest_since ? Math.max(0, Math.floor(now()) - Math.floor(qn.oldest_since)) : null;
  const thr = threshold(rules, state.queue);
  const slLow = fig.service_level_pct !== null && fig.service_level_pct !== undefined && fig.service_level_pct < rules.sl_target_pct;
  const alerts = new Set(b.alerts.filter((a) => a.queue === state.queue || state.queue === "*").map((a) => a.alert_id));
  const mode = t("mode." + rules.abandoned, { g: rules.short_abandon_s });
  // controls and the formula are rebuilt only when what they show changes (an open list stays open)
  const ck = [state.window, state.queue, b.queues.join(","), language(), !!document.fullscreenElement].join("|");
  if (ck !== controlsKey) { controlsKey = ck; parts.controls.replaceChildren(...controls(b)); }
  const fk = [thr, mode, language()].join("|");
  if (fk !== formulaKey) {
    formulaKey = fk;
    parts.title.textContent = t("title");
    parts.formula.replaceChildren(h("summary", {}, t("formula")),
      h("p", {}, t("f.sl", { s: thr, mode })), h("p", {}, t("f.aht")), h("p", {}, t("f.occ")));
  }
  parts.tiles.replaceChildren(
    tile("offered", t("offered"), fig.offered ?? 0),
    tile("answered", t("answered"), fig.answered ?? 0),
    tile("abandoned", t("abandoned"), fig.abandoned ?? 0, t("short", { s: rules.short_abandon_s, n: fig.abandoned_short ?? 0 })),
    tile("sl", t("sl"), pct(fig.service_level_pct), t("sl.target", { p: rules.sl_target_pct, s: thr }), slLow || alerts.has("sl_below_target") ? "bad" : "ok"),
    tile("asa", t("asa"), secs(fig.asa_s)),
    tile("waiting", t("waiting"), qn.waiting, null, qn.waiting ? "warn" : ""),
    tile("longest", t("longest"), longest === null ? t("none") : mmss(longest), null, longest !== null && longest > rules.wait_alert_s ? "bad" : longest !== null && longest > thr ? "warn" : ""),
    tile("aht", t("aht"), secs(fig.aht_s), t("aht.split", { talk: secs(fig.avg_talk_s), acw: secs(fig.avg_acw_s) })),
    tile("occupancy", t("occupancy"), pct(b.occupancy_pct[state.window])),
    ...["ready", "on_call", "wrap_up", "paused"].map((s) => tile("agents-" + s, t(s), b.agent_states[s] ?? 0, null, "small")));
  parts.operators.replaceChildren(operatorsTable(rules));
}

function operatorsTable(rules) {
  const rows = [...state.operators.values()].filter((o) => o.state !== "offline")
    .sort((a, b) => (a.state === b.state ? (a.since || 0) - (b.since || 0) : a.state.localeCompare(b.state)));
  return h("table", { id: "wb-operators" },
    h("caption", {}, t("operators")),
    h("tr", {}, h("th", {}, t("col.name")), h("th", {}, t("col.state")), h("th", { class: "num" }, t("col.for"))),
    ...rows.map((o) => {
      const held = o.since ? Math.max(0, now() - o.since) : null;
      const long = held !== null && ((o.state === "wrap_up" && held > rules.long_acw_s) || (o.state === "paused" && held > rules.long_pause_s));
      return h("tr", { "data-user": o.id, "data-state": o.state, class: long ? "wb-long" : "" },
        h("td", {}, o.name), h("td", {}, t("presence." + o.state)), h("td", { class: "num" }, held === null ? t("none") : mmss(held)));
    }));
}

function toggleFull() {
  if (document.fullscreenElement) document.exitFullscreen();
  else root.requestFullscreen?.().catch(() => root.classList.toggle("wb-fullpage"));
}

export async function mountWallboard(el) {
  root = el;
  root.classList.add("wallboard");
  for (const [name, tag] of [["title", "h2"], ["controls", "div"], ["tiles", "div"], ["formula", "details"], ["operators", "div"]]) {
    parts[name] = h(tag, { class: `wb-${name}` });
  }
  root.replaceChildren(...Object.values(parts));
  const first = await api("/api/kpis/board");
  for (const o of first.operators) state.operators.set(o.id, o);
  state.board = first;
  paint();
  on("ws:kpis.board", (msg) => { state.board = msg; paint(); });
  on("ws:kpis.alert", (a) => toast(t("alert." + a.alert_id, { queue: a.queue === "*" ? t("all") : a.queue, value: a.value }), "error"));
  on("ws:floor.changed", (msg) => {
    const o = state.operators.get(msg.user_id);
    if (o) { o.state = msg.presence; o.since = msg.at || now(); paint(); }
  });
  on("lang", paint);
  document.addEventListener("fullscreenchange", paint);
  setInterval(paint, 1000);
}
