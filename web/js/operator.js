// The operator's screen: call banner, the subscriber card's top band with its alerts (pushed before
// pick-up), search. The middle column's tabs are /js/drill.js; the panels are registered by the features.
import { strings, boot, api, on, emit, send, h, fmtMoney, fmtClock, shortcut, toast, errorMessage, $, latest } from "/js/core.js";
import { mountPanels, currentContext } from "/js/panels.js";
import { recordFinishedFor, finishWithoutRecord } from "/js/records.js";
import { statusBadge } from "/js/subscriber-strings.js";
import "/js/drill.js";

const t = strings("op", {
  ru: {
    "op.title": "АРМ оператора", "op.presence": "Статус", "op.search": "Поиск: номер, лицевой счёт, договор, ФИО", "op.find": "Найти",
    "call.idle": "Нет активного звонка", "call.ringing": "Входящий звонок", "call.connected": "Разговор", "call.wrap_up": "Постобработка", "call.ended": "Звонок завершён",
    "call.finish": "Завершить постобработку", "call.queue": "очередь", "call.withdrawn.answered_elsewhere": "Звонок принят другим оператором",
    "call.withdrawn.no_answer": "Звонок ушёл следующему оператору", "call.withdrawn.caller_left": "Абонент положил трубку",
    "card.name": "Абонент", "card.msisdn": "Номер", "card.account": "Лицевой счёт", "card.status": "Статус",
    "card.balance": "Баланс", "card.credit": "Кредитный лимит", "card.tariff": "Тариф", "card.region": "Регион",
    "card.unknown": "Номер {msisdn} не найден в биллинге", "card.bad_number": "Номер абонента не определён ({msisdn})", "card.no_caller_id": "Номер абонента не определён — найдите его поиском",
    "card.multiple": "На номере несколько лицевых счетов — выберите:", "card.unavailable": "Биллинг недоступен, данных в кэше нет",
    "card.stale": "Данные из кэша, возраст {age}; биллинг: {state}", "card.loading": "Загрузка карточки…",
    "billing.ok": "работает", "billing.degraded": "медленно отвечает", "billing.unavailable": "недоступен", "search.none": "Ничего не найдено", "search.short": "Введите не меньше 2 символов",
    "search.more": "Показаны первые {n} — уточните запрос",
    "reason.label": "Причина просмотра карточки вне звонка", "reason.callback": "Обратный звонок", "reason.written_request": "Письменное обращение",
    "reason.complaint_review": "Разбор жалобы", "reason.ticket_follow_up": "Работа по заявке",
    "card.searched": "Карточка из поиска — на линии другой абонент ({caller})", "card.back": "К звонящему",
    "alert.negative_balance": "Отрицательный баланс", "alert.blocked": "Линия заблокирована", "alert.suspended": "Линия приостановлена",
    "alert.open_ticket": "Открытая заявка: {n}", "alert.offer": "Есть предложение: {n}", "card.alerts": "Важно",
    "help.search": "Поиск абонента", "help.finish": "Завершить постобработку",
    "norec.title": "Обращение не записано", "norec.text": "По этому звонку нет записи обращения. Заполните её — или подтвердите, что записывать нечего: звонок попадёт в отчёты как «без записи».",
    "norec.fill": "Заполнить обращение", "norec.confirm": "Завершить без записи",
    "state.ringing": "Звонок", "state.connected": "Разговор", "state.wrap_up": "Постобработка", "op.presence.after": "После звонка",
  },
  en: {
    "op.title": "Operator workstation", "op.presence": "Status", "op.search": "Search: number, account, contract, name", "op.find": "Find",
    "call.idle": "No active call", "call.ringing": "Incoming call", "call.connected": "Connected", "call.wrap_up": "After-call work", "call.ended": "Call ended",
    "call.finish": "Finish after-call work", "call.queue": "queue", "call.withdrawn.answered_elsewhere": "Another operator took the call",
    "call.withdrawn.no_answer": "The call moved to the next operator", "call.withdrawn.caller_left": "The caller hung up",
    "card.name": "Subscriber", "card.msisdn": "Number", "card.account": "Account", "card.status": "Status",
    "card.balance": "Balance", "card.credit": "Credit limit", "card.tariff": "Tariff", "card.region": "Region",
    "card.unknown": "Number {msisdn} is not in billing", "card.bad_number": "Caller number unknown ({msisdn})", "card.no_caller_id": "No caller ID: find the subscriber by search",
    "card.multiple": "Several accounts on this number — choose one:", "card.unavailable": "Billing unavailable and nothing cached",
    "card.stale": "Cached data, {age} old; billing: {state}", "card.loading": "Loading the card…",
    "billing.ok": "ok", "billing.degraded": "slow", "billing.unavailable": "unavailable", "search.none": "Nothing found", "search.short": "Type at least 2 characters",
    "search.more": "The first {n} are shown — refine the search",
    "reason.label": "Why the card is opened outside a call", "reason.callback": "Call-back", "reason.written_request": "Written request",
    "reason.complaint_review": "Complaint review", "reason.ticket_follow_up": "Ticket follow-up",
    "card.searched": "A card from search: the caller on the line is someone else ({caller})", "card.back": "Back to the caller",
    "alert.negative_balance": "Negative balance", "alert.blocked": "Line blocked", "alert.suspended": "Line suspended",
    "alert.open_ticket": "Open tickets: {n}", "alert.offer": "Offers: {n}", "card.alerts": "Alerts",
    "help.search": "Find a subscriber", "help.finish": "Finish after-call work",
    "norec.title": "No request record", "norec.text": "This call has no request record. Fill it in, or confirm there is nothing to record: reports will count the call as \"no record\".",
    "norec.fill": "Fill in the record", "norec.confirm": "Finish without a record",
    "state.ringing": "Ringing", "state.connected": "On call", "state.wrap_up": "After-call work", "op.presence.after": "After the call",
  },
});

