"""The headline numbers of a dashboard's runs, as a small HTML table; a baseline's in grey under them."""

from __future__ import annotations

from collections.abc import Mapping

from ..metrics import Result
from ..viz import users_logged_out

__all__ = ["summary_html", "users_logged_out"]

_COLUMNS = (("requests that lost their session", "session_loss_rate", "{:.1%}"),
            ("users logged out", "users_logged_out", "{:,}"),
            ("cache hits", "cache_hit_rate", "{:.1%}"), ("failed requests", "failed_requests", "{:,}"),
            ("busiest / mean", "max_mean_load", "{:.2f}"), ("p99 latency", "p99_latency", "{:.0f} ms"),
            ("affinity", "affinity", "{:.1%}"), ("requests", "requests", "{:,}"))


def _row(label: str, res: Result, style: str = "") -> str:
    s = res.summary()
    s["p99_latency"] *= 1000
    s["users_logged_out"] = users_logged_out(res)
    cells = "".join(f"<td style='padding:0 8px;text-align:right'>{fmt.format(s[key])}</td>"
                    for _, key, fmt in _COLUMNS)
    return f"<tr style='{style}'><td><b>{label}</b></td>{cells}</tr>"


def summary_html(results: Mapping[str, Result], baseline: Mapping[str, Result] | None = None,
                 baseline_name: str = "previous") -> str:
    """The headline metrics of each result as a small HTML table, one row per router.

    ``baseline`` runs follow in grey italics, named ``"<baseline_name>: <label>"``, so a
    change reads as two numbers one above the other.
    """
    head = "".join(f"<th style='padding:0 8px'>{name}</th>" for name, _, _ in _COLUMNS)
    rows = [_row(label, res) for label, res in results.items()]
    rows += [_row(f"{baseline_name}: {label}", res, "color:#777;font-style:italic")
             for label, res in (baseline or {}).items()]
    return f"<table><tr><th></th>{head}</tr>{''.join(rows)}</table>"
