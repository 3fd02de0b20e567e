// Contact-center reports: the board's figures by hour, day or week, per queue or operator; a chart; every
// count drills down to its calls, each call to its card; CSV export.
import { strings, boot, api, h, svg, $, fmtDateTime, fmtMoney, toast, latest } from "/js/core.js";
import { supervisorNav } from "/js/supervisor-nav.js";

const t = strings("kpi-reports", {
  ru: {
    title: "Показатели и отчёты", from: "С", to: "По", bucket: "Шаг", group: "Разрез", queue: "Очередь", show: "Показать", csv: "Выгрузить CSV",
    "b.hour": "час", "b.day": "день", "b.week": "неделя", "g.all": "все звонки", "g.queue": "по очередям", "g.operator": "по операторам",
    period: "Период", key: "Очередь / оператор", offered: "Поступило", answered: "Отвечено", answered_all: "Принято", abandoned: "Потеряно",
    abandoned_short: "Сброшено до порога", service_level_pct: "УО, %", asa_s: "Ср. ожидание, с", aht_s: "Ср. обработка, с",
    avg_talk_s: "Разговор, с", avg_acw_s: "Постобработка, с", fcr_pct: "Решено с первого раза, %", occupancy_pct: "Занятость, %",
    empty: "За этот период звонков нет", calls: "Звонки: {figure}, {period}", "col.started": "Начало", "col.state": "Итог",
    "col.wait": "Ожидание, с", "col.talk": "Разговор, с", "col.acw": "Постобр., с", "col.offers": "Предложен", "col.operator": "Оператор",
    card: "Карточка", "no.card": "Абонент не определён", close: "Закрыть", all: "все",
    "card.status": "Статус", "card.balance": "Баланс", "card.tariff": "Тариф", "card.region": "Регион",
    "chart.legend": "столбцы — поступило / отвечено / потеряно, линия — уровень обслуживания",
    "state.ended": "завершён", "state.abandoned": "потерян", "state.connected": "идёт разговор", "state.wrap_up": "постобработка",
    "state.queued": "в очереди", "state.ringing": "звонит",
  },
  en: {
    title: "Figures and reports", from: "From", to: "To", bucket: "Step", group: "Breakdown", queue: "Queue", show: "Show", csv: "Export CSV",
    "b.hour": "hour", "b.day": "day", "b.week": "week", "g.all": "all calls", "g.queue": "per queue", "g.operator": "per operator",
    period: "Period", key: "Queue / operator", offered: "Offered", answered: "Answered", answered_all: "Handled", abandoned: "Abandoned",
    abandoned_short: "Short abandons", service_level_pct: "SL, %", asa_s: "ASA, s", aht_s: "AHT, s",
    avg_talk_s: "Talk, s", avg_acw_s: "ACW, s", fcr_pct: "First-contact resolution, %", occupancy_pct: "Occupancy, %",
    empty: "No calls in this period", calls: "Calls: {figure}, {period}", "col.started": "Started", "col.state": "Outcome",
    "col.wait": "Wait, s", "col.talk": "Talk, s", "col.acw": "ACW, s", "col.offers": "Offered to", "col.operator": "Operator",
    card: "Card", "no.card": "Subscriber not identified", close: "Close", all: "all",
    "card.status": "Status", "card.balance": "Balance", "card.tariff": "Tariff", "card.region": "Region",
    "chart.legend": "bars — offered / answered / abandoned, line — service level",
    "state.ended": "ended", "state.abandoned": "abandoned", "state.connected": "talking", "state.wrap_up": "after-call work",
    "state.queued": "queued", "state.ringing": "ringing",
  },
});

await boot({ roles: ["supervisor"], title: () => t("title") });
supervisorNav();

const DRILLABLE = { offered: "offered", answered: "answered", abandoned: "abandoned", abandoned_short: "abandoned_short" };
const COLUMNS = ["offered", "answered", "abandoned", "abandoned_short", "service_level_pct", "asa_s", "aht_s", "avg_talk_s", "avg_acw_s"];
const OPERATOR_COLUMNS = ["answered_all", "aht_s", "avg_talk_s", "avg_acw_s", "fcr_pct", "occupancy_pct"];
const dayIso = (d) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
const params = new URLSearchParams(location.search);
const today = new Date();
const form = { from: params.get("from") || dayIso(today), to: params.get("to") || dayIso(today), bucket: params.get("bucket") || "hour",
  group: params.get("group") || "queue", queue: params.get("queue") || "" };
