"""Every field of a Scenario, and of each event, carries its own rule, so a new field cannot go unchecked."""

from dataclasses import dataclass, fields

import numpy as np
import pytest

import stickylab as sl
from stickylab import rules


def test_every_field_of_scenario_has_a_rule():
    unruled = [f.name for f in fields(sl.Scenario) if rules.RULE not in f.metadata]
    assert not unruled, f"Scenario fields without a rule (declare them with rules.ruled): {unruled}"


@pytest.mark.parametrize("event", [sl.Fail, sl.Recover, sl.ScaleIn, sl.Drain, sl.ScaleOut])
def test_every_field_of_every_event_has_a_rule(event):
    unruled = [f.name for f in fields(event) if rules.RULE not in f.metadata]
    assert not unruled, f"{event.__name__} fields without a rule (declare them with rules.ruled): {unruled}"


@pytest.mark.parametrize("event, good", [
    (sl.Fail, {"id": "i1", "at": 1.0, "detect": 2.0}), (sl.Drain, {"id": "i1", "at": 1.0}),
    (sl.ScaleOut, {"at": 1.0, "count": 2}),
])
def test_every_field_of_an_event_refuses_a_value_of_the_wrong_kind_naming_the_event(event, good):
    for name in good:
        with pytest.raises((ValueError, TypeError)) as err:
            event(**{**good, name: object()})
        assert str(err.value).startswith(f"{event.__name__}(") and "object object at" in str(err.value)


@pytest.mark.parametrize("name", [f.name for f in fields(sl.Scenario)])
def test_every_field_refuses_a_value_of_the_wrong_kind_naming_it(name):
    with pytest.raises(ValueError) as err:
        sl.Scenario(**{name: "nonsense"})
    assert f"{name}='nonsense'" in str(err.value)


def test_a_record_with_a_field_declared_without_a_rule_cannot_be_made():
    @dataclass(frozen=True)
    class Settings:
        checked: int = rules.ruled(rules.positive_int, 1)
        forgotten: int = 2

        def __post_init__(self):
            rules.check_fields(self)

    with pytest.raises(TypeError, match=r"Settings.forgotten has no rule"):
        Settings()


def test_numpy_numbers_are_kept_as_the_python_numbers_they_equal():
    sc = sl.Scenario(users=np.int64(30), duration=np.float32(60.0), nat_fraction=np.float64(0.5),
                     seed=np.uint8(3))
    kinds = (type(sc.users), type(sc.duration), type(sc.nat_fraction), type(sc.seed))
    assert kinds == (int, float, float, int)
    assert sc == sl.Scenario(users=30, duration=60.0, nat_fraction=0.5, seed=3)
