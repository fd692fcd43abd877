"""What a dashboard compares (stickylab.widgets.comparison): the run, its baseline, pinned or previous."""

import stickylab as sl
from stickylab.widgets.comparison import Comparison, same_runs

SC = sl.Scenario(users=100, instances=2, duration=60.0, seed=1)


def test_each_new_run_pushes_the_one_before_into_the_baseline_unless_pinned():
    a, b, c = ({"x": sl.simulate(SC.replace(users=n), "RoundRobin")} for n in (100, 120, 140))
    comparison = Comparison()
    comparison.advance(a, {"users": 100})
    assert comparison.baseline is None and comparison.note() == ""
    comparison.advance(b, {"users": 120})
    assert comparison.baseline is a and comparison.ghost() is a
    assert "the previous run (users 100 → 120)" in comparison.note()
    comparison.pin()
    comparison.advance(c, {"users": 140})
    assert comparison.baseline is b and "the pinned baseline" in comparison.note()
    comparison.unpin()
    comparison.advance(a, {"users": 100})
    assert comparison.baseline is c


def test_the_same_run_back_from_a_cache_pushes_nothing():
    run = {"x": sl.simulate(SC, "RoundRobin")}
    assert same_runs(run, dict(run)) and not same_runs(run, {"x": sl.simulate(SC, "RoundRobin")})
    comparison = Comparison()
    comparison.advance(run, {})
    comparison.advance(dict(run), {})
    assert comparison.baseline is None


def test_a_baseline_that_is_not_results_is_no_ghost():
    comparison = Comparison()
    comparison.advance({"moved": 0.2}, {})
    comparison.advance({"moved": 0.3}, {})
    assert comparison.baseline == {"moved": 0.2} and comparison.ghost() is None
