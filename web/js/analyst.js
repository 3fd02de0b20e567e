// Analyst: start a depersonalised segmentation export (progress bar), see segment profiles (plain SVG charts)
// and the privacy report. Only aggregates and counts ever reach this page: no name, number or address.
import { strings, boot, api, h, svg, toast, fmtDateTime, on, language, errorMessage, $ } from "/js/core.js";
import { clusterName, tierName } from "/js/segnames.js";
import { rowName } from "/js/manifest-rows.js";

const QIS = ["age_band", "sex", "region", "tariff", "tenure_band", "device_class"];
const t = strings("analyst", {
  ru: {
    "seg.title": "Аналитик — сегментация", "seg.reversed": "Начало периода позже его конца",
    "seg.err.empty": "В биллинге нет начислений за {from}…{to}: выгружать нечего",
    "seg.err.nobody": "Ни у одного абонента нет и атрибутов, и начислений за период",
    "seg.err.failed": "Выгрузка прервалась ({what})", "seg.new": "Новая выгрузка", "seg.from": "Период: с", "seg.to": "по (включительно)", "seg.l.one": "l = 1: в части классов у всех один интервал ARPU — его можно узнать по атрибутам",
    "seg.k": "k-анонимность", "seg.attrs": "Атрибуты", "seg.reason": "Цель выгрузки", "seg.start": "Запустить выгрузку",
    "seg.exports": "Выгрузки", "seg.period": "Период", "seg.state": "Состояние", "seg.rows": "Строк", "seg.none": "Выгрузок пока нет",
    "seg.state.running": "идёт", "seg.state.done": "готово", "seg.state.failed": "ошибка", "seg.created": "Создана",
    "seg.privacy": "Отчёт о приватности", "seg.k_achieved": "k достигнуто", "seg.l": "l-разнообразие (ARPU)",
    "seg.suppressed": "Подавлено записей", "seg.key": "Версия ключа псевдонимизации", "seg.row.*_per_month": "Средние за месяц (голос, SMS, интернет, начисления)", "seg.row.share_*": "Доли начислений по видам", "seg.row.(rows)": "Строки выгрузки", "seg.row.(removed)": "Не выгружается", "seg.row.(decomposition)": "Где хранятся личности", "seg.broken": "Битых строк биллинга",
    "seg.methods": "Метод по атрибуту", "seg.attr": "Атрибут", "seg.method": "Метод", "seg.loss": "Потеря информации",
    "seg.tiers": "Ценностные сегменты (по ARPU)", "seg.clusters": "Поведенческие кластеры", "seg.segment": "Сегмент",
    "seg.size": "Размер", "seg.arpu": "Средний ARPU, ₽", "seg.mix": "Структура начислений", "seg.files": "Файлы",
    "seg.criterion": "Число кластеров: {k} (лучший силуэт на выборке)", "seg.over": "подавлено больше целевой доли",
    "seg.attr.age_band": "Возраст", "seg.attr.sex": "Пол", "seg.attr.region": "Регион", "seg.attr.tariff": "Тариф",
    "seg.attr.tenure_band": "Стаж", "seg.attr.device_class": "Устройство",
    "seg.stage.reading subscribers": "чтение абонентов", "seg.stage.reading charges": "чтение начислений",
    "seg.stage.aggregating": "агрегирование", "seg.stage.segmenting": "сегментация", "seg.stage.depersonalising": "обезличивание",
    "seg.stage.depersonalised": "обезличено", "seg.stage.writing parquet": "запись Parquet", "seg.stage.writing csv": "запись CSV",
    "seg.stage.writing manifest": "запись манифеста", "seg.stage.done": "готово",
    "seg.stage.queued": "в очереди", "seg.queue_position": "в очереди: {n}-я",
    "seg.m.pseudonym": "замена идентификатора: HMAC-SHA256 от номера абонента в биллинге с ключом, выведенным только для этой выгрузки",
    "seg.m.age_band": "изменение семантики: дата рождения → возраст на конец периода → интервал (уровень {l})",
    "seg.m.sex": "без изменений или удалён на уровне 1 (уровень {l})",
    "seg.m.region": "изменение семантики: регион → федеральный округ → удалён (уровень {l})",
    "seg.m.tariff": "изменение семантики: тарифы с долей < 5 % → «прочие» → удалён (уровень {l})",
    "seg.m.tenure_band": "изменение семантики: дата подключения → стаж в месяцах → интервал (уровень {l})",
    "seg.m.device_class": "изменение семантики: класс устройства → смартфон/прочее → удалён (уровень {l})",
    "seg.m.arpu_band": "чувствительный атрибут: построчно не выгружается; в каждой группе не меньше l разных интервалов ARPU (обязательно), t-близость в отчёте",
    "seg.m.value_tier": "производный: правило по среднему ARPU группы", "seg.m.behaviour_cluster": "производный: самый частый кластер группы",
    "seg.m.behaviour_segment": "производный: название этого кластера", "seg.m.arpu": "изменение семантики: среднее по группе не меньше чем из k абонентов, округлено до 10 ₽",
    "seg.m.*_per_month": "изменение семантики: средние по группе за месяц, округлено (₽ 1, минуты 10, SMS 1, МБ 100)",
    "seg.m.share_*": "изменение семантики: средняя по группе доля начислений, округлено до 0,01",
    "seg.m.months_active": "изменение семантики: среднее по группе число месяцев с начислениями, до 0,1 (месяц подключения не виден)",
    "seg.m.payment_regularity": "средняя по группе доля месяцев с платежом, округлено до 0,01",
    "seg.m.months_negative": "среднее по группе число месяцев с отрицательным балансом, до 0,1",
    "seg.m.(rows)": "перемешивание строк; записи из классов меньше k или без l интервалов ARPU удалены (изменение состава); каждая строка совпадает ещё с k−1 строками",
    "seg.risk": "Риск повторной идентификации (макс. / средний)", "seg.t": "t-близость (ARPU)",
    "seg.il": "Потеря информации (SSE/SST)", "seg.scope": "k по всей выгруженной записи",
    "seg.ledger": "Проверено против выгрузок того же периода: {n}",
    "seg.m.(removed)": "изменение состава: ФИО, номера, документы, адрес, e-mail, точные даты, id биллинга, свободный текст не выгружаются",
    "seg.m.(decomposition)": "декомпозиция: личности остаются в биллинге, ключ — только в секретах АРМ",
    "cat.voice": "Голос", "cat.sms": "SMS", "cat.data": "Интернет", "cat.subscription": "Абонплата", "cat.roaming": "Роуминг", "cat.other": "Прочее",
  },
  en: {
    "seg.title": "Analyst — segmentation", "seg.reversed": "The period starts after it ends", "seg.new": "New export", "seg.from": "Period: from", "seg.to": "to (inclusive)", "seg.l.one": "l = 1: in some classes everyone has the same ARPU band, which the attributes then reveal",
    "seg.k": "k-anonymity", "seg.attrs": "Attributes", "seg.reason": "Purpose", "seg.start": "Start export",
    "seg.exports": "Exports", "seg.period": "Period", "seg.state": "State", "seg.rows": "Rows", "seg.none": "No exports yet",
    "seg.state.running": "running", "seg.state.done": "done", "seg.state.failed": "failed", "seg.created": "Created",
    "seg.privacy": "Privacy report", "seg.k_achieved": "k achieved", "seg.l": "l-diversity (ARPU)",
    "seg.risk": "Re-identification risk (highest / average)", "seg.t": "t-closeness (ARPU)",
    "seg.il": "Information loss (SSE/SST)", "seg.scope": "k over the whole released record",
    "seg.ledger": "Checked against exports of an overlapping period: {n}",
    "seg.suppressed": "Records suppressed", "seg.key": "Pseudonym key version", "seg.row.*_per_month": "Monthly means (voice, SMS, data, charges)", "seg.row.share_*": "Shares of charges by kind", "seg.row.(rows)": "Rows of the export", "seg.row.(removed)": "Not exported", "seg.row.(decomposition)": "Where identities stay", "seg.broken": "Broken billing rows",
    "seg.methods": "Method per attribute", "seg.attr": "Attribute", "seg.method": "Method", "seg.loss": "Information loss",
    "seg.tiers": "Value tiers (by ARPU)", "seg.clusters": "Behaviour clusters", "seg.segment": "Segment",
    "seg.size": "Size", "seg.arpu": "Mean ARPU, RUB", "seg.mix": "Charge mix", "seg.files": "Files",
    "seg.criterion": "Clusters: {k} (best silhouette on a sample)", "seg.over": "suppressed more than the target share",
    "seg.attr.age_band": "Age", "seg.attr.sex": "Sex", "seg.attr.region": "Region", "seg.attr.tariff": "Tariff",
    "seg.attr.tenure_band": "Tenure", "seg.attr.device_class": "Device",
    "seg.stage.reading subscribers": "reading subscribers", "seg.stage.reading charges": "reading charges",
    "seg.stage.aggregating": "aggregating", "seg.stage.segmenting": "segmenting", "seg.stage.depersonalising": "depersonalising",
    "seg.stage.depersonalised": "depersonalised", "seg.stage.writing parquet": "writing Parquet", "seg.stage.writing csv": "writing CSV",
    "seg.stage.writing manifest": "writing the manifest", "seg.stage.done": "done",
    "seg.stage.queued": "queued", "seg.queue_position": "queued: number {n}",
    "cat.voice": "Voice", "cat.sms": "SMS", "cat.data": "Data", "cat.subscription": "Subscription", "cat.roaming": "Roaming", "cat.other": "Other",
  },
});

