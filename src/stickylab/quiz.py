"""Answers to reveal, quizzes that check themselves, and a decision to defend with a simulation.

Everything here runs in the learner's kernel: no grading server, immediate feedback.

- :func:`reveal` and :func:`answers`: a collapsed panel per "Your turn" question, opened
  after trying. The notebook computes the numbers and writes them into the text.
- :class:`Choice` (multiple choice) and :class:`Numeric` (a number within a tolerance)
  check an answer as soon as it is given, and explain; :class:`Quiz` keeps the score.
- :class:`Decision`: a system described in words, a set of affinity methods, and
  requirements measured on :func:`stickylab.simulate` runs. The learner picks a method and
  runs it; :meth:`Decision.check` compares that run with the requirements and with every
  other method.

Each class has a plain ``check`` method that returns the verdict and its explanation, so
tests (and learners without a widget manager) get the same feedback as the widgets.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import ipywidgets as w

from .engine import simulate
from .events import Event
from .metrics import Result
from .routers import Router
from .scenario import Scenario

__all__ = ["Choice", "Decision", "Numeric", "Option", "Quiz", "Requirement", "answers", "reveal",
           "to_html"]

_RIGHT, _WRONG = "#1a7f37", "#b42318"


# -- text ----------------------------------------------------------------------------------------
def _inline(text: str) -> str:
    """Escape HTML, then `code`, **bold** and *italic*."""
    text = html.escape(text, quote=False)
    text = re.sub(r"`([^`]+)`", r"<code>\1</code>", text)
    text = re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", text)
    return re.sub(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])", r"<i>\1</i>", text)


def to_html(text: str) -> str:
    """A little Markdown as HTML: paragraphs, ``- `` lists, `code`, **bold**, *italic*.

    Enough for answers and explanations; anything else is shown as plain, escaped text.
    """
    blocks = []
    for block in re.split(r"\n\s*\n", str(text).strip()):
        lines = [line.strip() for line in block.splitlines()]
        first = next((k for k, line in enumerate(lines) if line.startswith("- ")), len(lines))
        if first:
            blocks.append(f"<p>{_inline(' '.join(lines[:first]))}</p>")
        items: list[list[str]] = []
        for line in lines[first:]:
            if line.startswith("- "):
                items.append([line[2:]])
            else:
                items[-1].append(line)
        if items:
            blocks.append("<ul>" + "".join(f"<li>{_inline(' '.join(i))}</li>" for i in items) + "</ul>")
    return "".join(blocks)


def _verdict_html(right: bool, text: str) -> str:
    colour, mark = (_RIGHT, "Right.") if right else (_WRONG, "Not quite.")
    return f'<div style="color:{colour}"><b>{mark}</b></div>{to_html(text)}'


# -- reveal ----------------------------------------------------------------------------------------
def answers(panels: Mapping[str, str]) -> w.Accordion:
    """One collapsed panel per question, ``{title: answer text}``; a click opens one.

    Write the numbers the notebook measured into the text (an f-string), so the answer
    shown is the one the learner's own run gives.
    """
    if not panels:
        raise ValueError("answers() needs at least one {title: text} panel")
    children = [w.HTML(to_html(text)) for text in panels.values()]
    box = w.Accordion(children=children, titles=tuple(panels), selected_index=None)
    box.layout.width = "100%"
    return box


def reveal(text: str, title: str = "Show the answer (try it first)") -> w.Accordion:
    """A single collapsed answer: :func:`answers` with one panel."""
    return answers({title: text})


# -- questions -------------------------------------------------------------------------------------
class _Question:
    """What :class:`Choice` and :class:`Numeric` share: a prompt, feedback, and the last verdict."""

    def __init__(self, question: str, explanation: str):
        if not question:
            raise ValueError("a question needs its text")
        self.question, self.explanation = question, explanation
        self.correct: bool | None = None        # None until answered
        self.feedback = w.HTML()
        self._listeners: list[Callable[[], None]] = []

    def _show(self, value) -> tuple[bool, str]:
        right, message = self.check(value)
        self.correct = right
        self.feedback.value = _verdict_html(right, message)
        for listener in self._listeners:
            listener()
        return right, message

    def check(self, value) -> tuple[bool, str]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _ipython_display_(self) -> None:
        from IPython.display import display
        display(self.widget)


class Choice(_Question):
    """Multiple choice: pick one option and see at once whether it is right, and why.

    Args:
        question: the question, a little Markdown.
        options: the options shown.
        answer: the right option (its text, or its index).
        explanation: why the answer is right, shown after any answer.
        why: optional ``{option: text}`` saying what is wrong with a wrong option.
    """

    def __init__(self, question: str, options: Sequence[str], answer: str | int, explanation: str,
                 why: Mapping[str, str] | None = None):
        super().__init__(question, explanation)
        self.options = [str(o) for o in options]
        if len(self.options) < 2 or len(set(self.options)) != len(self.options):
            raise ValueError(f"a choice needs two or more distinct options, got {self.options!r}")
        if isinstance(answer, int) and not isinstance(answer, bool):
            if not 0 <= answer < len(self.options):
                raise ValueError(f"answer index {answer} is not an option")
            answer = self.options[answer]
        if answer not in self.options:
            raise ValueError(f"the answer {answer!r} is not one of the options {self.options!r}")
        self.answer = answer
        self.why = dict(why or {})
        unknown = set(self.why) - set(self.options)
        if unknown:
            raise ValueError(f"why= explains options that are not offered: {sorted(unknown)}")
        self.buttons = w.RadioButtons(options=self.options, value=None, layout={"width": "max-content"})
        self.buttons.observe(lambda change: self._show(change["new"]), names="value")

    def check(self, value: str) -> tuple[bool, str]:
        """(right?, explanation) for the option ``value``."""
        if value not in self.options:
            return False, f"Pick one of the options: {', '.join(self.options)}."
        if value == self.answer:
            return True, self.explanation
        return False, " ".join(filter(None, [self.why.get(value, ""), self.explanation]))

    @property
    def widget(self) -> w.Widget:
        """The question, its options and the feedback."""
        return w.VBox([w.HTML(to_html(self.question)), self.buttons, self.feedback])


def _number(value) -> float | None:
    """A number from what the learner typed: ``80``, ``80 %``, ``1,234.5``; None if it is none."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) if math.isfinite(value) else None
    text = str(value).strip().replace(",", "").rstrip("%").strip()
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


