"""What a run measured: the trace of every request and the metrics computed from it.

Each request of the trace has the instance that served it (-1 if it failed), its
latency and a few outcome flags (laid out in :mod:`stickylab.trace`). Every metric
below is a plain function of that trace; read the flags through the properties
(``res.lost``, ``res.needed``, ``res.failed``, ``res.hit``, ``res.served``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from numbers import Real

import numpy as np

from .trace import FAILED, HIT, LOST, NEEDED
from .workload import LOGIN

__all__ = ["FAILED", "HIT", "LOST", "NEEDED", "Result"]

#: Most buckets :meth:`Result.timeline` makes (each costs a percentile), and most values in all
#: (buckets times instances, for the per-instance load).
MAX_BUCKETS = 100_000
MAX_TIMELINE_CELLS = 20_000_000
_DENSE_CELLS = 1 << 22      # affinity counts on a users x instances grid up to this size


@dataclass(eq=False)
class Result:
    """The outcome of :func:`stickylab.simulate`: a per-request trace and the metrics on it.

    Attributes:
        scenario: the scenario that ran.
        router: the router object after the run (its tables are there to inspect).
        events: the events applied.
        workload: the requests that were sent (with each request's true user).
        instance_ids: every instance that existed, in creation order.
        instance: per request, the index into ``instance_ids`` of the instance that served it, or -1.
        latency: per request, seconds from arrival to response (NaN for failed requests).
        outcome: per request, a combination of the flags HIT, NEEDED, LOST, FAILED of
            :mod:`stickylab.trace`; the properties :attr:`hit`, :attr:`needed`, :attr:`lost`
            and :attr:`failed` give each as a boolean array.
    """

    scenario: object
    router: object
    events: list
    workload: object
    instance_ids: list[str]
    instance: np.ndarray
    latency: np.ndarray
    outcome: np.ndarray
    _cache: dict = field(default_factory=dict, repr=False)

    # -- the trace ------------------------------------------------------------------------
    @property
    def times(self) -> np.ndarray:
        """Per request, its time in seconds."""
        return self.workload.times

    @property
    def users(self) -> np.ndarray:
        """Per request, the user who sent it (the workload's ground truth, which routers never see)."""
        return self.workload.users

    @property
    def served(self) -> np.ndarray:
        """Per request, True if an instance served it."""
        return self.instance >= 0

    def _flag(self, flag: int) -> np.ndarray:
        return (self.outcome & flag) != 0

    @property
    def lost(self) -> np.ndarray:
        """Per request, True if it needed a session and found none where it landed."""
        return self._flag(LOST)

    @property
    def needed(self) -> np.ndarray:
        """Per request, True if it needed a session (every request of a visit but its login)."""
        return self._flag(NEEDED)

    @property
    def failed(self) -> np.ndarray:
        """Per request, True if it failed (dead or unknown instance, or none could take it)."""
        return self._flag(FAILED)

    @property
    def hit(self) -> np.ndarray:
        """Per request, True if the user's data was in the serving instance's cache."""
        return self._flag(HIT)

    def per_instance_requests(self) -> dict[str, int]:
        """Requests each instance served, by instance id (instances that never served one show 0)."""
        counts = self._counts()
        return dict(zip(self.instance_ids, counts.tolist()))

    def _counts(self) -> np.ndarray:
        if "counts" not in self._cache:
            self._cache["counts"] = np.bincount(self.instance[self.served],
                                                minlength=len(self.instance_ids))
        return self._cache["counts"]

    # -- the metrics ------------------------------------------------------------------------
    def session_loss_rate(self) -> float:
        """Served requests that needed a session and found none where they landed, over those that needed one.

        A loss is a user logged out: the request arrived carrying a session the instance
        it reached does not hold (another instance has it, or the holder crashed).
        Failed requests are counted in ``failed_requests`` instead, not here.
        """
        needed = self._flag(NEEDED) & self.served
        total = int(needed.sum())
        return float((self._flag(LOST) & needed).sum()) / total if total else 0.0

    def cache_hit_rate(self) -> float:
        """Share of served requests whose user's data was already in the serving instance's cache."""
        served = int(self.served.sum())
        return float((self._flag(HIT) & self.served).sum()) / served if served else 0.0

    def users_logged_out(self) -> int:
        """Distinct users logged out at least once: users with a request that lost its session.

        Not :meth:`session_loss_rate`'s count: one user is logged out once per visit that
        lands where the session is not, so requests that lost their session outnumber the
        users they belong to.
        """
        return int(np.unique(self.users[self._flag(LOST) & self.served]).size)

    def failed_requests(self) -> int:
        """Requests sent to a dead or unknown instance, or that no instance could take."""
        return int(self._flag(FAILED).sum())

    def max_mean_load(self) -> float:
        """Busiest instance's request count / mean count over every instance that existed (1 = even)."""
        counts = self._counts()
        mean = counts.mean()
        return float(counts.max() / mean) if mean else 0.0

    def load_cov(self) -> float:
        """Coefficient of variation of per-instance request counts: population std / mean (0 = even)."""
        counts = self._counts()
        mean = counts.mean()
        return float(counts.std() / mean) if mean else 0.0

    def affinity_per_user(self) -> np.ndarray:
        """Per user with a served request: the share of their served requests their top instance served."""
        served = self.served
        users = self.workload.users[served]
        n = len(self.instance_ids)
        if self.scenario.users * n <= max(_DENSE_CELLS, 4 * len(users)):   # a users x instances grid
            grid = np.bincount(users * n + self.instance[served],
                               minlength=self.scenario.users * n).reshape(self.scenario.users, n)
            totals = grid.sum(axis=1)
            active = totals > 0
            return grid.max(axis=1)[active] / totals[active]
        # Too many users x instances for a grid: count the (user, instance) pairs that occur.
        pairs, counts = np.unique(users.astype(np.int64) * n + self.instance[served], return_counts=True)
        if not len(pairs):
            return np.zeros(0)
        owner = pairs // n
        starts = np.flatnonzero(np.concatenate(([True], owner[1:] != owner[:-1])))
        return np.maximum.reduceat(counts, starts) / np.add.reduceat(counts, starts)

    def affinity(self) -> float:
        """Mean over users (each user counts once) of :meth:`affinity_per_user`; 1 = perfectly sticky."""
        shares = self.affinity_per_user()
        return float(shares.mean()) if len(shares) else 0.0

    def p99_latency(self) -> float:
        """99th percentile of served requests' latency, in seconds (NaN if nothing was served)."""
        lat = self.latency[self.served]
        return float(np.percentile(lat, 99)) if len(lat) else float("nan")

    def visits(self) -> np.ndarray:
        """Per request, the number of the visit it belongs to: each user's visits, numbered in turn.

        A visit starts at a ``LOGIN`` request of the workload (a user's first request in the
        run counts as one), so numbers follow users, then time.
        """
        if "visits" not in self._cache:
            order = np.lexsort((self.times, self.users))
            users = self.users[order]
            starts = (self.workload.kinds[order] == LOGIN) | np.r_[True, users[1:] != users[:-1]]
            ids = np.empty(len(order), dtype=np.int64)
            ids[order] = np.cumsum(starts) - 1
            self._cache["visits"] = ids
        return self._cache["visits"]

    def work_in_progress(self, at: float, instance: str) -> tuple[int, int]:
        """(visits, requests): visits in progress on ``instance`` at ``at``, and the requests they made.

        A visit is in progress there if it has requests before and after ``at`` and the last
        one before was served by ``instance``. With sessions in memory, a crash of the
        instance at ``at`` throws that work away: the visits' users log in again elsewhere.
        """
        if instance not in self.instance_ids:
            raise ValueError(f"no instance {instance!r} in this run (instances: {self.instance_ids})")
        visit, before = self.visits(), self.times < at
        n = int(visit.max()) + 1 if len(visit) else 0
        done = np.bincount(visit[before], minlength=n)
        goes_on = np.bincount(visit[~before], minlength=n) > 0
        last = np.full(n, -1)
        np.maximum.at(last, visit[before], np.flatnonzero(before))
        there = (last >= 0) & (self.instance[np.maximum(last, 0)] == self.instance_ids.index(instance))
        cut = there & goes_on & (done > 0)
        return int(cut.sum()), int(done[cut].sum())

    def shared_cache_hit_rate(self, size: int | None = None) -> float:
        """Share of served requests that one cache shared by every instance would have hit.

        A centralized cache layer (memcached, Redis): the served requests of this run, in
        time order, look up their user's data in one LRU cache of ``size`` users (default:
        every instance's local ``cache_size`` pooled). Where a request was routed does not
        matter, unlike :meth:`cache_hit_rate`.
        """
        size = len(self.instance_ids) * self.scenario.cache_size if size is None else size
        if isinstance(size, bool) or not isinstance(size, int | np.integer) or size < 1:
            raise ValueError(f"size must be a positive number of users, got size={size!r}")
        cache: dict[int, None] = {}
        hits = 0
        for user in self.users[self.served].tolist():
            if cache.pop(user, 0) is None:
                hits += 1
            elif len(cache) >= size:
                del cache[next(iter(cache))]
            cache[user] = None
        served = int(self.served.sum())
        return hits / served if served else 0.0

    def summary(self) -> dict:
        """The headline metrics in one dict (see each method for its definition)."""
        return {
            "requests": int(len(self.outcome)),
            "session_loss_rate": self.session_loss_rate(),
            "cache_hit_rate": self.cache_hit_rate(),
            "failed_requests": self.failed_requests(),
            "max_mean_load": self.max_mean_load(),
            "load_cov": self.load_cov(),
            "affinity": self.affinity(),
            "p99_latency": self.p99_latency(),
        }

    # -- series for plots -----------------------------------------------------------------------
    def timeline(self, bucket: float | None = None) -> dict[str, np.ndarray]:
        """Per-time-bucket series: requests, lost, failed, cache hit rate, p99 latency, per-instance load.

        ``bucket`` defaults to 1/60 of the run. ``load`` is an (instances x buckets) array of
        requests served; ``start`` the buckets' start times. Each bucket size is worked out
        once per result (a dashboard draws one run in several panels, then as a ghost): treat
        the arrays as read-only.
        """
        duration = self.scenario.duration
        bucket = duration / 60 if bucket is None else bucket
        if isinstance(bucket, bool) or not isinstance(bucket, Real) or not 0 < bucket < math.inf:
            raise ValueError(f"bucket must be a finite number of seconds > 0, got bucket={bucket!r}")
        key = ("timeline", bucket)
        if key not in self._cache:
            self._cache[key] = self._timeline(bucket)
        return self._cache[key]

    def _timeline(self, bucket: float) -> dict[str, np.ndarray]:
        duration = self.scenario.duration
        instances = len(self.instance_ids)
        most = min(MAX_BUCKETS, MAX_TIMELINE_CELLS // (instances + 8))   # per-instance load + 8 series
        if duration / bucket > most:
            raise ValueError(f"timeline(bucket={bucket!r}) would make {duration / bucket:,.0f} buckets "
                             f"over the {duration:g} s run; at most {most:,} with {instances} instances: "
                             f"use bucket >= {duration / most:.3g} s")
        n = math.ceil(duration / bucket)
        b = np.minimum((self.times // bucket).astype(np.int64), n - 1)
        served = self.served

        def count(mask):
            return np.bincount(b[mask], minlength=n)

        requests = np.bincount(b, minlength=n)
        served_n = count(served)
        needed = count(self._flag(NEEDED) & served)
        lost = count(self._flag(LOST) & served)
        p99 = np.full(n, np.nan)
        lat, bs = self.latency[served], b[served]
        order = np.argsort(bs, kind="stable")
        for k, chunk in enumerate(np.split(lat[order], np.cumsum(served_n)[:-1])):
            if len(chunk):
                p99[k] = np.percentile(chunk, 99)
        k = len(self.instance_ids)
        load = np.bincount(self.instance[served] * n + b[served], minlength=k * n).reshape(k, n)
        with np.errstate(invalid="ignore", divide="ignore"):
            return {
                "start": np.arange(n) * bucket,
                "requests": requests,
                "lost": lost,
                "loss_rate": np.where(needed > 0, lost / np.maximum(needed, 1), 0.0),
                "failed": count(self._flag(FAILED)),
                "hit_rate": np.where(served_n > 0,
                                     count(self._flag(HIT) & served) / np.maximum(served_n, 1), np.nan),
                "p99_latency": p99,
                "load": load,
            }

    def __repr__(self) -> str:
        s = self.summary()
        label = self.router.label() if hasattr(self.router, "label") else type(self.router).__name__
        return (f"<Result {label}: {s['requests']} requests, session loss {s['session_loss_rate']:.1%}, "
                f"cache hits {s['cache_hit_rate']:.1%}, failed {s['failed_requests']}, "
                f"max/mean load {s['max_mean_load']:.2f}, p99 {s['p99_latency'] * 1000:.0f} ms>")
