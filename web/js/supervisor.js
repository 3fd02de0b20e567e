// Supervisor's floor: who is on a call, the queue, telephony link; links to the other supervisor screens.
import { strings, boot, api, on, h, fmtDateTime, $ } from "/js/core.js";
import { supervisorNav } from "/js/supervisor-nav.js";

const t = strings("floor", {
  ru: { "sup.title": "Супервизор — зал", "sup.operators": "Операторы", "sup.calls": "Звонки сейчас", "sup.waiting": "В очереди", "sup.longest": "Дольше всех ждёт, с",
        "sup.telephony": "Телефония", "sup.up": "подключена", "sup.down": "нет связи", "col.name": "Имя", "col.ext": "Внутр.",
        "col.presence": "Статус", "col.call": "Звонок", "col.caller": "Кто звонит", "col.state": "Состояние", "col.queued": "В очереди с",
        "call.queued": "в очереди", "call.ringing": "звонит", "call.connected": "разговор", "call.wrap_up": "постобработка",
        "col.operator": "Оператор", "col.since": "Сколько длится" },
  en: { "sup.title": "Supervisor — floor", "sup.operators": "Operators", "sup.calls": "Live calls", "sup.waiting": "Waiting", "sup.longest": "Longest wait, s",
        "sup.telephony": "Telephony", "sup.up": "connected", "sup.down": "down", "col.name": "Name", "col.ext": "Ext.",
        "col.presence": "Status", "col.call": "Call", "col.caller": "Caller", "col.state": "State", "col.queued": "Queued at",
        "call.queued": "queued", "call.ringing": "ringing", "call.connected": "connected", "call.wrap_up": "after-call work",
        "col.operator": "Operator", "col.since": "For" },
});

await boot({ roles: ["supervisor"], title: () => t("sup.title") });
supervisorNav();

async function refresh() {
  const f = await api("/api/supervisor/floor");
  $("kpis").replaceChildren(
    h("span", { class: "kpi" }, t("sup.waiting"), h("b", { id: "kpi-waiting" }, f.waiting)),
    h("span", { class: "kpi" }, t("sup.longest"), h("b", {}, Math.round(f.longest_wait_s))),
    h("span", { class: "kpi" }, t("sup.telephony"), h("b", {}, f.telephony_up ? t("sup.up") : t("sup.down"))));
  $("ops-title").textContent = t("sup.operators");
  const calls = new Map(f.live_calls.map((c) => [c.id, c]));
  const opOf = new Map(f.operators.filter((o) => o.call_id).map((o) => [o.call_id, o]));
  $("operators").replaceChildren(h("tr", {}, ["col.name", "col.ext", "col.presence", "col.call"].map((k) => h("th", {}, t(k)))),
    ...f.operators.map((o) => {
      const c = o.call_id && calls.get(o.call_id);
      return h("tr", { "data-user": o.id }, h("td", {}, o.name, o.role !== "operator" ? h("span", { class: "muted" }, ` · ${t("role." + o.role)}`) : ""),
        h("td", {}, o.extension || ""), h("td", {}, t("presence." + o.presence)),
        h("td", {}, c ? `☎ ${t("call." + c.state)} · ${since(c)}` : o.call_id ? "☎" : ""));
    }));
  $("calls-title").textContent = t("sup.calls");
  $("live-calls").replaceChildren(h("tr", {}, ["col.caller", "col.state", "col.operator", "col.since", "col.queued"].map((k) => h("th", { class: k === "col.since" ? "num" : "" }, t(k)))),
    ...f.live_calls.map((c) => h("tr", {}, h("td", {}, c.caller), h("td", {}, t("call." + c.state)), h("td", {}, opOf.get(c.id)?.name || "—"),
      h("td", { class: "num" }, since(c)), h("td", {}, fmtDateTime(c.queued_at)))));
}
// how long the call has been in its current state (talking since the answer, after-call work since the hang-up)
function since(c) {
  const from = c.state === "wrap_up" ? c.ended_at : c.state === "connected" ? c.answered_at : c.offered_at || c.queued_at;
  if (!from) return "—";
  const s = Math.max(0, Math.floor(Date.now() / 1000 - from));
  return `${String(Math.floor(s / 60)).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}`;
}
let pending = null;
const soon = () => { clearTimeout(pending); pending = setTimeout(refresh, 300); };
on("ws:floor.changed", soon); on("ws:telephony.link", soon); on("lang", refresh);
setInterval(refresh, 5000);
refresh();
