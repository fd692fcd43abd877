"""What the plots read from runs: results by label, instance states, rates per time bucket."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from .. import events as ev
from ..metrics import Result

__all__ = ["added_at", "as_results", "home_counts", "load_counts", "rate", "states_at_end", "user_counts"]


def as_results(results) -> dict[str, Result]:
    """``{label: Result}`` from a Result, or from a dict of them (checked)."""
    if isinstance(results, Result):
        return {results.router.label(): results}
    if isinstance(results, Mapping) and results and all(
            isinstance(r, Result) for r in results.values()):
        return dict(results)
    raise TypeError(f"expected a Result or a non-empty dict of Results, got {results!r}")


def states_at_end(res: Result) -> dict[str, str]:
    """Each instance's state (healthy, failed, draining, removed) once the run's events are applied."""
    states = {f"i{k}": ev.HEALTHY for k in range(res.scenario.instances)}
    for event in res.events:
        event.apply(states)
    return states


def added_at(res: Result) -> dict[str, float]:
    """When each scaled-out instance joined (instances there from the start are absent)."""
    born, n = {}, res.scenario.instances
    for event in res.events:
        if isinstance(event, ev.ScaleOut):
            for _ in range(event.count):
                born[f"i{n}"] = event.at
                n += 1
    return born


def rate(res: Result, bucket: float | None):
    """The run's timeline in buckets of ``bucket`` seconds (None: the default) and the bucket width."""
    tl = res.timeline(bucket)
    width = tl["start"][1] - tl["start"][0] if len(tl["start"]) > 1 else res.scenario.duration
    return tl, width


def load_counts(res: Result, normalise: bool) -> np.ndarray:
    """Requests each instance served, or that over the mean (``normalise``)."""
    counts = np.array(list(res.per_instance_requests().values()), dtype=float)
    if normalise:
        counts = counts / counts.mean() if counts.mean() else counts
    return counts


def user_counts(res: Result) -> np.ndarray:
    """Distinct users each instance served at least once."""
    served = res.served
    n = len(res.instance_ids)
    pairs = np.unique(res.workload.users[served] * n + res.instance[served])
    return np.bincount(pairs % n, minlength=n)


def home_counts(res: Result) -> np.ndarray:
    """Users per instance, each user counted once: on the instance that served most of their requests.

    Unlike :func:`user_counts`, a user who visited several instances (a new cookie per
    visit, say) is not counted on each, so the bars of any two runs sum to the same users.
    Ties go to the instance created first.
    """
    served = res.served
    n = len(res.instance_ids)
    users = res.workload.users[served]
    per = np.zeros((int(users.max(initial=-1)) + 1, n), dtype=np.int64)
    np.add.at(per, (users, res.instance[served]), 1)
    seen = per.sum(axis=1) > 0
    return np.bincount(per[seen].argmax(axis=1), minlength=n)