class Numeric(_Question):
    """A number, right within ``tolerance`` of ``answer``; the feedback says too high or too low.

    Args:
        question: the question, a little Markdown (say which unit to answer in).
        answer: the right number, computed in the notebook.
        tolerance: how far from ``answer`` still counts as right (absolute).
        explanation: how to get the answer, shown after any answer.
        unit: shown after the number in the feedback (``"%"``, ``"ms"``).
    """

    def __init__(self, question: str, answer: float, tolerance: float, explanation: str, unit: str = ""):
        super().__init__(question, explanation)
        answer, tolerance = _number(answer), _number(tolerance)
        if answer is None:
            raise ValueError("the answer must be a finite number")
        if tolerance is None or tolerance < 0:
            raise ValueError("the tolerance must be a finite number >= 0")
        self.answer, self.tolerance, self.unit = answer, tolerance, unit
        self.text = w.Text(placeholder="a number", continuous_update=False, layout={"width": "12em"})
        self.button = w.Button(description="Check", icon="check")
        self.text.observe(lambda change: self._show(change["new"]), names="value")
        self.button.on_click(lambda _: self._show(self.text.value))

    def _fmt(self, x: float) -> str:
        digits = 0 if abs(x) >= 100 else (1 if abs(x) >= 10 else 2)
        return f"{x:.{digits}f}{' ' + self.unit if self.unit and self.unit != '%' else self.unit}"

    def check(self, value) -> tuple[bool, str]:
        """(right?, explanation) for ``value``, a number or the text typed."""
        number = _number(value)
        if number is None:
            return False, f"Type a number (you typed {str(value)!r})."
        if abs(number - self.answer) <= self.tolerance:
            return True, f"The measured value is {self._fmt(self.answer)}. {self.explanation}"
        side = "high" if number > self.answer else "low"
        return False, f"{self._fmt(number)} is too {side}. {self.explanation}"

    @property
    def widget(self) -> w.Widget:
        """The question, a box to type in, a Check button and the feedback."""
        return w.VBox([w.HTML(to_html(self.question)), w.HBox([self.text, self.button]), self.feedback])


