"""The live dashboard: real traffic drawn as it arrives, and buttons that break the lab under it."""

from __future__ import annotations

import pytest

pytest.importorskip("aiohttp", reason="the live lab needs aiohttp (pip install '.[live]')")

from stickylab.live import Lab, LiveDashboard, Traffic  # noqa: E402
from stickylab.live.watch import LOST, OK  # noqa: E402

pytestmark = pytest.mark.slow


def _homes(records, before):
    """Each user's backend at its last answer before ``before``."""
    homes = {}
    for t, user, iid, _ in records:
        if t < before and iid is not None:
            homes[user] = iid
    return homes


def test_bad_arguments_are_named_before_anything_starts():
    with pytest.raises(ValueError, match="window=1"):
        LiveDashboard(window=1)
    with pytest.raises(TypeError, match="lab must be"):
        Traffic("not a lab")


def test_a_kill_logs_out_exactly_its_users_and_a_shared_store_nobody():
    with LiveDashboard(users=12, think=0.05, seed=3) as dash:
        dash.wait(1.5)
        served = {iid for _, _, iid, outcome in dash.traffic.records if outcome == OK}
        assert served == set(dash.lab.ever), "every backend serves the traffic"
        with pytest.raises(ValueError, match="action must be"):
            dash.press("explode")
        victim = dash.lab.ever[1]
        dash.backend.value = victim
        dash.press("kill").result(20)
        killed_at = dash.traffic.now()
        dash.wait(1.5)
        homes = _homes(dash.traffic.records, killed_at)
        lost = {user for t, user, _, outcome in dash.traffic.since(killed_at) if outcome == LOST}
        assert lost and lost <= {u for u, home in homes.items() if home == victim}
        assert dash.lab.status()[victim] == "down" and dash.error is None
        assert bytes(dash.image.value[:4]) == b"\x89PNG"
        assert any(name == "kill" for _, name, _ in dash.actions)

        dash.press("store", "sqlite").result(60)
        assert dash.lab.store == "sqlite" and dash.store.value == "sqlite"
        dash.wait(1.0)
        dash.backend.value = dash.lab.ever[0]
        dash.press("kill").result(20)
        killed_at = dash.traffic.now()
        dash.wait(1.5)
        after = dash.traffic.since(killed_at)
        assert after and not [r for r in after if r[3] == LOST], "a shared store loses nobody"


def test_a_failed_button_says_why_and_the_traffic_goes_on():
    with LiveDashboard(users=4, think=0.05) as dash:
        dash.backend.value = dash.lab.ever[0]
        dash.press("kill").result(20)
        with pytest.raises(ValueError, match="not running"):
            dash.press("kill").result(20)
        assert "not running" in dash.error and "not running" in dash.status.value
        before = len(dash.traffic.records)
        dash.wait(0.5)
        assert len(dash.traffic.records) > before


def test_traffic_stops_and_the_lab_closes_with_it():
    with Lab("CookieInsert", instances=2) as lab:
        traffic = Traffic(lab, users=3, think=0.02).start()
        import time
        time.sleep(0.5)
        traffic.stop()
        n = len(traffic.records)
        time.sleep(0.3)
        assert n > 0 and len(traffic.records) == n


def test_remove_drains_for_its_timeout_then_the_backend_is_gone_and_nothing_failed():
    with LiveDashboard(users=6, think=0.05, drain_timeout=1.0) as dash:
        dash.wait(0.5)
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
