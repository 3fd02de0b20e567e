"""Depersonalisation rules (152-FZ art. 3 p. 9; RKN order No. 996 of 05.09.2013 «Требования и методы по
обезличиванию персональных данных»; the 2025 amendments after Federal Law 233-FZ of 08.08.2024: the
methods applied are recorded, originals are kept apart, every action is logged).

Each rule below names the regulator's method it implements. The quasi-identifiers are age, sex, region,
tariff, tenure and device class; the sensitive attribute is the ARPU band. What is released on top of
these rules (every column counting towards k, l enforced) is in ``anonymizer.release``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

# direct identifiers: never read on purpose, and removed if a source carries them anyway
DIRECT_IDENTIFIERS = (
    "subscriber_id", "name", "last_name", "first_name", "middle_name", "msisdn", "phone", "email",
    "passport", "address", "account", "account_no", "contract", "contract_no", "inn", "snils",
    "birth_date", "activated_on", "note", "notes", "comment",
)  # fmt: skip

AGE_BANDS = ([18, 25, 35, 45, 55, 65], ["18-24", "25-34", "35-44", "45-54", "55-64", "65+"])
AGE_BANDS_WIDE = ([18, 35, 55], ["18-34", "35-54", "55+"])
TENURE_BANDS = ([0, 12, 36, 60, 120], ["<1y", "1-3y", "3-5y", "5-10y", "10y+"])
TENURE_BANDS_WIDE = ([0, 36, 120], ["<3y", "3-10y", "10y+"])
ARPU_BANDS = (
    [0, 200, 400, 700, 1000, 1500],
    ["0-199", "200-399", "400-699", "700-999", "1000-1499", "1500+"],
)

FEDERAL_DISTRICTS = {
    "Центральный": "Москва|Московская|Белгородская|Брянская|Владимирская|Воронежская|Ивановская|Калужская|"
    "Костромская|Курская|Липецкая|Орловская|Рязанская|Смоленская|Тамбовская|Тверская|Тульская|Ярославская",
    "Северо-Западный": "Санкт-Петербург|Ленинградская|Калининградская|Архангельская|Вологодская|Мурманская|"
    "Новгородская|Псковская|Карелия|Коми|Ненецкий",
    "Южный": "Краснодарский|Ростовская|Волгоградская|Астраханская|Адыгея|Калмыкия|Крым|Севастополь",
    "Северо-Кавказский": "Дагестан|Ингушетия|Кабардино|Карачаево|Осетия|Чечен|Ставропольский",
    "Приволжский": "Татарстан|Башкортостан|Нижегородская|Самарская|Пермский|Саратовская|Ульяновская|"
    "Пензенская|Оренбургская|Кировская|Чувашская|Марий|Мордовия|Удмуртская",
    "Уральский": "Свердловская|Челябинская|Тюменская|Курганская|Ханты|Ямало",
    "Сибирский": "Новосибирская|Красноярский|Омская|Томская|Кемеровская|Иркутская|Алтай|Тыва|Хакасия",
    "Дальневосточный": "Приморский|Хабаровский|Амурская|Камчатский|Магаданская|Сахалинская|Саха|Бурятия|"
    "Забайкальский|Еврейская|Чукотский",
}


def band(values: pd.Series | np.ndarray, spec: tuple[list[int], list[str]], unknown: str = "?") -> np.ndarray:
    edges, labels = spec
    arr = np.asarray(values, dtype=np.float64)
    idx = np.searchsorted(np.asarray(edges, dtype=np.float64), arr, side="right") - 1
    out = np.asarray(labels, dtype=object)[np.clip(idx, 0, len(labels) - 1)]
    out[np.isnan(arr) | (idx < 0)] = unknown
    return out


def federal_district(region: str) -> str:
    for district, pattern in FEDERAL_DISTRICTS.items():
        if any(p and p in region for p in pattern.split("|")):
            return district
    return "?"


def _map_categories(series: pd.Series, fn: Callable[[str], str]) -> np.ndarray:
    cat = series.astype("category")
    mapped = np.array([fn(str(c)) for c in cat.cat.categories], dtype=object)
    codes = cat.cat.codes.to_numpy()
    out = mapped[np.clip(codes, 0, max(0, len(mapped) - 1))] if len(mapped) else np.full(len(codes), "?")
    out[codes < 0] = "?"
    return out


def _top_or_other(series: pd.Series, share: float) -> np.ndarray:
    counts = series.value_counts(normalize=True)
    keep = set(counts[counts >= share].index)
    return _map_categories(series, lambda v: v if v in keep else "other")


# ---------------------------------------------------------------- generalisation hierarchies


def hierarchies(frame: pd.DataFrame) -> dict[str, list[np.ndarray]]:
    """Generalisation levels per quasi-identifier, finest first: the method of *changing semantics*
    («метод изменения семантики»: values replaced by a broader category). Exact dates never appear: age
    and tenure are computed at the end of the period and only ever exported as bands (dates coarsened)."""
    star = np.full(len(frame), "*", dtype=object)
    region = frame["region"]
    return {
        "age_band": [band(frame["age"], AGE_BANDS), band(frame["age"], AGE_BANDS_WIDE), star],
        "sex": [frame["sex"].astype(object).to_numpy(), star],
        "region": [region.astype(object).to_numpy(), _map_categories(region, federal_district), star],
        "tariff": [frame["tariff"].astype(object).to_numpy(), _top_or_other(frame["tariff"], 0.05), star],
        "tenure_band": [band(frame["tenure_months"], TENURE_BANDS), band(frame["tenure_months"], TENURE_BANDS_WIDE), star],
        "device_class": [
            frame["device_class"].astype(object).to_numpy(),
            _map_categories(frame["device_class"], lambda v: v if v == "smartphone" else "other"),
            star,
        ],
    }  # fmt: skip


QUASI_IDENTIFIERS = ("age_band", "sex", "region", "tariff", "tenure_band", "device_class")


@dataclass
class KAnonymity:
    """The result of ``enforce_k``: chosen levels, the rows kept, what it cost."""

    k: int
    levels: dict[str, int]
    columns: dict[str, np.ndarray]
    keep: np.ndarray  # bool mask of rows that stay
    k_achieved: int
    suppressed: int
    classes: int
    information_loss: dict[str, float] = field(default_factory=dict)


def _class_sizes(codes: list[np.ndarray]) -> np.ndarray:
    """Size of each row's equivalence class over the given code arrays."""
    key = np.zeros(len(codes[0]), dtype=np.int64)
    for c in codes:
        key = key * (int(c.max()) + 1 if len(c) else 1) + c
    _, inverse, counts = np.unique(key, return_inverse=True, return_counts=True)
    return counts[inverse]


