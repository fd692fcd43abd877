"""The built-in value inside an object: what a check compares, whatever the object claims.

Grading compares a learner's answers as the built-in values they hold, read with the
built-in types' own methods, so an overridden ``__eq__`` or ``__str__`` never takes part.
The test cells (:mod:`stickylab.grading`) and the boundary between a learner's kernel and
the grader (:mod:`stickylab.grade.wire`) use this one rule, so a check run in the
learner's kernel and the same check run by the grader agree.
"""

from __future__ import annotations

__all__ = ["builtin_value"]

_BUILTINS = ((bool, bool), (int, int.__int__), (float, float.__float__), (str, str.__str__), (bytes, bytes),
             (list, list), (tuple, tuple), (dict, lambda v: dict(dict.items(v))), (set, set),
             (frozenset, frozenset))


def builtin_value(value):
    """The plain value inside a subclass of a built-in type or a numpy number (None if neither).

    A ``numpy.float64`` share is a float, an ``IntEnum`` an int, an ``OrderedDict`` a dict:
    the value the built-in type holds, read with the built-in type's own methods.
    """
    for base, plain in _BUILTINS:
        if isinstance(value, base):
            return plain(value)
    if type(value).__module__ != "numpy":
        return None
    import numpy as np

    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return None
