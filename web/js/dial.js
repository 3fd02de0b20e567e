// Click-to-dial on the operator's screen: a small ☎ button beside the subscriber's number on the card,
// beside each search result, and for each request that asked for a call back. The server rings the
// operator's own phone first, then dials the number; a refusal comes back with an error_id translated here.
import { strings, api, h, toast, $ } from "/js/core.js";

const t = strings("dial", {
  ru: { "dial.call": "Позвонить на {number}", "dial.placed": "Звонок на {number}: снимите трубку своего телефона" },
  en: { "dial.call": "Call {number}", "dial.placed": "Calling {number}: pick up your phone" },
});

export async function dial(number) {
  try {
    await api("/api/calls/dial", { method: "POST", body: { number } });
    toast(t("dial.placed", { number }), "ok");
  } catch (e) { toast(e.message, "error"); }
}

export function dialButton(number) {
  return h("button", { type: "button", class: "dial", "data-number": number, title: t("dial.call", { number }),
    "aria-label": t("dial.call", { number }), onclick: (ev) => { ev.stopPropagation(); dial(number); } }, "☎");
}

// the card and the search results are re-rendered by operator.js: add the buttons to whatever it drew
function decorate(root) {
  const field = root.querySelector(".f.msisdn .v");
  if (field && !field.parentElement.querySelector("button.dial") && field.textContent.trim()) {
    field.after(dialButton(field.textContent.trim()));
  }
  for (const m of root.querySelectorAll("button.match[data-msisdn]")) {
    if (!m.nextElementSibling?.classList.contains("dial")) m.after(dialButton(m.dataset.msisdn));
  }
}
for (const id of ["card", "search-results"]) {
  const el = $(id);
  if (el) new MutationObserver(() => decorate(el)).observe(el, { childList: true, subtree: true });
}
// (callbacks as tasks, with their dial buttons, are listed by /js/callbacks.js)
