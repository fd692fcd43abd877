"""The live dashboard: real traffic drawn as it arrives, and buttons that break the lab under it."""

from __future__ import annotations

import asyncio
import os
import time

import numpy as np
import pytest

pytest.importorskip("aiohttp", reason="the live lab needs aiohttp (pip install '.[live]')")

from stickylab.live import Lab, LiveDashboard, Traffic  # noqa: E402
from stickylab.live.watch import LOST, OK  # noqa: E402

pytestmark = pytest.mark.slow


def until(condition, within: float = 30.0, every: float = 0.05):
    """Wait until ``condition()`` holds (a busy machine is slow, not wrong); fail after ``within`` s."""
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, f"not within {within:g} s: {condition.__doc__ or condition}"
        time.sleep(every)


def _served(dash) -> set:
    """The backends that have served the dashboard's traffic."""
    return {iid for _, _, iid, outcome in list(dash.traffic.records) if outcome == OK}


def _elsewhere(dash, since: float, gone: str) -> set:
    """The users a backend other than ``gone`` has answered since ``since``."""
    return {user for _, user, iid, _ in dash.traffic.since(since) if iid not in (None, gone)}


def _homes(records, before):
    """Each user's backend at its last answer before ``before``."""
    homes = {}
    for t, user, iid, _ in records:
        if t < before and iid is not None:
            homes[user] = iid
    return homes


def test_wait_returns_once_its_condition_holds_and_says_whether_it_did():
    with LiveDashboard(users=2, think=0.05) as dash:
        t0 = time.monotonic()
        assert dash.wait(60, until=lambda: len(dash.traffic.records) >= 3) is True
        assert time.monotonic() - t0 < 30 and len(dash.traffic.records) >= 3
        t0 = time.monotonic()
        assert dash.wait(0.3, until=lambda: False) is False and time.monotonic() - t0 >= 0.3
        with pytest.raises(TypeError, match="until must be"):
            dash.wait(1, until="soon")
        with pytest.raises(ValueError, match="seconds=121"):
            dash.wait(121)


def test_bad_arguments_are_named_before_anything_starts():
    with pytest.raises(ValueError, match="window=1"):
        LiveDashboard(window=1)
    with pytest.raises(TypeError, match="lab must be"):
        Traffic("not a lab")


def test_a_kill_logs_out_exactly_its_users_and_a_shared_store_nobody():
    with LiveDashboard(users=12, think=0.05, seed=3) as dash:
        until(lambda: _served(dash) == set(dash.lab.ever))       # every backend serves the traffic
        with pytest.raises(ValueError, match="action must be"):
            dash.press("explode")
        victim = dash.lab.ever[1]
        dash.backend.value = victim
        dash.press("kill").result(20)
        killed_at = dash.traffic.now()
        homes = _homes(dash.traffic.records, killed_at)
        victims = {u for u, home in homes.items() if home == victim}

        def lost():
            return {user for t, user, _, outcome in dash.traffic.since(killed_at) if outcome == LOST}
        # The victim's users come back, are served elsewhere, and some are seen being logged out
        # (one whose request was already on its way when the kill ended was logged out before).
        until(lambda: victims <= _elsewhere(dash, killed_at, victim) and lost())
        dash.wait(0.5)
        assert victims and lost() <= victims, "nobody else is logged out"
        assert dash.lab.status()[victim] == "down" and dash.error is None
        assert bytes(dash.image.value[:4]) == b"\x89PNG"
        assert any(name == "kill" for _, name, _ in dash.actions)

        dash.press("store", "sqlite").result(60)
        assert dash.lab.store == "sqlite" and dash.store.value == "sqlite"
        until(lambda: _served(dash) == set(dash.lab.ever))
        dash.backend.value = dash.lab.ever[0]
        dash.press("kill").result(20)
        killed_at = dash.traffic.now()
        homes = _homes(dash.traffic.records, killed_at)
        moved = {u for u, home in homes.items() if home == dash.lab.ever[0]}
        until(lambda: moved and moved <= _elsewhere(dash, killed_at, dash.lab.ever[0]))   # served elsewhere
        after = dash.traffic.since(killed_at)
        assert not [r for r in after if r[3] == LOST], "a shared store loses nobody"


