// Operator's request record panel: previous requests, the note with live topic suggestions (keys 1/2/3,
// or Alt+1/2/3 while typing), several topics, the free-text "Other" path first when no topic is confident,
// the outcome, and Finish (which also ends after-call work for the call on screen).
import { strings, api, h, on, fmtDateTime, shortcut, toast, language, emit, prefs, latest } from "/js/core.js";
import { registerPanel, currentContext } from "/js/panels.js";
import { planCallback } from "/js/callbacks.js";

const t = strings("rec", {
  ru: {
    "rec.title": "Обращение", "rec.history": "Прошлые обращения", "rec.none": "Обращений не было",
    "rec.note": "Суть обращения", "rec.note.ph": "Кратко: что случилось и что сделано…",
    "rec.suggest": "Подсказки тем", "rec.suggest.wait": "Начните печатать — появятся темы",
    "rec.other": "Другое (свободный текст)", "rec.other.first": "Ни одна тема не подходит уверенно — опишите обращение текстом",
    "rec.topics": "Темы", "rec.topics.none": "Тема не выбрана", "rec.pick": "Выбрать тему вручную…",
    "rec.outcome": "Итог", "outcome.resolved": "Решено на звонке", "outcome.escalated": "Передано в техподдержку",
    "outcome.callback": "Перезвонить", "outcome.no_record": "Без записи", "rec.callback_at": "Когда перезвонить", "rec.callback_needed": "Укажите, когда перезвонить (не в прошлом)", "rec.callback_failed": "Обращение сохранено, перезвон не запланирован: {why}", "rec.finish": "Завершить обращение", "rec.saved": "Обращение сохранено",
    "rec.remove": "Убрать", "rec.key": "клавиша {n}", "rec.keys": "Выбрать подсказку 1/2/3",
    "rec.truncated": "Текст очень длинный: сохранено начало", "rec.archived": "в архиве",
  },
  en: {
    "rec.title": "Request", "rec.history": "Previous requests", "rec.none": "No previous requests",
    "rec.note": "What the request is about", "rec.note.ph": "Briefly: what happened and what was done…",
    "rec.suggest": "Suggested topics", "rec.suggest.wait": "Start typing to see topics",
    "rec.other": "Other (free text)", "rec.other.first": "No topic fits confidently — describe the request in the note",
    "rec.topics": "Topics", "rec.topics.none": "No topic chosen", "rec.pick": "Pick a topic…",
    "rec.outcome": "Outcome", "outcome.resolved": "Resolved on the call", "outcome.escalated": "Passed to tech support",
    "outcome.callback": "Call back", "outcome.no_record": "No record", "rec.callback_at": "When to call back", "rec.callback_needed": "Say when to call back (not in the past)", "rec.callback_failed": "The request is saved, the callback is not planned: {why}", "rec.finish": "Finish request", "rec.saved": "Request saved",
    "rec.remove": "Remove", "rec.key": "key {n}", "rec.keys": "Pick suggestion 1/2/3",
    "rec.truncated": "The text is very long: its beginning was saved", "rec.archived": "archived",
  },
});

const OUTCOMES = ["resolved", "escalated", "callback"];
const drafts = new Map(); // subscriber/call key → {note, topics, outcome, sug}
let draft = null;
let topicTree = null;
let els = null;
let timer = null;
let pauseTimer = null;
const seq = latest();

// drafts survive a page reload (sessionStorage: this tab only, gone when it closes)
// a draft is kept under the call and under the subscriber, so a server restart that loses the live call
// still finds it when the card comes back; both go when the record is saved
function saveDraft(key) {
  const text = JSON.stringify({ note: draft.note, topics: draft.topics, outcome: draft.outcome, callbackAt: draft.callbackAt });
  const sub = currentContext()?.subscriberId;
  try {
    sessionStorage.setItem("rec.draft:" + key, text);
    if (sub) sessionStorage.setItem("rec.draft:sub:" + sub, text);
  } catch (_) {}
}
function dropDraft(ctx) {
  drafts.delete(keyOf(ctx));
  try {
    sessionStorage.removeItem("rec.draft:" + keyOf(ctx));
    if (ctx.subscriberId) sessionStorage.removeItem("rec.draft:sub:" + ctx.subscriberId);
  } catch (_) {}
}
function loadDraft(key) {
  try { const d = JSON.parse(sessionStorage.getItem("rec.draft:" + key) || "null"); if (d) return { ...d, sug: null }; } catch (_) {}
  return null;
}
const nameOf = (x) => (language() === "en" ? x.name_en : x.name_ru);
const keyOf = (ctx) => (ctx.call && ctx.call.id) || "sub:" + ctx.subscriberId;

