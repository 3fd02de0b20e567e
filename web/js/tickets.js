// Operator panel "Technical support": the subscriber's open and recently resolved tickets (live), and the
// "Escalate" action that turns the request into a ticket with the card snapshot, the note and the topic.
import { strings, api, h, on, emit, toast, fmtDateTime } from "/js/core.js";
import { ticketText } from "/js/ticket-strings.js";
import { registerPanel, currentContext } from "/js/panels.js";
import { topicList, topicName } from "/js/kb.js";
import { draftNote, setOutcome } from "/js/records.js";

const t = strings("tickets", {
  ru: {
    "tk.title": "Техподдержка", "tk.none": "Заявок нет", "tk.escalate": "Передать в техподдержку",
    "tk.topic": "Тема", "tk.note": "Что проверено и что видит абонент", "tk.send": "Создать заявку",
    "tk.sent": "Заявка №{id} создана", "tk.pick": "— тема —", "tk.resolution": "Решение",
  },
  en: {
    "tk.title": "Technical support", "tk.none": "No tickets", "tk.escalate": "Escalate to technical support",
    "tk.topic": "Topic", "tk.note": "What was checked and what the subscriber sees", "tk.send": "Create ticket",
    "tk.sent": "Ticket #{id} created", "tk.pick": "— topic —", "tk.resolution": "Resolution",
  },
});


let names = {};
const topicLabel = (code) => (names[code] ? topicName(names[code]) : code);
let shown = new Map(); // ticket id → summary, for the subscriber on screen
let listEl = null;

function row(x) {
  return h("li", { "data-ticket": x.id, "data-state": x.state },
    h("b", {}, `#${x.id} `), topicLabel(x.topic), " ",
    h("span", { class: `badge tk-state-${x.state}` }, ticketText("state." + x.state)), " ",
    h("span", { class: "muted" }, `${ticketText("prio." + x.priority)} · ${fmtDateTime(x.created_at)}`),
    x.resolution ? h("div", { class: "muted" }, `${t("tk.resolution")}: ${x.resolution}`) : null);
}

function paintList() {
  if (!listEl) return;
  const items = [...shown.values()].sort((a, b) => b.id - a.id);
  listEl.replaceChildren(...(items.length ? items.map(row) : [h("li", { class: "muted" }, t("tk.none"))]));
}

registerPanel({
  id: "tickets", slot: "side", order: 20, title: () => t("tk.title"),
  async render(ctx, el) {
    const section = Array.isArray(ctx.sections?.tickets) ? ctx.sections.tickets : [];
    shown = new Map(section.map((x) => [x.id, x]));
    const topics = await topicList();
    if (!el.isConnected) return; // a newer card is on screen
    names = Object.fromEntries(topics.map((x) => [x.code, x]));
    listEl = h("ul", { class: "tk-list", id: "tk-list" });
    paintList();
    const topic = h("select", { id: "tk-topic", "aria-label": t("tk.topic") }, h("option", { value: "" }, t("tk.pick")),
      topics.map((x) => h("option", { value: x.code }, topicName(x))));
    const kbTopic = document.getElementById("kb-topic");
    if (kbTopic && kbTopic.value) topic.value = kbTopic.value;
    topic.addEventListener("change", () => { topic.dataset.touched = "1"; });
    const note = h("textarea", { id: "tk-note", rows: 3, maxlength: 4000, placeholder: t("tk.note") });
    const send = h("button", { class: "primary", id: "tk-send", onclick: async () => {
      send.disabled = true;
      try {
        const tk = await api("/api/tickets", { method: "POST", body: {
          subscriber_id: ctx.subscriberId, topic: topic.value, note: note.value, call_id: ctx.call?.id || null } });
        shown.set(tk.id, tk); paintList(); note.value = "";
        emit("ticket:created", tk);
        setOutcome("escalated"); // the request was passed on: first-contact resolution must not count it
        form.open = false;
        toast(t("tk.sent", { id: tk.id }));
      } catch (e) { toast(e.message || t("err.generic"), "error"); }
      finally { send.disabled = false; }
    } }, t("tk.send"));
    const form = h("details", { id: "tk-escalate" }, h("summary", {}, t("tk.escalate")), h("div", { id: "tk-form" }, topic, note, send));
    // opening the form starts the ticket's note from the request's note (the operator edits it if needed)
    form.addEventListener("toggle", () => { if (form.open && !note.value.trim()) note.value = draftNote(); });
    el.append(listEl, form);
  },
});

// the escalation topic follows the cheat sheet's topic until the operator picks one here
on("kb:topic", (m) => {
  const sel = document.getElementById("tk-topic");
  if (sel && !sel.dataset.touched) sel.value = m?.code || "";
});

// live: the state of this subscriber's tickets changes while the card is on screen
on("ws:ticket.updated", (m) => {
  const ctx = currentContext();
  if (!ctx || !m.ticket || m.ticket.subscriber_id !== ctx.subscriberId) return;
  shown.set(m.ticket.id, m.ticket);
  paintList();
});