await boot({ roles: ["analyst", "marketing"], title: () => t("seg.title") });
const CATS = ["voice", "sms", "data", "subscription", "roaming", "other"];
const COLORS = { voice: "#1b64d8", sms: "#ae3ec9", data: "#2b8a3e", subscription: "#868e96", roaming: "#e8590c", other: "#f08c00" };
let selected = null;
let polling = null;

function monthsAgo(n) {
  const d = new Date(); d.setDate(1); d.setMonth(d.getMonth() - n);
  return d.toISOString().slice(0, 7);
}

function renderForm() {
  const from = h("input", { type: "month", id: "seg-from", value: monthsAgo(6) });
  const to = h("input", { type: "month", id: "seg-to", value: monthsAgo(1) });
  const k = h("input", { type: "number", id: "seg-k", min: 2, max: 1000, value: 5, style: "width:70px" });
  const reason = h("input", { id: "seg-reason", size: 40 });
  const boxes = QIS.map((q) => h("label", {}, h("input", { type: "checkbox", value: q, checked: true, class: "seg-attr" }), " " + t("seg.attr." + q)));
  const bar = h("progress", { id: "seg-progress", max: 1, value: 0, hidden: true });
  const stage = h("span", { id: "seg-stage", class: "muted" });
  const start = h("button", { class: "primary", id: "seg-start", onclick: async () => {
    if (from.value && to.value && from.value > to.value) { toast(t("seg.reversed"), "error"); to.focus(); return; }
    start.disabled = true;
    try {
      const attributes = [...document.querySelectorAll(".seg-attr")].filter((b) => b.checked).map((b) => b.value);
      const job = await api("/api/exports", { method: "POST", body: {
        month_from: from.value, month_to: to.value, k: Number(k.value), attributes, reason: reason.value } });
      follow(job.id);
      await loadList(); // the running export shows in the list at once
    } catch (e) { toast(e.message, "error"); start.disabled = false; }
  } }, t("seg.start"));
  $("form").replaceChildren(
    h("h2", {}, t("seg.new")),
    h("div", { class: "row" }, h("label", {}, t("seg.from") + " ", from), h("label", {}, t("seg.to") + " ", to), h("label", {}, t("seg.k") + " ", k)),
    h("div", { class: "row" }, h("span", {}, t("seg.attrs") + ":"), ...boxes),
    h("div", { class: "row" }, h("label", {}, t("seg.reason") + " ", reason)),
    h("div", { class: "row" }, start, bar, stage),
  );
}

