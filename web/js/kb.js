// Operator panel "Cheat sheet": the articles and the call script (filled from the card) of the chosen
// topic, plus knowledge-base search. Listens to "topic:chosen" ({code}) from other panels; exports
// topicList() for the tickets panel.
import { strings, api, h, on, emit, language, toast, latest } from "/js/core.js";
import { registerPanel, currentContext } from "/js/panels.js";

const t = strings("kb", {
  ru: {
    "kb.title": "Шпаргалка и скрипт", "kb.topic": "Тема", "kb.topic.pick": "— выберите тему —",
    "kb.script": "Скрипт разговора", "kb.script.none": "Для темы нет скрипта", "kb.articles": "Статьи",
    "kb.articles.none": "Статей по теме нет", "kb.search.ph": "Поиск по базе знаний…", "kb.search": "Найти",
    "kb.found": "Найдено", "kb.corrected": "Показаны результаты для «{q}»", "kb.nothing": "Ничего не найдено",
    "kb.copy": "Копировать", "kb.copied": "Скопировано",
  },
  en: {
    "kb.title": "Cheat sheet and script", "kb.topic": "Topic", "kb.topic.pick": "— choose a topic —",
    "kb.script": "Call script", "kb.script.none": "No script for this topic", "kb.articles": "Articles",
    "kb.articles.none": "No articles for this topic", "kb.search.ph": "Search the knowledge base…", "kb.search": "Search",
    "kb.found": "Found", "kb.corrected": "Showing results for “{q}”", "kb.nothing": "Nothing found",
    "kb.copy": "Copy", "kb.copied": "Copied",
  },
});


const FALLBACK_TOPICS = [
  ["mobile_data", "Мобильный интернет", "Mobile data"], ["no_network", "Нет сети", "No network"],
  ["sms_problem", "Проблемы с SMS", "SMS problem"], ["roaming", "Роуминг", "Roaming"],
  ["number_porting", "Перенос номера", "Number porting"], ["sim_replacement", "Замена SIM-карты", "SIM replacement"],
  ["device_settings", "Настройка устройства", "Device settings"], ["complaint_quality", "Жалоба на качество", "Quality complaint"],
].map(([code, name_ru, name_en]) => ({ code, name_ru, name_en }));

let topicsCache = null;
/** Leaf topics [{code, name_ru, name_en}] from the topic tree (a built-in list if it cannot be read). */
export async function topicList() {
  if (topicsCache) return topicsCache;
  try {
    const tree = (await api("/api/topics?include_archived=false")).tree;
    topicsCache = tree.flatMap((p) => (p.children && p.children.length ? p.children : [p]));
  } catch (_) { topicsCache = FALLBACK_TOPICS; }
  return topicsCache;
}
export const topicName = (x) => (language() === "en" ? x.name_en : x.name_ru);

let chosen = null; // topic code chosen for the subscriber on screen
let lastSubscriber = null;
const topicSeq = latest(), searchSeq = latest(); // the latest topic / search asked for: an earlier, slower answer must not join it

function articleItem(a) {
  const body = h("div", { class: "kb-body", hidden: true });
  const btn = h("button", { class: "link", onclick: async () => {
    if (body.hidden && !body.dataset.loaded) {
      const full = await api(`/api/kb/articles/${a.id}`);
      body.replaceChildren(h("div", { html: full.body_html })); // server-sanitised HTML
      body.dataset.loaded = "1";
    }
    body.hidden = !body.hidden;
  } }, a.title, a.lang !== language() ? ` (${a.lang})` : "");
  return h("li", { "data-article": a.slug }, btn, body);
}

async function renderTopic(ctx, box) {
  const still = topicSeq.start();
  box.replaceChildren();
  if (!chosen) return;
  const panel = await api(`/api/kb/topic/${encodeURIComponent(chosen)}?subscriber_id=${encodeURIComponent(ctx.subscriberId)}&lang=${language()}`);
  if (!still()) return;
  const script = panel.script;
  box.append(h("h4", {}, t("kb.script")));
  if (script) {
    box.append(h("div", { class: "kb-script", id: "kb-script" }, script.filled),
      h("button", { class: "link", onclick: () => navigator.clipboard?.writeText(script.filled).then(() => toast(t("kb.copied"))) }, t("kb.copy")));
  } else box.append(h("p", { class: "muted" }, t("kb.script.none")));
  box.append(h("h4", {}, t("kb.articles")));
  box.append(panel.articles.length ? h("ul", { class: "kb-list", id: "kb-articles" }, panel.articles.map(articleItem))
    : h("p", { class: "muted" }, t("kb.articles.none")));
}

registerPanel({
  id: "kb", slot: "reference", order: 30, title: () => t("kb.title"),
  async render(ctx, el) {
    if (ctx.subscriberId !== lastSubscriber) { chosen = null; lastSubscriber = ctx.subscriberId; }
    const topics = await topicList();
    if (!el.isConnected) return; // a newer card is on screen
    const select = h("select", { id: "kb-topic", "aria-label": t("kb.topic") },
      h("option", { value: "" }, t("kb.topic.pick")),
      topics.map((x) => h("option", { value: x.code, selected: x.code === chosen }, topicName(x))));
    const topicBox = h("div", {});
    select.addEventListener("change", () => { chosen = select.value || null; emit("kb:topic", { code: chosen }); renderTopic(ctx, topicBox).catch(() => toast(t("err.generic"), "error")); });
    const q = h("input", { type: "search", id: "kb-q", placeholder: t("kb.search.ph") });
    const results = h("div", {});
    const doSearch = async () => {
      const still = searchSeq.start();
      if (!q.value.trim()) { results.replaceChildren(); return; }
      const r = await api(`/api/kb/search?q=${encodeURIComponent(q.value)}`);
      if (!still()) return;
      results.replaceChildren(
        r.corrected ? h("p", { class: "muted" }, t("kb.corrected", { q: r.corrected })) : "",
        r.items.length ? h("ul", { class: "kb-list", id: "kb-results" }, r.items.map(articleItem)) : h("p", { class: "muted" }, t("kb.nothing")));
    };
    q.addEventListener("keydown", (e) => { if (e.key === "Enter") doSearch(); });
    el.append(h("label", {}, t("kb.topic"), select), topicBox,
      h("div", { class: "search", style: "margin-top:8px" }, q, h("button", { onclick: doSearch }, t("kb.search"))), results);
    await renderTopic(ctx, topicBox);
  },
});

// another panel (the request record) may announce the topic it settled on
on("topic:chosen", (m) => {
  if (!m || !m.code || m.code === chosen) return;
  chosen = m.code;
  const sel = document.getElementById("kb-topic");
  const ctx = currentContext();
  if (sel && ctx) { sel.value = chosen; sel.dispatchEvent(new Event("change")); }
});
