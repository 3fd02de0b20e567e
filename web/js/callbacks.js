// Callbacks as tasks on the operator's screen: the list of their open callbacks (overdue, due, later) at
// the top of the right column, a reminder when one falls due (pushed by the server), click-to-dial, open
// the card, mark done. The record panel creates a callback when its outcome is "call back".
import { strings, api, on, emit, h, fmtDateTime, toast, $, latest } from "/js/core.js";
import { dialButton } from "/js/dial.js";

const t = strings("callbacks", {
  ru: {
    title: "Перезвоны", none: "Перезвонов нет", due: "пора звонить", overdue: "просрочен", at: "в {time}",
    open: "Карточка", done: "Выполнен", cancel: "Отменить", reminder: "Пора перезвонить: {who}, {time}",
    created: "Перезвон запланирован на {time}",
  },
  en: {
    title: "Callbacks", none: "No callbacks", due: "due now", overdue: "overdue", at: "at {time}",
    open: "Card", done: "Done", cancel: "Cancel", reminder: "Time to call back: {who}, {time}",
    created: "Callback planned for {time}",
  },
});

let items = [];
const loading = latest(); // the latest list asked for: an earlier answer must not bring back a callback closed since

function who(cb) { return cb.msisdn_display || cb.subscriber_id || "—"; }
function row(cb) {
  const flag = cb.overdue ? h("span", { class: "badge cb-overdue" }, t("overdue")) : cb.due ? h("span", { class: "badge cb-due" }, t("due")) : null;
  return h("li", { "data-callback": cb.id, class: cb.overdue ? "overdue" : cb.due ? "due" : "" },
    h("div", {}, h("b", {}, who(cb)), " ", h("span", { class: "muted" }, t("at", { time: fmtDateTime(cb.due_at) })), " ", flag),
    cb.note ? h("div", { class: "muted cb-note" }, cb.note.length > 120 ? cb.note.slice(0, 120) + "…" : cb.note) : null,
    h("div", { class: "cb-actions" },
      cb.msisdn ? dialButton(cb.msisdn) : null,
      cb.subscriber_id ? h("button", { type: "button", class: "cb-open", onclick: () => emit("subscriber:open", { subscriberId: cb.subscriber_id }) }, t("open")) : null,
      h("button", { type: "button", class: "cb-done", onclick: () => close(cb, "done") }, t("done")),
      h("button", { type: "button", class: "link cb-cancel", onclick: () => close(cb, "cancelled") }, t("cancel"))));
}
function paint() {
  const box = $("callbacks-box");
  if (!box) return;
  box.hidden = !items.length;
  box.replaceChildren(h("section", { class: "panel", id: "panel-callbacks" }, h("h3", {}, t("title"), items.length ? ` (${items.length})` : ""),
    items.length ? h("ul", { class: "cb-list", id: "cb-list" }, items.map(row)) : h("p", { class: "muted" }, t("none"))));
}
async function load() {
  const still = loading.start();
  try {
    const { callbacks } = await api("/api/callbacks");
    if (still()) { items = callbacks; paint(); }
  } catch (_) { /* the list comes back on the next refresh */ }
}
async function close(cb, state) {
  try { await api(`/api/callbacks/${cb.id}/close`, { method: "POST", body: { state } }); await load(); }
  catch (e) { toast(e.message, "error"); }
}

/** Plan a callback (the record panel calls it when the outcome is "call back"). */
export async function planCallback(body) {
  const cb = await api("/api/callbacks", { method: "POST", body });
  toast(t("created", { time: fmtDateTime(cb.due_at) }), "ok");
  await load();
  return cb;
}

on("ws:callback.due", (m) => {
  const cb = m.callback;
  toast(t("reminder", { who: who(cb), time: fmtDateTime(cb.due_at) }));
  load().then(() => {
    const li = document.querySelector(`#cb-list li[data-callback="${cb.id}"]`);
    if (li) { li.classList.add("flash"); li.scrollIntoView({ block: "nearest" }); }
  });
});
on("ws:open", load);
on("lang", paint);
setInterval(() => { if (items.length) paint(); }, 60000); // "due" and "overdue" follow the clock
load();
