// Supervisor: routing rules (topic → group, skills, base priority), SLA targets, priority rules, business
// hours, outages, and the knowledge base (articles, call scripts) — all edited here, stored in the DB.
import { strings, boot, api, h, toast, fmtDateTime, errorMessage } from "/js/core.js";
import { supervisorNav } from "/js/supervisor-nav.js";
import { ticketText } from "/js/ticket-strings.js";

const t = strings("sup-support", {
  ru: {
    "ss.title": "Техподдержка: правила и база знаний", "ss.tab.routing": "Маршрутизация", "ss.tab.sla": "SLA и приоритеты",
    "ss.tab.outages": "Аварии", "ss.tab.articles": "Статьи", "ss.tab.scripts": "Скрипты", "ss.save": "Сохранить",
    "ss.saved": "Сохранено", "ss.add": "Добавить строку", "ss.pick": "— тема —", "ss.topic": "Тема", "ss.group": "Группа", "ss.skills": "Навыки (через запятую)",
    "ss.base": "Базовый приоритет", "ss.prio": "Приоритет", "ss.fr": "Первый ответ, мин", "ss.res": "Решение, мин",
    "ss.bh": "В рабочие часы", "ss.tiers": "Уровни ARPU (название, от ₽, повышение)", "ss.repeat": "Окно повторов, дней",
    "ss.repeat.bump": "Повышение за повтор", "ss.outage.bump": "Повышение при аварии", "ss.hours": "Рабочие часы",
    "ss.tz": "Часовой пояс", "ss.days": "Рабочие дни", "ss.wd": "пн,вт,ср,чт,пт,сб,вс", "ss.start": "Начало", "ss.end": "Конец",
    "ss.holidays": "Праздники (ГГГГ-ММ-ДД, через запятую)", "ss.auto": "Назначать автоматически наименее загруженному инженеру",
    "ss.region": "Регион", "ss.note": "Комментарий", "ss.declare": "Объявить аварию", "ss.end.outage": "Завершить",
    "ss.active": "активна", "ss.ended": "завершена", "ss.new": "Новая статья", "ss.slug": "Код (slug)", "ss.lang": "Язык",
    "ss.atitle": "Заголовок", "ss.topics": "Темы (коды через запятую)", "ss.tags": "Теги (через запятую)", "ss.body": "Текст (Markdown)",
    "ss.archive": "В архив", "ss.unarchive": "Вернуть из архива", "ss.preview": "Как увидит оператор", "ss.version": "версия",
    "ss.placeholders": "Подстановки", "ss.script.new": "Новый скрипт",
  },
  en: {
    "ss.title": "Tech support: rules and knowledge base", "ss.tab.routing": "Routing", "ss.tab.sla": "SLA and priorities",
    "ss.tab.outages": "Outages", "ss.tab.articles": "Articles", "ss.tab.scripts": "Scripts", "ss.save": "Save",
    "ss.saved": "Saved", "ss.add": "Add row", "ss.pick": "— topic —", "ss.topic": "Topic", "ss.group": "Group", "ss.skills": "Skills (comma-separated)",
    "ss.base": "Base priority", "ss.prio": "Priority", "ss.fr": "First response, min", "ss.res": "Resolution, min",
    "ss.bh": "Business hours", "ss.tiers": "ARPU tiers (name, from ₽, bump)", "ss.repeat": "Repeat window, days",
    "ss.repeat.bump": "Bump for a repeat", "ss.outage.bump": "Bump during an outage", "ss.hours": "Business hours",
    "ss.tz": "Time zone", "ss.days": "Working days", "ss.wd": "Mon,Tue,Wed,Thu,Fri,Sat,Sun", "ss.start": "Start", "ss.end": "End",
    "ss.holidays": "Holidays (YYYY-MM-DD, comma-separated)", "ss.auto": "Assign automatically to the least-loaded engineer",
    "ss.region": "Region", "ss.note": "Note", "ss.declare": "Declare outage", "ss.end.outage": "End",
    "ss.active": "active", "ss.ended": "ended", "ss.new": "New article", "ss.slug": "Slug", "ss.lang": "Language",
    "ss.atitle": "Title", "ss.topics": "Topics (codes, comma-separated)", "ss.tags": "Tags (comma-separated)", "ss.body": "Text (Markdown)",
    "ss.archive": "Archive", "ss.unarchive": "Restore", "ss.preview": "What the operator sees", "ss.version": "version",
    "ss.placeholders": "Placeholders", "ss.script.new": "New script",
  },
});


await boot({ roles: ["supervisor"], title: () => t("ss.title") });
supervisorNav();
const body = document.getElementById("ss-body");
let tab = "routing";
const csv = (s) => String(s || "").split(",").map((x) => x.trim()).filter(Boolean);
const fail = (e) => toast(e.message || t("err.generic"), "error");
const input = (value, attrs = {}) => h("input", { value: value ?? "", ...attrs });
// the supervisor has moved to another tab: the slower answer for the one they left must not replace it
const left = (name) => tab !== name;

