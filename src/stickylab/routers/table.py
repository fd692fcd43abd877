"""A bounded key -> instance table with idle expiry: the memory behind stick tables and ``sticky learn``."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable, Iterator
from numbers import Integral

from .base import check_seconds

__all__ = ["AffinityTable"]


class AffinityTable:
    """Key -> instance entries that expire when idle and are evicted oldest-first when full.

    Models HAProxy's ``stick-table size N expire T``: an entry lives ``expire`` seconds
    after it was last created, refreshed or matched (a sliding expiry), and when the table
    is full the entry touched longest ago makes room. ``expire=None`` never expires.
    Time is passed in, so the table behaves the same in the simulator, the live lab and tests.
    """

    def __init__(self, size: int, expire: float | None):
        if isinstance(size, bool) or not isinstance(size, Integral) or size < 1:
            raise ValueError(f"table size must be a positive integer, got size={size!r}")
        check_seconds("expire", expire)
        self.size = int(size)
        self.expire = expire
        self._entries: OrderedDict[Hashable, tuple[str, float]] = OrderedDict()
        self.evictions = 0

    def lookup(self, key: Hashable, now: float) -> str | None:
        """The instance stored for ``key``, refreshing its expiry; None if absent or expired."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        if self.expire is not None and now - entry[1] > self.expire:
            del self._entries[key]
            return None
        self._entries[key] = (entry[0], now)
        self._entries.move_to_end(key)
        return entry[0]

    def store(self, key: Hashable, instance: str, now: float) -> None:
        """Map ``key`` to ``instance`` as of ``now``, dropping expired and, if full, the oldest entries."""
        entries = self._entries
        entries[key] = (instance, now)
        entries.move_to_end(key)
        if self.expire is not None:
            while entries:
                first = next(iter(entries))
                if now - entries[first][1] <= self.expire:
                    break
                del entries[first]
        while len(entries) > self.size:
            entries.popitem(last=False)
            self.evictions += 1

    def forget(self, key: Hashable) -> None:
        """Remove ``key`` if present."""
        self._entries.pop(key, None)

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: Hashable) -> bool:
        return key in self._entries

    def items(self) -> Iterator[tuple[Hashable, str, float]]:
        """(key, instance, last touched) per entry, oldest first (expired ones stay until purged)."""
        return ((k, v, t) for k, (v, t) in self._entries.items())

    def snapshot(self) -> dict[Hashable, str]:
        """key -> instance, oldest first."""
        return {k: v for k, (v, _) in self._entries.items()}
