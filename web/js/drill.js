// The operator screen's middle column: the script and cheat sheet (the "kb" panel) and, in tabs beside it,
// the card's details and services, charges, payments and previous calls. The open tab is remembered per
// operator (prefs "op.tab"); choosing a topic brings the script back.
import { strings, api, on, h, fmtMoney, fmtDate, fmtDateTime, shortcut, language, prefs, $, latest } from "/js/core.js";
import { statusBadge } from "/js/subscriber-strings.js";

const t = strings("drill", {
  ru: {
    "tab.kb": "Скрипт и шпаргалка", "tab.details": "Услуги и договор", "tab.charges": "Начисления", "tab.payments": "Платежи", "tab.calls": "Звонки",
    "card.contract": "Договор", "card.credit": "Кредитный лимит", "card.arpu": "ARPU (3 мес.)", "card.since": "Абонент с",
    "card.services": "Услуги", "svc.name": "Услуга", "svc.status": "Статус", "svc.fee": "Абонплата/мес.",
    "ch.month": "Месяц", "ch.total": "Итого", "pay.date": "Дата", "pay.amount": "Сумма", "pay.method": "Способ",
    "calls.state": "Итог", "calls.at": "Время", "none": "Нет данных",
    "pm.card": "карта", "pm.cash": "наличные", "pm.autopayment": "автоплатёж", "pm.terminal": "терминал", "pm.bank_transfer": "банковский перевод",
    "cs.queued": "в очереди", "cs.ringing": "звонит", "cs.connected": "разговор", "cs.wrap_up": "постобработка",
    "cs.ended": "завершён", "cs.abandoned": "абонент не дождался",
    "help.charges": "Начисления", "help.payments": "Платежи", "help.kb": "Скрипт и шпаргалка",
  },
  en: {
    "tab.kb": "Script and cheat sheet", "tab.details": "Services and contract", "tab.charges": "Charges", "tab.payments": "Payments", "tab.calls": "Calls",
    "card.contract": "Contract", "card.credit": "Credit limit", "card.arpu": "ARPU (3 mo.)", "card.since": "Subscriber since",
    "card.services": "Services", "svc.name": "Service", "svc.status": "Status", "svc.fee": "Monthly fee",
    "ch.month": "Month", "ch.total": "Total", "pay.date": "Date", "pay.amount": "Amount", "pay.method": "Method",
    "calls.state": "Outcome", "calls.at": "Time", "none": "No data",
    "pm.card": "card", "pm.cash": "cash", "pm.autopayment": "autopayment", "pm.terminal": "terminal", "pm.bank_transfer": "bank transfer",
    "cs.queued": "queued", "cs.ringing": "ringing", "cs.connected": "connected", "cs.wrap_up": "after-call work",
    "cs.ended": "completed", "cs.abandoned": "caller hung up in the queue",
    "help.charges": "Charges", "help.payments": "Payments", "help.kb": "Script and cheat sheet",
  },
});

const TABS = ["kb", "details", "charges", "payments", "calls"];
let ctx = null; // the card on screen
let tab = null;
const showing = latest(); // the latest tab (or card) asked for: a slower answer for an earlier one must not fill the body

function paintTabs() {
  document.querySelectorAll("#drill [data-tab]").forEach((b) => {
    b.textContent = t("tab." + b.dataset.tab);
    b.classList.toggle("on", b.dataset.tab === tab);
    b.setAttribute("aria-selected", String(b.dataset.tab === tab));
  });
}
function monthName(ym) { // "2026-10" → "октябрь 2026 г." / "October 2026"
  const d = new Date(`${ym}-01T12:00:00`);
  return isNaN(d) ? ym : d.toLocaleDateString(language() === "ru" ? "ru-RU" : "en-GB", { month: "long", year: "numeric" });
}
const field = (key, value) => h("div", { class: "f" }, h("label", {}, t(key)), h("span", { class: "v" }, value));