// the release's risk figures over the whole record (older exports have none)
function riskKpis(p) {
  if (!p.risk) return [];
  const r = p.risk.prosecutor, il = p.information_loss.microaggregation_sse_sst;
  return [kpi("seg.risk", `${(r.highest_risk * 100).toFixed(1)}% / ${(r.average_risk * 100).toFixed(1)}%`, h("div", { class: "muted" }, t("seg.scope"))),
    kpi("seg.t", p.t_closeness_arpu_band.t), kpi("seg.il", il ? il.overall : "—")];
}

// why an export failed, in the page's language (the exporter's messages: anonymizer/export.py)
function failureText(msg, job) {
  const failure = job?.summary?.failure;
  if (failure?.code) { const text = errorMessage(failure.code, failure.details); if (text) return text; }
  if (!msg) return "";
  let m = /^no billing charges for (\S+)\.\.(\S+): nothing to export$/.exec(msg);
  if (m) return t("seg.err.empty", { from: m[1], to: m[2] });
  if (msg.startsWith("no subscriber with both attributes and charges")) return t("seg.err.nobody");
  m = /^export failed: (\w+)$/.exec(msg);
  if (m) return t("seg.err.failed", { what: m[1] });
  return msg;
}

function follow(id) {
  clearInterval(polling);
  const bar = $("seg-progress"); bar.hidden = false;
  polling = setInterval(async () => {
    const job = await api(`/api/exports/${id}`);
    bar.value = job.progress; $("seg-stage").textContent = job.queue_position > 0 ? t("seg.queue_position", { n: job.queue_position }) : `${Math.round(job.progress * 100)}% ${job.stage ? t("seg.stage." + job.stage) : ""}`;
    if (job.state !== "running") {
      clearInterval(polling); $("seg-start").disabled = false;
      if (job.state === "failed") toast(failureText(job.error, job), "error");
      selected = id; await loadList();
    }
  }, 700);
}

