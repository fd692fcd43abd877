"""Hashing that routes the same way in every process, and the consistent-hashing schemes built on it.

Python's built-in ``hash()`` of ``str`` and ``bytes`` is salted per process
(``PYTHONHASHSEED``), so a router built on it sends a client elsewhere after every
restart. Everything in StickyLab hashes with :func:`stable_hash` instead.

The schemes map a key to one of a list of node ids:

- :class:`ModN`: ``nodes[h % N]``, HAProxy's map-based ``balance source``; changing N moves most keys.
- :class:`Ring`: Karger's ring with ``vnodes`` points per node (ketama; nginx ``hash $key consistent``).
- :class:`Rendezvous`: highest random weight (Thaler & Ravishankar; Traefik's ``hrw``).
- :class:`Jump`: Lamping & Veach's jump consistent hash (2014): no table, buckets numbered 0..N-1.
- :class:`Maglev`: the lookup table of Google's Maglev balancer (Eisenbud et al., NSDI 2016).
- :class:`BoundedLoad`: consistent hashing with bounded loads (Mirrokni, Thorup & Zadimoghaddam
  2016; HAProxy ``hash-balance-factor``, Envoy ``hash_balance_factor``).

Keys and hashes. ``lookup(key)`` takes a string key and hashes it with
:func:`stable_hash`. ``lookup_hash(h)`` takes a 64-bit hash you computed yourself.
``lookup_many(keys)`` takes either a sequence of strings (hashed with :func:`hash_keys`,
about half a microsecond per key) or a numpy ``uint64`` array of hashes, used as given.
For integer keys such as user numbers, :func:`mix64` (splitmix64) turns them into
well-spread hashes, vectorised. The paths agree exactly::

    s.lookup(k) == s.lookup_hash(stable_hash(k)) == s.lookup_many([k])[0]
    s.lookup_hash(mix64(i)) == s.lookup_many(mix64(np.array([i])))[0]
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from fractions import Fraction
from hashlib import blake2b
from numbers import Real

import numpy as np

__all__ = [
    "MAX_JUMP_BUCKETS", "SCHEMES", "BoundedLoad", "HashScheme", "Jump", "Maglev", "ModN",
    "Rendezvous", "Ring", "build", "check_options", "hash_keys", "jump_bucket", "jump_buckets",
    "load_shares", "mix64", "moved_fraction", "stable_hash",
]

_MASK64 = (1 << 64) - 1
_MAX_RING = 1 << 23          # Envoy's maximum_ring_size
_MAX_TABLE = 1 << 24


def _key_bytes(key) -> bytes:
    if isinstance(key, bytes):
        return key
    if isinstance(key, str):
        return key.encode("utf-8")
    if isinstance(key, int | np.integer) and not isinstance(key, bool):
        try:
            return int(key).to_bytes(16, "little", signed=True)
        except OverflowError:
            raise ValueError(f"stable_hash takes integers of at most 128 bits, got {key!r}") from None
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


# -- many keys at once -----------------------------------------------------------------------------
def hash_keys(keys: Iterable[str]) -> np.ndarray:
    """The :func:`stable_hash` of every string key, as a ``uint64`` array (same values, faster).

    Hashing is done in Python (about half a second per million keys); hash once and
    pass the array to ``lookup_many`` when the same keys are looked up again.
    """
    if isinstance(keys, str | bytes):
        raise TypeError(f"hash_keys takes a sequence of string keys, not one string: {keys!r}")
    if isinstance(keys, np.ndarray) and keys.dtype.kind not in "UO":
        raise TypeError(f"hash_keys takes string keys, got an array of dtype {keys.dtype}; "
                        "use mix64() for integer keys")
    keys = keys if isinstance(keys, Sequence | np.ndarray) else list(keys)
    try:
        digests = [blake2b(k.encode("utf-8"), digest_size=8).digest() for k in keys]
    except AttributeError:
        bad = next(k for k in keys if not isinstance(k, str))
        raise TypeError(f"keys must be strings, got {type(bad).__name__} {bad!r}; "
                        "use mix64() for integer keys") from None
    return np.frombuffer(b"".join(digests), dtype="<u8").astype(np.uint64)


_GOLDEN = 0x9E3779B97F4A7C15
_MIX1, _MIX2 = 0xBF58476D1CE4E5B9, 0x94D049BB133111EB
_U = np.uint64


def mix64(x):
    """splitmix64's output function: an integer (or integer array) to a well-spread 64-bit hash.

    A bijection on 64-bit values (Steele, Lea & Flood's SplitMix64 finaliser), so distinct
    keys never collide. Negative integers are taken modulo 2**64. Scalars give a Python
    ``int``, arrays a ``uint64`` array with the same values.
    """
    if isinstance(x, np.ndarray):
        if x.dtype.kind not in "iu":
            raise TypeError(f"mix64 takes integer arrays, got dtype {x.dtype}")
        with np.errstate(over="ignore"):
            z = x.astype(np.uint64) + _U(_GOLDEN)
            z = (z ^ (z >> _U(30))) * _U(_MIX1)
            z = (z ^ (z >> _U(27))) * _U(_MIX2)
            return z ^ (z >> _U(31))
    if isinstance(x, bool) or not isinstance(x, int | np.integer):
        raise TypeError(f"mix64 takes integers, got {type(x).__name__} {x!r}")
    z = (int(x) + _GOLDEN) & _MASK64
    z = ((z ^ (z >> 30)) * _MIX1) & _MASK64
    z = ((z ^ (z >> 27)) * _MIX2) & _MASK64
    return z ^ (z >> 31)


def _as_hashes(keys) -> np.ndarray:
    """A ``uint64`` hash array from string keys or from an array of precomputed hashes."""
    if isinstance(keys, np.ndarray) and keys.dtype.kind in "iu":
        if keys.dtype != np.uint64:
            raise TypeError(f"precomputed hashes must be a uint64 array, got dtype {keys.dtype}; "
                            "use mix64(keys) for integer keys or hash_keys(keys) for strings")
        return keys
    return hash_keys(keys)


def _check_hash(h) -> int:
    if isinstance(h, bool) or not isinstance(h, int | np.integer) or not 0 <= int(h) <= _MASK64:
        raise TypeError(f"a hash is an integer in [0, 2**64), got {h!r}")
    return int(h)


# -- checking what the schemes are built from ------------------------------------------------------
def _check_nodes(nodes) -> tuple[str, ...]:
    if isinstance(nodes, str | bytes):
        raise TypeError(f"nodes must be a list of node ids, not a single string {nodes!r}")
    try:
        nodes = tuple(nodes)
    except TypeError:
        raise TypeError(f"nodes must be a list of node ids, got {nodes!r}") from None
    if not nodes:
        raise ValueError("nodes is empty: a hashing scheme needs at least one node id")
    for node in nodes:
        if not isinstance(node, str):
            raise TypeError(f"node ids must be strings, got {type(node).__name__} {node!r}")
    seen: set[str] = set()
    dupes = sorted({n for n in nodes if n in seen or seen.add(n)})
    if dupes:
        raise ValueError(f"duplicate node id(s) {dupes} in nodes {list(nodes)}")
    return nodes


def _check_int(name: str, value, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {name}={value!r}")
    return int(value)


def _is_prime(n: int) -> bool:
    if n < 2:
        return False
    if n % 2 == 0:
        return n == 2
    return all(n % d for d in range(3, math.isqrt(n) + 1, 2))


def _check_table_size(table_size) -> int:
    _check_int("table_size", table_size, 2)
    if table_size > _MAX_TABLE:
        raise ValueError(f"table_size={table_size!r} is over {_MAX_TABLE:,} entries; Maglev uses "
                         "65537 or 655373")
    if not _is_prime(int(table_size)):
        raise ValueError(f"Maglev's table_size must be prime (e.g. 65537 or 655373), "
                         f"got table_size={table_size!r}")
    return int(table_size)


def _check_factor(factor) -> Fraction:
    if isinstance(factor, bool) or not isinstance(factor, Real) or not (
            math.isfinite(factor) and factor > 1):
        raise ValueError(f"factor must be a number > 1 (1.25 lets a node hold 25% over the "
                         f"average), got factor={factor!r}")
    if factor >= 100:
        raise ValueError(f"factor={factor!r} looks like a percentage: HAProxy's hash-balance-factor "
                         f"{factor:g} is factor={factor / 100:g} here")
    return Fraction(str(factor))


def _check_weights(weights, nodes: tuple[str, ...], vnodes: int) -> list[int]:
    """Points per node: ``round(vnodes * weight)``, at least one."""
    if weights is None:
        return [vnodes] * len(nodes)
    if isinstance(weights, Mapping):
        unknown = sorted(set(weights) - set(nodes))
        if unknown:
            raise ValueError(f"weights name unknown node(s) {unknown}")
        weights = [weights.get(n, 1) for n in nodes]
    else:
        weights = list(weights)
        if len(weights) != len(nodes):
            raise ValueError(f"got {len(weights)} weights for {len(nodes)} nodes: {weights!r}")
    points = []
    for node, w in zip(nodes, weights):
        if isinstance(w, bool) or not isinstance(w, Real) or not (math.isfinite(w) and w > 0):
            raise ValueError(f"weight of node {node!r} must be a positive number, got {w!r}")
        p = round(vnodes * w)
        if p < 1:
            raise ValueError(f"weight {w!r} of node {node!r} gives it no point on the ring "
                             f"with vnodes={vnodes}")
        points.append(p)
    return points


# -- the common interface --------------------------------------------------------------------------
class HashScheme:
    """A key -> node mapping built from a list of node ids.

    Subclasses implement :meth:`_index` (one 64-bit hash -> node position) and
    :meth:`_index_many` (a ``uint64`` array -> positions); everything else is shared.

    Attributes:
        nodes: the node ids, in the order given.
    """

    def __init__(self, nodes: Iterable[str]):
        self.nodes: tuple[str, ...] = _check_nodes(nodes)
        self._names = np.array(self.nodes)

    def _index(self, h: int) -> int:
        raise NotImplementedError

    def _index_many(self, hashes: np.ndarray) -> np.ndarray:
        return np.fromiter((self._index(int(h)) for h in hashes), dtype=np.intp, count=len(hashes))

    def lookup(self, key: str) -> str:
        """The node for string ``key`` (hashed with :func:`stable_hash`)."""
        if not isinstance(key, str):
            raise TypeError(f"lookup takes a string key, got {type(key).__name__} {key!r}; "
                            "for integer keys use lookup_hash(mix64(key))")
        return self.nodes[self._index(stable_hash(key))]

    def lookup_hash(self, h: int) -> str:
        """The node for a precomputed 64-bit hash ``h``."""
        return self.nodes[self._index(_check_hash(h))]

    def index_many(self, keys) -> np.ndarray:
        """Per key, the position in :attr:`nodes` of its node (string keys or a ``uint64`` hash array)."""
        return self._index_many(_as_hashes(keys))

    def lookup_many(self, keys) -> np.ndarray:
        """Per key, its node id, as a numpy string array (string keys or a ``uint64`` hash array)."""
        return self._names[self.index_many(keys)]

    def __len__(self) -> int:
        return len(self.nodes)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({list(self.nodes)!r})"


# -- mod N -----------------------------------------------------------------------------------------
class ModN(HashScheme):
    """``nodes[h % N]``: HAProxy's default map-based hash (``balance source``), as ``HeaderHash`` does.

    Perfectly even, but going from N to M nodes moves ``1 - min(N, M)/lcm(N, M)`` of the keys.
    """

    def _index(self, h: int) -> int:
        return h % len(self.nodes)

    def _index_many(self, hashes):
        return (hashes % _U(len(self.nodes))).astype(np.intp)


# -- the ring --------------------------------------------------------------------------------------
class Ring(HashScheme):
    """Karger et al.'s consistent-hashing ring, ketama style (nginx ``hash $key consistent``).

    Each node puts ``round(vnodes * weight)`` points on a 64-bit circle, point ``i`` of
    node ``n`` at ``stable_hash(f"{n}-{i}")``; a key goes to the node owning the first
    point at or after its hash, wrapping past the top. Lookups are a binary search.
    nginx places 160 points per unit of weight, HAProxy 16, Envoy at least 1024 in all.
    A node's share of the circle has relative spread about ``1/sqrt(vnodes)``.
    """

    def __init__(self, nodes: Iterable[str], vnodes: int = 160,
                 weights: Mapping[str, float] | Sequence[float] | None = None):
        super().__init__(nodes)
        self.vnodes = _check_int("vnodes", vnodes, 1)
        counts = _check_weights(weights, self.nodes, self.vnodes)
        if sum(counts) > _MAX_RING:
            raise ValueError(f"{sum(counts):,} ring points is more than {_MAX_RING:,} (Envoy's "
                             f"maximum_ring_size); lower vnodes={self.vnodes}")
        self.weights = weights
        labels = [f"{n}-{i}" for n, c in zip(self.nodes, counts) for i in range(c)]
        owner = np.repeat(np.arange(len(self.nodes)), counts)
        points = hash_keys(labels)
        order = np.lexsort((owner, points))
        self.points, self.owner = points[order], owner[order]
        self._points_list, self._owner_list = self.points.tolist(), self.owner.tolist()

    def _slot(self, h: int) -> int:
        i = bisect.bisect_left(self._points_list, h)
        return 0 if i == len(self._points_list) else i

    def _slots(self, hashes: np.ndarray) -> np.ndarray:
        i = np.searchsorted(self.points, hashes, side="left")
        i[i == len(self.points)] = 0
        return i

    def _index(self, h: int) -> int:
        return self._owner_list[self._slot(h)]

    def _index_many(self, hashes):
        return self.owner[self._slots(hashes)]

    def arc_shares(self) -> dict[str, float]:
        """Each node's exact share of the circle: the load it gets from uniformly hashed keys."""
        p = self.points.astype(np.float64)
        gaps = np.diff(p, prepend=p[-1] - 2.0**64)      # the arc ending at each point is its owner's
        shares = np.bincount(self.owner, weights=gaps, minlength=len(self.nodes)) / 2.0**64
        return dict(zip(self.nodes, shares.tolist()))

    def __repr__(self) -> str:
        return f"Ring({list(self.nodes)!r}, vnodes={self.vnodes})"


# -- rendezvous ------------------------------------------------------------------------------------
class Rendezvous(HashScheme):
    """Highest random weight (rendezvous) hashing: each key goes to the node that scores it highest.

    The score of key hash ``h`` at node ``n`` is ``mix64(h ^ stable_hash(n))``. Removing a
    node moves only its keys (each to its runner-up); adding one takes about 1/(N+1) of
    the keys. Lookups cost O(N). Traefik's ``hrw`` strategy works this way.
    """

    def __init__(self, nodes: Iterable[str]):
        super().__init__(nodes)
        self._seeds = [stable_hash(n) for n in self.nodes]
        self._seed_array = np.array(self._seeds, dtype=np.uint64)

    def _index(self, h: int) -> int:
        best, best_i = -1, 0
        for i, s in enumerate(self._seeds):       # mix64(h ^ s), inlined: this is the hot loop
            z = ((h ^ s) + _GOLDEN) & _MASK64
            z = ((z ^ (z >> 30)) * _MIX1) & _MASK64
            z = ((z ^ (z >> 27)) * _MIX2) & _MASK64
            z ^= z >> 31
            if z > best:
                best, best_i = z, i
        return best_i

    def _index_many(self, hashes):
        best = np.zeros(len(hashes), dtype=np.uint64)
        best_i = np.zeros(len(hashes), dtype=np.intp)
        for i, s in enumerate(self._seed_array):
            score = mix64(hashes ^ s)
            better = score > best
            best[better] = score[better]
            best_i[better] = i
        return best_i


# -- jump ------------------------------------------------------------------------------------------
_JUMP_MUL = 2862933555777941757


#: Most buckets jump hash takes: the paper's ``num_buckets`` is a 32-bit signed integer, and
#: past it the 64-bit arithmetic of the vectorised version overflows.
MAX_JUMP_BUCKETS = 2**31 - 1


def _check_buckets(buckets) -> int:
    buckets = _check_int("buckets", buckets, 1)
    if buckets > MAX_JUMP_BUCKETS:
        raise ValueError(f"jump hash takes at most 2**31 - 1 = {MAX_JUMP_BUCKETS:,} buckets (a 32-bit "
                         f"num_buckets, as in Lamping & Veach's code), got buckets={buckets!r}")
    return buckets


def jump_bucket(key: int, buckets: int) -> int:
    """Lamping & Veach's ``JumpConsistentHash(key, num_buckets)``, bit for bit (64-bit key).

    ``buckets`` is 1 to 2**31 - 1, the range of the paper's ``int32_t num_buckets``.
    """
    key = _check_hash(key)
    buckets = _check_buckets(buckets)
    b, j = -1, 0
    while j < buckets:
        b = j
        key = (key * _JUMP_MUL + 1) & _MASK64
        j = int((b + 1) * (2147483648.0 / ((key >> 33) + 1)))
    return b


def jump_buckets(keys: np.ndarray, buckets: int) -> np.ndarray:
    """:func:`jump_bucket` for a ``uint64`` array of keys, vectorised; same results.

    With at most 2**31 - 1 buckets every intermediate value fits in an int64.
    """
    buckets = _check_buckets(buckets)
    keys = _as_hashes(keys)
    out = np.empty(len(keys), dtype=np.intp)
    idx = np.arange(len(keys))
    k = keys.copy()
    j = np.zeros(len(keys), dtype=np.int64)
    with np.errstate(over="ignore"):
        while len(idx):
            b = j
            k = k * _U(_JUMP_MUL) + _U(1)
            j = ((b + 1).astype(np.float64)
                 * (2147483648.0 / ((k >> _U(33)) + _U(1)).astype(np.float64))).astype(np.int64)
            done = j >= buckets
            out[idx[done]] = b[done]
            keep = ~done
            idx, k, j = idx[keep], k[keep], j[keep]
    return out


class Jump(HashScheme):
    """Jump consistent hash (Lamping & Veach 2014): node ``nodes[JumpConsistentHash(h, N)]``.

    No table at all, and as even as possible, but buckets are numbered: a node can be
    added or removed only at the end of the list. Removing one from the middle renumbers
    every node after it, and their keys move.
    """

    def _index(self, h: int) -> int:
        return jump_bucket(h, len(self.nodes))

    def _index_many(self, hashes):
        return jump_buckets(hashes, len(self.nodes))


# -- maglev ----------------------------------------------------------------------------------------
class Maglev(HashScheme):
    """The lookup table of Google's Maglev load balancer (Eisenbud et al., NSDI 2016).

    Node ``i`` prefers the table slots ``(offset_i + j * skip_i) % M`` for j = 0, 1, ...,
    with ``offset = h1(node) % M`` and ``skip = h2(node) % (M - 1) + 1``; nodes take
    turns, each claiming its next preferred free slot, until the table is full. So every
    node holds ``floor(M/N)`` or ``ceil(M/N)`` entries, and a key goes to
    ``table[h % M]``. ``table_size`` M must be prime (Envoy uses 65537) and is best much
    larger than N. Removing a node moves its keys and a few others.
    """

    def __init__(self, nodes: Iterable[str], table_size: int = 65537):
        super().__init__(nodes)
        self.table_size = M = _check_table_size(table_size)
        if M < len(self.nodes):
            raise ValueError(f"table_size={M} is smaller than the {len(self.nodes)} nodes")
        offsets = [stable_hash(n, seed=1) % M for n in self.nodes]
        skips = [stable_hash(n, seed=2) % (M - 1) + 1 for n in self.nodes]
        self.table = np.array(_maglev_populate(offsets, skips, M), dtype=np.intp)
        self._table_list = self.table.tolist()

    def _index(self, h: int) -> int:
        return self._table_list[h % self.table_size]

    def _index_many(self, hashes):
        return self.table[(hashes % _U(self.table_size)).astype(np.intp)]

    def entries(self) -> dict[str, int]:
        """How many table entries each node holds."""
        return dict(zip(self.nodes, np.bincount(self.table, minlength=len(self.nodes)).tolist()))

    def __repr__(self) -> str:
        return f"Maglev({list(self.nodes)!r}, table_size={self.table_size})"


def _maglev_populate(offsets: list[int], skips: list[int], M: int) -> list[int]:
    """Maglev's population loop (the paper's Pseudocode 1), walking each permutation incrementally."""
    entry = [-1] * M
    pos = list(offsets)                 # each node's next candidate slot
    n, filled = len(offsets), 0
    while True:
        for i in range(n):
            c, s = pos[i], skips[i]
            while entry[c] >= 0:
                c += s
                if c >= M:
                    c -= M
            entry[c] = i
            c += s
            pos[i] = c - M if c >= M else c
            filled += 1
            if filled == M:
                return entry


# -- bounded loads ---------------------------------------------------------------------------------
Loads = Mapping[str, float] | Callable[[str], float]


class BoundedLoad(Ring):
    """Consistent hashing with bounded loads (Mirrokni, Thorup & Zadimoghaddam, arXiv:1608.01350).

    A ring (``vnodes`` points per node) where no node may hold more than
    ``capacity(m) = ceil(factor * m / N)`` of the m keys: a key whose node is full walks
    on clockwise to the next node with room. ``factor`` is c = 1 + eps; HAProxy's
    ``hash-balance-factor 125`` and Envoy's ``hash_balance_factor: 125`` are factor=1.25.

    Two ways to use it:

    - **Its own load** (the paper's model): :meth:`assign` places a key and counts it,
      :meth:`release` removes it. While keys only arrive, no node ever holds more than
      ``capacity(m)``. A release does not move other keys (HAProxy does not move
      connections either), so after releases a node may sit above the new, lower bound.
    - **Someone else's load** (what a balancer does): ``lookup(key, loads=...)`` with
      the current load of each node (a mapping or a function), e.g. requests in flight,
      returns the first node on the key's walk with ``load < capacity(total + 1)``.
      HAProxy counts outstanding requests this way, splitting ``ceil(c * (m + 1))``
      slots among servers by weight instead of rounding each server's share up.

    Without ``loads``, :meth:`lookup` and :meth:`lookup_many` read the assigned load
    and change nothing.
    """

    def __init__(self, nodes: Iterable[str], factor: float = 1.25, vnodes: int = 160):
        super().__init__(nodes, vnodes=vnodes)
        self._c = _check_factor(factor)
        self.factor = factor
        self.load = [0] * len(self.nodes)
        self._placed: dict[int, int] = {}

    # -- the bound and the walk --------------------------------------------------------------------
    def capacity(self, m: int) -> int:
        """The most keys one node may hold when ``m`` keys are placed: ``ceil(factor * m / N)``."""
        return math.ceil(self._c * Fraction(m) / len(self.nodes))

    def _load_list(self, loads) -> list[float]:
        if loads is None:
            return self.load
        if callable(loads):
            return [loads(n) for n in self.nodes]
        if isinstance(loads, Mapping):
            return [loads.get(n, 0) for n in self.nodes]
        raise TypeError(f"loads must be a mapping or a function of the node id, got {loads!r}")

    def _walk(self, h: int, load: list[float]) -> int:
        cap = self.capacity(sum(load) + 1)
        owner, start, total = self._owner_list, self._slot(h), len(self._owner_list)
        for step in range(total):
            i = owner[(start + step) % total]
            if load[i] < cap:
                return i
        raise RuntimeError("every node is full")  # cannot happen with factor > 1 and loads >= 0

    def _index(self, h: int) -> int:
        return self._walk(h, self.load)

    def _index_many(self, hashes, load=None):
        load = np.asarray(self.load if load is None else load, dtype=np.float64)
        room = load < self.capacity(load.sum() + 1)
        ok = room[self.owner]                      # points whose node has room
        first = np.flatnonzero(ok)
        if not len(first):
            raise RuntimeError("every node is full")
        pos = np.arange(len(ok))
        nxt = np.where(ok, pos, len(ok))
        nxt = np.minimum.accumulate(nxt[::-1])[::-1]
        nxt[nxt == len(ok)] = first[0]             # wrap past the top of the circle
        return self.owner[nxt[self._slots(hashes)]]

    # -- lookups against the assigned load or a given one ------------------------------------------
    def lookup(self, key: str, loads: Loads | None = None) -> str:
        """The node for ``key``: the first on its walk with room under ``loads`` (default: assigned)."""
        if loads is None:
            return super().lookup(key)
        if not isinstance(key, str):
            super().lookup(key)                    # raises the TypeError
        return self.nodes[self._walk(stable_hash(key), self._load_list(loads))]

    def lookup_hash(self, h: int, loads: Loads | None = None) -> str:
        """:meth:`lookup` for a precomputed 64-bit hash."""
        return self.nodes[self._walk(_check_hash(h), self._load_list(loads))]

    def index_many(self, keys, loads: Loads | None = None) -> np.ndarray:
        """Per key, independently, the position of the node :meth:`lookup` would give."""
        return self._index_many(_as_hashes(keys), self._load_list(loads))

    def lookup_many(self, keys, loads: Loads | None = None) -> np.ndarray:
        """Per key, independently, the node :meth:`lookup` would give (nothing is assigned)."""
        return self._names[self.index_many(keys, loads)]

    # -- the paper's model: keys arrive and leave --------------------------------------------------
    def _key_hash(self, key) -> int:
        if isinstance(key, str):
            return stable_hash(key)
        if isinstance(key, int | np.integer) and not isinstance(key, bool):
            return _check_hash(key)
        raise TypeError(f"keys are strings (or precomputed 64-bit hashes), got "
                        f"{type(key).__name__} {key!r}")

    def assign(self, key: str | int) -> str:
        """Place ``key`` (a string, or a precomputed hash) and count it; a placed key stays put."""
        return self.nodes[self._assign(self._key_hash(key))]

    def _assign(self, h: int) -> int:
        i = self._placed.get(h)
        if i is None:
            i = self._placed[h] = self._walk(h, self.load)
            self.load[i] += 1
        return i

    def assign_many(self, keys) -> np.ndarray:
        """:meth:`assign` each key in turn (string keys or a ``uint64`` hash array); their nodes."""
        hashes = _as_hashes(keys)
        return self._names[np.array([self._assign(h) for h in hashes.tolist()], dtype=np.intp)]

    def release(self, key: str | int) -> str:
        """Remove a placed key (the session ended); return the node that held it."""
        h = self._key_hash(key)
        i = self._placed.pop(h, None)
        if i is None:
            raise KeyError(f"key {key!r} is not assigned")
        self.load[i] -= 1
        return self.nodes[i]

    def placed(self, key: str | int) -> str | None:
        """The node holding ``key``, or None if it is not assigned."""
        i = self._placed.get(self._key_hash(key))
        return None if i is None else self.nodes[i]

    @property
    def assigned(self) -> int:
        """How many keys are placed."""
        return len(self._placed)

    def loads(self) -> dict[str, int]:
        """Keys placed on each node."""
        return dict(zip(self.nodes, self.load))

    def __repr__(self) -> str:
        return (f"BoundedLoad({list(self.nodes)!r}, factor={self.factor}, vnodes={self.vnodes}, "
                f"assigned={self.assigned})")


# -- building by name, and the measures the course uses --------------------------------------------
SCHEMES: dict[str, type[HashScheme]] = {
    "modn": ModN, "ring": Ring, "rendezvous": Rendezvous, "jump": Jump, "maglev": Maglev,
    "bounded": BoundedLoad,
}
_OPTIONS = {"modn": set(), "ring": {"vnodes", "weights"}, "rendezvous": set(), "jump": set(),
            "maglev": {"table_size"}, "bounded": {"factor", "vnodes"}}


def check_options(scheme: str, **options) -> type[HashScheme]:
    """Check a scheme name and its options without building anything; return the scheme's class."""
    if scheme not in SCHEMES:
        raise ValueError(f"unknown hashing scheme {scheme!r}; known: {', '.join(SCHEMES)}")
    extra = sorted(set(options) - _OPTIONS[scheme])
    if extra:
        allowed = ", ".join(sorted(_OPTIONS[scheme])) or "none"
        raise TypeError(f"scheme {scheme!r} takes no option(s) {extra} (its options: {allowed})")
    if "vnodes" in options:
        _check_int("vnodes", options["vnodes"], 1)
    if "table_size" in options:
        _check_table_size(options["table_size"])
    if "factor" in options:
        _check_factor(options["factor"])
    return SCHEMES[scheme]


def build(scheme: str, nodes: Iterable[str], **options) -> HashScheme:
    """Build a scheme by name: ``build("maglev", ["a", "b"], table_size=251)``."""
    return check_options(scheme, **options)(nodes, **options)


def moved_fraction(before: HashScheme, after: HashScheme, keys) -> float:
    """The share of ``keys`` (strings or a ``uint64`` hash array) whose node differs between two schemes."""
    hashes = _as_hashes(keys)
    if not len(hashes):
        raise ValueError("moved_fraction needs at least one key")
    return float(np.mean(before.lookup_many(hashes) != after.lookup_many(hashes)))


def load_shares(scheme: HashScheme, keys) -> dict[str, float]:
    """The share of ``keys`` (strings or a ``uint64`` hash array) each node gets, every node listed."""
    hashes = _as_hashes(keys)
    if not len(hashes):
        raise ValueError("load_shares needs at least one key")
    counts = np.bincount(scheme.index_many(hashes), minlength=len(scheme.nodes))
    return dict(zip(scheme.nodes, (counts / len(hashes)).tolist()))
