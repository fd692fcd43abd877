"""Showing a widget: displayed in a notebook's kernel; anywhere else (tests, scripts) nothing happens."""

from __future__ import annotations

__all__ = ["in_notebook", "show"]


def in_notebook() -> bool:
    """True inside a Jupyter kernel (an IPython shell with a kernel)."""
    try:
        from IPython import get_ipython
    except ImportError:         # pragma: no cover - IPython comes with ipywidgets
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def show(widget) -> None:
    """Display ``widget`` when running in a notebook."""
    if in_notebook():
        from IPython.display import display
        display(widget)
