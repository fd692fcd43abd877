"""The settings of one simulated run: who the users are, how many instances serve them."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields, replace

from .rules import check_fields, fraction, non_negative, one_of, plain, positive, positive_int, ruled

__all__ = ["MAX_INSTANCES", "MAX_REQUESTS", "MAX_USERS", "Scenario"]

#: The largest run the simulator takes. It keeps about 200 bytes per request and serves a
#: few hundred thousand requests a second, so 20 million requests is about 4 GB and a
#: minute or two; the course's largest run (the engine benchmark) is about 3 million.
MAX_REQUESTS = 20_000_000
MAX_USERS = 1_000_000
#: Most instances one run may have, counting those added by scale-out events.
MAX_INSTANCES = 1_000


def _seed(name: str, value) -> int:
    value = plain(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be an integer >= 0, got {name}={value!r}")
    return value


def _visit_length(name: str, value) -> float:
    value = plain(value)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 2 <= value < 1e6:
        raise ValueError(f"{name} must be a number >= 2 (login and logout), got {name}={value!r}")
    return value


@dataclass(frozen=True)
class Scenario:
    """One run's workload and cluster; every field is checked when the scenario is made.

    A run too large to simulate is refused there too, with its estimated size: more
    than ``MAX_REQUESTS`` requests to draw, ``MAX_USERS`` users or ``MAX_INSTANCES``
    instances. Numpy numbers are taken as the Python numbers they equal.

    Users come and go: each visit is a session that logs in, sends a run of requests
    with think time between them, and logs out; then the user is away for a while.

    Attributes:
        users: distinct users (clients).
        instances: instances at the start, ids ``"i0"``, ``"i1"``, ...
        duration: simulated seconds.
        seed: seeds the workload; the same scenario always gives the same requests.
        nat_fraction: share of users behind shared NAT addresses (an office, carrier-grade NAT).
        users_per_nat: how many of those users share one public address.
        mobile_fraction: share of users whose address changes during the run.
        ip_change_interval: mean seconds between a mobile user's address changes.
        cookie_drop_fraction: share of clients that keep no cookies at all.
        skew: Zipf exponent of per-user activity: 0 makes all users alike, 1 and more make
            a few heavy users send most requests.
        session_store: ``"memory"`` (each instance keeps its own sessions) or
            ``"external"`` (a shared store: sessions survive any instance, at a cost per request).
        requests_per_session: mean requests in one visit (at least 2: login and logout).
        think_time: mean seconds between a user's requests within a visit.
        away_time: mean seconds a user is away between visits.
        capacity: requests per second one instance can serve; past it, requests queue.
        cache_size: users whose data one instance keeps warm in its local cache.
        miss_penalty: extra seconds a request waits when its user's data is not in the cache.
        store_latency: extra seconds per request for the round trip to an external session store.
        session_timeout: seconds an idle session lives in an instance's memory.
    """

    users: int = ruled(positive_int, 2000)
    instances: int = ruled(positive_int, 4)
    duration: float = ruled(positive, 600.0)
    seed: int = ruled(_seed, 7)
    nat_fraction: float = ruled(fraction, 0.0)
    users_per_nat: int = ruled(positive_int, 50)
    mobile_fraction: float = ruled(fraction, 0.0)
    ip_change_interval: float = ruled(positive, 120.0)
    cookie_drop_fraction: float = ruled(fraction, 0.0)
    skew: float = ruled(non_negative, 0.0)
    session_store: str = ruled(one_of("memory", "external"), "memory")
    requests_per_session: float = ruled(_visit_length, 20.0)
    think_time: float = ruled(positive, 10.0)
    away_time: float = ruled(positive, 300.0)
    capacity: float = ruled(positive, 40.0)
    cache_size: int = ruled(positive_int, 400)
    miss_penalty: float = ruled(non_negative, 0.05)
    store_latency: float = ruled(non_negative, 0.002)
    session_timeout: float = ruled(positive, 1800.0)

    def __post_init__(self):
        check_fields(self)      # each field's rule, beside it above
        self._check_size()

    def _check_size(self) -> None:
        """Refuse a run too large to simulate, before any of it is drawn, with its estimated size."""
        drawn = _drawn_requests(self)
        if drawn > MAX_REQUESTS:
            visits = drawn / (self.users * self.requests_per_session)
            raise ValueError(
                f"this scenario would generate about {drawn:,.0f} requests (users={self.users!r} x "
                f"requests_per_session={self.requests_per_session!r} x about {visits:,.3g} visits each "
                f"in duration={self.duration!r} s), more than the simulator takes "
                f"({MAX_REQUESTS:,}, about 4 GB): lower users, duration or requests_per_session")
        if self.users > MAX_USERS:
            raise ValueError(f"users={self.users!r} is more than the simulator takes ({MAX_USERS:,} "
                             "users, each with a cookie jar, headers and sessions of its own)")
        if self.instances > MAX_INSTANCES:
            raise ValueError(f"instances={self.instances!r} is more than the simulator takes "
                             f"({MAX_INSTANCES:,})")
        changes = _drawn_address_changes(self)
        if changes > MAX_REQUESTS:
            raise ValueError(
                f"this scenario would generate about {changes:,.0f} address changes for its mobile users "
                f"(mobile_fraction={self.mobile_fraction!r}, ip_change_interval="
                f"{self.ip_change_interval!r} s, duration={self.duration!r} s), more than the "
                f"simulator takes ({MAX_REQUESTS:,}): raise ip_change_interval or lower the others")

    def replace(self, **changes) -> Scenario:
        """A copy with some fields changed (and checked again)."""
        unknown = set(changes) - {f.name for f in fields(self)}
        if unknown:
            raise TypeError(f"Scenario has no field(s) {sorted(unknown)}")
        return replace(self, **changes)

    def as_dict(self) -> dict:
        """The fields as a plain dict."""
        return asdict(self)


def _drawn_requests(sc: Scenario) -> float:
    """About how many requests the workload draws: every user's visits, whole, until the run ends.

    A visit is ``requests_per_session`` requests ``think_time`` apart, then ``away_time``
    away; each user's first visit may start before the run. The requests inside the run
    are fewer (about ``users * requests_per_session * duration / cycle``).
    """
    cycle = (sc.requests_per_session - 1) * sc.think_time + sc.away_time
    return sc.users * sc.requests_per_session * (1 + sc.duration / cycle)


def _drawn_address_changes(sc: Scenario) -> float:
    """How many address changes the workload draws for mobile users (see ``workload._addresses``)."""
    per_user = 2 * sc.duration / sc.ip_change_interval + 10 * math.sqrt(
        sc.duration / sc.ip_change_interval) + 10
    return round(sc.mobile_fraction * sc.users) * per_user