const me = await boot({ roles: ["operator", "supervisor", "tech_support"], title: () => t("op.title") });
mountPanels({ record: $("col-record"), reference: $("col-reference-panels"), side: $("col-side-panels") });

const state = { call: null, lookup: null, subscriberId: null, timer: null };

function paintStatic() {
  $("presence-label").textContent = t("op.presence");
  const sel = $("presence");
  sel.options[0].textContent = t("presence.ready"); sel.options[1].textContent = t("presence.paused");
  $("search").placeholder = t("op.search"); $("search-btn").textContent = t("op.find");
  renderBanner(); if (state.lookup) { renderCard(state.lookup); renderAlerts(); markSearched(); }
}
on("lang", paintStatic);
$("presence").value = me.presence === "paused" ? "paused" : "ready";
$("presence").addEventListener("change", async (e) => { await api("/api/auth/presence", { method: "POST", body: { presence: e.target.value } }); });
if (me.presence === "offline") api("/api/auth/presence", { method: "POST", body: { presence: "ready" } }).catch(() => {});

// ---- call banner ------------------------------------------------------------------------------------
function renderBanner(note) {
  const b = $("call-banner"), c = state.call;
  clearInterval(state.timer);
  const st = c ? c.state : "idle";
  b.dataset.state = st;
  if (!c) { b.replaceChildren(h("span", { class: "muted" }, note || t("call.idle"))); return; }
  const parts = [h("strong", { class: "call-state" }, t("call." + st)), h("span", { class: "caller" }, c.caller_display || c.caller || "—")];
  if (c.queue) parts.push(h("span", { class: "muted queue" }, `${t("call.queue")} ${c.queue}`));
  if (st === "connected" && c.answered_at) {
    const timer = h("span", { class: "timer", id: "talk-timer" });
    const tick = () => { const s = Math.max(0, Math.floor(Date.now() / 1000 - c.answered_at)); timer.textContent = fmtClock(s); };
    tick(); state.timer = setInterval(tick, 1000); parts.push(timer);
  }
  if (st === "wrap_up") parts.push(h("button", { id: "finish-wrapup", onclick: finishWrapup }, t("call.finish")));
  b.replaceChildren(...parts);
  renderPresenceState();
}
// the real state beside the status selector: ringing, on call, after-call work (with its timer); the
// selector then says what the operator will be after the call (ready or paused)
function renderPresenceState() {
  const el = $("presence-state"), c = state.call;
  clearInterval(state.acwTimer);
  const live = c && ["ringing", "connected", "wrap_up"].includes(c.state) ? c.state : null;
  $("presence-label").textContent = t(live ? "op.presence.after" : "op.presence");
  el.dataset.state = live ? { ringing: "ringing", connected: "on_call", wrap_up: "wrap_up" }[live] : "";
  if (!live) { el.replaceChildren(); return; }
  const since = live === "wrap_up" ? c.ended_at : live === "connected" ? c.answered_at : c.offered_at;
  const clock = h("span", { class: "timer", id: live === "wrap_up" ? "acw-timer" : "state-timer" });
  const tick = () => { const s = since ? Math.max(0, Math.floor(Date.now() / 1000 - since)) : 0; clock.textContent = fmtClock(s); };
  tick(); state.acwTimer = setInterval(tick, 1000);
  el.replaceChildren(t("state." + live), " ", clock);
}
// after-call work ends with a request record: without one the operator is asked, and may confirm that
// there is nothing to record (the call is then recorded as "no record", which reports count)
function askForRecord(call) {
  return new Promise((resolve) => {
    const close = (v) => { box.remove(); resolve(v); };
    const box = h("div", { class: "modal", id: "no-record", role: "dialog", "aria-modal": "true", "aria-labelledby": "no-record-title" },
      h("div", { class: "modal-box" }, h("h3", { id: "no-record-title" }, t("norec.title")), h("p", {}, t("norec.text")),
        h("div", { class: "toolbar" },
          h("button", { class: "primary", id: "no-record-fill", onclick: () => { close(false); $("rec-note")?.focus(); } }, t("norec.fill")),
          h("button", { id: "no-record-confirm", onclick: () => close(true) }, t("norec.confirm")))));
    box.addEventListener("keydown", (e) => { if (e.key === "Escape") close(false); });
    document.body.append(box);
    box.querySelector("#no-record-fill").focus();
  }).then(async (confirmed) => {
    if (!confirmed) return false;
    const ctx = currentContext() || { call, subscriberId: state.subscriberId };
    try { await finishWithoutRecord({ ...ctx, call }); return true; } catch (e) { toast(e.message, "error"); return false; }
  });
}
async function finishWrapup() {
  if (!state.call) return;
  if (state.call.state === "wrap_up" && !recordFinishedFor(state.call.id)) {
    await askForRecord(state.call); // the record's finish ends after-call work itself
    return;
  }
  try {
    const r = await api(`/api/calls/${encodeURIComponent(state.call.id)}/wrapup`, { method: "POST" });
    if (r && r.status === "saving_delayed") toast(errorMessage("saving_delayed") || r.message, "warn");
  } catch (e) { toast(e.message, "error"); }
}
shortcut("alt+f", finishWrapup, () => t("help.finish"));

