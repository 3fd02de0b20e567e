// Operator card panel: campaign offers for the subscriber on screen, and the operator's answer
// (accepted / declined / not offered). Data: ctx.sections.offers (container.card_sections["offers"]).
import { strings, api, h, emit, toast, fmtDate } from "/js/core.js";
import { registerPanel } from "/js/panels.js";

const t = strings("offers", {
  ru: {
    "offers.title": "Предложения", "offers.none": "Предложений для абонента нет", "offers.until": "до {d}",
    "offers.accepted": "Принял", "offers.declined": "Отказался", "offers.not_offered": "Не предлагал",
    "offers.recorded": "Отмечено: {o}",
  },
  en: {
    "offers.title": "Offers", "offers.none": "No offers for this subscriber", "offers.until": "until {d}",
    "offers.accepted": "Accepted", "offers.declined": "Declined", "offers.not_offered": "Not offered",
    "offers.recorded": "Recorded: {o}",
  },
});

const OUTCOMES = ["accepted", "declined", "not_offered"];

function renderOffer(ctx, offer) {
  const status = h("div", { class: "muted offer-status" }, offer.outcome ? t("offers.recorded", { o: t("offers." + offer.outcome) }) : "");
  const buttons = OUTCOMES.map((o) => h("button", {
    "data-outcome": o,
    class: offer.outcome === o ? "on" : "",
    onclick: async () => {
      try {
        await api(`/api/campaigns/${offer.campaign_id}/outcome`, { method: "POST", body: { subscriber_id: ctx.subscriberId, outcome: o } });
        offer.outcome = o;
        emit("offer:answered", { campaign_id: offer.campaign_id, outcome: o });
        status.textContent = t("offers.recorded", { o: t("offers." + o) });
        for (const b of buttons) b.classList.toggle("on", b.dataset.outcome === o);
      } catch (e) { toast(e.message, "error"); }
    },
  }, t("offers." + o)));
  return h("div", { class: "offer", "data-campaign": offer.campaign_id },
    h("p", {}, h("b", {}, offer.name), " ", h("span", { class: "muted" }, t("offers.until", { d: fmtDate(offer.ends_on) }))),
    h("p", { class: "offer-text" }, offer.offer_text),
    h("div", { class: "toolbar" }, ...buttons), status);
}

registerPanel({
  id: "offers",
  slot: "side",
  order: 30,
  title: () => t("offers.title"),
  render(ctx, el) {
    const offers = (ctx.sections && Array.isArray(ctx.sections.offers)) ? ctx.sections.offers : [];
    if (!offers.length) { el.append(h("p", { class: "muted" }, t("offers.none"))); return; }
    for (const offer of offers) el.append(renderOffer(ctx, offer));
  },
});
