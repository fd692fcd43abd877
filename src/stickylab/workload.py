"""The users and the requests they send, drawn once per scenario (seeded, vectorised).

Each part of the workload draws from its own random stream, so turning one knob (the
NAT share, say) leaves the others alone: the same users send the same requests at the
same times, and only what the knob is about changes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .scenario import Scenario

__all__ = ["LOGIN", "LOGOUT", "NORMAL", "Workload", "generate", "ip_string"]

NORMAL, LOGIN, LOGOUT = 0, 1, 2
_STREAMS = ("sessions", "addresses", "nat", "mobile", "cookies", "skew")


@dataclass(frozen=True)
class Workload:
    """Every request of a run, sorted by time, plus what is true of each user.

    Attributes:
        times: request times, seconds, ascending.
        users: the user who sent each request (ground truth: routers never see it).
        kinds: ``NORMAL``, ``LOGIN`` (first request of a visit) or ``LOGOUT`` (its last).
        addr: index into ``addresses`` of each request's source address.
        addresses: the distinct source addresses, as dotted IPv4 strings.
        keeps_cookies: per user, False for clients that store no cookies.
        weight: per user, relative activity (mean 1).
        nat_group: per user, the shared-address group, or -1.
        mobile: per user, True if the address changes during the run.
    """

    times: np.ndarray
    users: np.ndarray
    kinds: np.ndarray
    addr: np.ndarray
    addresses: list[str]
    keeps_cookies: np.ndarray
    weight: np.ndarray
    nat_group: np.ndarray
    mobile: np.ndarray

    def __len__(self) -> int:
        return len(self.times)


def ip_string(value: int) -> str:
    """Dotted IPv4 text of a 32-bit integer."""
    return f"{value >> 24}.{(value >> 16) & 255}.{(value >> 8) & 255}.{value & 255}"


def _public_addresses(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` random public-looking IPv4 addresses (first octet avoids private and reserved blocks)."""
    first = rng.choice(np.array([o for o in range(1, 224) if o not in (10, 100, 127, 169, 172, 192)]),
                       size=n)
    rest = rng.integers(0, 1 << 24, size=n)
    return (first.astype(np.int64) << 24) | rest


def _weights(rng: np.random.Generator, users: int, skew: float) -> np.ndarray:
    """Zipf activity weights with exponent ``skew``, mean 1, in random order."""
    if skew == 0:
        return np.ones(users)
    w = np.arange(1, users + 1, dtype=float) ** -skew
    w *= users / w.sum()
    return rng.permutation(w)


def _choose(rng: np.random.Generator, users: int, fraction: float) -> np.ndarray:
    """A boolean mask picking exactly ``round(fraction * users)`` users."""
    mask = np.zeros(users, dtype=bool)
    mask[rng.permutation(users)[: round(fraction * users)]] = True
    return mask


def _sessions(sc: Scenario, rng: np.random.Generator, weight: np.ndarray):
    """Request times, users and kinds of every visit that overlaps the run (unsorted).

    A user of weight w sends ``requests_per_session * w`` requests per visit (at least 2)
    with mean think time ``think_time / w``, so visits last about as long for everyone
    and activity scales with w. Visits alternate with exponential away times. A user's
    first visit starts anywhere from one mean visit before the run to one mean away time
    into it, so the run starts with some users already mid-visit.
    """
    users = sc.users
    per_visit = np.maximum(2.0, sc.requests_per_session * weight)
    think = sc.think_time / weight
    visit_len = (per_visit - 1) * think
    start = rng.uniform(-visit_len, sc.away_time)
    who = np.arange(users)
    chunks_t, chunks_u, chunks_k = [], [], []
    while len(who):
        n = rng.geometric(1.0 / (per_visit[who] - 1)) + 1           # requests in this visit, >= 2
        total = int(n.sum())
        owner = np.repeat(np.arange(len(who)), n)
        gaps = rng.exponential(1.0, total) * think[who][owner]
        first = np.concatenate(([0], np.cumsum(n)[:-1]))
        gaps[first] = 0.0
        elapsed = np.cumsum(gaps)
        elapsed -= np.repeat(elapsed[first], n)
        t = start[who][owner] + elapsed
        position = np.arange(total) - np.repeat(first, n)
        inside = (t >= 0) & (t < sc.duration)
        kind = np.zeros(total, dtype=np.int8)
        kind[position == np.repeat(n - 1, n)] = LOGOUT
        # The first request of a visit that falls inside the run is its login.
        first_inside = inside & ~np.concatenate(([False], inside[:-1] & (owner[1:] == owner[:-1])))
        kind[first_inside] = LOGIN
        chunks_t.append(t[inside])
        chunks_u.append(who[owner[inside]])
        chunks_k.append(kind[inside])
        ends = start[who] + elapsed[first + n - 1]
        start[who] = ends + rng.exponential(sc.away_time, len(who))
        who = who[start[who] < sc.duration]
    return np.concatenate(chunks_t), np.concatenate(chunks_u), np.concatenate(chunks_k)


