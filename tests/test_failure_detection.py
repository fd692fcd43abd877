"""A failure the balancer has not detected yet: ``Fail(..., detect=seconds)``.

Until the health checks notice, routers still see the dead instance as live and send it
requests, which fail; once detected, it leaves the pool and nothing more fails.
"""

import numpy as np
import pytest

import stickylab as sl


class Watching(sl.routers.RoundRobin):
    """Round robin that notes, per request time, whether the pool listed 'i1' as healthy."""

    def __init__(self):
        super().__init__()
        self.seen = []

    def route(self, request, pool):
        self.seen.append((request.time, "i1" in pool.healthy))
        return super().route(request, pool)


@pytest.fixture
def sc():
    return sl.Scenario(users=400, instances=3, duration=300.0, seed=5)


def test_no_detection_time_is_the_old_failure(sc):
    at_once = sl.simulate(sc, "round_robin", [sl.Fail("i1", at=100.0)])
    zero = sl.simulate(sc, "round_robin", [sl.Fail("i1", at=100.0, detect=0.0)])
    assert np.array_equal(at_once.outcome, zero.outcome)
    assert at_once.failed_requests() == 0


@pytest.mark.parametrize("detect", [2.0, 6.0, 20.0])
def test_requests_fail_only_while_the_failure_goes_unnoticed(sc, detect):
    res = sl.simulate(sc, sl.routers.CookieInsert(), [sl.Fail("i1", at=100.0, detect=detect)])
    failed_at = res.times[res.failed]
    assert len(failed_at) > 0
    assert failed_at.min() >= 100.0 and failed_at.max() < 100.0 + detect


def test_a_longer_detection_fails_more_requests(sc):
    counts = [sl.simulate(sc, "round_robin", [sl.Fail("i1", at=100.0, detect=d)]).failed_requests()
              for d in (0.0, 3.0, 12.0)]
    assert counts[0] == 0 < counts[1] < counts[2]


def test_routers_see_the_dead_instance_until_it_is_detected(sc):
    res = sl.simulate(sc, Watching(), [sl.Fail("i1", at=100.0, detect=6.0)])
    seen = res.router.seen
    assert all(listed for t, listed in seen if t < 106.0)
    assert not any(listed for t, listed in seen if t >= 106.0)


def test_a_recovery_before_detection_ends_the_window(sc):
    res = sl.simulate(sc, Watching(), [sl.Fail("i1", at=100.0, detect=30.0), sl.Recover("i1", at=110.0)])
    failed_at = res.times[res.failed]
    assert len(failed_at) > 0 and failed_at.max() < 110.0
    assert all(listed for _, listed in res.router.seen)     # never noticed, and back


def test_an_event_inside_the_window_keeps_both_in_order(sc):
    res = sl.simulate(sc, Watching(), [sl.Fail("i1", at=100.0, detect=10.0), sl.Fail("i2", at=105.0)])
    failed_at = res.times[res.failed]
    assert failed_at.max() < 110.0
    assert all(listed for t, listed in res.router.seen if t < 110.0)
    assert not any(listed for t, listed in res.router.seen if t >= 110.0)


@pytest.mark.parametrize("detect", [-1.0, float("inf"), float("nan"), "6", True])
def test_a_bad_detection_time_is_refused_naming_it(detect):
    with pytest.raises(ValueError, match="detect"):
        sl.Fail("i1", at=1.0, detect=detect)


def test_numpy_detection_times_become_python_floats():
    event = sl.Fail("i1", at=1.0, detect=np.float32(6.0))
    assert type(event.detect) is float and event.detect == 6.0
    assert repr(event) == "Fail(id='i1', at=1.0, detect=6.0)"
    assert repr(sl.Fail("i1", at=1.0)) == "Fail(id='i1', at=1.0)"