async function loadTopics() {
  if (!topicTree) topicTree = (await api("/api/topics?include_archived=false")).tree;
  return topicTree;
}

function history(list) {
  if (!Array.isArray(list) || !list.length) return h("p", { class: "muted" }, t("rec.none"));
  return h("ul", { class: "rec-history" }, list.map((r) => h("li", {},
    h("span", { class: "muted" }, fmtDateTime(r.created_at)), " ",
    r.topics.map((x) => h("span", { class: "badge" + (x.archived ? " muted" : "") }, nameOf(x))),
    r.outcome ? h("span", { class: "muted" }, " · " + t("outcome." + r.outcome)) : null,
    r.note ? h("div", { class: "rec-note-prev" }, r.note.length > 160 ? r.note.slice(0, 160) + "…" : r.note) : null)));
}

// previous requests: a collapsible line ("Previous requests: 3"), open or closed as the operator left it
function historyBox(list) {
  const n = Array.isArray(list) ? list.length : 0;
  const open = prefs.get("op.rec.history", true);
  const box = h("details", { id: "rec-history-box", open },
    h("summary", {}, t("rec.history"), n ? ` (${n})` : ""), h("div", { id: "rec-history" }, history(list)));
  // (a details element also fires "toggle" when it is created open: only the operator's change is saved)
  box.addEventListener("toggle", () => { if (box.open !== open || prefs.get("op.rec.history") !== undefined) prefs.set("op.rec.history", box.open); });
  return box;
}

function addTopic(code, name) {
  if (!draft.topics.some((x) => x.code === code)) draft.topics.push({ code, name });
  renderChosen();
  const ctx = currentContext(); if (ctx) saveDraft(keyOf(ctx));
  if (code !== "other") emit("topic:chosen", { code }); // the cheat sheet and script follow the topic
}

function pickRank(n) {
  if (!draft || !els) return;
  const s = draft.sug && draft.sug.suggestions[n - 1];
  if (s) addTopic(s.code, nameOf(s));
}

function renderSuggestions() {
  const box = els.sug;
  box.replaceChildren();
  const sug = draft.sug;
  if (!sug) { box.append(h("p", { class: "muted" }, t("rec.suggest.wait"))); return; }
  const other = h("button", { type: "button", class: "rec-other" + (sug.other_first ? " primary" : ""), id: "rec-other",
    onclick: () => { addTopic("other", t("rec.other")); els.note.focus(); } }, t("rec.other"));
  const buttons = sug.suggestions.map((s, i) => h("button", {
    type: "button", class: "rec-sug", "data-code": s.code, title: t("rec.key", { n: i + 1 }),
    onclick: () => addTopic(s.code, nameOf(s)) },
  h("kbd", {}, String(i + 1)), " ", nameOf(s), " ", h("span", { class: "muted" }, Math.round(s.confidence * 100) + "%")));
  if (sug.other_first) box.append(h("p", { class: "notice", id: "rec-other-first" }, t("rec.other.first")), other, ...buttons);
  else box.append(...buttons, other);
  if (sug.note_truncated) box.append(h("p", { class: "muted" }, t("rec.truncated")));
}

function renderChosen() {
  els.chosen.replaceChildren(...(draft.topics.length ? draft.topics.map((x) => h("span", { class: "badge chip", "data-code": x.code },
    x.name, " ", h("button", { type: "button", class: "link", "aria-label": t("rec.remove"),
      onclick: () => {
        draft.topics = draft.topics.filter((y) => y.code !== x.code); renderChosen();
        const ctx = currentContext(); if (ctx) saveDraft(keyOf(ctx));
      } }, "×")))
    : [h("span", { class: "muted" }, t("rec.topics.none"))]));
}