def _addresses(sc, streams, users_of_request, times):
    """Per request, an index into a table of address strings; per user, NAT group and mobility.

    Users behind one NAT share its address; a mobile user starts at their home (or NAT)
    address and moves to a fresh one at each change of a Poisson process.
    """
    users = sc.users
    home = _public_addresses(streams["addresses"], users)
    behind_nat = _choose(streams["nat"], users, sc.nat_fraction)
    nat_group = np.full(users, -1)
    natted = np.flatnonzero(behind_nat)
    nat_group[natted] = np.arange(len(natted)) // sc.users_per_nat
    if len(natted):
        home[natted] = home[natted[::sc.users_per_nat]][nat_group[natted]]
    mobile = _choose(streams["mobile"], users, sc.mobile_fraction)
    table, home_index = np.unique(home, return_inverse=True)
    addr = home_index.ravel()[users_of_request]
    rows = np.flatnonzero(mobile)
    if len(rows):
        row_of_user = np.full(users, -1)
        row_of_user[rows] = np.arange(len(rows))
        k = math.ceil(sc.duration / sc.ip_change_interval * 2 + 10 * math.sqrt(
            sc.duration / sc.ip_change_interval) + 10)
        rng = streams["mobile"]
        changes = np.cumsum(rng.exponential(sc.ip_change_interval, (len(rows), k)), axis=1)
        fresh = _public_addresses(rng, len(rows) * k).reshape(len(rows), k)
        span = changes[:, -1].max() + sc.duration + 1.0
        flat = (changes + np.arange(len(rows))[:, None] * span).ravel()
        req = np.flatnonzero(mobile[users_of_request])
        row = row_of_user[users_of_request[req]]
        epoch = np.searchsorted(flat, times[req] + row * span, side="right") - row * k
        moved = req[epoch > 0]
        used, moved_index = np.unique(
            fresh[row[epoch > 0], np.minimum(epoch[epoch > 0], k) - 1], return_inverse=True)
        addr[moved] = len(table) + moved_index.ravel()
        table = np.concatenate([table, used])
    return addr, [ip_string(int(a)) for a in table], nat_group, mobile


def generate(sc: Scenario) -> Workload:
    """Draw every request of scenario ``sc``; the same scenario always gives the same workload."""
    if not isinstance(sc, Scenario):
        raise TypeError(f"expected a Scenario, got {sc!r}")
    seeds = np.random.SeedSequence(sc.seed).spawn(len(_STREAMS))
    streams = {name: np.random.default_rng(s) for name, s in zip(_STREAMS, seeds)}
    weight = _weights(streams["skew"], sc.users, sc.skew)
    times, users, kinds = _sessions(sc, streams["sessions"], weight)
    order = np.argsort(times)  # times are continuous draws: no ties to order
    times, users, kinds = times[order], users[order], kinds[order]
    addr, addresses, nat_group, mobile = _addresses(sc, streams, users, times)
    keeps = ~_choose(streams["cookies"], sc.users, sc.cookie_drop_fraction)
    return Workload(times=times, users=users, kinds=kinds, addr=addr, addresses=addresses,
                    keeps_cookies=keeps,
                    weight=weight, nat_group=nat_group, mobile=mobile)
