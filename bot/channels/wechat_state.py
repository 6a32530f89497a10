"""Small in-memory state of the WeChat channel: bounded, expiring, per process (with several
Rasa workers the channel keeps the same state in bot/shared_state.py instead).

Two things are kept: the deliveries seen recently (so WeChat's retries are not processed twice)
and the options last offered to each user (so "1" can mean the first of them). Both are only
useful for minutes, so neither is persisted; a restart forgets them, which costs at most one
reprocessed retry or one "1" answered as text.
"""
from __future__ import annotations

import time
from collections import OrderedDict
from typing import Callable, Generic, Optional, TypeVar

V = TypeVar("V")


class TTLCache(Generic[V]):
    """A dict whose entries expire ``ttl`` seconds after they were set; oldest evicted first."""

    def __init__(self, max_size: int, ttl: float, clock: Callable[[], float] = time.monotonic):
        if max_size < 1 or ttl <= 0:
            raise ValueError("max_size and ttl must be positive")
        self.max_size = max_size
        self.ttl = ttl
        self._clock = clock
        self._data: "OrderedDict[str, tuple]" = OrderedDict()

    def get(self, key: str) -> Optional[V]:
        item = self._data.get(key)
        if item is None:
            return None
        expires, value = item
        if expires <= self._clock():
            del self._data[key]
            return None
        return value

    def set(self, key: str, value: V) -> None:
        self._data.pop(key, None)
        self._data[key] = (self._clock() + self.ttl, value)
        self._prune()

    def setdefault(self, key: str, value: V) -> Optional[V]:
        """The live value kept for ``key``, else None after keeping ``value`` (as SharedTTL)."""
        existing = self.get(key)
        if existing is not None:
            return existing
        self.set(key, value)
        return None

    def pop(self, key: str) -> Optional[V]:
        item = self._data.pop(key, None)
        return None if item is None else item[1]

    def __contains__(self, key: str) -> bool:
        return self.get(key) is not None

    def __len__(self) -> int:
        self._prune()
        return len(self._data)

    def _prune(self) -> None:
        now = self._clock()
        # Entries are in insertion order and share one ttl, so expired ones are at the front.
        while self._data:
            key, (expires, _) = next(iter(self._data.items()))
            if expires > now and len(self._data) <= self.max_size:
                break
            self._data.popitem(last=False)
