"""The starting telecom topic set: stable codes other features refer to.

Topics form a two-level tree: a few parent groups, each with leaf topics. Other features (ticket
routing, knowledge-base articles, call scripts) refer to topics by ``code`` only, never by database id,
so these codes are a contract: never rename one; archive it instead (archived topics keep their history).

Leaf codes shipped with the product:

=====================  ==================================  =========================================
code                   name_ru                             name_en
=====================  ==================================  =========================================
balance_question       Вопрос по балансу                   Balance question
payment_missing        Платёж не поступил                  Payment not credited
billing_dispute        Спор по начислениям                 Billing dispute
tariff_change          Смена тарифа                        Tariff change
service_connect        Подключение услуги                  Service activation
service_disconnect     Отключение услуги                   Service deactivation
contract_change        Изменение договора                  Contract change
roaming                Роуминг                             Roaming
mobile_data            Мобильный интернет                  Mobile data
no_network             Нет сети                            No network
sms_problem            Проблемы с SMS                      SMS problem
complaint_quality      Жалоба на качество                  Quality complaint
number_porting         Перенос номера                      Number porting
sim_replacement        Замена SIM-карты                    SIM replacement
device_settings        Настройка устройства                Device settings
other                  Другое                              Other
=====================  ==================================  =========================================

``other`` is the free-text path: a request that fits no topic is recorded under it with its note, and
the emerging-topic job looks for new topics among such notes.
"""

from __future__ import annotations

from dataclasses import dataclass

OTHER = "other"
# reserved training label for out-of-scope rows (not a topic; never stored in the topics table)
OUT_OF_SCOPE = "out_of_scope"


@dataclass(frozen=True)
class TopicDef:
    code: str
    name_ru: str
    name_en: str
    parent: str | None = None


PARENTS: tuple[TopicDef, ...] = (
    TopicDef("finance", "Баланс и платежи", "Balance and payments"),
    TopicDef("tariffs_services", "Тарифы и услуги", "Tariffs and services"),
    TopicDef("network", "Связь и интернет", "Network and data"),
    TopicDef("number_sim", "Номер, SIM и устройство", "Number, SIM and device"),
    TopicDef("general", "Общие вопросы", "General"),
)

LEAVES: tuple[TopicDef, ...] = (
    TopicDef("balance_question", "Вопрос по балансу", "Balance question", "finance"),
    TopicDef("payment_missing", "Платёж не поступил", "Payment not credited", "finance"),
    TopicDef("billing_dispute", "Спор по начислениям", "Billing dispute", "finance"),
    TopicDef("tariff_change", "Смена тарифа", "Tariff change", "tariffs_services"),
    TopicDef("service_connect", "Подключение услуги", "Service activation", "tariffs_services"),
    TopicDef("service_disconnect", "Отключение услуги", "Service deactivation", "tariffs_services"),
    TopicDef("contract_change", "Изменение договора", "Contract change", "tariffs_services"),
    TopicDef("roaming", "Роуминг", "Roaming", "network"),
    TopicDef("mobile_data", "Мобильный интернет", "Mobile data", "network"),
    TopicDef("no_network", "Нет сети", "No network", "network"),
    TopicDef("sms_problem", "Проблемы с SMS", "SMS problem", "network"),
    TopicDef("complaint_quality", "Жалоба на качество", "Quality complaint", "general"),
    TopicDef("number_porting", "Перенос номера", "Number porting", "number_sim"),
    TopicDef("sim_replacement", "Замена SIM-карты", "SIM replacement", "number_sim"),
    TopicDef("device_settings", "Настройка устройства", "Device settings", "number_sim"),
    TopicDef(OTHER, "Другое", "Other", "general"),
)

ALL_TOPICS: tuple[TopicDef, ...] = PARENTS + LEAVES
TOPIC_CODES: tuple[str, ...] = tuple(t.code for t in LEAVES)
PARENT_CODES: tuple[str, ...] = tuple(t.code for t in PARENTS)


def by_code(code: str) -> TopicDef | None:
    """The shipped definition of a topic code (None for topics added later by supervisors)."""
    for t in ALL_TOPICS:
        if t.code == code:
            return t
    return None