class Quiz:
    """Questions in order, with a running score: ``Quiz([Choice(...), Numeric(...)])``."""

    def __init__(self, questions: Sequence[_Question], title: str = ""):
        self.questions = list(questions)
        if not self.questions or not all(isinstance(q, _Question) for q in self.questions):
            raise TypeError("a Quiz takes a list of Choice and Numeric questions")
        self.title = title
        self.score_line = w.HTML()
        for q in self.questions:
            q._listeners.append(self._rescore)
        self._rescore()

    def score(self) -> tuple[int, int]:
        """(right, asked): questions answered right so far, and how many there are."""
        return sum(q.correct is True for q in self.questions), len(self.questions)

    def _rescore(self) -> None:
        right, total = self.score()
        answered = sum(q.correct is not None for q in self.questions)
        self.score_line.value = (f"<b>{right} of {total} right</b> ({answered} answered)"
                                 + (" — all of them." if right == total else ""))

    @property
    def widget(self) -> w.Widget:
        """The questions, numbered, then the score."""
        parts = [w.HTML(f"<h3>{html.escape(self.title)}</h3>")] if self.title else []
        for k, q in enumerate(self.questions, 1):
            parts += [w.HTML(f"<b>Question {k}</b>"), q.widget]
        return w.VBox([*parts, self.score_line])

    def _ipython_display_(self) -> None:
        from IPython.display import display
        display(self.widget)


# -- a decision, defended with a simulation --------------------------------------------------------
@dataclass(frozen=True)
class Requirement:
    """One measurable requirement: ``metric(result)`` at most (or at least) ``limit``.

    Attributes:
        label: what is required, in words ("at most 2 % of requests logged out").
        metric: a function of a :class:`~stickylab.Result` giving a number.
        limit: the bound.
        at_least: True if the metric must be at least ``limit`` (default: at most).
        fmt: how to show the metric (a format spec, ``".1%"``).
        unit: written after the number (``" ms"``).
    """

    label: str
    metric: Callable[[Result], float]
    limit: float
    at_least: bool = False
    fmt: str = ".3g"
    unit: str = ""

    def show(self, result: Result) -> str:
        """The metric on ``result``, formatted, with its unit."""
        return format(self.value(result), self.fmt) + self.unit

    def value(self, result: Result) -> float:
        """The metric on ``result``."""
        return float(self.metric(result))

    def met(self, result: Result) -> bool:
        """True if ``result`` meets the requirement."""
        v = self.value(result)
        return v >= self.limit if self.at_least else v <= self.limit


@dataclass(frozen=True)
class Option:
    """An affinity method the learner may choose: a router, and what it changes in the system.

    Attributes:
        router: makes a fresh router from :mod:`stickylab.routers`.
        changes: fields of the scenario this option changes (``{"session_store": "external"}``).
        note: a sentence on the option, shown in the feedback.
    """

    router: Callable[[], Router]
    changes: Mapping | None = None
    note: str = ""


