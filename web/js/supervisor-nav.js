// The supervisor's navigation between their screens, built in one place. A page calls
// ``supervisorNav()`` after boot(); the link of the page on screen is marked aria-current.
import { strings, h, on, $ } from "/js/core.js";

const t = strings("sup-nav", {
  ru: { floor: "Зал", requests: "Обращения и темы", support: "Техподдержка и база знаний" },
  en: { floor: "Floor", requests: "Requests and topics", support: "Tech support and knowledge base" },
});

/** The supervisor's screens, in the order of the menu: [path, string key]. */
export const SUPERVISOR_PAGES = [
  ["/supervisor.html", "floor"], ["/supervisor-requests.html", "requests"], ["/supervisor-support.html", "support"],
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
