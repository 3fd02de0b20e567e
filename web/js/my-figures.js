// The operator's own figures for today on their screen: calls answered, average handle time, time in
// after-call work. Refreshed when a call leaves the screen and every minute.
import { strings, api, on, h, $ } from "/js/core.js";

const t = strings("my-figures", {
  ru: { today: "Сегодня", calls: "звонков", aht: "ср. обработка", acw: "постобработка всего", none: "—" },
  en: { today: "Today", calls: "calls", aht: "avg handle time", acw: "after-call work in all", none: "—" },
});
const mmss = (s) => (s === null || s === undefined ? t("none") : `${Math.floor(s / 60)}:${String(Math.round(s % 60)).padStart(2, "0")}`);
let last = null;

function paint() {
  const el = $("my-figures");
  if (!el || !last) return;
  el.replaceChildren(h("strong", {}, t("today")), " ",
    h("span", { id: "my-calls" }, last.answered), ` ${t("calls")} · ${t("aht")} `, h("span", { id: "my-aht" }, mmss(last.aht_s)),
    ` · ${t("acw")} `, h("span", { id: "my-acw" }, mmss(last.acw_total_s)));
}
async function refresh() {
  try { last = await api("/api/kpis/me"); paint(); } catch (_) { /* the figures are a courtesy: the call screen goes on */ }
}
let pending = null;
const soon = () => { clearTimeout(pending); pending = setTimeout(refresh, 800); }; // the history writer batches its writes
on("ws:call.cleared", soon); on("ws:call.ended", soon); on("ws:open", refresh); on("lang", paint);
setInterval(refresh, 60000);
