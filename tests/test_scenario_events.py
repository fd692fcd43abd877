"""Bad input is refused before any work starts, with the bad value named."""

import numpy as np
import pytest

import stickylab as sl


@pytest.mark.parametrize("field,value", [
    ("users", 0), ("users", -3), ("users", 2.5), ("instances", 0), ("duration", 0.0),
    ("duration", float("inf")), ("nat_fraction", 1.5), ("nat_fraction", -0.1),
    ("mobile_fraction", 2), ("cookie_drop_fraction", -1), ("users_per_nat", 0), ("skew", -1.0),
    ("ip_change_interval", 0), ("session_store", "redis"), ("capacity", 0), ("cache_size", 0),
    ("requests_per_session", 1), ("seed", -1), ("think_time", -2.0), ("users", True),
])
def test_scenario_rejects_bad_values_naming_them(field, value):
    with pytest.raises(ValueError) as err:
        sl.Scenario(**{field: value})
    assert field in str(err.value) and repr(value) in str(err.value)


def test_scenario_replace_checks_again_and_rejects_unknown_fields():
    sc = sl.Scenario()
    assert sc.replace(users=10).users == 10 and sc.users == 2000
    with pytest.raises(ValueError, match="nat_fraction"):
        sc.replace(nat_fraction=3)
    with pytest.raises(TypeError, match="userz"):
        sc.replace(userz=3)


def test_plan_expands_scale_out_ids_and_tracks_states():
    plan = sl.events.plan([sl.Fail("i1", at=10), sl.ScaleOut(at=20, count=2), sl.Drain("i4", at=30),
                           sl.Recover("i1", at=40), sl.ScaleIn("i0", at=50)], 3, 100)
    assert plan[1][1] == ["i3", "i4"]
    assert plan[-1][2] == {"i0": "removed", "i1": "healthy", "i2": "healthy", "i3": "healthy",
                           "i4": "draining"}


@pytest.mark.parametrize("events,match", [
    ([sl.Fail("i9", at=10)], "no instance 'i9'"),
    ([sl.Fail("i1", at=700)], "outside the run"),
    ([sl.Fail("i1", at=-1)], "outside the run"),
    ([sl.Fail("i1", at=300), sl.Recover("i1", at=200)], "out of order"),
    ([sl.Recover("i1", at=10)], "'i1' is healthy"),
    ([sl.ScaleIn("i0", at=10), sl.Fail("i0", at=20)], "'i0' is removed"),
    ([sl.Drain("i4", at=10)], "no instance 'i4'"),
    (["fail i1"], "not an event"),
])
def test_simulate_rejects_bad_events_before_running(events, match, small):
    with pytest.raises((ValueError, TypeError), match=match):
        sl.simulate(small, "RoundRobin", events=events)


@pytest.mark.parametrize("make,match", [
    (lambda: sl.Fail(1, at=3), "strings"), (lambda: sl.Fail("i1", at="soon"), "'at'"),
    (lambda: sl.ScaleOut(at=1, count=0), "count"), (lambda: sl.Drain("i0", at=float("nan")), "'at'"),
])
def test_events_check_their_fields(make, match):
    with pytest.raises((ValueError, TypeError), match=match):
        make()


def test_simulate_rejects_bad_scenarios_and_routers(small):
    with pytest.raises(ValueError, match="'sticky-magic'"):
        sl.simulate(small, "sticky-magic")
    with pytest.raises(TypeError, match="Scenario"):
        sl.simulate({"users": 3}, "RoundRobin")
    with pytest.raises(TypeError, match="not the class"):
        sl.simulate(small, sl.routers.RoundRobin)
    with pytest.raises(TypeError, match="route"):
        sl.simulate(small, sl.Router())


@pytest.mark.parametrize("fields, named", [
    ({"duration": 1e12}, r"about [\d,]+ requests .*duration=1000000000000.0"),
    ({"users": 10**7}, r"about [\d,]+ requests .*users=10000000"),
    ({"requests_per_session": 999999}, r"about [\d,]+ requests .*requests_per_session=999999"),
    ({"users": 2_000_000, "requests_per_session": 2, "duration": 1.0}, "users=2000000"),
    ({"instances": 10**7}, "instances=10000000"),
    ({"mobile_fraction": 1.0, "ip_change_interval": 1e-6}, r"about [\d,]+ address changes"),
])
def test_a_run_too_large_to_simulate_is_refused_at_once_with_its_size(fields, named):
    """Each of these used to run for minutes and die of MemoryError."""
    with pytest.raises(ValueError, match=named):
        sl.Scenario(**fields)


def test_the_largest_runs_in_use_stay_allowed():
    """The engine benchmark (20,000 users, 40 instances, an hour: about 3M requests), and more."""
    sl.Scenario(users=20_000, instances=40, duration=3600.0)
    sl.Scenario(users=100_000, instances=200, duration=3600.0)
    sl.Scenario(mobile_fraction=1.0, ip_change_interval=30.0, duration=3600.0)
    sl.Scenario(requests_per_session=60)


def test_scale_out_past_the_instance_limit_is_refused_before_the_run(small):
    with pytest.raises(ValueError, match="count=10000000"):
        sl.ScaleOut(at=10, count=10**7)
    events = [sl.ScaleOut(at=10, count=600), sl.ScaleOut(at=20, count=600)]
    with pytest.raises(ValueError, match="1,203 instances"):
        sl.simulate(small, "RoundRobin", events=events)


def test_numpy_numbers_are_taken_as_the_python_ones(small):
    sc = sl.Scenario(users=np.int64(300), instances=np.int32(3), duration=np.int64(300), seed=np.uint8(11),
                     users_per_nat=np.int16(5), cache_size=np.int64(50), skew=np.float32(0.5))
    assert sc == small.replace(duration=300, users_per_nat=5, cache_size=50, skew=0.5)
    assert type(sc.users) is int and type(sc.seed) is int and type(sc.skew) is float
    assert sc.replace(users=np.int64(10)).users == 10
    with pytest.raises(ValueError, match="users"):
        sl.Scenario(users=np.bool_(True))
    scale = sl.ScaleOut(at=np.float64(10), count=np.int64(2))
    assert scale == sl.ScaleOut(at=10.0, count=2) and type(scale.count) is int
    assert sl.Fail("i1", at=np.int64(5)).at == 5
    plan = sl.events.plan([scale, sl.Fail("i1", at=np.int32(20))], 3, 300)
    assert plan[0][1] == ["i3", "i4"]