function tabs() {
  document.getElementById("ss-tabs").replaceChildren(...["routing", "sla", "outages", "articles", "scripts"].map((x) =>
    h("button", { class: x === tab ? "on" : "", "data-tab": x, onclick: () => { tab = x; show(); } }, t("ss.tab." + x))));
}

// routes with pickers: the topic from the topic tree, the group and skills from those already in use (or a
// new one typed in), the base priority by name; every problem the server finds is shown on its row
async function routingTab() {
  const [cfg, tree] = await Promise.all([api("/api/tickets/config"), api("/api/topics?include_archived=false").then((r) => r.tree).catch(() => [])]);
  if (left("routing")) return;
  const lang = document.documentElement.lang;
  const leaves = tree.flatMap((p) => (p.children && p.children.length ? p.children : [p]));
  const nameOf = (x) => (lang === "en" ? x.name_en : x.name_ru);
  const groups = [...new Set(cfg.routes.map((r) => r.group).filter(Boolean))].sort();
  const skills = [...new Set(cfg.routes.flatMap((r) => r.skills || []))].sort();
  const lists = h("div", {}, h("datalist", { id: "ss-groups" }, groups.map((g) => h("option", { value: g }))),
    h("datalist", { id: "ss-skill-list" }, skills.map((g) => h("option", { value: g }))));
  const tbody = h("tbody", {});
  const addRow = (r) => {
    const known = leaves.some((x) => x.code === r.topic);
    const topic = h("select", { "data-f": "topic", "aria-label": t("ss.topic") }, h("option", { value: "" }, t("ss.pick")),
      !known && r.topic ? h("option", { value: r.topic, selected: true }, r.topic) : null,
      leaves.map((x) => h("option", { value: x.code, selected: x.code === r.topic }, `${nameOf(x)} (${x.code})`)));
    const prio = h("select", { "data-f": "base_priority", "aria-label": t("ss.base") },
      [1, 2, 3, 4].map((p) => h("option", { value: p, selected: Number(r.base_priority) === p }, ticketText("prio." + p))));
    tbody.append(h("tr", {}, h("td", {}, topic), h("td", {}, input(r.group, { "data-f": "group", list: "ss-groups" })),
      h("td", {}, input((r.skills || []).join(", "), { "data-f": "skills", list: "ss-skill-list" })), h("td", {}, prio),
      h("td", { class: "error ss-row-error" })));
  };
  cfg.routes.forEach(addRow);
  const auto = h("input", { type: "checkbox", id: "ss-auto", checked: cfg.auto_assign });
  body.replaceChildren(lists,
    h("table", { id: "ss-routes" }, h("thead", {}, h("tr", {}, ["topic", "group", "skills", "base"].map((c) => h("th", {}, t("ss." + c))), h("th", {}))), tbody),
    h("button", { onclick: () => addRow({ topic: "", group: "", skills: [], base_priority: 3 }) }, t("ss.add")), " ",
    h("button", { class: "primary", id: "ss-save-routes", onclick: async () => {
      const rows = [...tbody.children];
      rows.forEach((tr) => { tr.classList.remove("bad"); tr.querySelector(".ss-row-error").textContent = ""; });
      const filled = rows.map((tr) => [tr, Object.fromEntries([...tr.querySelectorAll("[data-f]")].map((i) => [i.dataset.f, i.value]))]).filter(([, r]) => r.topic || r.group);
      const routes = filled.map(([, r]) => ({ ...r, skills: csv(r.skills), base_priority: Number(r.base_priority) }));
      try { await api("/api/tickets/config/routes", { method: "PUT", body: routes }); toast(t("ss.saved")); } catch (e) {
        for (const p of e.details?.problems || []) {
          const tr = filled[p.row]?.[0]; if (!tr) continue;
          tr.classList.add("bad");
          const cell = tr.querySelector(".ss-row-error");
          cell.textContent = [cell.textContent, errorMessage(p.error_id, p) || p.message].filter(Boolean).join("; ");
        }
        fail(e);
      }
    } }, t("ss.save")),
    h("label", {}, auto, " ", t("ss.auto")));
  auto.addEventListener("change", () => api("/api/tickets/config/settings/auto_assign", { method: "PUT", body: auto.checked }).then(() => toast(t("ss.saved")), fail));
}

// working days as seven named boxes (Monday first), not "0=Mon…6=Sun" typed by hand
function weekdayPicker(days) {
  const names = t("ss.wd").split(",");
  return h("span", { id: "ss-weekdays", class: "row" }, names.map((n, i) =>
    h("label", { class: "wd" }, h("input", { type: "checkbox", value: i, checked: days.includes(i), "data-day": i }), " " + n)));
}

