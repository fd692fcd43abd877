"""A few gradings per student: at most so many at a time, and so many a minute."""

from __future__ import annotations

import logging
import math
import time
from collections import defaultdict, deque
from dataclasses import dataclass

logger = logging.getLogger(__name__)


class TooMany(Exception):
    """A student asked for more than the limits allow.

    Args:
        reason: what was exceeded, in words for the student.
        retry_after: seconds until a request would be taken.
    """

    def __init__(self, reason: str, retry_after: float):
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


@dataclass(frozen=True)
class Limits:
    """How much one student may ask of the service.

    Args:
        at_once: requests of one student in progress at a time.
        per_minute: requests of one student taken in any 60 seconds.
    """

    at_once: int = 1
    per_minute: int = 4

    def __post_init__(self):
        for name in ("at_once", "per_minute"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a whole number of at least 1, not {value!r}")


class Gate:
    """Counts each student's requests in progress and in the last minute.

    A request is counted from :meth:`enter` (after the hub has said who sent it, before the
    request is checked) to :meth:`leave`; one refused here is not counted.
    """

    WINDOW = 60.0

    def __init__(self, limits: Limits, clock=time.monotonic):
        self.limits = limits
        self._clock = clock
        self._running: dict[str, int] = defaultdict(int)
        self._recent: dict[str, deque] = defaultdict(deque)

    def enter(self, user: str) -> None:
        """Count a request of ``user``, or raise :class:`TooMany` without counting it."""
        now = self._clock()
        recent = self._recent[user]
        while recent and now - recent[0] >= self.WINDOW:
            recent.popleft()
        if self._running[user] >= self.limits.at_once:
            n = self.limits.at_once
            raise TooMany(f"{n} grading{'s' if n > 1 else ''} at a time: wait for "
                          f"{'the one' if n == 1 else 'one'} in progress to finish", 5.0)
        if len(recent) >= self.limits.per_minute:
            wait = math.ceil(self.WINDOW - (now - recent[0]))
            raise TooMany(f"{self.limits.per_minute} gradings a minute: try again in {wait} s", wait)
        recent.append(now)
        self._running[user] += 1

    def leave(self, user: str) -> None:
        """A request of ``user`` counted by :meth:`enter` has been answered."""
        self._running[user] -= 1
        if self._running[user] <= 0:
            del self._running[user]
