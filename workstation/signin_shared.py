"""Sign-in attempt counters shared by every node through Redis (the cache's Redis), so that several nodes
behind a balancer give an attacker the limit once, not once per node.

The counting is the local ``AttemptLimiter``'s, in one Lua script per failure: failures per key, kept
``window`` after the last one; past ``free`` of them the key is locked for ``base`` doubling up to
``max``. Keys are hashed (no user name in Redis). With Redis away, or slow, each node goes on with its
own counters (which it always keeps too), and says so in the log at most once a minute.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from workstation.signin import AttemptLimiter

log = logging.getLogger(__name__)

REDIS_BUDGET_S = 0.25  # a sign-in waits no longer than this for the shared counters

_FAILED = """
local n = redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], ARGV[1])
local over = n - tonumber(ARGV[2])
if over > 0 then
  local d = math.floor(math.min(tonumber(ARGV[3]) * 2 ^ (over - 1), tonumber(ARGV[4])))
  redis.call('SET', KEYS[2], '1', 'PX', d)
  return d
end
return 0
"""


class SharedAttempts:
    """The Redis side of the per-user and per-address limits (``kind``: ``user`` or ``address``)."""

    def __init__(self, redis: Any, prefix: str, limiters: dict[str, AttemptLimiter]):
        self.redis = redis
        self.prefix = prefix
        self.limiters = limiters
        self._failed = redis.register_script(_FAILED)
        self._last_warning = 0.0
        self.failures = 0  # Redis calls that failed (the node used its own counters)

    def _keys(self, kind: str, key: str) -> tuple[str, str]:
        digest = hashlib.blake2b(key.encode(), digest_size=12).hexdigest()
        base = f"{self.prefix}:signin:{kind}:{digest}"
        return base + ":n", base + ":lock"

    def _down(self, exc: BaseException) -> None:
        self.failures += 1
        now = time.monotonic()
        if now - self._last_warning > 60:
            self._last_warning = now
            log.warning("sign-in limits: Redis unavailable (%s), each node counts alone", type(exc).__name__)

    async def wait_s(self, keys: dict[str, str]) -> dict[str, float]:
        """Seconds each of ``keys`` (kind → key) stays locked on the shared counters (none when Redis is
        away)."""
        try:
            async with asyncio.timeout(REDIS_BUDGET_S):
                pipe = self.redis.pipeline(transaction=False)
                for kind, key in keys.items():
                    pipe.pttl(self._keys(kind, key)[1])
                ttls = await pipe.execute()
        except Exception as exc:
            self._down(exc)
            return {}
        return {kind: int(t) / 1000 for kind, t in zip(keys, ttls, strict=True) if int(t) > 0}

    async def failed(self, keys: dict[str, str]) -> None:
        try:
            async with asyncio.timeout(REDIS_BUDGET_S):
                for kind, key in keys.items():
                    lim = self.limiters[kind]
                    await self._failed(
                        keys=list(self._keys(kind, key)),
                        args=[
                            int(lim.window_s * 1000),
                            lim.free,
                            int(lim.base_s * 1000),
                            int(lim.max_s * 1000),
                        ],
                    )
        except Exception as exc:
            self._down(exc)

    async def succeeded(self, kind: str, key: str) -> None:
        try:
            async with asyncio.timeout(REDIS_BUDGET_S):
                await self.redis.delete(*self._keys(kind, key))
        except Exception as exc:
            self._down(exc)
