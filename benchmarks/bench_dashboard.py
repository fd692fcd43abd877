"""How fast the course's dashboards answer: one update = simulate + redraw + render, as a click does.

Builds the dashboards of the lessons on their default settings and calls ``update()``, the
method every widget callback calls, several times each (Agg backend, no browser). Prints the
median and 90th percentile of a full update, and of the redraw alone. The target: a median
update of at most 100 ms, a 90th percentile of at most 150 ms.

The last column moves one knob to a value not run before on every update (a new simulation
each time, and usually new axis limits, so a full draw): what a student waits for after
dragging a slider somewhere new. It is reported, not held to the target.

    python benchmarks/bench_dashboard.py [repeats]
"""

import os
import statistics
import sys
import time

os.environ.setdefault("MPLBACKEND", "Agg")

import stickylab as sl  # noqa: E402
from stickylab import viz  # noqa: E402
from stickylab import widgets as sw  # noqa: E402

TARGET_MS = 100.0
TARGET_P90_MS = 150.0
SC = sl.Scenario(users=1000, instances=4, duration=300.0, seed=1)


def lesson1():
    return sw.scenario_dashboard(
        SC, {n: n for n in ["RoundRobin", "Random", "LeastConnections", "CookieInsert"]},
        {"instances": sw.int_slider("instances", 4, 1, 12),
         "users": sw.int_slider("users", 1000, 100, 2000, 100)},
        panels=[sw.panel(viz.plot_request_sequence, users=6, until=150),
                sw.panel(viz.plot_losses_over_time, which=None)])


def lesson3_after_a_crash():
    dash = sw.scenario_dashboard(
        SC, {"redispatch": lambda: sl.routers.CookieInsert()},
        {"cookie_drop_fraction": sw.float_slider("clients without cookies", 0.0, 0.0, 1.0)},
        panels=[sw.panel(viz.plot_losses_over_time, which=None),
                sw.panel(viz.plot_losses_over_time, which=None, what="failed")], events=True)
    dash.fail_instance()
    return dash


def lesson6_skewed():
    return sw.scenario_dashboard(
        SC.replace(users=1500),
        {n: n for n in ["CookieInsert", "RoundRobin", "LeastConnections"]},
        {"skew": sw.float_slider("skew", 1.0, 0.0, 1.5, 0.1)},
        panels=[sw.panel(viz.plot_load_over_time), sw.panel(viz.plot_latency_cdf, which=None)],
        events=True)


def lesson9_hashing():
    return sw.hashing_dashboard()


#: The knob each dashboard's last column moves, and values it has not run with yet.
KNOBS = {"lesson 1 (stateless)": ("users", range(100, 2001, 100)),
         "lesson 3 (after a crash)": ("cookie_drop_fraction", [k / 20 for k in range(1, 21)]),
         "lesson 6 (1500 skewed users)": ("skew", [k / 10 for k in range(16) if k != 10]),
         "lesson 9 (50k keys)": ("nodes", range(5, 31))}


def measure_knob(dash, name, values, repeats):
    times = []
    for value in [v for v in values if v != dash.controls[name].value][:repeats]:
        start = time.perf_counter()
        dash.controls[name].value = value           # as the slider does when released
        times.append(time.perf_counter() - start)
    return times


def measure(dash, repeats):
    full, redraw = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        dash.update()
        full.append(time.perf_counter() - start)
        start = time.perf_counter()
        dash.redraw()
        redraw.append(time.perf_counter() - start)
    return full, redraw


def p90(values):
    return statistics.quantiles(values, n=10)[-1]


def main(repeats=15):
    print(f"dashboard update (simulate + redraw + PNG), {repeats} repeats, "
          f"target median {TARGET_MS:.0f} ms, p90 {TARGET_P90_MS:.0f} ms")
    print(f"{'dashboard':28s} {'median':>8s} {'p90':>8s} {'redraw':>8s} {'requests':>9s}  "
          f"{'new knob value: median':>22s} {'p90':>8s}")
    dashboards = [("lesson 1 (stateless)", lesson1), ("lesson 3 (after a crash)", lesson3_after_a_crash),
                  ("lesson 6 (1500 skewed users)", lesson6_skewed), ("lesson 9 (50k keys)", lesson9_hashing)]
    for name, build in dashboards:
        dash = build()
        full, redraw = measure(dash, repeats)
        results = dash.results
        size = (sum(r.summary()["requests"] for r in results.values())
                if all(isinstance(r, sl.Result) for r in results.values()) else "-")
        knob = measure_knob(dash, *KNOBS[name], repeats)
        over = (statistics.median(full) * 1000 > TARGET_MS or p90(full) * 1000 > TARGET_P90_MS)
        print(f"{name:28s} {statistics.median(full) * 1000:6.0f} ms {p90(full) * 1000:6.0f} ms "
              f"{statistics.median(redraw) * 1000:6.0f} ms {size!s:>9s}  "
              f"{statistics.median(knob) * 1000:19.0f} ms {p90(knob) * 1000:5.0f} ms"
              f"{'  over target' if over else ''}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 15)
