// Subscriber vocabulary shared by the card band, the match list and the details tab: line and service
// states as billing names them.
import { strings, h } from "/js/core.js";

export const subscriberText = strings("subscriber", {
  ru: { "status.active": "активен", "status.blocked": "заблокирован", "status.suspended": "приостановлен", "status.closed": "закрыт" },
  en: { "status.active": "active", "status.blocked": "blocked", "status.suspended": "suspended", "status.closed": "closed" },
});

/** A coloured badge for a line or service state. */
export function statusBadge(s) { return h("span", { class: "badge status-" + s }, subscriberText.or("status." + s, s)); }
