// Operator's request record panel: previous requests, the note with live topic suggestions (keys 1/2/3,
// or Alt+1/2/3 while typing), several topics, the free-text "Other" path first when no topic is confident,
// the outcome, and Finish (which also ends after-call work for the call on screen).
import { strings, api, h, fmtDateTime, shortcut, toast, language, emit, prefs } from "/js/core.js";
import { registerPanel, currentContext } from "/js/panels.js";

const t = strings("rec", {
  ru: {
    "rec.title": "Обращение", "rec.history": "Прошлые обращения", "rec.none": "Обращений не было",
    "rec.note": "Суть обращения", "rec.note.ph": "Кратко: что случилось и что сделано…",
    "rec.suggest": "Подсказки тем", "rec.suggest.wait": "Начните печатать — появятся темы",
    "rec.other": "Другое (свободный текст)", "rec.other.first": "Ни одна тема не подходит уверенно — опишите обращение текстом",
    "rec.topics": "Темы", "rec.topics.none": "Тема не выбрана", "rec.pick": "Выбрать тему вручную…",
    "rec.outcome": "Итог", "outcome.resolved": "Решено на звонке", "outcome.escalated": "Передано в техподдержку",
    "outcome.callback": "Перезвонить", "rec.finish": "Завершить обращение", "rec.saved": "Обращение сохранено",
    "rec.remove": "Убрать", "rec.key": "клавиша {n}", "rec.keys": "Выбрать подсказку 1/2/3",
    "rec.truncated": "Текст очень длинный: сохранено начало", "rec.archived": "в архиве",
  },
  en: {
    "rec.title": "Request", "rec.history": "Previous requests", "rec.none": "No previous requests",
    "rec.note": "What the request is about", "rec.note.ph": "Briefly: what happened and what was done…",
    "rec.suggest": "Suggested topics", "rec.suggest.wait": "Start typing to see topics",
    "rec.other": "Other (free text)", "rec.other.first": "No topic fits confidently — describe the request in the note",
    "rec.topics": "Topics", "rec.topics.none": "No topic chosen", "rec.pick": "Pick a topic…",
    "rec.outcome": "Outcome", "outcome.resolved": "Resolved on the call", "outcome.escalated": "Escalated to tech support",
    "outcome.callback": "Call back", "rec.finish": "Finish request", "rec.saved": "Request saved",
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
let seq = 0;

// drafts survive a page reload (sessionStorage: this tab only, gone when it closes)
function saveDraft(key) {
  try { sessionStorage.setItem("rec.draft:" + key, JSON.stringify({ note: draft.note, topics: draft.topics, outcome: draft.outcome })); } catch (_) {}
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
  const mine = ++seq;
  const text = draft.note;
  if (!text.trim()) { draft.sug = null; renderSuggestions(); return; }
  try {
    const res = await api("/api/records/suggest", { method: "POST", body: { text, subscriber_id: ctx.subscriberId || null, refine } });
    if (mine !== seq || !els) return; // a newer keystroke won
    draft.sug = res;
    renderSuggestions();
  } catch (e) { if (mine === seq) els.status.textContent = e.message; }
}

async function finish(ctx) {
  els.status.textContent = "";
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
    drafts.delete(keyOf(ctx));
    try { sessionStorage.removeItem("rec.draft:" + keyOf(ctx)); } catch (_) {}
    const sections = ctx.sections || (ctx.sections = {});
    sections.requests = [rec, ...(Array.isArray(sections.requests) ? sections.requests : [])];
    draft = null;
    render(ctx, els.root);
  } catch (e) {
    els.status.textContent = e.message; // nothing typed is lost: the draft stays on screen
  }
}

async function render(ctx, el) {
  const key = keyOf(ctx);
  draft = drafts.get(key) || loadDraft(key) || { note: "", topics: [], outcome: "resolved", sug: null };
  drafts.set(key, draft);
  const tree = await loadTopics().catch(() => []);
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
  const outcome = h("div", { class: "rec-outcome", role: "radiogroup", "aria-label": t("rec.outcome") },
    OUTCOMES.map((o) => h("label", {}, h("input", { type: "radio", name: "rec-outcome", value: o, checked: draft.outcome === o,
      onchange: () => { draft.outcome = o; saveDraft(key); } }), " ", t("outcome." + o))));
  els = { root: el, note, sug: h("div", { id: "rec-suggestions", "aria-live": "polite" }), chosen: h("div", { id: "rec-chosen" }),
    status: h("p", { class: "error", id: "rec-status", role: "alert" }) };
  el.append(
    historyBox(ctx.sections && ctx.sections.requests),
    h("label", { for: "rec-note" }, t("rec.note")), note,
    h("h4", {}, t("rec.suggest")), els.sug,
    h("h4", {}, t("rec.topics")), els.chosen, picker,
    h("h4", {}, t("rec.outcome")), outcome,
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
