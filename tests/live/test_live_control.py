"""Controlling the lab under traffic: removing or restarting a backend holds up nobody else.

The lab's loop serves every request through the proxy; a removal or a restart that waited for
a process on it would hold every user up while it waits. The stall is measured against the
run's own baseline (the machine is shared, so no fixed number of milliseconds would do).
"""

import os
import signal
import time

import pytest

pytest.importorskip("aiohttp", reason="the live lab needs aiohttp (requirements.txt)")

import stickylab as sl
from stickylab import live

from background_traffic import Traffic


def stall_bound(p99: float, worst: float) -> float:
    """Much longer than the baseline: 20 times its p99, or twice its worst, whichever is more."""
    return max(20 * p99, 2 * worst)


def test_remove_refuses_a_bad_drain_timeout_by_name():
    for bad in (-1, float("inf"), "5", True):
        with pytest.raises(ValueError, match="drain_timeout="):
            live.Lab().remove("i0", drain_timeout=bad)


def test_control_names_what_it_cannot_act_on_and_a_dead_backend_is_not_waited_for():
    with live.Lab(sl.routers.CookieInsert(), instances=2) as lab:
        with pytest.raises(ValueError, match="did not start a redis-server"):
            lab.kill("redis")
        with pytest.raises(ValueError, match="no backend 'i9'"):
            lab.remove("i9")
        home = lab.send(sl.Browser(), "/login").instance
        lab.kill(home)
        assert lab.remove(home, drain_timeout=20.0) < 20.0, "a dead backend holds no session to wait for"
        assert list(lab.status()) == [i for i in ("i0", "i1") if i != home]


@pytest.mark.slow
def test_remove_drains_under_traffic_loses_no_user_and_stalls_nobody():
    with live.Lab(sl.routers.CookieInsert(), instances=3, store="memory") as lab, \
            Traffic(lab, users=12, visit=6, pause=0.05, first=300) as traffic:
        time.sleep(2.0)
        p99, worst, n = traffic.baseline(time.monotonic())
        victim = "i2"
        start = time.monotonic()
        drained = lab.remove(victim, drain_timeout=10.0)
        end = time.monotonic()
        time.sleep(0.5)
        traffic.stop()
    assert n >= 100, "a baseline of enough requests"
    assert drained < 10.0, "every visit on the draining backend ended before the timeout"
    assert victim not in lab.status()
    assert [s for s in traffic.sent if s.session == "missing"] == [], "no user lost a session"
    assert [s for s in traffic.sent if s.status != 200] == [], "no request failed"
    new_there = [s for s in traffic.sent
                 if s.path == "/login" and s.start > start + 0.2 and s.instance == victim]
    assert new_there == [], "a draining backend takes no new users"
    during = traffic.during(start, end)
    assert during and max(s.latency for s in during) <= stall_bound(p99, worst), (
        f"a request took {max(s.latency for s in during):.3f} s during the removal "
        f"(baseline p99 {p99:.4f} s, worst {worst:.4f} s)")


@pytest.mark.slow
def test_restarting_a_stopped_backend_stalls_nobody_else():
    with live.Lab(sl.routers.CookieInsert(), instances=3, store="memory") as lab, \
            Traffic(lab, users=9, first=400) as traffic:
        time.sleep(2.0)
        p99, worst, n = traffic.baseline(time.monotonic())
        homes = dict(traffic.homes)
        victim = max(set(homes.values()), key=list(homes.values()).count)
        others = {u for u, home in homes.items() if home != victim}
        os.kill(lab.pids()[victim], signal.SIGSTOP)
        time.sleep(0.5)
        start = time.monotonic()
        lab.restart(victim)
        end = time.monotonic()
        time.sleep(0.5)
        up = lab.status()[victim]
        traffic.stop()
    assert n >= 100 and others, "a baseline, and users on other backends"
    assert up == "up"
    during = traffic.during(start, end, users=others)
    assert during and max(s.latency for s in during) <= stall_bound(p99, worst), (
        f"a user of another backend waited {max(s.latency for s in during):.3f} s during the restart "
        f"(baseline p99 {p99:.4f} s, worst {worst:.4f} s)")
    assert all(s.status == 200 for s in traffic.during(start, end, users=others))
