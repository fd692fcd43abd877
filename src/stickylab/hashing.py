"""Hashing that routes the same way in every process.

Python's built-in ``hash()`` of ``str`` and ``bytes`` is salted per process
(``PYTHONHASHSEED``), so a router built on it sends a client elsewhere after every
restart. Everything in StickyLab hashes with :func:`stable_hash` instead.
"""

from __future__ import annotations

from hashlib import blake2b

__all__ = ["stable_hash"]

_MASK64 = (1 << 64) - 1


def _key_bytes(key) -> bytes:
    if isinstance(key, bytes):
        return key
    if isinstance(key, str):
        return key.encode("utf-8")
    if isinstance(key, int) and not isinstance(key, bool):
        return key.to_bytes(16, "little", signed=True)
    raise TypeError(f"stable_hash takes str, bytes or int keys, got {type(key).__name__} {key!r}")


def stable_hash(key: str | bytes | int, seed: int = 0) -> int:
    """A 64-bit unsigned hash of ``key`` that is the same in every process and on every machine.

    BLAKE2b with an 8-byte digest; ``seed`` picks an independent hash function
    (used by schemes that need several, such as Maglev and rendezvous hashing).
    """
    if seed:
        h = blake2b(_key_bytes(key), digest_size=8, salt=(seed & _MASK64).to_bytes(16, "little"))
    else:
        h = blake2b(_key_bytes(key), digest_size=8)
    return int.from_bytes(h.digest(), "little")
