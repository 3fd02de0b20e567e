// Supervisor: every operator's open callbacks, the due and overdue ones first (or all open ones), live.
import { strings, boot, api, on, h, fmtDateTime, $ } from "/js/core.js";
import { supervisorNav } from "/js/supervisor-nav.js";

const t = strings("sup-callbacks", {
  ru: { title: "Перезвоны: пора и просроченные", all: "Показать и будущие", operator: "Оператор", number: "Номер",
        due: "Когда", note: "Зачем", none: "Перезвонов нет", overdue: "просрочен", page: "Супервизор — перезвоны" },
  en: { title: "Callbacks: due and overdue", all: "Show later ones too", operator: "Operator", number: "Number",
        due: "When", note: "Why", none: "No callbacks", overdue: "overdue", page: "Supervisor — callbacks" },
});

await boot({ roles: ["supervisor"], title: () => t("page") });
supervisorNav();

async function refresh() {
  const { callbacks } = await api(`/api/callbacks/all?only_due=${$("sc-all").checked ? "false" : "true"}`);
  $("sc-title").textContent = t("title"); $("sc-all-label").textContent = t("all");
  $("sup-callbacks").replaceChildren(h("tr", {}, ["due", "operator", "number", "note"].map((k) => h("th", {}, t(k)))),
    ...(callbacks.length ? callbacks.map((cb) => h("tr", { "data-callback": cb.id, class: cb.overdue ? "overdue" : "" },
      h("td", {}, fmtDateTime(cb.due_at), cb.overdue ? ` · ${t("overdue")}` : ""), h("td", {}, cb.operator_name || "—"),
      h("td", {}, cb.msisdn_display || cb.subscriber_id || "—"), h("td", {}, cb.note || "")))
      : [h("tr", {}, h("td", { colspan: 4, class: "muted" }, t("none")))]));
}
$("sc-all").addEventListener("change", refresh);
on("ws:callbacks.changed", refresh); on("lang", refresh);
setInterval(refresh, 30000);
await refresh();