// ---- card -------------------------------------------------------------------------------------------
function field(key, value, cls) { return h("div", { class: "f " + (cls || "") }, h("label", {}, t(key)), h("span", { class: "v" }, value)); }

function renderCard(lookup) {
  const el = $("card");
  state.lookup = lookup;
  el.dataset.state = lookup ? lookup.state : "idle";
  state.sections = null;
  if (!lookup) { el.replaceChildren(); return; }
  const msisdn = lookup.msisdn_display || lookup.msisdn || state.call?.caller_display || state.call?.caller || "";
  if (lookup.state === "loading") { el.replaceChildren(h("p", { class: "muted" }, t("card.loading"))); return; }
  if (lookup.state === "unknown" || lookup.state === "bad_number") {
    const key = lookup.state === "bad_number" && !msisdn ? "card.no_caller_id" : "card." + lookup.state; // <unknown> caller ID
    el.replaceChildren(h("p", { class: "notice" }, t(key, { msisdn })));
    $("search").focus(); return;
  }
  if (lookup.state === "unavailable") { el.replaceChildren(h("p", { class: "notice error" }, t("card.unavailable"))); return; }
  if (lookup.state === "multiple") {
    el.replaceChildren(h("p", { class: "notice" }, t("card.multiple")), matchList(lookup.matches, true)); return;
  }
  const c = lookup.card;
  const fr = lookup.freshness;
  const stale = fr && (fr.stale || fr.billing_state !== "ok")
    ? h("p", { class: "notice stale", id: "stale-note" }, t("card.stale", { age: ago(fr.age_s), state: t("billing." + fr.billing_state) })) : null;
  // the top band: who, the line's state and the alerts, then the figures an answer needs; the rest is in
  // the middle column's "Services and contract" tab
  el.replaceChildren(...[
    stale,
    h("div", { class: "band" },
      h("div", { class: "name-row" }, h("h2", { class: "name" }, c.name), statusBadge(c.status),
        h("span", { id: "card-alerts", class: "alerts", role: "status", "aria-label": t("card.alerts") })),
      h("div", { class: "fields band-fields" },
        field("card.msisdn", c.msisdn_display || c.msisdn, "msisdn"), field("card.account", c.account, "account"),
        field("card.balance", fmtMoney(c.balance), "balance" + (c.balance < 0 ? " negative" : "")),
        field("card.credit", fmtMoney(c.credit_limit), "credit"),
        field("card.tariff", c.tariff, "tariff"), field("card.region", c.region, "region"))),
  ].filter(Boolean));
  renderAlerts();
}
// Alerts in the band, the way CRM consoles flag them: negative balance, a blocked or suspended line, open
// tickets, offers to make. Ticket and offer counts come with the card's sections.
const OPEN_TICKET = new Set(["new", "assigned", "in_progress", "waiting"]);
function renderAlerts() {
  const box = $("card-alerts"), c = state.lookup?.card;
  if (!box || !c) return;
  const sec = state.sections || {};
  const openTickets = (Array.isArray(sec.tickets) ? sec.tickets : []).filter((x) => OPEN_TICKET.has(x.state)).length;
  const offers = Array.isArray(sec.offers) ? sec.offers.filter((o) => !o.outcome).length : 0;
  const chip = (kind, text, target) => h(target ? "button" : "span", { type: target ? "button" : null, class: `alert alert-${kind}`, "data-alert": kind,
    onclick: target ? () => { const p = $(target); if (p) { p.scrollIntoView({ block: "nearest" }); p.classList.add("flash"); setTimeout(() => p.classList.remove("flash"), 1200); } } : null }, text);
  box.replaceChildren(...[
    c.balance < 0 ? chip("negative_balance", t("alert.negative_balance")) : null,
    c.status === "blocked" || c.status === "suspended" ? chip(c.status, t("alert." + c.status)) : null,
    openTickets ? chip("open_ticket", t("alert.open_ticket", { n: openTickets }), "panel-tickets") : null,
    offers ? chip("offer", t("alert.offer", { n: offers }), "panel-offers") : null,
  ].filter(Boolean));
}
on("card:shown", (ctx) => { state.sections = ctx.sections || {}; renderAlerts(); });
on("ws:ticket.updated", (m) => { // a ticket of the subscriber on screen changed state: the alert follows
  const list = state.sections?.tickets;
  if (!Array.isArray(list) || !m.ticket || m.ticket.subscriber_id !== state.subscriberId) return;
  const i = list.findIndex((x) => x.id === m.ticket.id);
  if (i >= 0) list[i] = m.ticket; else list.unshift(m.ticket);
  renderAlerts();
});
on("ticket:created", (tk) => { if (state.sections) { (state.sections.tickets ||= []).unshift(tk); renderAlerts(); } });
on("offer:answered", () => renderAlerts());
function ago(s) { s = Math.round(s || 0); return s < 60 ? `${s} s` : s < 3600 ? `${Math.round(s / 60)} min` : `${Math.round(s / 3600)} h`; }
// a match list people can tell apart: region, the number with its last digits stressed, the account
function matchList(matches, callers = false) {
  return h("ul", { class: "matches" }, matches.map((m, i) => {
    const shown = m.msisdn_display || m.msisdn || "";
    const tail = shown.replace(/\D/g, "").slice(-4);
    const head = tail ? shown.slice(0, shown.lastIndexOf(tail.slice(0, 2))) : shown;
    return h("li", {},
      h("button", { class: "match", "data-id": m.subscriber_id, "data-msisdn": m.msisdn,
        onclick: () => openSubscriber(m.subscriber_id, callers) },
      `${i + 1}. `, h("b", {}, m.name), " · ", h("span", { class: "m-region" }, m.region || "—"), " · ",
      h("span", { class: "m-number" }, head, h("b", { class: "m-tail" }, shown.slice(head.length))), " · ",
      h("span", { class: "m-account" }, `${t("card.account")} ${m.account}`), " ", statusBadge(m.status)));
  }));
}

