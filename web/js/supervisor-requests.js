// Supervisor: request statistics by topic (charts), emerging topics with promotion, the topic tree editor,
// classifier versions and retraining. Plain SVG charts, no build step.
import { strings, boot, api, h, svg, fmtDateTime, toast, language, on, $, latest } from "/js/core.js";
import { supervisorNav } from "/js/supervisor-nav.js";

const t = strings("sup-req", {
  ru: {
    "req.title": "Супервизор — обращения",
    "req.stats": "Обращения по темам", "req.bucket.hour": "По часам (24 ч)", "req.bucket.day": "По дням (14 дн.)",
    "req.total": "Всего", "req.prev": "Прошлый период", "req.trend": "Тренд", "req.topic": "Тема", "req.new": "новое",
    "req.nodata": "Обращений за период нет",
    "req.emerging": "Новые темы в свободном тексте", "req.run": "Найти сейчас", "req.noclusters": "Новых групп обращений не найдено",
    "req.size": "Обращений: {n}", "req.growth": "За сутки: {r}, сутками ранее: {p}", "req.growth.new": "новая группа",
    "req.promote": "Создать тему", "req.dismiss": "Скрыть", "req.code": "Код (латиницей)", "req.name_ru": "Название (рус.)",
    "req.name_en": "Название (англ.)", "req.parent": "Раздел", "req.toplevel": "— верхний уровень —",
    "req.promoted": "Тема создана; её обращения стали обучающими примерами", "req.topics": "Дерево тем",
    "req.save": "Сохранить", "req.archive": "В архив", "req.unarchive": "Вернуть", "req.add": "Добавить тему",
    "req.saved": "Сохранено", "req.archived": "в архиве", "req.model": "Классификатор", "req.version": "Версия",
    "req.retrain": "Переобучить", "req.training": "Обучение…", "req.training.for": "Обучение… {s} с", "req.accepted": "принята", "req.refused": "отклонена",
    "req.current": "текущая", "req.reason": "Причина", "req.rows": "Строк",
    "reason.forced": "принята вручную", "reason.first model": "первая модель", "reason.not worse than the current model": "не хуже текущей",
    "reason.worse": "хуже v{v}: {rest}",
    "req.acceptance": "Подсказки за период: 1-я принята {rank1}, 2-я {rank2}, 3-я {rank3}, заменены {overridden}, не показаны {none_shown}",
    "req.overrides": "Где операторы исправляют подсказку (14 дн.)", "req.records": "Обращений", "req.accepted_first": "1-я принята",
    "req.overridden": "Исправлено", "req.instead": "Чаще всего предлагалось вместо", "req.nooverrides": "Законченных обращений с подсказками пока нет",
  },
  en: {
    "req.title": "Supervisor — requests",
    "req.stats": "Requests by topic", "req.bucket.hour": "By hour (24 h)", "req.bucket.day": "By day (14 days)",
    "req.total": "Total", "req.prev": "Previous period", "req.trend": "Trend", "req.topic": "Topic", "req.new": "new",
    "req.nodata": "No requests in this period",
    "req.emerging": "Emerging topics in free text", "req.run": "Find now", "req.noclusters": "No new groups of requests found",
    "req.size": "Requests: {n}", "req.growth": "Last day: {r}, day before: {p}", "req.growth.new": "new group",
    "req.promote": "Create topic", "req.dismiss": "Dismiss", "req.code": "Code (latin)", "req.name_ru": "Name (Russian)",
    "req.name_en": "Name (English)", "req.parent": "Section", "req.toplevel": "— top level —",
    "req.promoted": "Topic created; its requests became training examples", "req.topics": "Topic tree",
    "req.save": "Save", "req.archive": "Archive", "req.unarchive": "Restore", "req.add": "Add topic",
    "req.saved": "Saved", "req.archived": "archived", "req.model": "Classifier", "req.version": "Version",
    "req.retrain": "Retrain", "req.training": "Training…", "req.training.for": "Training… {s} s", "req.accepted": "accepted", "req.refused": "refused",
    "req.current": "current", "req.reason": "Reason", "req.rows": "Rows",
    "req.acceptance": "Suggestions in the period: 1st accepted {rank1}, 2nd {rank2}, 3rd {rank3}, overridden {overridden}, none shown {none_shown}",
    "req.overrides": "Where operators override the suggestion (14 days)", "req.records": "Requests", "req.accepted_first": "1st accepted",
    "req.overridden": "Overridden", "req.instead": "Most often suggested instead", "req.nooverrides": "No finished requests with suggestions yet",
  },
});

await boot({ roles: ["supervisor"], title: () => t("req.title") });
supervisorNav();
const nameOf = (x) => (language() === "en" ? x.name_en : x.name_ru);
const COLORS = ["#1b64d8", "#e8590c", "#2b8a3e", "#ae3ec9", "#f08c00", "#0b7285"];
let bucket = "hour";
let tree = [];
const statsSeq = latest(); // the latest statistics asked for: an earlier, slower answer must not replace them

