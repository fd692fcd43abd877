"""Each setting's rule written beside its field, so that no field of a settings record goes unchecked.

A settings record (:class:`~stickylab.Scenario`, the events) declares every field with
:func:`ruled`, naming the rule that field obeys, and checks them all in ``__post_init__``
with :func:`check_fields`. A rule is a function ``rule(name, value)`` that returns the value
to keep (a numpy number becomes the Python number it equals) or raises ``ValueError`` or
``TypeError`` naming the field and the bad value: ``users must be a positive integer, got
users=0``. A field declared without a rule is a ``TypeError`` when the record is made.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import MISSING, Field, field, fields

import numpy as np

__all__ = ["RULE", "check_fields", "fraction", "non_negative", "one_of", "plain", "positive", "positive_int",
           "ruled"]

#: The key of a field's metadata that holds its rule.
RULE = "rule"

Rule = Callable[[str, object], object]


def ruled(rule: Rule, default=MISSING) -> Field:
    """A dataclass field that obeys ``rule`` (and has ``default``, if given)."""
    return field(default=default, metadata={RULE: rule})


def check_fields(record, context: str = "") -> None:
    """Run every field's rule on ``record``, keeping what each returns; ``context`` opens each error."""
    for f in fields(record):
        rule = f.metadata.get(RULE)
        if rule is None:
            raise TypeError(f"{type(record).__name__}.{f.name} has no rule: declare it with rules.ruled()")
        value = getattr(record, f.name)
        try:
            kept = rule(f.name, value)
        except (TypeError, ValueError) as exc:
            if not context:
                raise
            raise type(exc)(f"{context}: {exc}") from None
        if kept is not value:
            object.__setattr__(record, f.name, kept)


def plain(value):
    """A numpy number as the Python number it equals; anything else unchanged."""
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return value


def positive_int(name: str, value) -> int:
    """An integer >= 1 (bool is no integer here)."""
    value = plain(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {name}={value!r}")
    return value


def positive(name: str, value) -> float:
    """A finite number > 0."""
    value = plain(value)
    if isinstance(value, bool) or not isinstance(value, int | float) or not (
            value > 0 and math.isfinite(value)):
        raise ValueError(f"{name} must be a positive finite number, got {name}={value!r}")
    return value


def non_negative(name: str, value) -> float:
    """A finite number >= 0."""
    value = plain(value)
    if isinstance(value, bool) or not isinstance(value, int | float) or not (
            value >= 0 and math.isfinite(value)):
        raise ValueError(f"{name} must be a finite number >= 0, got {name}={value!r}")
    return value


def fraction(name: str, value) -> float:
    """A number in [0, 1]."""
    value = plain(value)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise ValueError(f"{name} must be a fraction in [0, 1], got {name}={value!r}")
    return value


def one_of(*options: str) -> Rule:
    """The rule of a field that takes one of ``options``."""
    said = " or ".join(map(repr, options))

    def rule(name: str, value):
        if not isinstance(value, str) or value not in options:
            raise ValueError(f"{name} must be {said}, got {name}={value!r}")
        return value

    return rule

