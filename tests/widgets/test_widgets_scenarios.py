"""Dashboards over a scenario keep their last runs (functools.lru_cache) and press their buttons by name."""

import ipywidgets as w

import stickylab as sl
from stickylab import widgets as sw

SC = sl.Scenario(users=150, instances=3, duration=120.0, seed=3)


def test_a_knob_coming_back_reuses_its_run_and_an_unhashable_knob_reruns():
    tags = w.Dropdown(options=[("red", ["red"]), ("blue", ["blue"])], value=["red"])
    dash = sw.scenario_dashboard(SC, {"rr": lambda tags: sl.routers.RoundRobin()},
                                 {"tags": tags, "users": sw.int_slider("users", 150, 100, 200, 50)})
    first = dash.results["rr"]
    dash.controls["users"].value = 200
    dash.controls["users"].value = 150
    dash.update()
    assert dash.results["rr"] is not first            # a list is no cache key: simulated again
    assert dash.results["rr"].summary() == first.summary()
    plain = sw.scenario_dashboard(SC, {"rr": "RoundRobin"},
                                  {"users": sw.int_slider("users", 150, 100, 200, 50)})
    again = plain.results["rr"]
    plain.controls["users"].value = 200
    plain.controls["users"].value = 150
    assert plain.results["rr"] is again


def test_event_buttons_are_pressed_by_name_and_a_refusal_is_said():
    dash = sw.scenario_dashboard(SC, {"CookieInsert": "CookieInsert"}, events=True)
    controls = dash.event_controls
    assert {"at", "instance", "detect", "fail", "drain", "remove", "recover", "add", "clear"} == set(controls)
    controls["instance"].value = "i2"
    controls["at"].value = 60.0
    controls.press("fail")
    assert dash.events() == [sl.Fail("i2", at=60.0)]
    controls.press("fail")
    assert "i2&#x27; is failed" in dash.status.value and dash.events() == [sl.Fail("i2", at=60.0)]
    controls.press("add")
    assert dash.actions[-1] == ("add", 60.0, None) and controls.picked() == "i2"
    assert list(controls["instance"].options) == [sw.AUTO, "i0", "i1", "i2", "i3"]