function trendText(x) {
  if (x === null || x === undefined) return h("span", { class: "muted" }, t("req.new"));
  const pct = Math.round(x * 100);
  return h("span", { class: pct > 0 ? "up" : pct < 0 ? "down" : "" }, (pct > 0 ? "▲ +" : pct < 0 ? "▼ " : "") + pct + "%");
}

function chart(data) {
  const W = 760, H = 200, L = 34, B = 22, top = data.series.slice(0, 6);
  const n = data.buckets.length;
  // bars: requests per bucket (a request with two topics is one request), so they add up to the total tile
  const totals = data.records_per_bucket || data.buckets.map((_, i) => data.series.reduce((a, s) => a + s.counts[i], 0));
  const max = Math.max(1, ...totals, ...top.flatMap((s) => s.counts));
  const x = (i) => L + (i + 0.5) * ((W - L - 6) / n);
  const y = (v) => H - B - (v / max) * (H - B - 10);
  const g = svg("svg", { viewBox: `0 0 ${W} ${H}`, width: "100%", role: "img", id: "stats-chart", "aria-label": t("req.stats") });
  g.append(svg("text", { x: 2, y: 14, "font-size": 11, fill: "#6b7385" }, max));
  g.append(svg("line", { x1: L, y1: H - B, x2: W, y2: H - B, stroke: "#dfe3ea" }));
  const bw = Math.max(2, (W - L - 6) / n - 3);
  totals.forEach((v, i) => g.append(svg("rect", { x: x(i) - bw / 2, y: y(v), width: bw, height: H - B - y(v), fill: "#e3e8f0" },
    svg("title", {}, `${fmtDateTime(data.buckets[i])}: ${v}`))));
  top.forEach((s, k) => g.append(svg("polyline", { fill: "none", stroke: COLORS[k], "stroke-width": 2,
    points: s.counts.map((v, i) => `${x(i)},${y(v)}`).join(" "), "data-code": s.code })));
  const step = Math.ceil(n / 8);
  data.buckets.forEach((b, i) => { if (i % step === 0) {
    const d = new Date(b);
    g.append(svg("text", { x: x(i), y: H - 6, "font-size": 10, "text-anchor": "middle", fill: "#6b7385" },
      bucket === "hour" ? d.getHours() + ":00" : d.getDate() + "." + (d.getMonth() + 1)));
  } });
  return g;
}

async function renderStats() {
  const still = statsSeq.start();
  const data = await api(`/api/records/stats?bucket=${bucket}`);
  if (!still()) return;
  const sel = h("select", { id: "bucket", onchange: (e) => { bucket = e.target.value; renderStats(); } },
    ["hour", "day"].map((b) => h("option", { value: b, selected: b === bucket }, t("req.bucket." + b))));
  const legend = data.series.slice(0, 6).map((s, k) => h("span", { class: "badge", style: `border-left:8px solid ${COLORS[k]}` }, nameOf(s)));
  const table = h("table", { id: "stats-table" }, h("tr", {}, h("th", {}, t("req.topic")), h("th", { class: "num" }, t("req.total")),
    h("th", { class: "num" }, t("req.prev")), h("th", { class: "num" }, t("req.trend"))),
  data.series.map((s) => h("tr", { "data-code": s.code }, h("td", {}, nameOf(s), s.archived ? h("span", { class: "muted" }, " · " + t("req.archived")) : null),
    h("td", { class: "num" }, s.total), h("td", { class: "num" }, s.previous_total), h("td", { class: "num" }, trendText(s.trend)))));
  $("stats").replaceChildren(h("h2", {}, t("req.stats")),
    h("div", { class: "row" }, sel, h("span", { class: "kpi" }, t("req.total"), h("b", { id: "stats-total" }, data.total)),
      h("span", { class: "kpi" }, t("req.prev"), h("b", {}, data.previous_total)), h("span", { class: "kpi" }, t("req.trend"), h("b", {}, trendText(data.trend)))),
    data.total || data.previous_total ? chart(data) : h("p", { class: "muted" }, t("req.nodata")), h("div", { class: "row" }, legend), table,
    h("p", { class: "muted", id: "acceptance" }, t("req.acceptance", data.acceptance)));
}

function parentSelect(id) {
  return h("select", { id }, h("option", { value: "" }, t("req.toplevel")),
    tree.filter((p) => !p.archived).map((p) => h("option", { value: p.code }, nameOf(p))));
}

