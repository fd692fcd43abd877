"""What the views a learner plays and touches cost: the flow view's data per run, the ring per action.

The flow view (``widgets.FlowView``): for runs from lesson 7's size to ten times its users and
twice its length, the time to build one run's data in Python and the bytes of typed arrays
sent to the browser (bounded by the sample of users and ``max_dots``, whatever the run's
size). The touchable ring (``widgets.TouchRing``): the median time Python takes to answer
one action (add, move, remove) and recompute the picture, and the picture's size as JSON.

    python benchmarks/bench_touch_widgets.py
"""

import json
import statistics
import time

import stickylab as sl
from stickylab import widgets as sw
from stickylab.widgets.flow_data import wire_bytes

RUNS = {"lesson 7 (1,500 users, 300 s)": sl.Scenario(users=1500, instances=4, duration=300.0, seed=1),
        "15,000 users, 600 s, 8 instances": sl.Scenario(users=15_000, instances=8, duration=600.0, seed=1)}


def flow() -> None:
    print(f"{'flow view: run':36} {'requests':>9} {'dots':>7} {'build ms':>9} {'sent KB':>8}")
    for name, sc in RUNS.items():
        res = sl.simulate(sc, "CookieInsert", events=[sl.Fail("i0", at=sc.duration / 2)])
        t0 = time.perf_counter()
        frames = sw.flow_frames(res)
        built = (time.perf_counter() - t0) * 1000
        print(f"{name:36} {len(res.times):>9,} {len(frames.time):>7,} {built:>9.0f} "
              f"{wire_bytes(frames.wire()) / 1024:>8.0f}")


def ring(keys: int, rounds: int = 30) -> None:
    widget = sw.TouchRing(nodes=4, vnodes=1, keys=keys)
    times = []
    for k in range(rounds):
        for action in ({"action": "add", "at": (0.1 + k * 0.0137) % 1},
                       {"action": "move", "node": "n0", "to": (0.5 + k * 0.0071) % 1},
                       {"action": "remove", "node": "n4"}):
            t0 = time.perf_counter()
            widget._on_message(widget, action, [])          # what the browser's message does
            times.append((time.perf_counter() - t0) * 1000)
            assert widget.error == "", widget.error
    size = len(json.dumps(widget.picture))
    print(f"ring, {keys:>5} keys: median {statistics.median(times):.1f} ms per action "
          f"(max {max(times):.1f}), picture {size / 1024:.1f} KB of JSON")


if __name__ == "__main__":
    flow()
    for keys in (60, 2000):
        ring(keys)