const CALL_ONLY = ["unknown", "bad_number", "unavailable"]; // lookups with no subscriber that still get a request record
// the latest card asked for (a pop, a search, a pick): an older, slower answer must not replace a newer card
const cardSeq = latest();
async function showCard(lookup, subscriberId) {
  const still = cardSeq.start();
  renderCard(lookup);
  state.subscriberId = subscriberId || lookup?.card?.subscriber_id || null;
  if (state.call) { state.callerId = state.subscriberId; state.callLookup = lookup; } // the caller's own card
  markSearched();
  if (!state.subscriberId) {
    // a call from a number billing does not know (or while billing is down) is still recorded
    if (state.call && lookup && CALL_ONLY.includes(lookup.state)) emit("card:shown", { subscriberId: null, card: null, lookup, call: state.call, sections: {} });
    else emit("card:cleared");
    return;
  }
  let sections = {};
  try { sections = await api(`/api/subscribers/${encodeURIComponent(state.subscriberId)}/sections`); } catch (_) {}
  if (!still() || state.lookup !== lookup) return; // another card, or none, is on screen by now
  emit("card:shown", { subscriberId: state.subscriberId, card: lookup.card, lookup, call: state.call, sections });
}
// a card opened outside a call says why (kept in the audit log; supervisors see unusual reading)
const READ_REASONS = ["callback", "written_request", "complaint_review", "ticket_follow_up"];
function readReasonSelect() {
  let sel = document.getElementById("read-reason");
  if (!sel) {
    sel = h("select", { id: "read-reason", "aria-label": t("reason.label") }, READ_REASONS.map((r) => h("option", { value: r }, t("reason." + r))));
    $("search-form").append(sel);
    on("lang", () => { for (const o of sel.options) o.textContent = t("reason." + o.value); });
  }
  return sel;
}
readReasonSelect();
// during a call or its after-call work, a card found by search is marked as not the caller's, with the way
// back to the caller's card; a pick among the caller's own matches is the caller's card
const LIVE = ["ringing", "connected", "wrap_up"];
function markSearched() {
  const el = $("card"), c = state.call;
  // (a caller billing did not know has no card of their own: the one found by search is theirs)
  const searched = !!(c && LIVE.includes(c.state) && state.callerId && state.subscriberId && state.subscriberId !== state.callerId);
  el.dataset.origin = searched ? "search" : "call";
  $("searched-note")?.remove();
  if (!searched) return;
  el.prepend(h("p", { class: "notice searched", id: "searched-note" }, t("card.searched", { caller: c.caller_display || c.caller || "—" }), " ",
    h("button", { type: "button", id: "back-to-caller", onclick: () => (state.callerId ? openSubscriber(state.callerId, true) : showCard(state.callLookup)) }, t("card.back"))));
}
async function openSubscriber(id, callers = false) {
  const q = state.call ? `?call_id=${encodeURIComponent(state.call.id)}` : `?reason=${encodeURIComponent(readReasonSelect().value)}`;
  const still = cardSeq.start();
  try {
    const res = await api(`/api/subscribers/${encodeURIComponent(id)}/card${q}`);
    if (!still()) return;
    $("search-results").replaceChildren();
    if (callers && state.call) state.callerId = id;
    renderCard(res.card); state.subscriberId = id; markSearched();
    emit("card:shown", { subscriberId: id, card: res.card.card, lookup: res.card, call: state.call, sections: res.sections });
  } catch (e) { if (still()) toast(e.message, "error"); }
}

