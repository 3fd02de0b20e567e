// Ticket vocabulary shared by the operator's tickets panel and the tech support screen: one table, not two
// copies. ``ticketText("state.new")``, ``ticketText("prio.1")``.
import { strings } from "/js/core.js";

export const ticketText = strings("ticket", {
  ru: {
    "state.new": "в очереди", "state.assigned": "назначена", "state.in_progress": "в работе",
    "state.waiting": "ждёт абонента", "state.resolved": "решена", "state.closed": "закрыта",
    "prio.1": "критичный", "prio.2": "высокий", "prio.3": "обычный", "prio.4": "низкий",
  },
  en: {
    "state.new": "queued", "state.assigned": "assigned", "state.in_progress": "in progress",
    "state.waiting": "waiting for subscriber", "state.resolved": "resolved", "state.closed": "closed",
    "prio.1": "critical", "prio.2": "high", "prio.3": "normal", "prio.4": "low",
  },
});
