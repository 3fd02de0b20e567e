// Marketing: define a campaign (offer text, target segments of a finished export, period); the workstation
// re-links the segments to subscribers internally. This page sees counts and conversion only.
import { strings, boot, api, h, toast, on, fmtDateTime, $ } from "/js/core.js";
import { clusterName, tierName } from "/js/segnames.js";

const t = strings("marketing", {
  ru: {
    "mkt.title": "Маркетинг — кампании", "mkt.new": "Новая кампания", "mkt.export": "Выгрузка", "mkt.segments": "Сегменты",
    "mkt.name": "Название", "mkt.offer": "Текст предложения для оператора", "mkt.starts": "Начало", "mkt.ends": "Окончание",
    "mkt.reason": "Основание", "mkt.launch": "Запустить кампанию", "mkt.launched": "Кампания запущена: абонентов {n}",
    "mkt.list": "Кампании", "mkt.targets": "Абонентов", "mkt.accepted": "Приняли", "mkt.declined": "Отказались",
    "mkt.not_offered": "Не предложено", "mkt.pending": "Ещё не звонили", "mkt.conversion": "Конверсия", "mkt.state": "Состояние",
    "mkt.finish": "Завершить", "mkt.none": "Кампаний пока нет", "mkt.noexport": "Нет готовых выгрузок: попросите аналитика сделать выгрузку",
    "mkt.state.active": "идёт", "mkt.state.finished": "завершена", "mkt.to_analyst": "Сегментация",
    "mkt.conversion.how": "Приняли ÷ (приняли + отказались): только те, кому предложили",
    "mkt.tiers": "По ценности (ARPU)", "mkt.cluster": "группа {n}", "mkt.export.label": "{from} — {to}: {rows} абонентов, выгрузка от {at}", "mkt.clusters": "По поведению",
    "mkt.need.name": "Укажите название кампании", "mkt.need.offer": "Напишите текст предложения для оператора",
    "mkt.need.segments": "Выберите хотя бы один сегмент", "mkt.need.period": "Кампания заканчивается раньше, чем начинается",
  },
  en: {
    "mkt.title": "Marketing — campaigns", "mkt.new": "New campaign", "mkt.export": "Export", "mkt.segments": "Segments",
    "mkt.name": "Name", "mkt.offer": "Offer text for the operator", "mkt.starts": "Starts", "mkt.ends": "Ends",
    "mkt.reason": "Grounds", "mkt.launch": "Launch campaign", "mkt.launched": "Campaign launched: {n} subscribers",
    "mkt.list": "Campaigns", "mkt.targets": "Subscribers", "mkt.accepted": "Accepted", "mkt.declined": "Declined",
    "mkt.not_offered": "Not offered", "mkt.pending": "Not called yet", "mkt.conversion": "Conversion", "mkt.state": "State",
    "mkt.finish": "Finish", "mkt.none": "No campaigns yet", "mkt.noexport": "No finished export: ask an analyst for one",
    "mkt.state.active": "active", "mkt.state.finished": "finished", "mkt.to_analyst": "Segmentation",
    "mkt.conversion.how": "Accepted ÷ (accepted + declined): only those who were offered",
    "mkt.tiers": "By value (ARPU)", "mkt.cluster": "group {n}", "mkt.export.label": "{from} — {to}: {rows} subscribers, exported {at}", "mkt.clusters": "By behaviour",
    "mkt.need.name": "Give the campaign a name", "mkt.need.offer": "Write the offer text for the operator",
    "mkt.need.segments": "Choose at least one segment", "mkt.need.period": "The campaign ends before it starts",
  },
});

const user = await boot({ roles: ["marketing", "analyst"], title: () => t("mkt.title") });
const launches = ["marketing", "admin"].includes(user.role); // as the server allows (README: admin does everything)
const today = () => new Date().toISOString().slice(0, 10);
const labels = {}; // export id → {segment key → readable name} (from the exports' summaries)
function segLabel(seg, exportId) {
  const [kind, value] = seg.split(":");
  if (kind === "tier") return tierName(value);
  const name = labels[exportId] && labels[exportId][seg];
  return name ? clusterName(name) : t("mkt.cluster", { n: Number(value) + 1 }); // no internal numbers
}
async function loadExports() {
  const { exports } = await api("/api/exports");
  for (const x of exports) if (x.state === "done" && x.summary?.segments?.labels) labels[x.id] = x.summary.segments.labels;
  return exports;
}
const plusDays = (n) => { const d = new Date(); d.setDate(d.getDate() + n); return d.toISOString().slice(0, 10); };

