"""The controls that schedule a dashboard's events: when, which instance, how long a failure goes unseen."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

import ipywidgets as w

from .controls import STYLE, float_slider
from .schedule import AUTO

__all__ = ["BUTTONS", "EventControls"]

#: The event buttons: action, label, ipywidgets button style, icon.
BUTTONS = (("fail", "Fail", "danger", "bolt"), ("drain", "Drain", "warning", "pause"),
           ("remove", "Remove", "", "minus"), ("recover", "Recover", "success", "heart"),
           ("add", "Add an instance", "info", "plus"), ("clear", "Clear events", "", "undo"))


class EventControls(Mapping):
    """A dashboard's event controls, by name, and what their buttons do.

    The controls: ``"at"`` (the time slider), ``"instance"`` (the picker), ``"detect"``
    (the failure-detection delay), and the buttons ``"fail"``, ``"drain"``, ``"remove"``,
    ``"recover"``, ``"add"`` and ``"clear"``.

    Args:
        duration: the run's length in seconds (the time slider's end).
        detect: the detection delay it opens with.
        options: the instance picker's options.
        act: called with a button's action when it is clicked.
        on_detect: called with the detection delay when its slider moves.
        say: shows a refusal (an action that does not fit) instead of raising it.
    """

    def __init__(self, duration: float, detect: float, options: list[str], act: Callable[[str], None],
                 on_detect: Callable[[float], None], say: Callable[[str], None]):
        self._act, self._say = act, say
        at = float_slider("event at (s)", duration / 2, 0.0, duration, step=duration / 60,
                          readout_format=".0f")
        instance = w.Dropdown(options=options, value=AUTO, description="instance", style=STYLE,
                              layout={"width": "220px"})
        delay = float_slider("failure seen after (s)", detect, 0.0, max(30.0, detect), step=1.0,
                             readout_format=".0f")
        delay.observe(lambda change: on_detect(change["new"]), names="value")
        self._widgets: dict[str, w.Widget] = {"at": at, "instance": instance, "detect": delay}
        for kind, label, style, icon in BUTTONS:
            button = w.Button(description=label, button_style=style, icon=icon, layout={"width": "auto"})
            button.on_click(self._clicked(kind))
            self._widgets[kind] = button

    def __getitem__(self, name: str) -> w.Widget:
        """The control called ``name``."""
        return self._widgets[name]

    def __iter__(self) -> Iterator[str]:
        """The controls' names."""
        return iter(self._widgets)

    def __len__(self) -> int:
        """How many controls."""
        return len(self._widgets)

    def _clicked(self, kind: str) -> Callable:
        def on_click(_):
            try:
                self._act(kind)
            except ValueError as exc:       # an instance not in a state the action applies to
                self._say(str(exc))
        return on_click

    def press(self, kind: str) -> None:
        """Click the button of action ``kind`` (as the learner does)."""
        self._widgets[kind].click()

    def picked(self) -> str | None:
        """The instance picked, or None for :data:`~stickylab.widgets.schedule.AUTO`."""
        chosen = self._widgets["instance"].value
        return None if chosen == AUTO else chosen

    def offer(self, options: list[str]) -> None:
        """Offer these instances in the picker, keeping the one picked if it is still offered."""
        picker = self._widgets["instance"]
        if list(picker.options) != options:
            keep = picker.value if picker.value in options else AUTO
            picker.options = options
            picker.value = keep

    def rows(self) -> list[w.HBox]:
        """The controls laid out in two rows: the time, instance and delay, then the buttons."""
        b = self._widgets
        return [w.HBox([b["at"], b["instance"], b["detect"]]), w.HBox([b[k] for k, *_ in BUTTONS])]
