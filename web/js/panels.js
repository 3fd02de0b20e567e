// Operator card panels: each feature registers one; operator.js calls render on every card:shown.
// A panel names its column (``slot``): "record" (left: the request record), "reference" (middle: the
// script and cheat sheet, beside the drill-down tabs) or "side" (right: open tickets, offers, and any
// panel that names no slot). A call whose caller is not in billing (unknown / withheld number, billing
// down) shows only the panels registered with ``withoutSubscriber: true`` (ctx.subscriberId is null then).
// A panel's render that awaits checks ``el.isConnected`` afterwards: false when a newer card took the screen.
import { h, t, on, latest } from "/js/core.js";

const panels = [];
let ctxOnScreen = null;
const rendering = latest(); // the latest card's render: the panels of an earlier card, still loading, must not join it
export function registerPanel(p) { panels.push(p); panels.sort((a, b) => (a.order ?? 50) - (b.order ?? 50)); }
export function currentContext() { return ctxOnScreen; }

/** ``roots``: {slot: element}; a panel whose slot has no root goes to "side". */
export function mountPanels(roots) {
  const all = () => Object.values(roots);
  async function render(ctx) {
    const still = rendering.start();
    ctxOnScreen = ctx;
    for (const root of all()) root.replaceChildren();
    for (const p of panels) {
      if (!still()) return;
      if (!ctx.subscriberId && !p.withoutSubscriber) continue; // a caller not (yet) found: call-only panels
      const body = h("div", { class: "panel-body" });
      const root = roots[p.slot] || roots.side;
      root.append(h("section", { class: "panel", id: "panel-" + p.id }, h("h3", {}, p.title()), body));
      try { await p.render(ctx, body); } catch (e) { console.error(p.id, e); body.append(h("p", { class: "muted" }, t("err.generic"))); }
    }
  }
  on("card:shown", render);
  on("card:cleared", () => { rendering.drop(); ctxOnScreen = null; for (const root of all()) root.replaceChildren(); });
  on("lang", () => { if (ctxOnScreen) render(ctxOnScreen); });
}
