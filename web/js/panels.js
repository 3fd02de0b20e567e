// Operator card panels: each feature registers one; operator.js calls render on every card:shown.
// A call whose caller is not in billing (unknown / withheld number, billing down) shows only the panels
// registered with ``withoutSubscriber: true`` (ctx.subscriberId is null then).
import { h, t, on } from "/js/core.js";

const panels = [];
let ctxOnScreen = null;
export function registerPanel(p) { panels.push(p); panels.sort((a, b) => (a.order ?? 50) - (b.order ?? 50)); }
export function currentContext() { return ctxOnScreen; }

export function mountPanels(root) {
  async function render(ctx) {
    ctxOnScreen = ctx;
    root.replaceChildren();
    for (const p of panels) {
      if (!ctx.subscriberId && !p.withoutSubscriber) continue; // a caller not (yet) found: call-only panels
      const body = h("div", { class: "panel-body" });
      root.append(h("section", { class: "panel", id: "panel-" + p.id }, h("h3", {}, p.title()), body));
      try { await p.render(ctx, body); } catch (e) { console.error(p.id, e); body.append(h("p", { class: "muted" }, t("err.generic"))); }
    }
  }
  on("card:shown", render);
  on("card:cleared", () => { ctxOnScreen = null; root.replaceChildren(); });
  on("lang", () => { if (ctxOnScreen) render(ctxOnScreen); });
}
