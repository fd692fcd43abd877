"""The touchable ring: each action's moved keys are what the package's own ring computes."""

import numpy as np
import pytest

from stickylab import hashing
from stickylab import widgets as sw
from stickylab.widgets.ring_edits import PlacedRing, position

NODES = [f"n{k}" for k in range(4)]
KEYS = hashing.mix64(np.arange(60))


def _placed(ring: hashing.Ring) -> PlacedRing:
    return PlacedRing({n: ring.points[ring.owner == k].tolist() for k, n in enumerate(ring.nodes)})


@pytest.mark.parametrize("vnodes", [1, 4, 160])
def test_a_placed_ring_built_from_a_ring_s_points_answers_as_that_ring(vnodes):
    ring = hashing.Ring(NODES, vnodes=vnodes)
    placed = _placed(ring)
    many = hashing.mix64(np.arange(5000))
    assert (placed.lookup_many(many) == ring.lookup_many(many)).all()
    assert placed.lookup("user-7") == ring.lookup("user-7")
    assert placed.lookup_hash(int(many[3])) == ring.lookup_hash(int(many[3]))
    assert placed.arc_shares() == pytest.approx(ring.arc_shares())


@pytest.mark.parametrize("vnodes", [1, 4])
def test_adding_a_node_where_the_ring_hashes_it_moves_the_keys_the_ring_moves(vnodes):
    editor = sw.RingEditor(nodes=4, vnodes=vnodes, keys=60)
    change = editor.add()
    before, after = hashing.Ring(NODES, vnodes=vnodes), hashing.Ring([*NODES, "n4"], vnodes=vnodes)
    expected = before.lookup_many(KEYS) != after.lookup_many(KEYS)
    assert change.node == "n4" and (change.moved == expected).all() and expected.any()
    assert change.share == pytest.approx(hashing.moved_fraction(before, after, KEYS))
    assert set(change.after[change.moved]) == {"n4"}                 # keys move only to the new node
    assert change.circle == pytest.approx(after.arc_shares()["n4"])


def test_adding_a_node_at_a_place_moves_exactly_the_keys_on_the_arc_it_takes():
    editor = sw.RingEditor(nodes=4, vnodes=1, keys=60)
    ring = hashing.Ring(NODES, vnodes=1)
    at = 0.3
    change = editor.add(at=at)
    h = position(at)
    previous = max((p for p in ring.points.tolist() if p < h), default=int(ring.points[-1]))
    on_arc = ((KEYS > previous) & (KEYS <= h)) if previous < h else ((KEYS > previous) | (KEYS <= h))
    assert (change.moved == on_arc).all() and on_arc.any()
    assert editor.points["n4"] == [h] and change.at == at


def test_removing_a_node_moves_its_keys_and_no_other():
    editor = sw.RingEditor(nodes=4, vnodes=4, keys=60)
    change = editor.remove("n2")
    before, after = hashing.Ring(NODES, vnodes=4), hashing.Ring(["n0", "n1", "n3"], vnodes=4)
    assert (change.moved == (before.lookup_many(KEYS) == "n2")).all()
    assert (change.after == after.lookup_many(KEYS)).all()
    assert change.circle == pytest.approx(before.arc_shares()["n2"])


def _by_hand(points: dict, key: int) -> str:
    """The node of the first point at or after ``key`` clockwise, wrapping past the top."""
    ahead = [(p, n) for n, ps in points.items() for p in ps if p >= key]
    return min(ahead)[1] if ahead else min((p, n) for n, ps in points.items() for p in ps)[1]


def test_moving_a_point_moves_the_keys_whose_first_point_clockwise_changed():
    editor = sw.RingEditor(nodes=4, vnodes=1, keys=60)
    start = editor.points["n0"][0] / 2**64
    before = [_by_hand(editor.points, int(k)) for k in KEYS]
    change = editor.move("n0", (start + 0.1) % 1)
    after = [_by_hand(editor.points, int(k)) for k in KEYS]
    assert list(change.after) == after and list(change.before) == before
    assert (change.moved == (np.array(before) != np.array(after))).all() and change.moved.any()
    sample = hashing.mix64(np.arange(20_000))       # the circle that changed node, estimated
    old = {**editor.points, "n0": [int(start * 2**64)]}
    changed = np.mean([_by_hand(old, int(h)) != _by_hand(editor.points, int(h)) for h in sample])
    assert change.circle == pytest.approx(changed, abs=0.015) and change.circle > 0
    # Moving it back puts every key back.
    back = editor.move("n0", start)
    assert (back.moved == change.moved).all() and list(back.after) == before


@pytest.mark.parametrize("action, args, message", [
    ("jump", {}, "unknown action 'jump'"),
    ("remove", {"node": "n9"}, "no node 'n9'"),
    ("move", {"node": "n0", "to": 1.5}, "got 1.5"),
    ("move", {"node": "n0", "to": 0.2, "point": 3}, "point=3"),
    ("add", {"at": float("nan")}, "got nan"),
    ("add", {"node": "n1"}, "node='n1'"),
    ("move", {"node": "n0", "too": 0.2}, "too"),
])
def test_invalid_actions_are_refused_by_name_and_change_nothing(action, args, message):
    editor = sw.RingEditor(nodes=4, vnodes=1, keys=60)
    points = dict(editor.points)
    with pytest.raises(ValueError, match=message):
        editor.act(action, **args)
    assert editor.points == points and editor.last is None


def test_a_taken_place_and_the_last_node_are_refused():
    editor = sw.RingEditor(nodes=1, vnodes=1, keys=10)
    with pytest.raises(ValueError, match="only node"):
        editor.remove("n0")
    editor.add(at=0.5)
    with pytest.raises(ValueError, match="already sits at 180.00°"):
        editor.add(at=0.5)
    for name, value in (("nodes", 0), ("vnodes", 2.0), ("keys", -1)):
        with pytest.raises(ValueError, match=f"{name}={value!r}"):
            sw.RingEditor(**{name: value})


def test_the_widget_answers_the_browser_s_messages_and_shows_refusals():
    widget = sw.TouchRing(nodes=4, vnodes=1, keys=60)
    assert widget.picture["last"] is None and len(widget.picture["nodes"]) == 4
    widget._on_message(widget, {"action": "add", "at": 0.3}, [])    # what a click on the ring sends
    last = widget.picture["last"]
    expected = sw.RingEditor(nodes=4, vnodes=1, keys=60).add(at=0.3)
    assert last["moved"] == int(expected.moved.sum()) and last["share"] == expected.share
    assert widget.picture["moved"] == expected.moved.tolist() and widget.error == ""
    assert [n["id"] for n in widget.picture["nodes"]] == ["n0", "n1", "n2", "n3", "n4"]
    widget._on_message(widget, {"action": "add", "at": 0.3}, [])    # the same place again
    assert "already sits" in widget.error and len(widget.picture["nodes"]) == 5
    widget._on_message(widget, ["add"], [])
    assert "not an action" in widget.error
    widget.remove("n4")
    assert widget.error == "" and widget.picture["last"]["action"] == "remove"
    with pytest.raises(ValueError, match="no node 'n4'"):                # from Python, it raises
        widget.remove("n4")
    widget.move("n0", 0.77)
    widget._on_message(widget, {"action": "reset"}, [])                 # "Start again"
    fresh = sw.TouchRing(nodes=4, vnodes=1, keys=60)
    assert widget.picture == fresh.picture and widget.editor.last is None
