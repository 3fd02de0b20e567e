"""Pseudonyms: keyed HMAC-SHA256 of the subscriber id (RKN order No. 996 of 05.09.2013, the method of
*introducing identifiers* — «метод введения идентификаторов»: personal identifiers are replaced by
identifiers whose correspondence table is kept apart; here there is no table at all, only a key).

* The master key lives only in the workstation's secrets (``WORKSTATION_PSEUDONYM_KEY``); its id
  (``WORKSTATION_PSEUDONYM_KEY_ID``) goes into each manifest so a rotated key is recognisable.
* Each export and each campaign gets its own derived key, HMAC(master, "segments-export:" + export id),
  so pseudonyms from two exports cannot be joined with each other (the 2025 amendments after 233-FZ ask
  that depersonalised sets cannot be recombined to re-identify).
* Re-linking is the workstation recomputing the pseudonyms of its own subscribers with the same derived
  key and matching; without the key the pseudonyms reveal nothing (HMAC is a PRF).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable

import numpy as np

from anonymizer.errors import KeyMissing as KeyMissing  # re-exported: raised here

PSEUDONYM_HEX = 32  # 128 bits: collisions are negligible for any subscriber base


def master_key(secret: object) -> bytes:
    """The master key from settings (``SecretStr``/str/bytes); ``KeyMissing`` when unset or too short."""
    if secret is None:
        raise KeyMissing(
            "the pseudonymisation key is not set: set WORKSTATION_PSEUDONYM_KEY (at least 32 characters)"
        )
    raw = secret.get_secret_value() if hasattr(secret, "get_secret_value") else secret
    key = raw.encode() if isinstance(raw, str) else bytes(raw)  # type: ignore[arg-type]
    if len(key) < 32:
        raise KeyMissing("WORKSTATION_PSEUDONYM_KEY is too short: use at least 32 characters")
    return key


def derive_key(master: bytes, context: str) -> bytes:
    """A separate key per export / campaign: HMAC-SHA256(master, context)."""
    return hmac.digest(master, context.encode(), "sha256")


def export_context(export_id: str) -> str:
    return f"segments-export:{export_id}"


def pseudonym(key: bytes, subscriber_id: object) -> str:
    return hmac.digest(key, str(subscriber_id).encode(), "sha256").hex()[:PSEUDONYM_HEX]


def pseudonyms(key: bytes, subscriber_ids: Iterable[object]) -> np.ndarray:
    """Pseudonyms for many ids (one C-level HMAC each)."""
    digest = hmac.digest
    return np.array(
        [digest(key, str(s).encode(), "sha256").hex()[:PSEUDONYM_HEX] for s in subscriber_ids], dtype=object
    )


def key_fingerprint(master: bytes) -> str:
    """A short, one-way fingerprint of the master key so a manifest can say which key without holding it."""
    return hashlib.sha256(b"fingerprint:" + master).hexdigest()[:12]