// every keystroke asks the fast sparse model; a pause in typing asks again with refine (sentence embeddings)
const PAUSE_MS = 700;
async function suggestNow(ctx, refine = false) {
  const still = seq.start();
  const text = draft.note;
  if (!text.trim()) { draft.sug = null; renderSuggestions(); return; }
  try {
    const res = await api("/api/records/suggest", { method: "POST", body: { text, subscriber_id: ctx.subscriberId || null, refine } });
    if (!still() || !els) return; // a newer keystroke won
    draft.sug = res;
    renderSuggestions();
  } catch (e) { if (still()) showStatus(e); }
}

// ---- what the rest of the screen asks of the record on screen ---------------------------------------
const finishedKey = (callId) => "rec.finished:" + callId;
function markFinished(callId) { if (callId) { try { sessionStorage.setItem(finishedKey(callId), "1"); } catch (_) {} } }
/** Whether this tab finished a request record for the call (after-call work asks before ending without one). */
export function recordFinishedFor(callId) { try { return sessionStorage.getItem(finishedKey(callId)) === "1"; } catch (_) { return false; } }
/** The note typed so far for the card on screen (the ticket form starts from it). */
export function draftNote() { return draft ? draft.note : ""; }
/** Set the outcome of the record on screen (escalating sets "escalated"). */
export function setOutcome(o) {
  if (!draft || !OUTCOMES.includes(o)) return;
  draft.outcome = o;
  const ctx = currentContext(); if (ctx) saveDraft(keyOf(ctx));
  const radio = document.querySelector(`input[name=rec-outcome][value=${o}]`); if (radio) radio.checked = true;
}
/** End the call's after-call work recording it as "no record" (the operator confirmed there is none). */
export async function finishWithoutRecord(ctx) {
  const body = { note: draft?.note || "", topics: [], outcome: "no_record", finish: true,
    call_id: ctx.call?.id || null, subscriber_id: ctx.subscriberId || null };
  const rec = await api("/api/records", { method: "POST", body });
  markFinished(body.call_id);
  dropDraft(ctx);
  emit("record:finished", rec);
  return rec;
}

function showStatus(e) { els.status.textContent = e.message; els.status.dataset.errorId = e.error_id || ""; }
// the server is back: a "server unreachable" left under the record goes, and the suggestions come back
on("ws:reconnected", () => {
  if (!els || els.status.dataset.errorId !== "network") return;
  els.status.textContent = ""; els.status.dataset.errorId = "";
  const ctx = currentContext(); if (ctx && draft && draft.note.trim()) suggestNow(ctx);
});

