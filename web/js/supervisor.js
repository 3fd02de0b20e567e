// Supervisor's floor: who is on a call, the queue, telephony link; links to the other supervisor screens.
import { boot, api, t, addStrings, on, h, fmtDateTime } from "/js/core.js";

addStrings({
  ru: { "sup.title": "Супервизор — зал", "sup.floor": "Зал", "sup.requests": "Обращения и темы", "sup.support": "Техподдержка и база знаний",
        "sup.operators": "Операторы", "sup.calls": "Звонки сейчас", "sup.waiting": "В очереди", "sup.longest": "Дольше всех ждёт, с",
        "sup.telephony": "Телефония", "sup.up": "подключена", "sup.down": "нет связи", "col.name": "Имя", "col.ext": "Внутр.",
        "col.presence": "Статус", "col.call": "Звонок", "col.caller": "Кто звонит", "col.state": "Состояние", "col.queued": "В очереди с",
        "call.queued": "в очереди", "call.ringing": "звонит", "call.connected": "разговор", "call.wrap_up": "постобработка" },
  en: { "sup.title": "Supervisor — floor", "sup.floor": "Floor", "sup.requests": "Requests and topics", "sup.support": "Tech support and knowledge base",
        "sup.operators": "Operators", "sup.calls": "Live calls", "sup.waiting": "Waiting", "sup.longest": "Longest wait, s",
        "sup.telephony": "Telephony", "sup.up": "connected", "sup.down": "down", "col.name": "Name", "col.ext": "Ext.",
        "col.presence": "Status", "col.call": "Call", "col.caller": "Caller", "col.state": "State", "col.queued": "Queued at",
        "call.queued": "queued", "call.ringing": "ringing", "call.connected": "connected", "call.wrap_up": "after-call work" },
});

await boot({ roles: ["supervisor"], titleKey: "sup.title" });
const $ = (id) => document.getElementById(id);

async function refresh() {
  const f = await api("/api/supervisor/floor");
  $("sup-nav").replaceChildren(h("a", { href: "/supervisor.html" }, t("sup.floor")),
    h("a", { href: "/supervisor-requests.html" }, t("sup.requests")), h("a", { href: "/supervisor-support.html" }, t("sup.support")));
  $("kpis").replaceChildren(
    h("span", { class: "kpi" }, t("sup.waiting"), h("b", { id: "kpi-waiting" }, f.waiting)),
    h("span", { class: "kpi" }, t("sup.longest"), h("b", {}, Math.round(f.longest_wait_s))),
    h("span", { class: "kpi" }, t("sup.telephony"), h("b", {}, f.telephony_up ? t("sup.up") : t("sup.down"))));
  $("ops-title").textContent = t("sup.operators");
  $("operators").replaceChildren(h("tr", {}, ["col.name", "col.ext", "col.presence", "col.call"].map((k) => h("th", {}, t(k)))),
    ...f.operators.map((o) => h("tr", {}, h("td", {}, o.name), h("td", {}, o.extension || ""), h("td", {}, t("presence." + o.presence)), h("td", {}, o.call_id ? "☎" : ""))));
  $("calls-title").textContent = t("sup.calls");
  $("live-calls").replaceChildren(h("tr", {}, ["col.caller", "col.state", "col.queued"].map((k) => h("th", {}, t(k)))),
    ...f.live_calls.map((c) => h("tr", {}, h("td", {}, c.caller), h("td", {}, t("call." + c.state)), h("td", {}, fmtDateTime(c.queued_at)))));
}
let pending = null;
const soon = () => { clearTimeout(pending); pending = setTimeout(refresh, 300); };
on("ws:floor.changed", soon); on("ws:telephony.link", soon); on("lang", refresh);
setInterval(refresh, 5000);
refresh();