def _points_hidden(dash) -> list:
    """Data points drawn inside a legend's box or a press's label (in pixels), on either panel."""
    dash.fig.canvas.draw()
    hidden = []
    for ax in (dash.ax_load, dash.ax_bad):
        boxes = [ax.get_legend().get_window_extent()] + [t.get_window_extent() for t in ax.texts]
        assert len(boxes) > 1, "the presses are labelled"
        for line in ax.get_lines():
            if line.get_label().startswith("_"):        # the presses' dotted lines
                continue
            xy = ax.transData.transform(np.column_stack(line.get_data()))
            hidden += [(line.get_label(), p) for p in xy for box in boxes if box.contains(*p)]
    return hidden


def test_a_failed_button_says_why_until_the_next_press_and_the_picked_backend_stays_picked():
    with LiveDashboard(users=4, think=0.05) as dash:
        dash.backend.value = dash.lab.ever[0]
        dash.press("kill").result(20)
        with pytest.raises(ValueError, match="not running"):
            dash.press("kill").result(20)
        with pytest.raises(ValueError, match="backend i0 is not running"):
            dash.press("stop").result(20)
        before = len(dash.traffic.records)
        until(lambda: len(dash.traffic.records) > before + 4)
        dash.refresh()                                   # a redraw keeps the error on the status line
        assert "not running" in dash.error
        assert "stop i0 failed: ValueError: backend i0 is not running" in dash.status.value
        assert "<b>i0</b> down" in dash.status.value
        dash.backend.value = dash.lab.ever[2]
        dash.press("add").result(30)
        assert dash.error is None and "not running" not in dash.status.value
        assert dash.backend.options == ("i0", "i1", "i2", "i3") and dash.backend.value == "i2"
        # The legends and the presses' labels hide no data, even at the top left of the window.
        dash.traffic.stop()
        dash.traffic.t0 -= 40.0                          # 40 s of made-up traffic: a burst first
        dash.traffic.records.clear()
        for second in range(10, 40):
            many = 100 if second == 10 else 10
            dash.traffic.records.extend((second + 0.5, 0, "i0", LOST if second < 12 else OK)
                                        for _ in range(many))
        dash.actions = [(10.2, "kill", "i1"), (10.9, "restart", "i1"), (25.0, "add", "")]
        dash.refresh()
        assert _points_hidden(dash) == []


def test_the_redraws_go_on_after_the_store_changes_and_a_new_dashboard_closes_the_last():
    async def watch(dash):
        dash.auto_refresh(every=0.1)
        await asyncio.wrap_future(dash.press("store", "sqlite"))
        pictures = set()            # a picture changes as each whole second of traffic is drawn
        deadline = time.monotonic() + 30.0
        while len(pictures) < 3 and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
            pictures.add(bytes(dash.image.value))
        return pictures

    first = LiveDashboard(users=2, think=0.05)
    try:
        pictures = asyncio.run(watch(first))
        assert first.lab.store == "sqlite" and len(pictures) >= 3
        assert "<b>i0</b> up" in first.status.value
        pids = list(first.lab.pids().values())
        with LiveDashboard(users=2, think=0.05, seed=1) as second:
            assert first.lab._loop is None and first.lab.pids() == {}
            assert not [p for p in pids if os.path.exists(f"/proc/{p}")]
            assert second.lab.status() == {"i0": "up", "i1": "up", "i2": "up"}
        assert "closed" in first.status.value
    finally:
        first.close()


def test_traffic_stops_and_the_lab_closes_with_it():
    with Lab("CookieInsert", instances=2) as lab:
        traffic = Traffic(lab, users=3, think=0.02).start()
        until(lambda: len({r[1] for r in list(traffic.records)}) == 3)
        traffic.stop()
        n = len(traffic.records)
        time.sleep(0.3)
        assert n > 0 and len(traffic.records) == n


def test_remove_drains_for_its_timeout_then_the_backend_is_gone_and_nothing_failed():
    with LiveDashboard(users=6, think=0.05, drain_timeout=1.0) as dash:
        until(lambda: _served(dash) == set(dash.lab.ever))      # the backend to drain has users
        gone = dash.lab.ever[2]
        dash.backend.value = gone
        pressed = dash.traffic.now()
        dash.press("remove").result(30)
        took = dash.traffic.now() - pressed
        assert 1.0 <= took < 10.0, f"a 1 s drain, then a stop: {took:.1f} s"
        assert gone not in dash.lab.status() and dash.backend.options == tuple(dash.lab.status())
        assert not [r for r in dash.traffic.since(pressed) if r[3] == "failed"]
    with pytest.raises(ValueError, match="drain_timeout=-1"):
        LiveDashboard(drain_timeout=-1)