// ---- search -----------------------------------------------------------------------------------------
const SEARCH_LIMIT = 20; // the server returns at most this many matches
const searchSeq = latest(); // the latest search: the answer to an earlier query must not replace its results
shortcut("/", () => $("search").focus(), () => t("help.search"));
shortcut("alt+s", () => $("search").focus(), () => t("help.search"));
$("search-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const q = $("search").value.trim(), out = $("search-results"), still = searchSeq.start();
  if (q.length < 2) { out.replaceChildren(h("p", { class: "notice" }, t("search.short"))); return; }
  try {
    const { matches } = await api(`/api/subscribers/search?q=${encodeURIComponent(q)}`);
    if (!still()) return;
    if (matches.length === 1) { out.replaceChildren(); openSubscriber(matches[0].subscriber_id); return; }
    out.replaceChildren(...(matches.length ? [matchList(matches)] : [h("p", { class: "notice" }, t("search.none"))]),
      ...(matches.length >= SEARCH_LIMIT ? [h("p", { class: "muted", id: "search-more" }, t("search.more", { n: matches.length }))] : []));
  } catch (ex) { if (still()) out.replaceChildren(h("p", { class: "notice error" }, ex.message)); }
});
$("search").disabled = $("search-btn").disabled = false; // the form is the script's from here on
document.addEventListener("keydown", (e) => {
  if (state.lookup?.state === "multiple" && /^[1-9]$/.test(e.key) && document.activeElement?.tagName !== "INPUT" && document.activeElement?.tagName !== "TEXTAREA") {
    const m = state.lookup.matches[Number(e.key) - 1]; if (m) openSubscriber(m.subscriber_id);
  }
});

