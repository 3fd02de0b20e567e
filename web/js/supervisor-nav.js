// The supervisor's navigation between their screens, built in one place. A page calls
// ``supervisorNav()`` after boot(); the link of the page on screen is marked aria-current.
import { strings, h, on, $ } from "/js/core.js";

const t = strings("sup-nav", {
  ru: { floor: "Зал", kpis: "Показатели и отчёты", requests: "Обращения и темы", support: "Техподдержка и база знаний", callbacks: "Перезвоны" },
  en: { floor: "Floor", kpis: "Figures and reports", requests: "Requests and topics", support: "Tech support and knowledge base", callbacks: "Callbacks" },
});

/** The supervisor's screens, in the order of the menu: [path, string key]. */
export const SUPERVISOR_PAGES = [
  ["/supervisor.html", "floor"], ["/supervisor-kpis.html", "kpis"], ["/supervisor-requests.html", "requests"], ["/supervisor-support.html", "support"],
  ["/supervisor-callbacks.html", "callbacks"],
];

export function supervisorNav() {
  const paint = () => {
    const nav = $("sup-nav");
    if (!nav) return;
    nav.replaceChildren(...SUPERVISOR_PAGES.map(([href, key]) =>
      h("a", { href, "aria-current": location.pathname === href ? "page" : null }, t(key))));
  };
  paint();
  on("lang", paint);
}
