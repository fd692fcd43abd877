"""The trace's layout: one integer per request, packing who served it and what happened.

A code is ``(instance index << OUTCOME_BITS) | outcome flags``. The low
``OUTCOME_BITS`` bits hold the flags below; the bits above hold the index of the
instance that served the request, in creation order, or ``NO_INSTANCE`` (-1) for a
request no instance served. The engine writes codes as it runs; :func:`split` turns an
array of them into the two arrays a :class:`~stickylab.Result` keeps.
"""

from __future__ import annotations

import numpy as np

__all__ = ["FAILED", "HIT", "LOST", "NEEDED", "NO_INSTANCE", "OUTCOME_BITS", "OUTCOME_MASK", "pack",
           "split"]

#: Outcome flags of one request.
HIT = 1      #: the user's data was in the serving instance's cache
NEEDED = 2   #: the request needed a session (every request of a visit but its login)
LOST = 4     #: it needed one and found none where it landed: the user was logged out
FAILED = 8   #: sent to a dead or unknown instance, or no instance could take it

#: How many low bits of a code hold the outcome flags, and the mask that keeps them.
OUTCOME_BITS = 4
OUTCOME_MASK = (1 << OUTCOME_BITS) - 1
#: The instance index of a request no instance served.
NO_INSTANCE = -1


def pack(index: int, flags: int) -> int:
    """The code of one request: served by instance number ``index`` (or ``NO_INSTANCE``), with ``flags``."""
    return (index << OUTCOME_BITS) | flags


def split(codes) -> tuple[np.ndarray, np.ndarray]:
    """Per request, the instance index (int32, -1 if none) and the outcome flags (int8) of ``codes``."""
    codes = np.asarray(codes, dtype=np.int32)
    return codes >> OUTCOME_BITS, (codes & OUTCOME_MASK).astype(np.int8)