async function slaTab() {
  const cfg = await api("/api/tickets/config");
  if (left("sla")) return;
  const rows = cfg.sla.map((s) => h("tr", { "data-p": s.priority }, h("td", {}, `P${s.priority}`),
    h("td", {}, input(s.first_response_min, { type: "number", "data-f": "first_response_min" })),
    h("td", {}, input(s.resolution_min, { type: "number", "data-f": "resolution_min" })),
    h("td", {}, h("input", { type: "checkbox", "data-f": "business_hours", checked: s.business_hours }))));
  const r = cfg.priority_rules, bh = cfg.business_hours;
  const tiers = h("textarea", { rows: 3, id: "ss-tiers" }, r.arpu_tiers.map((x) => `${x.name}, ${x.min_arpu}, ${x.bump}`).join("\n"));
  const f = { repeat: input(r.repeat_window_days, { type: "number" }), rb: input(r.repeat_bump, { type: "number" }), ob: input(r.outage_bump, { type: "number" }),
    tz: input(bh.tz), days: weekdayPicker(bh.weekdays), start: input(bh.start, { type: "time" }), end: input(bh.end, { type: "time" }), hol: input(bh.holidays.join(", ")) };
  body.replaceChildren(
    h("table", { id: "ss-sla" }, h("thead", {}, h("tr", {}, ["prio", "fr", "res", "bh"].map((c) => h("th", {}, t("ss." + c))))), h("tbody", {}, rows)),
    h("button", { class: "primary", onclick: async () => {
      const targets = rows.map((tr) => ({ priority: Number(tr.dataset.p),
        first_response_min: Number(tr.querySelector("[data-f=first_response_min]").value),
        resolution_min: Number(tr.querySelector("[data-f=resolution_min]").value),
        business_hours: tr.querySelector("[data-f=business_hours]").checked }));
      try { await api("/api/tickets/config/sla", { method: "PUT", body: targets }); toast(t("ss.saved")); } catch (e) { fail(e); }
    } }, t("ss.save")),
    h("h3", {}, t("ss.tiers")), tiers,
    h("label", {}, t("ss.repeat"), f.repeat), h("label", {}, t("ss.repeat.bump"), f.rb), h("label", {}, t("ss.outage.bump"), f.ob),
    h("button", { class: "primary", onclick: async () => {
      const arpu_tiers = tiers.value.split("\n").map((l) => csv(l)).filter((p) => p.length === 3)
        .map(([name, min, bump]) => ({ name, min_arpu: Number(min), bump: Number(bump) }));
      try { await api("/api/tickets/config/settings/priority_rules", { method: "PUT", body: { arpu_tiers,
        repeat_window_days: Number(f.repeat.value), repeat_bump: Number(f.rb.value), outage_bump: Number(f.ob.value) } }); toast(t("ss.saved")); } catch (e) { fail(e); }
    } }, t("ss.save")),
    h("h3", {}, t("ss.hours")), h("label", {}, t("ss.tz"), f.tz), h("div", { class: "ss-days" }, h("span", {}, t("ss.days")), f.days),
    h("label", {}, t("ss.start"), f.start), h("label", {}, t("ss.end"), f.end), h("label", {}, t("ss.holidays"), f.hol),
    h("button", { class: "primary", id: "ss-save-hours", onclick: async () => {
      try { await api("/api/tickets/config/settings/business_hours", { method: "PUT", body: { tz: f.tz.value,
        weekdays: [...f.days.querySelectorAll("input:checked")].map((b) => Number(b.value)), start: f.start.value, end: f.end.value, holidays: csv(f.hol.value) } }); toast(t("ss.saved")); } catch (e) { fail(e); }
    } }, t("ss.save")));
}

async function outagesTab() {
  const cfg = await api("/api/tickets/config");
  if (left("outages")) return;
  const region = input("", { id: "ss-region" }), note = input("", { id: "ss-onote" });
  body.replaceChildren(
    h("table", {}, h("tbody", {}, cfg.outages.map((o) => h("tr", {}, h("td", {}, o.region), h("td", {}, o.note),
      h("td", {}, fmtDateTime(o.started_at)), h("td", {}, o.active ? t("ss.active") : t("ss.ended")),
      h("td", {}, o.active ? h("button", { onclick: () => api(`/api/tickets/config/outages/${o.id}/end`, { method: "POST" }).then(show, fail) }, t("ss.end.outage")) : ""))))),
    h("label", {}, t("ss.region"), region), h("label", {}, t("ss.note"), note),
    h("button", { class: "primary", onclick: () => api("/api/tickets/config/outages", { method: "POST", body: { region: region.value, note: note.value } }).then(show, fail) }, t("ss.declare")));
}

