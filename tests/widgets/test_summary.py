"""The dashboards' summary table: one row per run, and a footnote that defines every column."""

import re

import numpy as np
import pytest

import stickylab as sl
from stickylab import widgets as sw
from stickylab.widgets.summary import COLUMN_MEANINGS

SC = sl.Scenario(users=200, instances=3, duration=60.0, seed=3)


@pytest.fixture(scope="module")
def table():
    return sw.summary_html({"RoundRobin": sl.simulate(SC, "RoundRobin")},
                           {"CookieInsert": sl.simulate(SC, "CookieInsert")}, "baseline")


def test_every_column_is_defined_in_the_footnote_under_the_table(table):
    head = re.findall(r"<th style='padding:0 8px'>([^<]+)</th>", table)
    footnote = table.split("</table>", 1)[1]
    assert head and set(head) == set(COLUMN_MEANINGS)
    for name in head:
        assert f"<i>{name}</i>: {COLUMN_MEANINGS[name]}" in footnote, name


def test_the_footnote_follows_the_rows_once(table):
    assert table.count("</table>") == 1 and table.rstrip().endswith(".</div>")
    assert table.index("baseline: CookieInsert") < table.index("</table>")


def test_the_busiest_column_is_the_metric_the_footnote_defines():
    """busiest / mean divides by every instance that existed, even for part of the run."""
    res = sl.simulate(SC, "CookieInsert", events=[sl.ScaleOut(at=30.0)])
    counts = np.array(list(res.per_instance_requests().values()))
    assert len(counts) == 4
    shown = f"{counts.max() / counts.mean():.2f}"
    assert f"<td style='padding:0 8px;text-align:right'>{shown}</td>" in sw.summary_html({"c": res})
    assert "every instance that existed" in COLUMN_MEANINGS["busiest / mean"]