async function loadList() {
  const { exports } = await api("/api/exports");
  if (!exports.length) { $("exports").replaceChildren(h("h2", {}, t("seg.exports")), h("p", { class: "muted" }, t("seg.none"))); return; }
  const rows = exports.map((x) => h("tr", { class: "pick" + (x.id === selected ? " on" : ""), "data-id": x.id, onclick: () => { selected = x.id; loadList(); } },
    h("td", {}, `${x.month_from} — ${x.month_to}`), h("td", {}, t("seg.state." + x.state)), h("td", {}, x.rows ?? "—"),
    h("td", {}, "k=" + x.k), h("td", {}, fmtDateTime(x.created_at)), h("td", { class: "muted" }, failureText(x.error, x))));
  $("exports").replaceChildren(h("h2", {}, t("seg.exports")), h("table", {},
    h("tr", {}, ...["seg.period", "seg.state", "seg.rows", "seg.k", "seg.created", ""].map((k) => h("th", {}, k ? t(k) : ""))), ...rows));
  const current = exports.find((x) => x.id === selected) || exports.find((x) => x.state === "done");
  renderDetail(current);
}

function kpi(label, value, extra) { return h("div", { class: "kpi" }, h("b", {}, String(value)), t(label), extra || ""); }

const TIER_ORDER = ["low", "middle", "high", "premium"];
const byTier = (ps) => [...ps].sort((a, b) => TIER_ORDER.indexOf(a.segment) - TIER_ORDER.indexOf(b.segment));

const LABEL_W = 380; // room for a segment's name left of the bars (font 12: ~40 characters)
const clip = (s) => (s.length > 46 ? s.slice(0, 45) + "…" : s); // the full name stays in the title
function barChart(profiles, nameOf) {
  const W = LABEL_W + 400, row = 26, H = profiles.length * row + 10, max = Math.max(1, ...profiles.map((p) => p.size));
  const g = svg("svg", { width: W, height: H, viewBox: `0 0 ${W} ${H}`, class: "chart-sizes" });
  profiles.forEach((p, i) => {
    const y = 5 + i * row, w = Math.round((p.size / max) * 260);
    g.append(svg("text", { x: 4, y: y + 16, "font-size": 12 }, clip(nameOf(p.segment)), svg("title", {}, nameOf(p.segment))),
      svg("rect", { x: LABEL_W, y: y + 4, width: w, height: 16, fill: "#1b64d8" }),
      svg("text", { x: LABEL_W + 6 + w, y: y + 16, "font-size": 12 }, `${p.size} · ${Math.round(p.mean_arpu)} ₽`));
  });
  return g;
}