class Decision:
    """Choose an affinity method for a system described in words, and defend it with a run.

    Args:
        system: the scenario that stands for the system.
        options: ``{name: Option}`` (a bare router factory is taken as ``Option(factory)``).
        requirements: what the system needs, each measured on a run.
        events: what happens during the run (a failure, a scale-out), the same for every option.
        description: the system in words.
    """

    def __init__(self, system: Scenario, options: Mapping[str, Option | Callable[[], Router]],
                 requirements: Sequence[Requirement], events: Sequence[Event] = (), description: str = ""):
        if not isinstance(system, Scenario):
            raise TypeError(f"system must be a stickylab.Scenario, got {system!r}")
        self.system, self.events, self.description = system, list(events), description
        self.options = {name: o if isinstance(o, Option) else Option(o) for name, o in options.items()}
        if len(self.options) < 2:
            raise ValueError("a decision needs at least two options")
        self.requirements = list(requirements)
        if not self.requirements:
            raise ValueError("a decision needs at least one requirement")
        self._runs: dict[str, Result] = {}
        self.picker = w.Dropdown(options=list(self.options), value=None, description="method")
        self.button = w.Button(description="Simulate and check", icon="play", layout={"width": "auto"})
        self.output = w.HTML()
        self.button.on_click(lambda _: self._on_click())

    def scenario(self, name: str) -> Scenario:
        """The system as option ``name`` runs it (with its changes)."""
        return self.system.replace(**dict(self.options[self._known(name)].changes or {}))

    def _known(self, name: str) -> str:
        if name not in self.options:
            raise ValueError(f"unknown method {name!r}; choose one of: {', '.join(self.options)}")
        return name

    def run(self, name: str) -> Result:
        """The simulation of option ``name`` on the system (computed once, then kept)."""
        if name not in self._runs:
            self._runs[name] = simulate(self.scenario(name), self.options[self._known(name)].router(),
                                        events=self.events)
        return self._runs[name]

    def measure(self) -> dict[str, dict[str, float]]:
        """``{option: {requirement label: value}}`` for every option."""
        return {name: {r.label: r.value(self.run(name)) for r in self.requirements} for name in self.options}

    def passing(self) -> list[str]:
        """The options whose run meets every requirement."""
        return [name for name in self.options if all(r.met(self.run(name)) for r in self.requirements)]

    def _same_run(self, name: str, result: Result) -> str:
        """Why ``result`` is not a run of option ``name`` on this system ("" if it is)."""
        expected = self.options[name].router()
        if result.scenario != self.scenario(name):
            return ("your simulation ran a different scenario from the system described "
                    f"(use `decision.scenario({name!r})`).")
        if type(result.router) is not type(expected) or result.router.label() != expected.label():
            return f"your simulation ran {result.router.label()}, not the {name} option."
        if [repr(e) for e in result.events] != [repr(e) for e in self.events]:
            return "your simulation did not apply the system's events (use `events=decision.events`)."
        return ""

    def check(self, name: str, result: Result | None = None) -> tuple[bool, str]:
        """(passes?, feedback) for choosing ``name``, measured on ``result`` (or the checker's own run).

        The feedback lists each requirement with the measured value, and names the
        options that meet them all, so a wrong choice says which would have done better.
        """
        name = self._known(name)
        if result is not None:
            problem = self._same_run(name, result)
            if problem:
                return False, "This run does not defend the choice: " + problem
        res = self.run(name) if result is None else result
        lines, ok = [], True
        for r in self.requirements:
            met = r.met(res)
            ok &= met
            lines.append(f"- {'✓' if met else '✗'} {r.label}: measured {r.show(res)}")
        good = self.passing()
        if ok:
            others = [g for g in good if g != name]
            tail = f"Also meeting every requirement: {', '.join(others)}." if others else \
                "No other method meets every requirement."
            head = f"**{name}** meets every requirement."
        else:
            tail = (f"Meeting every requirement: {', '.join(good)}." if good
                    else "No method meets every requirement: the system itself has to change.")
            head = f"**{name}** misses at least one requirement."
        note = self.options[name].note
        return ok, "\n".join([head, "", *lines, "", *([note, ""] if note else []), tail])

    def verdict(self, name: str, result: Result | None = None) -> w.HTML:
        """:meth:`check` as a widget: the verdict in colour, the requirements, the better options."""
        ok, message = self.check(name, result)
        return w.HTML(_verdict_html(ok, message))

    def table_html(self) -> str:
        """Every option's measured values, requirements met in green, missed in red."""
        pad = 'style="padding:2px 12px;text-align:left"'
        head = "".join(f"<th {pad}>{html.escape(r.label)}</th>" for r in self.requirements)
        rows = []
        for name in self.options:
            res = self.run(name)
            cells = "".join(
                f'<td style="padding:2px 12px;color:{_RIGHT if r.met(res) else _WRONG}">'
                f'{html.escape(r.show(res))}</td>'
                for r in self.requirements)
            rows.append(f"<tr><td {pad}>{html.escape(name)}</td>{cells}</tr>")
        return f"<table><tr><th {pad}>method</th>{head}</tr>{''.join(rows)}</table>"

    def _on_click(self) -> None:
        if self.picker.value is None:
            self.output.value = to_html("Choose a method first.")
            return
        ok, message = self.check(self.picker.value)
        self.output.value = _verdict_html(ok, message) + "<p>Every method, measured:</p>" + self.table_html()

    @property
    def widget(self) -> w.Widget:
        """The description, the method picker, a button that runs and checks it, and the verdict."""
        return w.VBox([w.HTML(to_html(self.description)), w.HBox([self.picker, self.button]), self.output])

    def _ipython_display_(self) -> None:
        from IPython.display import display
        display(self.widget)
