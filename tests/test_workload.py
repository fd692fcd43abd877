"""The workload: visits that log in and out, NAT groups, mobile addresses, cookie-less clients."""

import numpy as np
import pytest

import stickylab as sl
from stickylab.workload import LOGIN, LOGOUT


@pytest.fixture(scope="module")
def wl():
    return sl.generate(sl.Scenario(users=400, duration=900.0, nat_fraction=0.25, users_per_nat=20,
                                   mobile_fraction=0.2, ip_change_interval=60.0,
                                   cookie_drop_fraction=0.1, seed=3))


def test_requests_are_sorted_and_inside_the_run(wl):
    assert len(wl) > 1000
    assert np.all(np.diff(wl.times) >= 0) and wl.times[0] >= 0 and wl.times[-1] < 900.0


def test_every_visit_starts_with_a_login_and_logs_out_at_most_once(wl):
    for u in range(0, 400, 7):
        kinds = wl.kinds[wl.users == u].tolist()
        if not kinds:
            continue
        assert kinds[0] == LOGIN
        visit_open = False
        for k in kinds:
            if k == LOGIN:
                visit_open = True
            else:
                assert visit_open, f"user {u} sent a request outside a visit"
                if k == LOGOUT:
                    visit_open = False


def test_nat_users_share_one_address_per_group(wl):
    natted = np.flatnonzero(wl.nat_group >= 0)
    assert len(natted) == 100 and wl.nat_group.max() == 4              # 100 users, 20 per address
    fixed = natted[~wl.mobile[natted]]
    for g in range(5):
        members = fixed[wl.nat_group[fixed] == g]
        addrs = {wl.addr[i] for i in np.flatnonzero(np.isin(wl.users, members))}
        assert len(addrs) <= 1


def test_mobile_users_change_address_and_others_do_not(wl):
    def addresses(u):
        return len(set(wl.addr[wl.users == u].tolist()))
    mobile = np.flatnonzero(wl.mobile)
    assert len(mobile) == 80
    changed = [addresses(u) > 1 for u in mobile if (wl.users == u).sum() > 20]
    assert np.mean(changed) > 0.8
    assert all(addresses(u) <= 1 for u in np.flatnonzero(~wl.mobile)[:50])


def test_cookie_droppers_are_an_exact_share(wl):
    assert (~wl.keeps_cookies).sum() == 40


def test_same_scenario_same_workload_and_knobs_are_independent():
    base = sl.Scenario(users=200, duration=300.0)
    a, b = sl.generate(base), sl.generate(base)
    assert np.array_equal(a.times, b.times) and a.addresses == b.addresses
    natted = sl.generate(base.replace(nat_fraction=0.5))
    assert np.array_equal(a.times, natted.times) and np.array_equal(a.users, natted.users)
    assert len(natted.addresses) < len(a.addresses)
    assert not np.array_equal(a.times, sl.generate(base.replace(seed=8)).times)


def test_skew_concentrates_requests_on_heavy_users():
    def top_share(skew):
        w = sl.generate(sl.Scenario(users=500, duration=600.0, skew=skew))
        counts = np.sort(np.bincount(w.users, minlength=500))[::-1]
        return counts[:5].sum() / counts.sum()
    flat, heavy = top_share(0.0), top_share(1.2)
    assert flat < 0.03 and heavy > 0.2


def test_request_rate_matches_the_visit_model():
    sc = sl.Scenario(users=1000, duration=1200.0, think_time=5.0, requests_per_session=10,
                     away_time=100.0)
    w = sl.generate(sc)
    # A visit lasts (10 - 1) * 5 s = 45 s on average, then 100 s away: a user is active
    # 45/145 of the time and sends 10 requests per 145 s cycle.
    expected = sc.users * sc.duration * 10 / 145
    assert abs(len(w) - expected) / expected < 0.08
