"""Token buckets on the cache, after healthchecks' ``TokenBucket``: login tries and password
reset requests, per account and per client address.

A bucket holds up to ``capacity`` tries and gets one back every ``refill`` seconds: a person
who mistypes gets a few tries at once, someone guessing is slowed to the refill rate, and
while a bucket is empty its tries are refused until the next one comes back. Nothing is
locked for good: an untouched bucket is full again after ``capacity × refill`` seconds.

The cache is Redis in production, shared by every web process. Taking a try reads and writes
the bucket under a short lock (``cache.add``, atomic in Redis and in local memory), so thirty
tries sent at once take thirty tokens, not one each.
"""

from __future__ import annotations

import hashlib
import math
import re
import time
from dataclasses import dataclass

from django.core.cache import cache

_DURATION = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*([smhd])\s*$")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400}
LOCK_TRIES = 100  # × 10 ms: how long a try waits for another one on the same bucket


@dataclass(frozen=True)
class Bucket:
    name: str
    capacity: int
    refill: float  # seconds for one try to come back

    @classmethod
    def from_rate(cls, name: str, rate: str) -> Bucket:
        """``"5/30m"``: five tries in a row, coming back at five per thirty minutes."""
        match = _DURATION.match(rate)
        if not match:
            raise ValueError(f"{name}: a rate is '<tries>/<number><s|m|h|d>', not {rate!r}")
        tries, amount, unit = int(match[1]), int(match[2]), match[3]
        if tries < 1 or amount < 1:
            raise ValueError(f"{name}: {rate!r} allows nothing")
        return cls(name=name, capacity=tries, refill=amount * _UNIT[unit] / tries)

    def key(self, ident: str) -> str:
        digest = hashlib.sha256(ident.encode("utf-8", "surrogatepass")).hexdigest()[:32]
        return f"bucket:{self.name}:{digest}"

    def take(self, ident: str) -> float:
        """Take one try for ``ident``: 0 when it may go ahead, else the seconds to wait."""
        key = self.key(ident)
        lock = key + ":lock"
        for _ in range(LOCK_TRIES):
            if cache.add(lock, 1, timeout=5):
                break
            time.sleep(0.01)
        else:
            return self.refill  # that many tries at once on one bucket: refuse this one
        try:
            now = time.time()
            tokens, updated = cache.get(key) or (self.capacity, now)
            tokens = min(self.capacity, tokens + max(0.0, now - updated) / self.refill)
            if tokens < 1:
                return (1 - tokens) * self.refill
            cache.set(key, (tokens - 1, now), timeout=math.ceil(self.capacity * self.refill))
            return 0.0
        finally:
            cache.delete(lock)

    def reset(self, ident: str) -> None:
        """A full bucket again (a password was reset: its owner is back in control)."""
        cache.delete(self.key(ident))

    @property
    def full_after(self) -> float:
        return self.capacity * self.refill
