"""The headline numbers of a dashboard's runs, as a small HTML table; a baseline's in grey under them.

A one-line footnote under the table says what each column counts, in the words of
:mod:`stickylab.metrics`, where each metric is computed.
"""

from __future__ import annotations

import html
from collections.abc import Mapping

from ..metrics import Result
from ..viz import users_logged_out

__all__ = ["COLUMN_MEANINGS", "summary_html", "users_logged_out"]

_COLUMNS = (("requests that lost their session", "session_loss_rate", "{:.1%}"),
            ("users logged out", "users_logged_out", "{:,}"),
            ("cache hits", "cache_hit_rate", "{:.1%}"), ("failed requests", "failed_requests", "{:,}"),
            ("busiest / mean", "max_mean_load", "{:.2f}"), ("p99 latency", "p99_latency", "{:.0f} ms"),
            ("affinity", "affinity", "{:.1%}"), ("requests", "requests", "{:,}"))

#: What each column of the table counts, shown as the table's footnote.
COLUMN_MEANINGS = {
    "requests that lost their session": "of the served requests that needed a session (all but a visit's "
                                        "first), those that found none where they landed",
    "users logged out": "distinct users with at least one such request",
    "cache hits": "served requests whose user's data was in that instance's cache",
    "failed requests": "requests no live instance served",
    "busiest / mean": "requests served by the busiest instance over the mean of every instance that "
                      "existed in the run (1 = even)",
    "p99 latency": "99 % of served requests were at least this fast",
    "affinity": "per user, the share of their requests their most-used instance served, averaged",
    "requests": "every request sent",
}


def _row(label: str, res: Result, style: str = "") -> str:
    s = res.summary()
    s["p99_latency"] *= 1000
    s["users_logged_out"] = users_logged_out(res)
    cells = "".join(f"<td style='padding:0 8px;text-align:right'>{fmt.format(s[key])}</td>"
                    for _, key, fmt in _COLUMNS)
    return f"<tr style='{style}'><td><b>{label}</b></td>{cells}</tr>"


def _footnote() -> str:
    def text(value: str) -> str:
        return html.escape(value, quote=False)

    said = "; ".join(f"<i>{text(name)}</i>: {text(COLUMN_MEANINGS[name])}" for name, _, _ in _COLUMNS)
    return f"<div style='font-size:85%;color:#555;margin-top:2px'>{said}.</div>"


def summary_html(results: Mapping[str, Result], baseline: Mapping[str, Result] | None = None,
                 baseline_name: str = "previous") -> str:
    """The headline metrics of each result as a small HTML table, one row per router.

    ``baseline`` runs follow in grey italics, named ``"<baseline_name>: <label>"``, so a
    change reads as two numbers one above the other. A footnote defines every column.
    """
    head = "".join(f"<th style='padding:0 8px'>{name}</th>" for name, _, _ in _COLUMNS)
    rows = [_row(label, res) for label, res in results.items()]
    rows += [_row(f"{baseline_name}: {label}", res, "color:#777;font-style:italic")
             for label, res in (baseline or {}).items()]
    return f"<table><tr><th></th>{head}</tr>{''.join(rows)}</table>{_footnote()}"