let names = new Map();

// the period as the contact center's local days: from 00:00 of "from" to 24:00 of "to" (browser's zone)
function period() {
  const start = new Date(form.from + "T00:00:00"); const end = new Date(form.to + "T00:00:00"); end.setDate(end.getDate() + 1);
  return { from: start.toISOString(), to: end.toISOString() };
}
function query(extra = {}) {
  const p = { ...period(), bucket: form.bucket, group: form.group, ...extra };
  if (form.queue && !("queue" in extra)) p.queue = form.queue;
  return new URLSearchParams(Object.entries(p).filter(([, v]) => v !== null && v !== undefined && v !== "")).toString();
}

function renderForm() {
  const sel = (name, values, label) => h("label", {}, label, h("select", { name, onchange: (e) => { form[name] = e.target.value; } },
    ...values.map(([v, text]) => h("option", { value: v, selected: form[name] === v }, text))));
  $("kr-form").replaceChildren(
    h("label", {}, t("from"), h("input", { type: "date", name: "from", value: form.from, onchange: (e) => { form.from = e.target.value; } })),
    h("label", {}, t("to"), h("input", { type: "date", name: "to", value: form.to, onchange: (e) => { form.to = e.target.value; } })),
    sel("bucket", ["hour", "day", "week"].map((b) => [b, t("b." + b)]), t("bucket")),
    sel("group", ["all", "queue", "operator"].map((g) => [g, t("g." + g)]), t("group")),
    h("label", {}, t("queue"), h("input", { name: "queue", value: form.queue, placeholder: t("all"), size: 10, onchange: (e) => { form.queue = e.target.value.trim(); } })),
    h("button", { type: "submit", id: "kr-show" }, t("show")),
    h("a", { id: "kr-csv", href: "/api/kpis/report.csv?" + query() }, t("csv")));
}

function keyName(row) {
  if (form.group === "operator") return names.get(row.key) || `#${row.key}`;
  return row.key === "*" ? t("g.all") : row.key || "—";
}

const loading = latest(); // the latest request: a slower, older answer must not overwrite a newer one

async function load() {
  renderForm();
  const still = loading.start();
  $("kr-table").setAttribute("aria-busy", "true");
  try {
    const [data, board] = await Promise.all([api("/api/kpis/report?" + query()), names.size ? null : api("/api/kpis/board")]);
    if (board) names = new Map(board.operators.map((o) => [o.id, o.name]));
    if (!still()) return;
    renderTable(data.rows);
    renderChart(data.rows);
  } catch (e) { if (still()) toast(e.message, "error"); }
  finally { if (still()) $("kr-table").removeAttribute("aria-busy"); }
}

function renderTable(rows) {
  const cols = form.group === "operator" ? [...COLUMNS, ...OPERATOR_COLUMNS.filter((c) => !COLUMNS.includes(c))] : COLUMNS;
  if (!rows.length) { $("kr-table").replaceChildren(h("tr", {}, h("td", { class: "muted" }, t("empty")))); return; }
  $("kr-table").replaceChildren(
    h("tr", {}, h("th", {}, t("period")), h("th", {}, t("key")), ...cols.map((c) => h("th", { class: "num" }, t(c)))),
    ...rows.map((r) => h("tr", { "data-bucket": r.bucket, "data-key": r.key }, h("td", {}, r.bucket), h("td", {}, keyName(r)),
      ...cols.map((c) => h("td", { class: "num" }, DRILLABLE[c] && r[c]
        ? h("button", { class: "link", "data-figure": c, onclick: () => drill(r, DRILLABLE[c]) }, r[c])
        : r[c] ?? "—")))));
}