// "call back" is a task: a local date-time input (the operator's zone), sent as an aware ISO time
const pad = (n) => String(n).padStart(2, "0");
function localInput(d) { return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`; }
function callbackTime() {
  const v = els.callbackAt?.value; if (!v) return null;
  const d = new Date(v); // a datetime-local value is read in the browser's (the operator's) zone
  return isNaN(d) || d.getTime() < Date.now() - 5 * 60000 ? null : d;
}

async function finish(ctx) {
  els.status.textContent = "";
  const due = draft.outcome === "callback" ? callbackTime() : null;
  if (draft.outcome === "callback" && !due) { els.status.textContent = t("rec.callback_needed"); els.callbackAt?.focus(); return; }
  const sug = draft.sug;
  const body = {
    note: draft.note, topics: draft.topics.map((x) => x.code), outcome: draft.outcome, finish: true,
    call_id: (ctx.call && ctx.call.id) || null, subscriber_id: ctx.subscriberId || null,
    shown: sug ? sug.suggestions.map((s) => ({ code: s.code, confidence: s.confidence })) : [],
    abstained: !!(sug && sug.abstain), model_version: sug ? sug.model_version : null, context: sug ? sug.context : {},
  };
  // outside a call, a record on a subscriber says why (the reason picked beside the search)
  if (!body.call_id && body.subscriber_id) body.reason = document.getElementById("read-reason")?.value || "callback";
  try {
    const rec = await api("/api/records", { method: "POST", body });
    toast(t("rec.saved"), "ok");
    markFinished(body.call_id);
    emit("record:finished", rec);
    if (due) {
      try {
        await planCallback({ due_at: due.toISOString(), subscriber_id: ctx.subscriberId || null,
          msisdn: ctx.card?.msisdn || ctx.call?.caller || null, note: body.note.slice(0, 500), record_id: rec.id, call_id: body.call_id });
      } catch (e) { toast(t("rec.callback_failed", { why: e.message }), "error"); }
    }
    dropDraft(ctx);
    const sections = ctx.sections || (ctx.sections = {});
    sections.requests = [rec, ...(Array.isArray(sections.requests) ? sections.requests : [])];
    draft = null;
    render(ctx, els.root);
  } catch (e) {
    showStatus(e); // nothing typed is lost: the draft stays on screen
  }
}

async function render(ctx, el) {
  const key = keyOf(ctx);
  draft = drafts.get(key) || loadDraft(key) || (ctx.subscriberId && loadDraft("sub:" + ctx.subscriberId))
    || { note: "", topics: [], outcome: "resolved", sug: null };
  drafts.set(key, draft);
  const tree = await loadTopics().catch(() => []);
  if (!el.isConnected) return; // a newer card is on screen: its own render fills the panel
  el.replaceChildren();
  const note = h("textarea", { id: "rec-note", rows: 3, maxlength: 20000, placeholder: t("rec.note.ph"), "aria-label": t("rec.note") });
  note.value = draft.note;
  note.addEventListener("input", () => {
    draft.note = note.value; saveDraft(key); clearTimeout(timer); clearTimeout(pauseTimer);
    timer = setTimeout(() => suggestNow(ctx), 120);
    pauseTimer = setTimeout(() => suggestNow(ctx, true), PAUSE_MS);
  });
  const picker = h("select", { id: "rec-pick", "aria-label": t("rec.pick"), onchange: (e) => {
    const opt = e.target.selectedOptions[0]; if (opt && opt.value) addTopic(opt.value, opt.textContent); e.target.value = ""; } },
  h("option", { value: "" }, t("rec.pick")),
  tree.map((p) => (p.children.length
    ? h("optgroup", { label: nameOf(p) }, p.children.map((c) => h("option", { value: c.code }, nameOf(c))))
    : h("option", { value: p.code }, nameOf(p)))));
  const callbackAt = h("input", { type: "datetime-local", id: "rec-callback-at", "aria-label": t("rec.callback_at"),
    value: draft.callbackAt || localInput(new Date(Date.now() + 3600000)), onchange: (e) => { draft.callbackAt = e.target.value; saveDraft(key); } });
  const callbackRow = h("label", { class: "rec-callback", hidden: draft.outcome !== "callback" }, t("rec.callback_at"), " ", callbackAt);
  const outcome = h("div", { class: "rec-outcome", role: "radiogroup", "aria-label": t("rec.outcome") },
    OUTCOMES.map((o) => h("label", {}, h("input", { type: "radio", name: "rec-outcome", value: o, checked: draft.outcome === o,
      onchange: () => { draft.outcome = o; callbackRow.hidden = o !== "callback"; saveDraft(key); } }), " ", t("outcome." + o))));
  els = { root: el, note, callbackAt, sug: h("div", { id: "rec-suggestions", "aria-live": "polite" }), chosen: h("div", { id: "rec-chosen" }),
    status: h("p", { class: "error", id: "rec-status", role: "alert" }) };
  el.append(
    historyBox(ctx.sections && ctx.sections.requests),
    h("label", { for: "rec-note" }, t("rec.note")), note,
    h("h4", {}, t("rec.suggest")), els.sug,
    h("h4", {}, t("rec.topics")), els.chosen, picker,
    h("h4", {}, t("rec.outcome")), outcome, callbackRow,
    h("button", { type: "button", id: "rec-finish", class: "primary", onclick: () => finish(ctx) }, t("rec.finish")), els.status);
  renderSuggestions();
  renderChosen();
  if (draft.note.trim() && !draft.sug) suggestNow(ctx, true); // a restored draft gets its suggestions back
}

registerPanel({ id: "requests", slot: "record", order: 10, title: () => t("rec.title"), render, withoutSubscriber: true }); // unknown callers get a record too
for (const n of [1, 2, 3]) {
  shortcut(String(n), () => { if (currentContext()) pickRank(n); }, () => t("rec.keys"));
  shortcut("alt+" + n, () => { if (currentContext()) pickRank(n); }, () => t("rec.keys"));
}
