// Readable segment names in the page's language. The export names its segments in English from a closed
// vocabulary (anonymizer/segmentation.py: "<category>-leaning", "negative balance", "irregular payer",
// " #n" for a repeated name; value tiers low/middle/high/premium); this translates them word by word.
import { strings, language } from "/js/core.js";

const t = strings("segnames", {
  ru: {
    "segname.leaning": "выше среднего: {cat}", "segname.nth": ", группа {n}", "segname.negative balance": "отрицательный баланс",
    "segname.irregular payer": "нерегулярные платежи",
    "segname.cat.voice": "голос", "segname.cat.sms": "SMS", "segname.cat.data": "интернет", "segname.cat.subscription": "абонплата",
    "segname.cat.roaming": "роуминг", "segname.cat.other": "прочее",
    "tier.low": "низкий ARPU", "tier.middle": "средний ARPU", "tier.high": "высокий ARPU", "tier.premium": "премиум",
  },
  en: {
    "segname.nth": ", group {n}",
    "tier.low": "low ARPU", "tier.middle": "middle ARPU", "tier.high": "high ARPU", "tier.premium": "premium",
  },
});

/** A behaviour cluster's name ("roaming-leaning, negative balance #2") in the page's language. */
export function clusterName(name) {
  if (!name) return name;
  const m = /^(.*?)(?: #(\d+))?$/.exec(name);
  // a repeated name's " #2" reads as "group 2", not as an internal number
  const nth = m[2] ? t("segname.nth", { n: m[2] }) : "";
  if (language() === "en") return m[1] + nth;
  const parts = m[1].split(", ").map((part) => {
    const lean = /^(\w+)-leaning$/.exec(part);
    if (lean) return t("segname.leaning", { cat: t("segname.cat." + lean[1]) });
    const key = "segname." + part;
    const text = t(key);
    return text === key ? part : text;
  });
  return parts.join(", ") + nth;
}

/** A value tier's name (low / middle / high / premium) in the page's language. */
export function tierName(tier) {
  const key = "tier." + tier;
  const text = t(key);
  return text === key ? tier : text;
}