// one group of bars per bucket (offered / answered / abandoned), the service level as a line on 0-100 %
function renderChart(rows) {
  const byBucket = new Map();
  for (const r of rows) {
    const b = byBucket.get(r.bucket) || { offered: 0, answered: 0, abandoned: 0, met: 0, base: 0 };
    b.offered += r.offered; b.answered += r.answered; b.abandoned += r.abandoned;
    if (r.service_level_pct !== null) { const base = r.answered + r.abandoned; b.met += (r.service_level_pct / 100) * base; b.base += base; }
    byBucket.set(r.bucket, b);
  }
  const buckets = [...byBucket.entries()];
  if (!buckets.length) { $("kr-chart").replaceChildren(); return; }
  const W = 900, H = 220, pad = 30, max = Math.max(1, ...buckets.map(([, b]) => b.offered));
  const bw = (W - 2 * pad) / buckets.length;
  const chart = svg("svg", { viewBox: `0 0 ${W} ${H + 20}`, class: "kr-svg", role: "img", "aria-label": t("chart.legend") });
  const points = [];
  buckets.forEach(([label, b], i) => {
    const x = pad + i * bw;
    [["offered", "#1b64d8"], ["answered", "#2e7d32"], ["abandoned", "#c62828"]].forEach(([k, color], j) => {
      const hgt = ((H - pad) * b[k]) / max;
      const rect = svg("rect", { x: x + 2 + (j * (bw - 4)) / 3, y: H - hgt, width: Math.max(1, (bw - 4) / 3 - 1), height: hgt, fill: color });
      rect.append(Object.assign(svg("title", {}), { textContent: `${label} · ${t(k)}: ${b[k]}` }));
      chart.append(rect);
    });
    if (b.base) points.push(`${x + bw / 2},${H - ((H - pad) * (b.met / b.base))}`);
    if (buckets.length <= 31 || i % Math.ceil(buckets.length / 24) === 0) {
      chart.append(Object.assign(svg("text", { x: x + bw / 2, y: H + 14, "text-anchor": "middle", "font-size": 10 }), { textContent: label.slice(form.bucket === "hour" ? 11 : 5, 16) }));
    }
  });
  if (points.length) chart.append(svg("polyline", { points: points.join(" "), fill: "none", stroke: "#f0a020", "stroke-width": 2 }));
  $("kr-chart").replaceChildren(chart, h("p", { class: "muted" }, t("chart.legend")));
}

const drilling = latest(); // the latest count drilled into: an earlier count's slower list must not replace its list
async function drill(row, figure) {
  const still = drilling.start();
  const start = new Date(row.bucket_start), end = new Date(row.bucket_end); // the contact center's own zone
  const p = period();
  const extra = { from: new Date(Math.max(start, new Date(p.from))).toISOString(), to: new Date(Math.min(end, new Date(p.to))).toISOString(), figure, bucket: null, group: null };
  if (form.group === "queue") extra.queue = row.key === "*" ? null : row.key;
  if (form.group === "operator") extra.operator_id = row.key;
  const { calls } = await api("/api/kpis/calls?" + query(extra));
  if (!still()) return;
  const box = $("kr-drill");
  box.hidden = false;
  box.replaceChildren(h("h3", {}, t("calls", { figure: t(figure), period: `${row.bucket} · ${keyName(row)}` })),
    h("button", { onclick: () => { box.hidden = true; } }, t("close")),
    h("table", { id: "kr-calls" }, h("tr", {}, ...["col.started", "queue", "col.state", "col.operator", "col.wait", "col.talk", "col.acw", "col.offers", "card"].map((k) => h("th", {}, t(k)))),
      ...calls.map((c) => h("tr", { "data-call": c.id }, h("td", {}, fmtDateTime(c.started_at)), h("td", {}, c.queue || "—"), h("td", {}, t.or("state." + c.state, c.state)),
        h("td", {}, c.operator || "—"), h("td", { class: "num" }, c.wait_s ?? "—"), h("td", { class: "num" }, c.talk_s ?? "—"), h("td", { class: "num" }, c.acw_s ?? "—"),
        h("td", { class: "num" }, c.offers ?? "—"),
        h("td", {}, c.subscriber_id ? h("button", { class: "link", onclick: () => showCard(c) }, t("card")) : h("span", { class: "muted" }, t("no.card")))))));
}

async function showCard(call) {
  try {
    const data = await api(`/api/subscribers/${encodeURIComponent(call.subscriber_id)}/card?call_id=${encodeURIComponent(call.id)}`);
    const c = data.card.card;
    document.body.append(h("div", { class: "modal", id: "kr-card", onclick: (e) => { if (e.target === e.currentTarget) e.currentTarget.remove(); } },
      h("div", { class: "modal-box" }, h("h3", {}, c.name),
        h("p", {}, `${t("card.status")}: ${c.status} · ${t("card.tariff")}: ${c.tariff} · ${t("card.region")}: ${c.region}`),
        h("p", {}, `${t("card.balance")}: ${fmtMoney(c.balance)}`),
        h("button", { onclick: () => $("kr-card").remove() }, t("close")))));
  } catch (e) { toast(e.message, "error"); }
}

$("kr-form").addEventListener("submit", (e) => { e.preventDefault(); history.replaceState(null, "", "?" + new URLSearchParams(form)); load(); });
load();