async function articlesTab(openId) {
  const list = (await api("/api/kb/articles?include_archived=true")).articles;
  if (left("articles")) return;
  const editor = h("div", { id: "ss-editor" });
  const edit = async (id) => {
    const a = id ? await api(`/api/kb/articles/${id}`) : { slug: "", lang: "ru", title: "", body_md: "", topics: [], tags: [], version: null };
    const f = { slug: input(a.slug), lang: h("select", {}, ["ru", "en"].map((l) => h("option", { value: l, selected: l === a.lang }, l))),
      title: input(a.title, { id: "ss-atitle" }), topics: input(a.topics.join(", ")), tags: input(a.tags.join(", ")),
      body: h("textarea", { rows: 14, id: "ss-abody" }, a.body_md) };
    editor.replaceChildren(
      h("label", {}, t("ss.slug"), f.slug), h("label", {}, t("ss.lang"), f.lang), h("label", {}, t("ss.atitle"), f.title),
      h("label", {}, t("ss.topics"), f.topics), h("label", {}, t("ss.tags"), f.tags), h("label", {}, t("ss.body"), f.body),
      h("button", { class: "primary", id: "ss-asave", onclick: async () => {
        const data = { slug: f.slug.value, lang: f.lang.value, title: f.title.value, body_md: f.body.value, topics: csv(f.topics.value), tags: csv(f.tags.value) };
        try {
          const saved = a.id ? await api(`/api/kb/articles/${a.id}`, { method: "PUT", body: { ...data, version: a.version } })
            : await api("/api/kb/articles", { method: "POST", body: data });
          toast(t("ss.saved")); await articlesTab(saved.id);
        } catch (e) { fail(e); }
      } }, t("ss.save")), " ",
      a.id ? h("button", { onclick: () => api(`/api/kb/articles/${a.id}/archive`, { method: "POST", body: { version: a.version, archived: !a.archived } }).then(() => articlesTab(a.id), fail) },
        a.archived ? t("ss.unarchive") : t("ss.archive")) : "",
      a.id ? h("span", { class: "muted" }, ` ${t("ss.version")} ${a.version}`) : "",
      a.body_html ? h("div", {}, h("h4", {}, t("ss.preview")), h("div", { class: "panel", id: "ss-preview", html: a.body_html })) : "");
  };
  body.replaceChildren(h("div", { class: "ss-cols" },
    h("div", {}, h("button", { onclick: () => edit(null) }, t("ss.new")),
      h("ul", { class: "ss-list" }, list.map((a) => h("li", {}, h("button", { class: "link", onclick: () => edit(a.id) },
        `${a.title} (${a.lang})`, a.archived ? " 🗄" : ""))))),
    editor));
  if (openId) await edit(openId);
}

async function scriptsTab() {
  const data = await api("/api/kb/scripts");
  if (left("scripts")) return;
  const editor = h("div", {});
  const edit = (sc) => {
    const f = { topic: input(sc.topic, { id: "ss-stopic" }), lang: h("select", {}, ["ru", "en"].map((l) => h("option", { value: l, selected: l === sc.lang }, l))),
      title: input(sc.title), body: h("textarea", { rows: 8, id: "ss-sbody" }, sc.body) };
    editor.replaceChildren(h("label", {}, t("ss.topic"), f.topic), h("label", {}, t("ss.lang"), f.lang), h("label", {}, t("ss.atitle"), f.title),
      h("label", {}, t("ss.body"), f.body),
      h("p", { class: "muted" }, t("ss.placeholders"), ": ", data.placeholders.map((p) => `{${p}}`).join(" ")),
      h("button", { class: "primary", id: "ss-ssave", onclick: async () => {
        try {
          await api(`/api/kb/scripts/${encodeURIComponent(f.topic.value)}/${f.lang.value}`, { method: "PUT",
            body: { title: f.title.value, body: f.body.value, version: sc.version ?? null } });
          toast(t("ss.saved")); await show();
        } catch (e) { fail(e); }
      } }, t("ss.save")));
  };
  body.replaceChildren(h("div", { class: "ss-cols" },
    h("div", {}, h("button", { onclick: () => edit({ topic: "", lang: "ru", title: "", body: "", version: null }) }, t("ss.script.new")),
      h("ul", { class: "ss-list" }, data.scripts.map((sc) => h("li", {}, h("button", { class: "link", onclick: () => edit(sc) }, `${sc.topic} (${sc.lang}) — ${sc.title}`))))),
    editor));
}

async function show() {
  tabs();
  try { await ({ routing: routingTab, sla: slaTab, outages: outagesTab, articles: articlesTab, scripts: scriptsTab })[tab](); }
  catch (e) { fail(e); }
}
await show();
