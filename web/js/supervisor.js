// Supervisor's floor: who is on a call, the queue, telephony link; links to the other supervisor screens.
import { strings, boot, api, on, h, fmtDateTime, fmtClock, toast, $, latest } from "/js/core.js";
import { supervisorNav } from "/js/supervisor-nav.js";
import { mountWallboard } from "/js/wallboard.js";

const t = strings("floor", {
  ru: { "sup.title": "Супервизор — зал", "sup.operators": "Операторы", "sup.calls": "Звонки сейчас", "sup.waiting": "В очереди", "sup.longest": "Дольше всех ждёт, с",
        "sup.telephony": "Телефония", "sup.up": "подключена", "sup.down": "нет связи", "col.name": "Имя", "col.ext": "Внутр.",
        "col.presence": "Статус", "col.call": "Звонок", "col.caller": "Кто звонит", "col.state": "Состояние", "col.queued": "В очереди с",
        "call.queued": "в очереди", "call.ringing": "звонит", "call.connected": "разговор", "call.wrap_up": "постобработка",
        "col.operator": "Оператор", "col.since": "Сколько длится", "sup.degraded": "подключена, есть проблемы",
        "sup.disabled": "отключена", "sup.pauses": "пауз ждут АТС: {n}", "sup.unknown": "неизвестно: нет связи с сервером",
        "tel.ami_write_agent": "У пользователя AMI нет права write = agent: паузы (постобработка, перерыв) не доходят до очередей, операторам звонят во время постобработки",
        "tel.ami_write_originate": "У пользователя AMI нет права write = originate: звонки из карточки не работают",
        "tel.ami_write_system": "У пользователя AMI нет права write = system или reporting: после переподключения звонки не сверяются" },
  en: { "sup.title": "Supervisor — floor", "sup.operators": "Operators", "sup.calls": "Live calls", "sup.waiting": "Waiting", "sup.longest": "Longest wait, s",
        "sup.telephony": "Telephony", "sup.up": "connected", "sup.down": "down", "col.name": "Name", "col.ext": "Ext.",
        "col.presence": "Status", "col.call": "Call", "col.caller": "Caller", "col.state": "State", "col.queued": "Queued at",
        "call.queued": "queued", "call.ringing": "ringing", "call.connected": "connected", "call.wrap_up": "after-call work",
        "col.operator": "Operator", "col.since": "For", "sup.degraded": "connected, with problems",
        "sup.disabled": "off", "sup.pauses": "pauses waiting for the PBX: {n}", "sup.unknown": "unknown: the server is unreachable",
        "tel.ami_write_agent": "The AMI user lacks write = agent: pauses (after-call work, breaks) do not reach the queues, operators are rung during after-call work",
        "tel.ami_write_originate": "The AMI user lacks write = originate: click-to-dial does not work",
        "tel.ami_write_system": "The AMI user lacks write = system or reporting: calls are not checked after a reconnect" },
});

await boot({ roles: ["supervisor"], title: () => t("sup.title") });
supervisorNav();
mountWallboard($("wallboard"));

// with the server unreachable nothing on the floor is known: the telephony tile says so instead of
// repeating the last "connected" it heard
const refreshing = latest(); // the latest floor asked for: an earlier answer (one from before the link went) must not show
function serverLost() {
  refreshing.drop();
  const tile = $("kpi-telephony");
  if (!tile) return;
  tile.dataset.state = "unknown";
  tile.replaceChildren(t("sup.telephony"), h("b", {}, t("sup.unknown")));
}
on("ws:close", serverLost);
async function refresh() {
  let f;
  const still = refreshing.start();
  try { f = await api("/api/supervisor/floor"); } catch (e) { if (still() && (e.error_id === "network" || e.status >= 500)) serverLost(); return; }
  if (!still()) return;
  $("kpis").replaceChildren(
    h("span", { class: "kpi" }, t("sup.waiting"), h("b", { id: "kpi-waiting" }, f.waiting)),
    h("span", { class: "kpi" }, t("sup.longest"), h("b", {}, Math.round(f.longest_wait_s))),
    h("span", { class: "kpi", id: "kpi-telephony", "data-state": telState(f) }, t("sup.telephony"), h("b", {}, t("sup." + telState(f)))));
  const tel = f.telephony || {};
  const notes = (tel.problems || []).map((p) => h("p", { class: "notice error", "data-problem": p.id }, known(p)));
  if (tel.pauses_pending) notes.push(h("p", { class: "notice" }, t("sup.pauses", { n: tel.pauses_pending })));
  $("kpis").append(...notes);
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
// the telephony health: ok / degraded (connected, but the AMI user may not do everything) / down
function telState(f) {
  const st = f.telephony?.state;
  if (st === "degraded" || st === "disabled") return st;
  return f.telephony_up || st === "ok" ? "up" : "down";
}
function known(p) { return t.or("tel." + p.id, p.message); }
// how long the call has been in its current state (talking since the answer, after-call work since the hang-up)
function since(c) {
  const from = c.state === "wrap_up" ? c.ended_at : c.state === "connected" ? c.answered_at : c.offered_at || c.queued_at;
  if (!from) return "—";
  const s = Math.max(0, Math.floor(Date.now() / 1000 - from));
  return fmtClock(s);
}
let pending = null;
const soon = () => { clearTimeout(pending); pending = setTimeout(refresh, 300); };
on("ws:floor.changed", soon); on("ws:telephony.link", soon); on("lang", refresh);
setInterval(refresh, 5000);
refresh();

// unusual reading of cards outside calls (issue 15): the supervisor hears of it at once
const tAlert = strings("floor-alerts", {
  ru: { "alert.card_reads": "Оператор #{user} открыл {reads} карточек вне звонка за {window} мин" },
  en: { "alert.card_reads": "Operator #{user} opened {reads} cards outside a call in {window} min" },
});
on("ws:audit.alert", (msg) => {
  if (msg.kind !== "card_reads") return;
  toast(tAlert("alert.card_reads", { user: msg.user_id, reads: msg.reads, window: msg.window_min }), "warn");
});
