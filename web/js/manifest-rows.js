// The export manifest's columns as an analyst reads them (the privacy report's method table, /js/analyst.js):
// what each exported column is, never its code ("arpu_band", "months_active").
import { strings } from "/js/core.js";

export const rowName = strings("manifest-rows", {
  ru: { pseudonym: "Псевдоним абонента", arpu_band: "Интервал ARPU (чувствительный)", value_tier: "Ценность абонента",
        behaviour_cluster: "Поведенческий кластер", behaviour_segment: "Название кластера", arpu: "ARPU, среднее по группе",
        months_active: "Месяцев с начислениями", payment_regularity: "Регулярность платежей",
        months_negative: "Месяцев с отрицательным балансом" },
  en: { pseudonym: "Subscriber pseudonym", arpu_band: "ARPU band (sensitive)", value_tier: "Subscriber value",
        behaviour_cluster: "Behaviour cluster", behaviour_segment: "Cluster name", arpu: "ARPU, group mean",
        months_active: "Months with charges", payment_regularity: "Payment regularity",
        months_negative: "Months with a negative balance" },
});