def enforce_k(frame: pd.DataFrame, qis: list[str], k: int = 5, max_suppression: float = 0.05) -> KAnonymity:
    """Generalise greedily, then suppress what is still rare, until every class has at least ``k`` rows.

    Rule (method of *changing composition*, «метод изменения состава»): records in equivalence classes
    smaller than ``k`` over the quasi-identifiers are removed. Generalisation goes up one level on the
    attribute that rescues most rows, until at most ``max_suppression`` of rows would be suppressed or
    every attribute is at its top level; then the remaining rare rows are suppressed, whatever their
    share (reported) — an export is never below ``k``."""
    if k < 2:
        raise ValueError("k must be at least 2")
    levels_all = hierarchies(frame)
    codes_all = {q: [pd.factorize(arr)[0].astype(np.int64) for arr in levels_all[q]] for q in qis}
    levels = dict.fromkeys(qis, 0)
    n = len(frame)

    def small_rows(lv: dict[str, int]) -> int:
        if not qis or n == 0:
            return 0
        sizes = _class_sizes([codes_all[q][lv[q]] for q in qis])
        return int((sizes < k).sum())

    current = small_rows(levels)
    while n and current / n > max_suppression:
        best: tuple[int, float, str] | None = None
        for q in qis:
            if levels[q] + 1 >= len(codes_all[q]):
                continue
            trial = dict(levels, **{q: levels[q] + 1})
            rows = small_rows(trial)
            loss = _level_loss(codes_all[q], levels[q] + 1)
            if best is None or (rows, loss) < (best[0], best[1]):
                best = (rows, loss, q)
        if best is None:
            break
        levels[best[2]] += 1
        current = best[0]

    columns = {q: levels_all[q][levels[q]] for q in qis}
    if qis and n:
        sizes = _class_sizes([codes_all[q][levels[q]] for q in qis])
        keep = sizes >= k
        kept_sizes = sizes[keep]
        k_achieved = int(kept_sizes.min()) if len(kept_sizes) else 0
        classes = len(np.unique(np.stack([codes_all[q][levels[q]][keep] for q in qis]), axis=1).T)
    else:
        keep = np.ones(n, dtype=bool)
        k_achieved, classes = n, 1 if n else 0
    info_loss = {q: round(_level_loss(codes_all[q], levels[q]), 4) for q in qis}
    return KAnonymity(
        k=k,
        levels=levels,
        columns=columns,
        keep=keep,
        k_achieved=k_achieved,
        suppressed=int((~keep).sum()),
        classes=classes,
        information_loss=info_loss,
    )


def _level_loss(codes: list[np.ndarray], level: int) -> float:
    """Share of distinctions lost by a level: 1 − distinct values at the level / distinct at level 0."""
    base = max(1, int(codes[0].max()) + 1) if len(codes[0]) else 1
    now = max(1, int(codes[level].max()) + 1) if len(codes[level]) else 1
    return 0.0 if base <= 1 else (base - now) / (base - 1)


def shuffle_rows(frame: pd.DataFrame, seed: int | None = None) -> pd.DataFrame:
    """Method of *shuffling* («метод перемешивания»): row order is randomised so that position in the
    file (billing ids grow with activation date) says nothing about a subscriber."""
    rng = np.random.default_rng(seed)
    return frame.iloc[rng.permutation(len(frame))].reset_index(drop=True)


def drop_direct_identifiers(frame: pd.DataFrame) -> pd.DataFrame:
    """Method of *changing composition*: direct identifiers (name, number, documents, address, e-mail,
    exact dates, the billing id itself, free text) are removed from the set; free text is never exported."""
    return frame.drop(columns=[c for c in frame.columns if c.lower() in DIRECT_IDENTIFIERS])