// ---- push -------------------------------------------------------------------------------------------
function setCall(call) { state.call = call; renderBanner(); emit("call:state", call); }
on("ws:call.offered", (m) => { setCall(m.call); showCard(m.card, m.card?.card?.subscriber_id); document.title = "☎ " + (m.call.caller_display || m.call.caller || ""); });
on("ws:call.answered", (m) => {
  const same = state.call && state.call.id === m.call.id;
  setCall(m.call);
  if (!same) showCard(m.card, m.card?.card?.subscriber_id);
});
on("ws:call.ended", (m) => { setCall(m.call); document.title = t("op.title"); });
on("ws:call.withdrawn", (m) => {
  if (!state.call || state.call.id !== m.call.id) return;
  state.call = null; renderBanner(t("call.withdrawn." + m.reason)); renderCard(null); emit("card:cleared"); document.title = t("op.title");
  setTimeout(() => { if (!state.call) renderBanner(); }, 8000); // the notice goes; the banner says idle again
});
on("ws:call.cleared", (m) => {
  // after-call work is finished: the screen returns to idle (the next call starts on a clean screen)
  // (a record finished while still talking does not blank the screen of a live call)
  if (state.call && state.call.id === m.call.id && state.call.state !== "connected") {
    state.call = null; state.subscriberId = null; renderBanner(); renderCard(null); emit("call:state", null); emit("card:cleared");
    document.title = t("op.title");
  }
});
on("ws:call.state", (m) => {
  const same = state.call && state.call.id === m.call.id && state.lookup;
  setCall(m.call);
  if (!same) showCard(m.card, m.card?.card?.subscriber_id);
});
// the card on screen is remembered in this tab: a server that restarts and forgets the live call (or a
// reload meanwhile) gives the card back, with the draft the record panel kept
const OPEN_KEY = "op.open";
on("subscriber:open", (m) => openSubscriber(m.subscriberId)); // a callback's reminder opens its card
on("card:shown", (ctx) => { try { if (ctx.subscriberId) sessionStorage.setItem(OPEN_KEY, ctx.subscriberId); } catch (_) {} });
on("card:cleared", () => { try { sessionStorage.removeItem(OPEN_KEY); } catch (_) {} });
on("ws:call.none", () => {
  let reopen = null;
  try { reopen = sessionStorage.getItem(OPEN_KEY); } catch (_) {}
  const lost = !!state.call; // the server no longer knows the call this screen showed
  if (lost) {
    state.call = null; renderBanner(); emit("call:state", null);
    if (!reopen) { renderCard(null); emit("card:cleared"); }
  }
  if (reopen && (lost || state.subscriberId !== reopen || !state.lookup)) openSubscriber(reopen);
  // no live call of mine: say what the screen says (ready or on a break), so a presence left at on_call /
  // wrap_up by a closed tab, or a PBX that restarted with everyone paused, does not keep me out of the queue,
  // and a restarted server (its figures, the break it keeps after a call) knows I am on a break
  api("/api/auth/presence", { method: "POST", body: { presence: $("presence").value } }).catch(() => {});
});
on("ws:error", (m) => console.warn("server:", m.error_id, m.message));
setInterval(() => send({ type: "ping", t: Date.now() }), 20000);
paintStatic();
