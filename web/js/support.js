// Technical support: the live ticket queue (new tickets arrive without reload), ordered by priority and
// SLA time left; "Take next"; the ticket with its card snapshot, history, comments, attachments and the
// actions its state allows (take, wait, resume, resolve, close, reopen, release).
import { strings, boot, api, h, on, toast, fmtDateTime, fmtMoney, latest } from "/js/core.js";
import { ticketText } from "/js/ticket-strings.js";

const t = strings("support", {
  ru: {
    "sp.title": "Техподдержка", "sp.tab.queue": "Очередь", "sp.tab.mine": "Мои", "sp.tab.open": "Все открытые",
    "sp.tab.resolved": "Решённые", "sp.next": "Взять следующую", "sp.next.none": "Нет заявок по вашим навыкам",
    "sp.col.id": "№", "sp.col.prio": "Приоритет", "sp.col.topic": "Тема", "sp.col.state": "Состояние",
    "sp.col.sla": "До SLA", "sp.col.who": "Инженер", "sp.empty": "Заявок нет", "sp.pick": "Выберите заявку слева",
    "sp.card": "Абонент", "sp.note": "Заметка оператора", "sp.history": "История", "sp.comments": "Комментарии",
    "sp.comment.ph": "Комментарий (Markdown)…", "sp.comment.add": "Добавить", "sp.files": "Вложения",
    "sp.upload": "Загрузить", "sp.resolution.ph": "Как решена проблема / что спросить у абонента…",
    "sp.overdue": "просрочено", "sp.breach": "Нарушение SLA по заявке №{id}", "sp.new": "Новая заявка №{id}",
    "sp.stale": "Заявку изменили — показана актуальная версия", "sp.balance": "Баланс", "sp.tariff": "Тариф",
    "sp.region": "Регион", "sp.status": "Статус", "sp.arpu": "ARPU", "sp.reasons": "Почему такой приоритет",
    "sub.active": "активен", "sub.blocked": "заблокирован", "sub.suspended": "приостановлен", "sub.closed": "закрыт",
    "hist.created": "создана", "hist.assigned": "назначена", "hist.state": "статус", "hist.comment": "комментарий",
    "hist.attachment": "вложение", "tier.standard": "обычный", "tier.high": "высокий", "tier.vip": "VIP", "tier.low": "низкий",
    "sp.r.base": "базовый P{p}", "sp.r.tier": "ARPU: {tier}", "sp.r.repeat": "повторов за окно: {n}", "sp.r.outage": "авария в регионе",
    "sp.h": "ч", "sp.min": "мин",
    "act.take": "Взять", "act.start": "Начать", "act.release": "Вернуть в очередь", "act.wait": "Ждать абонента",
    "act.resume": "Продолжить", "act.resolve": "Решено", "act.close": "Закрыть", "act.reopen": "Переоткрыть",
    "act.assign": "Назначить",
  },
  en: {
    "sp.title": "Technical support", "sp.tab.queue": "Queue", "sp.tab.mine": "Mine", "sp.tab.open": "All open",
    "sp.tab.resolved": "Resolved", "sp.next": "Take next", "sp.next.none": "No tickets for your skills",
    "sp.col.id": "#", "sp.col.prio": "Priority", "sp.col.topic": "Topic", "sp.col.state": "State",
    "sp.col.sla": "SLA left", "sp.col.who": "Engineer", "sp.empty": "No tickets", "sp.pick": "Choose a ticket on the left",
    "sp.card": "Subscriber", "sp.note": "Operator's note", "sp.history": "History", "sp.comments": "Comments",
    "sp.comment.ph": "Comment (Markdown)…", "sp.comment.add": "Add", "sp.files": "Attachments",
    "sp.upload": "Upload", "sp.resolution.ph": "How it was solved / what to ask the subscriber…",
    "sp.overdue": "overdue", "sp.breach": "SLA breach on ticket #{id}", "sp.new": "New ticket #{id}",
    "sp.stale": "The ticket changed meanwhile — showing the current version", "sp.balance": "Balance", "sp.tariff": "Tariff",
    "sp.region": "Region", "sp.status": "Status", "sp.arpu": "ARPU", "sp.reasons": "Why this priority",
    "sub.active": "active", "sub.blocked": "blocked", "sub.suspended": "suspended", "sub.closed": "closed",
    "hist.created": "created", "hist.assigned": "assigned", "hist.state": "state", "hist.comment": "comment",
    "hist.attachment": "attachment", "tier.standard": "standard", "tier.high": "high", "tier.vip": "VIP", "tier.low": "low",
    "sp.r.base": "base P{p}", "sp.r.tier": "ARPU: {tier}", "sp.r.repeat": "repeats in window: {n}", "sp.r.outage": "outage in the region",
    "sp.h": "h", "sp.min": "min",
    "act.take": "Take", "act.start": "Start", "act.release": "Back to queue", "act.wait": "Wait for subscriber",
    "act.resume": "Resume", "act.resolve": "Resolved", "act.close": "Close", "act.reopen": "Reopen",
    "act.assign": "Assign",
  },
});


