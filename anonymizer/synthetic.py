"""Generated billing batches of exactly the adapter's shape (``batch_subscribers`` / ``batch_monthly``),
for unit tests and the benchmark: deterministic for a seed, produced chunk by chunk with numpy.

The distributions follow the demo billing (``billing_adapter.demo``: regions, tariffs, devices). Options
add trouble on purpose: broken rows (negative or null charges), direct identifiers a careless mapping
might select (names, numbers, passports, e-mails, addresses), which the export must drop.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd

from anonymizer.source import FrameSource
from billing_adapter.demo import msisdn_of
from billing_adapter.demo_data import DEVICES, REGIONS, TARIFFS

LAST_NAMES = np.array(
    ["Иванов", "Смирнова", "Кузнецов", "Попова", "Соколов", "Лебедева", "Новиков", "Морозова"]
)
FIRST_NAMES = np.array(["Иван", "Мария", "Пётр", "Анна", "Сергей", "Ольга", "Дмитрий", "Елена"])


def _months(month_to: str, n: int) -> list[str]:
    y, m = int(month_to[:4]), int(month_to[5:])
    out = []
    for _ in range(n):
        out.append(f"{y:04d}-{m:02d}")
        m -= 1
        if m == 0:
            y, m = y - 1, 12
    return out[::-1]


class SyntheticBilling:
    """``subscribers`` and ``monthly`` chunks for ``n`` subscribers over the 6 (or ``months``) months
    up to ``month_to``."""

    def __init__(
        self,
        n: int,
        month_to: str = "2026-06",
        months: int = 6,
        seed: int = 1,
        broken_rows: int = 0,
        with_identifiers: bool = False,
    ):
        self.n, self.seed, self.broken_rows, self.with_identifiers = n, seed, broken_rows, with_identifiers
        self.months = _months(month_to, months)

    def source(self) -> FrameSource:
        return FrameSource(self.subscriber_chunks, self.monthly_chunks)

    BLOCK = 1000  # data are drawn per block of ids, so they do not depend on the chunk size asked for

    def _ids(self, chunk_size: int) -> Iterator[np.ndarray]:
        step = max(1, -(-chunk_size // self.BLOCK)) * self.BLOCK
        for start in range(1, self.n + 1, step):
            yield np.arange(start, min(start + step, self.n + 1), dtype=np.int64)

    def _blocks(self, ids: np.ndarray) -> Iterator[np.ndarray]:
        for s in range(0, len(ids), self.BLOCK):
            yield ids[s : s + self.BLOCK]

    def subscriber_chunks(self, chunk_size: int) -> Iterator[pd.DataFrame]:
        reg_w = np.array([r[1] for r in REGIONS], dtype=float)
        regions = np.array([r[0] for r in REGIONS])
        tariffs = np.array([t[0] for t in TARIFFS])
        tariff_w = np.array([0.2, 0.22, 0.12, 0.14, 0.1, 0.1, 0.07, 0.05])
        for chunk in self._ids(chunk_size):
            frames = [
                self._subscriber_block(ids, regions, reg_w, tariffs, tariff_w) for ids in self._blocks(chunk)
            ]
            yield pd.concat(frames, ignore_index=True)

    def _subscriber_block(
        self,
        ids: np.ndarray,
        regions: np.ndarray,
        reg_w: np.ndarray,
        tariffs: np.ndarray,
        tariff_w: np.ndarray,
    ) -> pd.DataFrame:
        rng = np.random.default_rng([self.seed, int(ids[0])])
        k = len(ids)
        birth = np.datetime64("1946-01-01") + rng.integers(0, 365 * 62, k).astype("timedelta64[D]")
        activated = np.datetime64("2005-01-01") + rng.integers(0, 365 * 21, k).astype("timedelta64[D]")
        frame = pd.DataFrame(
            {
                "subscriber_id": ids,
                "birth_date": pd.to_datetime(birth),
                "sex": np.where(rng.random(k) < 0.5, "M", "F"),
                "region": regions[rng.choice(len(regions), k, p=reg_w / reg_w.sum())],
                "tariff": tariffs[rng.choice(len(tariffs), k, p=tariff_w)],
                "activated_on": pd.to_datetime(activated),
                "device_class": np.array(DEVICES[0])[rng.choice(len(DEVICES[0]), k, p=DEVICES[1])],
                "status": "active",
            }
        )
        if self.with_identifiers:
            frame["last_name"] = LAST_NAMES[ids % len(LAST_NAMES)]
            frame["first_name"] = FIRST_NAMES[ids % len(FIRST_NAMES)]
            frame["msisdn"] = msisdn_of(ids).astype(str)
            frame["passport"] = [f"45 {i % 100:02d} {i % 1_000_000:06d}" for i in ids]
            frame["email"] = [f"user{i}@mail.example" for i in ids]
            frame["address"] = [f"г. Москва, ул. Ленина, д. {i % 120 + 1}, кв. {i % 400 + 1}" for i in ids]
        return frame

    def monthly_chunks(self, month_from: str, month_to: str, chunk_size: int) -> Iterator[pd.DataFrame]:
        months = [m for m in self.months if month_from <= m <= month_to]
        if not months:
            return
        self._broken_left = self.broken_rows
        for chunk in self._ids(chunk_size):
            yield pd.concat(
                [self._monthly_block(ids, months) for ids in self._blocks(chunk)], ignore_index=True
            )

    def _monthly_block(self, ids: np.ndarray, months: list[str]) -> pd.DataFrame:
        broken_left = self._broken_left
        rng = np.random.default_rng([self.seed, int(ids[0]), 7])
        k = len(ids)
        # a per-subscriber profile: heavy data, heavy voice or mixed; some pay irregularly
        kind = rng.choice(3, k, p=[0.45, 0.35, 0.2])
        fee = rng.choice([200.0, 350.0, 550.0, 750.0, 990.0], k)
        irregular = rng.random(k) < 0.15
        negative = rng.random(k) < 0.08
        m = len(months)
        sid = np.repeat(ids, m)
        kk = len(sid)
        kind_r, fee_r = np.repeat(kind, m), np.repeat(fee, m)
        voice_min = (rng.gamma(2.0, np.where(kind_r == 1, 250.0, 60.0))).astype(np.int64)
        data_mb = (rng.gamma(1.5, np.where(kind_r == 0, 9000.0, 1500.0))).astype(np.int64)
        sms_count = np.where(rng.random(kk) < 0.5, rng.poisson(np.where(kind_r == 2, 60, 10)), 0)
        roaming = np.where(rng.random(kk) < 0.03, rng.gamma(2.0, 700.0, kk), 0.0).round(2)
        pays = np.where(np.repeat(irregular, m), rng.random(kk) < 0.4, rng.random(kk) < 0.95).astype(np.int64)
        frame = pd.DataFrame(
            {
                "subscriber_id": sid,
                "month": np.tile(np.array(months, dtype=object), k),
                "voice": (voice_min * 0.6).round(2),
                "sms": (sms_count * 2.5).round(2),
                "data": (data_mb * 0.01).round(2),
                "subscription": fee_r,
                "roaming": roaming,
                "other": np.where(rng.random(kk) < 0.1, 39.0, 0.0),
                "voice_min": voice_min,
                "sms_count": sms_count.astype(np.int64),
                "data_mb": data_mb,
                "payments_count": pays,
                "payments_sum": (pays * (fee_r + rng.integers(0, 10, kk) * 50)).astype(float),
                "negative_days": np.where(np.repeat(negative, m), rng.integers(1, 20, kk), 0),
            }
        )
        if broken_left > 0:
            take = min(broken_left, kk // 4)
            rows = rng.choice(kk, take, replace=False)
            half = take // 2
            frame.loc[rows[:half], "voice"] = -frame.loc[rows[:half], "voice"] - 1.0
            frame.loc[rows[half:], "data"] = np.nan
            self._broken_left = broken_left - take
        return frame