function promoteForm(c) {
  const code = h("input", { placeholder: t("req.code"), "aria-label": t("req.code"), class: "promote-code", value: c.keywords.slice(0, 2).join("_").replace(/[^a-z0-9_]/g, "") });
  const ru = h("input", { placeholder: t("req.name_ru"), "aria-label": t("req.name_ru"), class: "promote-ru", value: c.keywords.slice(0, 3).join(" ") });
  const en = h("input", { placeholder: t("req.name_en"), "aria-label": t("req.name_en"), class: "promote-en" });
  const parent = parentSelect("parent-" + c.id);
  const err = h("span", { class: "error", role: "alert" });
  return h("div", { class: "row" }, code, ru, en, parent,
    h("button", { class: "primary promote", onclick: async () => {
      err.textContent = "";
      try {
        await api(`/api/records/emerging/${c.id}/promote`, { method: "POST", body: { code: code.value, name_ru: ru.value, name_en: en.value, parent_code: parent.value || null } });
        toast(t("req.promoted"));
        await Promise.all([renderEmerging(), renderTopics(), renderModel(), renderStats()]); // the model panel follows the retraining
      } catch (e) { err.textContent = e.message; }
    } }, t("req.promote")),
    h("button", { onclick: async () => { await api(`/api/records/emerging/${c.id}/dismiss`, { method: "POST" }); renderEmerging(); } }, t("req.dismiss")), err);
}

const emerging = latest(); // the latest list: a slower, older answer must not bring back a cluster promoted since
async function renderEmerging(clusters) {
  const still = emerging.start();
  clusters = clusters || (await api("/api/records/emerging")).clusters;
  if (!still()) return;
  const run = h("button", { id: "emerging-run", onclick: async (e) => {
    e.target.disabled = true;
    try { renderEmerging((await api("/api/records/emerging/run", { method: "POST" })).clusters); } finally { e.target.disabled = false; }
  } }, t("req.run"));
  $("emerging").replaceChildren(h("h2", {}, t("req.emerging")), run,
    clusters.length ? h("div", { id: "clusters" }, clusters.map((c) => h("div", { class: "cluster", "data-id": c.id },
      h("div", { class: "row" }, c.keywords.map((k) => h("span", { class: "badge" }, k)),
        h("b", {}, t("req.size", { n: c.size })),
        h("span", { class: "muted" }, c.growth === null ? t("req.growth.new") + " · " : "", t("req.growth", { r: c.recent, p: c.previous }))),
      c.examples.map((ex) => h("blockquote", {}, ex)), promoteForm(c))))
      : h("p", { class: "muted", id: "no-clusters" }, t("req.noclusters")));
}

function topicRow(x, isChild, hasChildren) {
  const ru = h("input", { class: "name", value: x.name_ru, "aria-label": t("req.name_ru") });
  const en = h("input", { class: "name", value: x.name_en, "aria-label": t("req.name_en") });
  // a topic without children can move under another section (two levels at most)
  const parent = hasChildren ? null : h("select", { class: "move", "aria-label": t("req.parent") },
    h("option", { value: "" }, t("req.toplevel")),
    tree.filter((p) => p.code !== x.code && p.children.length && !p.archived)
      .map((p) => h("option", { value: p.code, selected: p.code === x.parent_code }, nameOf(p))));
  const patch = async (body) => {
    try { await api(`/api/topics/${x.code}`, { method: "PATCH", body }); toast(t("req.saved")); await renderTopics(); } catch (e) { toast(e.message, "error"); }
  };
  const save = () => patch(parent ? { name_ru: ru.value, name_en: en.value, parent_code: parent.value } : { name_ru: ru.value, name_en: en.value });
  return h("tr", { class: x.archived ? "archived" : "", "data-code": x.code },
    h("td", {}, isChild ? "— " : "", h("code", {}, x.code)), h("td", {}, ru), h("td", {}, en), h("td", { class: "keep" }, parent),
    h("td", { class: "keep" }, h("button", { class: "save", onclick: save }, t("req.save")), " ",
      h("button", { class: "archive", onclick: () => patch({ archived: !x.archived }) }, x.archived ? t("req.unarchive") : t("req.archive"))));
}

async function renderTopics() {
  tree = (await api("/api/topics")).tree;
  const code = h("input", { id: "new-code", placeholder: t("req.code") });
  const ru = h("input", { id: "new-ru", placeholder: t("req.name_ru") });
  const en = h("input", { id: "new-en", placeholder: t("req.name_en") });
  const parent = parentSelect("new-parent");
  const err = h("span", { class: "error", role: "alert" });
  $("topics").replaceChildren(h("h2", {}, t("req.topics")),
    h("table", { id: "topic-table" }, h("tr", {}, h("th", {}, t("req.code")), h("th", {}, t("req.name_ru")), h("th", {}, t("req.name_en")), h("th", {}, t("req.parent")), h("th", {}, "")),
      tree.flatMap((p) => [topicRow(p, false, p.children.length > 0), ...p.children.map((c) => topicRow(c, true, false))])),
    h("div", { class: "row" }, code, ru, en, parent, h("button", { id: "add-topic", class: "primary", onclick: async () => {
      err.textContent = "";
      try {
        await api("/api/topics", { method: "POST", body: { code: code.value, name_ru: ru.value, name_en: en.value, parent_code: parent.value || null } });
        toast(t("req.saved")); await renderTopics();
      } catch (e) { err.textContent = e.message; }
    } }, t("req.add")), err));
}

