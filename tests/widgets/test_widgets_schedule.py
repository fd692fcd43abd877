"""The events a learner schedules (stickylab.widgets.schedule): a model tested without any widget."""

import re
from pathlib import Path

import pytest

import stickylab as sl
from stickylab.widgets.schedule import AUTO, Schedule, describe_change, events_text


def test_the_model_imports_no_widgets():
    for name in ("schedule.py", "comparison.py"):
        text = (Path(sl.__file__).parent / "widgets" / name).read_text()
        assert not re.search(r"^\s*(import|from)\s+(ipywidgets|IPython)", text, re.M), name


def test_actions_without_an_instance_take_the_lowest_numbered_that_fits():
    schedule = Schedule(120.0)
    schedule.add("add", 10.0, None, instances=2)
    for at in (20.0, 30.0, 40.0, 50.0):
        schedule.add("fail", at, None, instances=2)
    assert schedule.events(2) == [sl.ScaleOut(at=10.0), sl.Fail("i0", at=20.0), sl.Fail("i1", at=30.0),
                                  sl.Fail("i2", at=40.0)]        # nobody is left to fail at 50 s
    assert schedule.instance_options(2) == [AUTO, "i0", "i1", "i2"]


def test_an_action_that_does_not_fit_is_refused_and_the_schedule_unchanged():
    schedule = Schedule(120.0)
    schedule.add("drain", 40.0, "i1", instances=3)
    schedule.add("remove", 90.0, "i1", instances=3)
    with pytest.raises(ValueError, match="'i1' is removed"):
        schedule.add("recover", 100.0, "i1", instances=3)
    assert schedule.actions == [("drain", 40.0, "i1"), ("remove", 90.0, "i1")]
    with pytest.raises(TypeError, match="instance id"):
        schedule.add("fail", 10.0, 1, instances=3)
    with pytest.raises(ValueError, match=r"at must be a time in \[0, 120\] seconds"):
        schedule.add("fail", 500.0, None, instances=3)
    assert len(schedule.actions) == 2
    schedule.clear()
    assert schedule.events(3) == []


def test_opening_events_become_actions_and_the_detection_delay_applies_to_every_failure():
    schedule = Schedule(120.0, [sl.Fail("i1", at=60.0, detect=6.0), sl.ScaleOut(at=80.0)])
    assert schedule.actions == [("fail", 60.0, "i1"), ("add", 80.0, None)] and schedule.detect == 6.0
    schedule.add("fail", 90.0, "i2", instances=3)
    assert schedule.events(3)[-1] == sl.Fail("i2", at=90.0, detect=6.0)
    with pytest.raises(TypeError, match="cannot schedule"):
        Schedule(120.0, ["i1 fails"])
    with pytest.raises(ValueError, match="detect must be"):
        Schedule.check_detect(-1)


def test_changes_and_events_are_said_in_a_few_words():
    before = {"users": 200, "events": []}
    after = {"users": 300, "events": [sl.Fail("i1", at=60.0, detect=6.0), sl.ScaleOut(at=80.0)]}
    assert describe_change(before, after) == ("users 200 → 300, events none → "
                                              "i1 fails at 60 s (seen 6 s later); +1 at 80 s")
    assert events_text([sl.Drain("i2", at=5.0)]) == "i2 drains at 5 s"