async function show(name, remember = true) {
  const still = showing.start();
  if (!TABS.includes(name)) name = "kb";
  tab = name;
  if (remember) prefs.set("op.tab", name);
  paintTabs();
  const body = $("drill-body");
  const fill = (...nodes) => { if (still()) body.replaceChildren(...nodes); };
  $("col-reference-panels").hidden = name !== "kb";
  body.hidden = name === "kb";
  if (name === "kb" || !ctx || !ctx.subscriberId) { body.replaceChildren(); return; }
  body.replaceChildren(h("p", { class: "muted" }, "…"));
  const id = encodeURIComponent(ctx.subscriberId), c = ctx.card || {};
  try {
    if (name === "details") {
      body.replaceChildren(
        h("div", { class: "fields" }, field("card.contract", c.contract), field("card.credit", fmtMoney(c.credit_limit)),
          field("card.arpu", fmtMoney(c.arpu)), field("card.since", fmtDate(c.since))),
        h("h4", {}, t("card.services")),
        h("table", { class: "services" }, h("thead", {}, h("tr", {}, h("th", {}, t("svc.name")), h("th", {}, t("svc.status")), h("th", { class: "num" }, t("svc.fee")))),
          h("tbody", {}, (c.services || []).map((s) => h("tr", {}, h("td", {}, s.name), h("td", {}, statusBadge(s.status)), h("td", { class: "num" }, fmtMoney(s.monthly_fee)))))));
    } else if (name === "charges") {
      const { months } = await api(`/api/subscribers/${id}/charges?months=6`);
      fill(months.length ? h("div", { class: "charges" }, months.map((m) => h("details", {},
        h("summary", {}, h("span", { title: m.month }, monthName(m.month)), " ", h("strong", {}, fmtMoney(m.total))),
        h("table", {}, m.items.map((i) => h("tr", {}, h("td", {}, i.description), h("td", { class: "num" }, fmtMoney(i.amount)))))))) : h("p", { class: "muted" }, t("none")));
    } else if (name === "payments") {
      const { payments } = await api(`/api/subscribers/${id}/payments`);
      fill(payments.length ? h("table", { class: "payments" }, h("tr", {}, h("th", {}, t("pay.date")), h("th", {}, t("pay.amount")), h("th", {}, t("pay.method"))),
        payments.map((p) => h("tr", {}, h("td", {}, fmtDateTime(p.paid_at)), h("td", { class: "num" }, fmtMoney(p.amount)), h("td", {}, t.or("pm." + p.method, p.method))))) : h("p", { class: "muted" }, t("none")));
    } else {
      const { calls } = await api(`/api/subscribers/${id}/calls`);
      fill(calls.length ? h("table", { class: "prev-calls" }, h("tr", {}, h("th", {}, t("calls.at")), h("th", {}, t("calls.state"))),
        calls.map((x) => h("tr", {}, h("td", {}, fmtDateTime(x.queued_at || x.answered_at)), h("td", {}, t.or("cs." + x.state, x.state))))) : h("p", { class: "muted" }, t("none")));
    }
  } catch (e) { fill(h("p", { class: "notice error" }, e.message)); }
}

document.querySelectorAll("#drill [data-tab]").forEach((b) => b.addEventListener("click", () => show(b.dataset.tab)));
shortcut("alt+c", () => show("charges"), () => t("help.charges"));
shortcut("alt+p", () => show("payments"), () => t("help.payments"));
shortcut("alt+k", () => show("kb"), () => t("help.kb"));
on("card:shown", (c) => {
  ctx = c;
  $("drill").hidden = !c.subscriberId;
  show(c.subscriberId ? prefs.get("op.tab", "kb") : "kb", false);
});
on("card:cleared", () => { ctx = null; showing.drop(); $("drill").hidden = true; $("drill-body").replaceChildren(); });
on("topic:chosen", () => { if (tab !== "kb") show("kb", false); }); // the script of the chosen topic comes to the front
on("lang", () => { paintTabs(); if (ctx && tab !== "kb") show(tab, false); });
paintTabs();
