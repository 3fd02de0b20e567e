"""Generate the bootstrap corpus (``classifier/data/bootstrap.csv``) from phrase templates.

Bootstrap data only, for the first model and for honest evaluation before a deployment has records of its
own. Each row: ``text,label,lang`` plus the card-context flags the operator's screen knows when the note
is typed (``negative_balance, blocked, roaming_charges, service_changed``), drawn with topic-dependent
probabilities. Variation: openers and closers, slot values, dropped words, keyboard typos, case, a second
phrase from another topic in some rows, and out-of-scope rows labelled ``out_of_scope``.

    python -m classifier.corpus.generate --rows-per-topic 300 --out classifier/data/bootstrap.csv
"""

from __future__ import annotations

import argparse
import csv
import random
import re
from pathlib import Path

from classifier.corpus.templates import (
    CLOSERS_EN,
    CLOSERS_RU,
    EN,
    OPENERS_EN,
    OPENERS_RU,
    OUT_OF_SCOPE_EN,
    OUT_OF_SCOPE_RU,
    RU,
    SLOTS,
)
from classifier.features import CONTEXT_FEATURES
from classifier.topics import OUT_OF_SCOPE

# P(flag = 1 | topic); topics not listed use BASE
BASE = {"negative_balance": 0.1, "blocked": 0.04, "roaming_charges": 0.06, "service_changed": 0.1}
CONTEXT_P: dict[str, dict[str, float]] = {
    "balance_question": {"negative_balance": 0.45},
    "payment_missing": {"negative_balance": 0.6, "blocked": 0.35},
    "billing_dispute": {"service_changed": 0.45, "roaming_charges": 0.15},
    "tariff_change": {"service_changed": 0.3},
    "service_connect": {"service_changed": 0.25},
    "service_disconnect": {"service_changed": 0.45},
    "roaming": {"roaming_charges": 0.7},
    "mobile_data": {"negative_balance": 0.2, "blocked": 0.1},
    "no_network": {"blocked": 0.3, "negative_balance": 0.25},
    "sms_problem": {"blocked": 0.1},
}

_RU_KEYS = "йцукенгшщзхъфывапролджэячсмитьбю"
_EN_KEYS = "qwertyuiopasdfghjklzxcvbnm"
_SLOT = re.compile(r"\{(\w+)\}")


def _fill(template: str, rng: random.Random) -> str:
    return _SLOT.sub(lambda m: rng.choice(SLOTS[m.group(1)]), template)


def _typo(word: str, rng: random.Random, keys: str) -> str:
    if len(word) < 4:
        return word
    i = rng.randrange(1, len(word) - 1)
    kind = rng.random()
    if kind < 0.35:  # swap neighbours
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if kind < 0.65:  # drop a letter
        return word[:i] + word[i + 1 :]
    return word[:i] + rng.choice(keys) + word[i + 1 :]  # wrong key


def _noise(text: str, rng: random.Random, lang: str) -> str:
    keys = _RU_KEYS if lang == "ru" else _EN_KEYS
    words = text.split()
    out = []
    for w in words:
        r = rng.random()
        if r < 0.05 and len(words) > 3:
            continue  # dropped word
        out.append(_typo(w, rng, keys) if r < 0.17 else w)
    text = " ".join(out)
    r = rng.random()
    if r < 0.2:
        text = text.capitalize()
    elif r < 0.25:
        text = text.upper()
    if rng.random() < 0.3:
        text += rng.choice([".", "!", "?", "..", ""])
    return text


def _context(label: str, rng: random.Random) -> dict[str, int]:
    probs = {**BASE, **CONTEXT_P.get(label, {})}
    return {f: int(rng.random() < probs[f]) for f in CONTEXT_FEATURES}


def generate(
    rows_per_topic: int = 300,
    oos_rows: int = 500,
    seed: int = 7,
    en_share: float = 0.35,
    topics: list[str] | None = None,
) -> list[dict[str, object]]:
    """Rows of the bootstrap corpus (deterministic for a seed)."""
    rng = random.Random(seed)
    topics = topics or list(RU)
    rows: list[dict[str, object]] = []
    for label in topics:
        for _ in range(rows_per_topic):
            lang = "en" if rng.random() < en_share else "ru"
            table, openers, closers = (
                (EN, OPENERS_EN, CLOSERS_EN) if lang == "en" else (RU, OPENERS_RU, CLOSERS_RU)
            )
            core = _fill(rng.choice(table[label]), rng)
            if rng.random() < 0.08:  # a second, minor concern from another topic
                other = rng.choice([t for t in topics if t != label])
                joiner = " and also " if lang == "en" else " и еще "
                core = core + joiner + _fill(rng.choice(table[other]), rng)
            text = _noise(rng.choice(openers) + core + rng.choice(closers), rng, lang)
            rows.append({"text": text, "label": label, "lang": lang, **_context(label, rng)})
    for _ in range(oos_rows):
        lang = "en" if rng.random() < en_share else "ru"
        pool = OUT_OF_SCOPE_EN if lang == "en" else OUT_OF_SCOPE_RU
        text = rng.choice(pool)
        if rng.random() < 0.3:
            text = text + (" и " if lang == "ru" else " and ") + rng.choice(pool)
        rows.append(
            {
                "text": _noise(text, rng, lang),
                "label": OUT_OF_SCOPE,
                "lang": lang,
                **_context(OUT_OF_SCOPE, rng),
            }
        )
    rng.shuffle(rows)
    return rows


def write_csv(rows: list[dict[str, object]], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fields = ["text", "label", "lang", *CONTEXT_FEATURES]
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=fields)
        w.writeheader()
        w.writerows(rows)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows-per-topic", type=int, default=300)
    p.add_argument("--oos-rows", type=int, default=500)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "data" / "bootstrap.csv")
    a = p.parse_args(argv)
    write_csv(generate(a.rows_per_topic, a.oos_rows, a.seed), a.out)


if __name__ == "__main__":
    main()