const ACTION_ORDER = ["take", "start", "wait", "resume", "resolve", "release", "close", "reopen"];
const NEEDS_TEXT = new Set(["resolve", "wait"]);
const me = await boot({ roles: ["tech_support", "supervisor"], title: () => t("sp.title") });
let scope = "open";
let rows = new Map();
let selected = null;
let current = null; // the detail on screen
const selecting = latest(); // the latest ticket asked for: an earlier ticket's slower answer must not take the detail
let topicNames = {};
try {
  const tree = (await api("/api/topics?include_archived=true")).tree;
  for (const p of tree) for (const x of [p, ...(p.children || [])]) topicNames[x.code] = x;
} catch (_) { topicNames = {}; }
const topicLabel = (code) => { const x = topicNames[code]; return x ? (document.documentElement.lang === "en" ? x.name_en : x.name_ru) : code; };
const tr = t.or;
const reasons = (r) => [t("sp.r.base", { p: r.base ?? "?" }), t("sp.r.tier", { tier: r.arpu_tier ? tr("tier." + r.arpu_tier, r.arpu_tier) : "—" }),
  r.repeat ? t("sp.r.repeat", { n: r.repeat }) : null, r.outage ? t("sp.r.outage") : null].filter(Boolean).join(" · ");

const inScope = (x) => scope === "queue" ? x.state === "new"
  : scope === "mine" ? x.assignee_id === me.id && ["assigned", "in_progress", "waiting"].includes(x.state)
  : scope === "resolved" ? ["resolved", "closed"].includes(x.state)
  : ["new", "assigned", "in_progress", "waiting"].includes(x.state);

function slaLeft(x) {
  const due = x.first_response_at ? x.resolution_due : x.first_response_due;
  if (!due || ["resolved", "closed"].includes(x.state)) return { text: "—", overdue: false };
  const min = Math.round((new Date(due) - Date.now()) / 60000);
  const fmt = (m) => (m >= 120 ? `${Math.floor(m / 60)} ${t("sp.h")} ${m % 60} ${t("sp.min")}` : `${m} ${t("sp.min")}`);
  if (min < 0) return { text: `${t("sp.overdue")} ${fmt(-min)}`, overdue: true };
  return { text: fmt(min), overdue: false };
}

function sorted() {
  return [...rows.values()].filter(inScope).sort((a, b) => scope === "resolved" ? b.id - a.id
    : a.priority - b.priority || String(a.resolution_due).localeCompare(String(b.resolution_due)) || a.id - b.id);
}

function paintTabs() {
  document.getElementById("sp-tabs").replaceChildren(...["queue", "mine", "open", "resolved"].map((s) =>
    h("button", { class: s === scope ? "on" : "", "data-scope": s, onclick: () => { scope = s; load(); } }, t("sp.tab." + s))));
  document.getElementById("sp-next").textContent = t("sp.next");
}

function paintQueue(freshId) {
  const table = document.getElementById("sp-queue");
  const list = sorted();
  table.replaceChildren(
    h("thead", {}, h("tr", {}, ["id", "prio", "topic", "state", "sla", "who"].map((c) => h("th", {}, t("sp.col." + c))))),
    h("tbody", {}, list.length ? list.map((x) => {
      const sla = slaLeft(x);
      return h("tr", { "data-ticket": x.id, class: [x.id === selected ? "sel" : "", x.id === freshId ? "fresh" : ""].join(" "),
        onclick: () => select(x.id) },
        h("td", {}, `#${x.id}`), h("td", {}, h("span", { class: `badge p${x.priority}` }, ticketText("prio." + x.priority))),
        h("td", {}, topicLabel(x.topic)), h("td", {}, ticketText("state." + x.state)),
        h("td", { class: sla.overdue ? "overdue" : "" }, sla.text), h("td", {}, x.assignee_name || "—"));
    }) : h("tr", {}, h("td", { colspan: 6, class: "muted" }, t("sp.empty")))));
}

const listing = latest(); // the latest tab's list: an earlier tab's slower answer must not fill this one
async function load() {
  paintTabs();
  const still = listing.start();
  const apiScope = scope === "queue" ? "queue" : scope === "mine" ? "mine" : scope === "resolved" ? "resolved" : "open";
  const list = (await api(`/api/tickets?scope=${apiScope}`)).tickets;
  if (!still()) return;
  rows = new Map(list.map((x) => [x.id, x]));
  paintQueue();
}

async function select(id) {
  const still = selecting.start();
  selected = id;
  paintQueue();
  const x = await api(`/api/tickets/${id}`);
  if (!still()) return;
  current = x;
  paintDetail();
}

async function act(action, text) {
  try {
    const x = await api(`/api/tickets/${current.id}/actions/${action}`, { method: "POST", body: { version: current.version, text } });
    rows.set(x.id, x);
    await select(x.id);
  } catch (e) {
    toast(e.message || t("err.generic"), "error");
    if (e.status === 409 && e.error_id === "stale_version") { toast(t("sp.stale")); await select(current.id); }
  }
}