async function renderNew() {
  const exports = await loadExports();
  if (!launches) { $("new").replaceChildren(h("a", { href: "/analyst.html" }, t("mkt.to_analyst"))); return; }
  const done = exports.filter((x) => x.state === "done");
  if (!done.length) { $("new").replaceChildren(h("h2", {}, t("mkt.new")), h("p", { class: "muted" }, t("mkt.noexport"))); return; }
  const pick = h("select", { id: "mkt-export" }, ...done.map((x) => h("option", { value: x.id }, t("mkt.export.label", { from: x.month_from, to: x.month_to, rows: x.rows, at: fmtDateTime(x.created_at) }))));
  const segBox = h("div", { id: "mkt-segments" });
  const fillSegments = () => {
    const x = done.find((e) => e.id === pick.value);
    const segs = (x && x.summary.segments) || {};
    const counts = segs.counts || {};
    const group = (prefix, titleKey) => {
      const items = Object.entries(counts).filter(([seg]) => seg.startsWith(prefix));
      return items.length ? h("div", { class: "row" }, h("span", { class: "muted" }, t(titleKey) + ":"), ...items.map(([seg, n]) =>
        h("label", { title: seg }, h("input", { type: "checkbox", value: seg, class: "mkt-seg" }), ` ${segLabel(seg, x.id)} (${n})`))) : null;
    };
    segBox.replaceChildren(...[group("tier:", "mkt.tiers"), group("cluster:", "mkt.clusters")].filter(Boolean));
  };
  pick.addEventListener("change", fillSegments);
  fillSegments();
  const name = h("input", { id: "mkt-name", size: 40 });
  const offer = h("textarea", { id: "mkt-offer" });
  const starts = h("input", { type: "date", id: "mkt-starts", value: today() });
  const ends = h("input", { type: "date", id: "mkt-ends", value: plusDays(30) });
  const reason = h("input", { id: "mkt-reason", size: 40 });
  const status = h("p", { class: "error", id: "mkt-error", role: "alert" });
  const launch = h("button", { class: "primary", id: "mkt-launch", onclick: async () => {
    const segments = [...document.querySelectorAll(".mkt-seg")].filter((b) => b.checked).map((b) => b.value);
    const missing = !name.value.trim() ? ["mkt.need.name", name] : !offer.value.trim() ? ["mkt.need.offer", offer]
      : !segments.length ? ["mkt.need.segments", null] : ends.value && starts.value && ends.value < starts.value ? ["mkt.need.period", ends] : null;
    status.textContent = missing ? t(missing[0]) : "";
    if (missing) { if (missing[1]) missing[1].focus(); return; }
    launch.disabled = true;
    try {
      const c = await api("/api/campaigns", { method: "POST", body: { name: name.value, offer_text: offer.value,
        export_id: pick.value, segments, starts_on: starts.value, ends_on: ends.value, reason: reason.value } });
      toast(t("mkt.launched", { n: c.targets }));
      // a fresh form: a second click must not launch the same campaign twice
      name.value = ""; offer.value = ""; reason.value = "";
      for (const b of document.querySelectorAll(".mkt-seg")) b.checked = false;
      await renderList();
    } catch (e) { status.textContent = e.message; }
    launch.disabled = false;
  } }, t("mkt.launch"));
  $("new").replaceChildren(h("h2", {}, t("mkt.new")),
    h("div", { class: "row" }, h("label", {}, t("mkt.export") + " ", pick)),
    h("div", {}, t("mkt.segments") + ":"), segBox,
    h("div", { class: "row" }, h("label", {}, t("mkt.name") + " ", name), h("label", {}, t("mkt.starts") + " ", starts), h("label", {}, t("mkt.ends") + " ", ends)),
    h("div", {}, t("mkt.offer")), offer,
    h("div", { class: "row" }, h("label", {}, t("mkt.reason") + " ", reason), launch), status);
}

async function renderList() {
  const { campaigns } = await api("/api/campaigns");
  if (!campaigns.length) { $("list").replaceChildren(h("h2", {}, t("mkt.list")), h("p", { class: "muted" }, t("mkt.none"))); return; }
  const head = ["mkt.name", "mkt.segments", "mkt.targets", "mkt.accepted", "mkt.declined", "mkt.not_offered", "mkt.pending", "mkt.conversion", "mkt.state"];
  const rows = campaigns.map((c) => {
    const conv = c.conversion === null ? "—" : `${Math.round(c.conversion * 100)}%`;
    const finish = launches && c.state === "active"
      ? h("button", { onclick: async () => { await api(`/api/campaigns/${c.id}/finish`, { method: "POST" }); renderList(); } }, t("mkt.finish")) : "";
    return h("tr", { "data-id": c.id }, h("td", {}, c.name), h("td", {}, c.segments.map((seg) => segLabel(seg, c.export_id)).join("; ")), h("td", { class: "targets" }, c.targets),
      h("td", { class: "accepted" }, c.outcomes.accepted), h("td", {}, c.outcomes.declined), h("td", {}, c.outcomes.not_offered),
      h("td", {}, c.outcomes.pending),
      h("td", { class: "conversion" }, h("span", { class: "bar", style: `width:${Math.round((c.conversion || 0) * 40)}px` }), " " + conv),
      h("td", { class: "state" }, t("mkt.state." + c.state), finish ? " " : "", finish));
  });
  $("list").replaceChildren(h("h2", {}, t("mkt.list")), h("table", { id: "campaigns" },
    h("tr", {}, ...head.map((k) => h("th", { title: k === "mkt.conversion" ? t("mkt.conversion.how") : null }, k ? t(k) : ""))), ...rows));
}

await renderNew();
await renderList();
on("lang", () => { renderNew(); renderList(); });