// the registry's reasons are English phrases from a small set (classifier/registry.py)
function reasonText(reason) {
  if (!reason) return "";
  const worse = /^worse than v(\d+): (.*)$/.exec(reason);
  if (worse) return t("reason.worse", { v: worse[1], rest: worse[2] });
  const key = "reason." + reason, text = t(key);
  return text === key ? reason : text;
}

// training shows that it runs (seconds so far) and the panel follows it to the new version, whether the
// button started it or a promoted topic did (the server trains in the background then)
let trainingSince = null, trainingPoll = null, lastResult = "";
function elapsed(status) {
  const tick = () => { if (trainingSince) status.textContent = t("req.training.for", { s: Math.round((Date.now() - trainingSince) / 1000) }); };
  tick(); return setInterval(tick, 1000);
}
const modelView = latest(); // the latest state asked for: an older answer (still training) must not come back
async function renderModel() {
  const still = modelView.start();
  const st = await api("/api/classifier");
  if (!still()) return;
  clearTimeout(trainingPoll);
  if (st.training && !trainingSince) trainingSince = Date.now();
  if (!st.training) trainingSince = null;
  const status = h("span", { class: "muted", id: "model-status", "aria-live": "polite" }, lastResult);
  const btn = h("button", { id: "retrain", disabled: !!st.training, onclick: async () => {
    btn.disabled = true; trainingSince = Date.now();
    const ticker = elapsed(status);
    try { const r = await api("/api/classifier/train", { method: "POST" }); lastResult = `v${r.version}: ${r.accepted ? t("req.accepted") : t("req.refused")} — ${reasonText(r.reason)}`; }
    catch (e) { lastResult = e.message; }
    finally { clearInterval(ticker); trainingSince = null; await renderModel(); }
  } }, t("req.retrain"));
  const overrides = await overridesTable();
  if (!still()) return;
  if (st.training) { const ticker = elapsed(status); trainingPoll = setTimeout(() => { clearInterval(ticker); renderModel().catch(() => {}); }, 2000); }
  $("model").replaceChildren(h("h2", {}, t("req.model")), h("div", { class: "row" }, h("span", { class: "kpi" }, t("req.version"), h("b", {}, st.version ?? "—")), btn, status),
    h("table", {}, h("tr", {}, ["req.version", "", "req.rows", "top1", "macro_f1", "req.reason"].map((k) => h("th", {}, k.startsWith("req.") ? t(k) : k))),
      st.versions.map((v) => h("tr", {}, h("td", {}, "v" + v.version), h("td", {}, v.current ? t("req.current") : v.accepted ? t("req.accepted") : t("req.refused")),
        h("td", {}, v.rows), h("td", {}, v.metrics?.top1 ?? "—"), h("td", {}, v.metrics?.macro_f1 ?? "—"), h("td", { class: "muted" }, reasonText(v.reason))))),
    overrides);
}

// per topic the operators chose: how often the first suggestion was another topic, and which
async function overridesTable() {
  const { topics } = await api("/api/classifier/overrides");
  const pct = (x) => (x === null || x === undefined ? "—" : Math.round(x * 100) + "%");
  return h("div", {}, h("h3", {}, t("req.overrides")), topics.length
    ? h("table", { id: "overrides-table" }, h("tr", {}, ["req.topic", "req.records", "req.accepted_first", "req.overridden", "req.instead"].map((k) => h("th", {}, t(k)))),
      topics.map((x) => h("tr", { "data-code": x.code }, h("td", {}, nameOf(x)), h("td", { class: "num" }, x.records), h("td", { class: "num" }, x.accepted_first),
        h("td", { class: "num" }, `${x.overridden} (${pct(x.override_rate)})`), h("td", {}, x.suggested_instead.map((c) => `${nameOf(c)} × ${c.count}`).join(", ")))))
    : h("p", { class: "muted", id: "no-overrides" }, t("req.nooverrides")));
}

function renderAll() {
  return renderTopics().then(() => Promise.all([renderStats(), renderEmerging(), renderModel()]));
}
on("lang", renderAll);
let pending = null;
on("ws:records.finished", () => { clearTimeout(pending); pending = setTimeout(() => renderStats().catch(() => {}), 500); });
on("ws:emerging.updated", () => renderEmerging().catch(() => {}));
await renderAll();
setInterval(() => renderStats().catch(() => {}), 60_000);