function paintDetail() {
  const box = document.getElementById("sp-detail");
  if (!current) { box.replaceChildren(h("p", { class: "muted" }, t("sp.pick"))); return; }
  const c = current.card || {};
  const text = h("textarea", { id: "sp-text", rows: 2, placeholder: t("sp.resolution.ph") });
  const comment = h("textarea", { id: "sp-comment", rows: 2, placeholder: t("sp.comment.ph") });
  const file = h("input", { type: "file", id: "sp-file", accept: ".png,.jpg,.jpeg,.gif,.pdf,.txt,.csv" });
  const parts = [
    h("h3", { id: "sp-ticket-title" }, `#${current.id} · ${topicLabel(current.topic)} · `, h("span", { id: "sp-state" }, ticketText("state." + current.state)),
      " · ", h("span", { class: `badge p${current.priority}` }, ticketText("prio." + current.priority))),
    h("div", { class: "fields" },
      h("div", { class: "f" }, h("label", {}, t("sp.card")), h("div", { class: "v" }, c.name || c.subscriber_id || "—", " ", c.msisdn_display || c.msisdn || "")),
      h("div", { class: "f" }, h("label", {}, t("sp.status")), h("div", { class: "v" }, c.status ? tr("sub." + c.status, c.status) : "—")),
      h("div", { class: "f" }, h("label", {}, t("sp.balance")), h("div", { class: "v" }, fmtMoney(c.balance))),
      h("div", { class: "f" }, h("label", {}, t("sp.tariff")), h("div", { class: "v" }, c.tariff || "—")),
      h("div", { class: "f" }, h("label", {}, t("sp.region")), h("div", { class: "v" }, c.region || "—")),
      h("div", { class: "f" }, h("label", {}, t("sp.arpu")), h("div", { class: "v" }, fmtMoney(c.arpu)))),
    h("p", { class: "muted" }, t("sp.reasons"), ": ", reasons(current.routing || {})),
    h("h4", {}, t("sp.note")), h("p", { id: "sp-note" }, current.note),
    current.resolution ? h("p", {}, h("b", {}, "✓ "), current.resolution) : null,
    text,
    h("div", { class: "actions" }, ACTION_ORDER.filter((a) => current.actions.includes(a)).map((a) =>
      h("button", { "data-action": a, class: a === "resolve" || a === "take" ? "primary" : "",
        onclick: () => act(a, NEEDS_TEXT.has(a) ? text.value : undefined) }, t("act." + a)))),
    h("h4", {}, t("sp.comments")),
    h("div", { id: "sp-comments" }, current.comments.map((m) => h("div", { class: "sp-comment" },
      h("span", { class: "muted" }, `${m.author || ""} · ${fmtDateTime(m.at)}`), h("div", { html: m.body_html })))),
    comment,
    h("button", { onclick: async () => {
      try { await api(`/api/tickets/${current.id}/comments`, { method: "POST", body: { body: comment.value } }); await select(current.id); }
      catch (e) { toast(e.message, "error"); }
    } }, t("sp.comment.add")),
    h("h4", {}, t("sp.files")),
    h("ul", {}, current.attachments.map((a) => h("li", {}, h("a", { href: `/api/tickets/${current.id}/attachments/${a.id}` }, a.filename), ` (${Math.ceil(a.size / 1024)} KB)`))),
    file,
    h("button", { onclick: async () => {
      if (!file.files[0]) return;
      const fd = new FormData(); fd.append("file", file.files[0]);
      try { await api(`/api/tickets/${current.id}/attachments`, { method: "POST", body: fd }); await select(current.id); }
      catch (e) { toast(e.message, "error"); }
    } }, t("sp.upload")),
    h("h4", {}, t("sp.history")),
    h("ul", { class: "sp-hist" }, current.history.map((e) => h("li", {},
      `${fmtDateTime(e.at)} · ${e.actor || "—"} · ${tr("hist." + e.kind, e.kind)}${e.to ? ` → ${ticketText("state." + e.to)}` : ""}`))),
  ];
  box.replaceChildren(...parts.filter(Boolean));
}

document.getElementById("sp-next").addEventListener("click", async () => {
  const r = await api("/api/tickets/next", { method: "POST" });
  if (!r.ticket) { toast(t("sp.next.none")); return; }
  rows.set(r.ticket.id, r.ticket);
  scope = "mine"; await load(); await select(r.ticket.id);
});

function upsert(x, fresh) {
  rows.set(x.id, x);
  paintQueue(fresh ? x.id : undefined);
  if (current && current.id === x.id && current.version !== x.version) select(x.id);
}
on("ws:ticket.created", (m) => { upsert(m.ticket, true); toast(t("sp.new", { id: m.ticket.id })); });
on("ws:ticket.assigned", (m) => upsert(m.ticket, true));
on("ws:ticket.updated", (m) => upsert(m.ticket, false));
on("ws:ticket.sla_breach", (m) => { upsert(m.ticket, true); toast(t("sp.breach", { id: m.ticket.id }), "error"); });
on("ws:open", () => load()); // resync after a reconnect
on("lang", () => { paintTabs(); paintQueue(); paintDetail(); });
setInterval(() => paintQueue(), 30000); // SLA countdowns

await load();
paintDetail();