function mixChart(profiles) {
  const W = LABEL_W + 320, row = 26, H = profiles.length * row + 34;
  const g = svg("svg", { width: W, height: H, viewBox: `0 0 ${W} ${H}`, class: "chart-mix" });
  profiles.forEach((p, i) => {
    const y = 5 + i * row; let x = LABEL_W;
    g.append(svg("text", { x: 4, y: y + 16, "font-size": 12 }, clip(clusterName(p.segment)), svg("title", {}, clusterName(p.segment))));
    for (const c of CATS) {
      const w = Math.round((p.service_mix[c] || 0) * 300);
      if (w > 0) g.append(svg("rect", { x, y: y + 4, width: w, height: 16, fill: COLORS[c] }, svg("title", {}, `${t("cat." + c)} ${Math.round(p.service_mix[c] * 100)}%`)));
      x += w;
    }
  });
  let lx = 4;
  for (const c of CATS) { g.append(svg("rect", { x: lx, y: H - 20, width: 10, height: 10, fill: COLORS[c] }), svg("text", { x: lx + 14, y: H - 11, "font-size": 11 }, t("cat." + c))); lx += 84; }
  return g;
}

function renderDetail(x) {
  $("detail").hidden = !x || x.state !== "done";
  if (!x || x.state !== "done") { $("detail").replaceChildren(); return; }
  const s = x.summary, p = s.privacy;
  const methodText = (a, m) => {
    if (language() === "en") return m; // the manifest's own wording
    const key = "seg.m." + a, text = t(key, { l: p.generalisation_levels[a] ?? 0 });
    return text === key ? m : text;
  };
  // the manifest's technical names ("*_per_month", "(rows)") read as what they mean
  const attrName = (a) => (QIS.includes(a) ? t("seg.attr." + a) : t.or("seg.row." + a, rowName.or(a, a)));
  const methods = Object.entries(s.methods).map(([a, m]) => h("tr", {}, h("td", {}, attrName(a)), h("td", {}, methodText(a, m)),
    h("td", {}, p.information_loss.per_attribute[a] !== undefined ? String(p.information_loss.per_attribute[a]) : "")));
  const files = ["manifest.json", "data.csv", "data.parquet", "segments.json"].map((f) => h("a", { href: `/api/exports/${x.id}/files/${f}`, download: "" }, f));
  $("detail").replaceChildren(
    h("h2", {}, t("seg.privacy"), " ", h("span", { class: "muted" }, `${s.period.from} — ${s.period.to}`)),
    h("div", { id: "privacy-kpis" },
      kpi("seg.rows", s.rows), kpi("seg.k_achieved", p.k_achieved), kpi("seg.l", p.l_diversity_arpu_band, p.l_diversity_arpu_band <= 1 ? h("div", { class: "warn", id: "l-warning" }, t("seg.l.one")) : ""),
      kpi("seg.suppressed", `${p.rows_suppressed} (${(p.suppressed_share * 100).toFixed(1)}%)`,
        p.suppression_over_target ? h("div", { class: "warn" }, t("seg.over")) : ""),
      kpi("seg.broken", s.billing_read.broken_rows), kpi("seg.key", s.key_id), ...riskKpis(p)),
    p.ledger ? h("p", { class: "muted", id: "ledger-check" }, t("seg.ledger", { n: p.ledger.overlapping_releases.length })) : "",
    h("h3", {}, t("seg.tiers")), barChart(byTier(s.segments.value_tiers.profiles), tierName),
    h("h3", {}, t("seg.clusters")), h("p", { class: "muted" }, t("seg.criterion", { k: s.segments.behaviour_clusters.criterion.chosen_k ?? 1 })),
    barChart(s.segments.behaviour_clusters.profiles, clusterName), h("h3", {}, t("seg.mix")), mixChart(s.segments.behaviour_clusters.profiles),
    h("h3", {}, t("seg.methods")), h("table", { id: "methods" }, h("tr", {}, h("th", {}, t("seg.attr")), h("th", {}, t("seg.method")), h("th", {}, t("seg.loss"))), ...methods),
    h("p", {}, t("seg.files") + ": ", ...files.flatMap((a) => [a, " "])),
  );
}

renderForm();
await loadList();
on("lang", () => { renderForm(); loadList(); });
