"""The hashing schemes against the published and closed-form numbers (see shared REFERENCE.md).

Statistical checks use 200,000 keys and tolerances of about five standard deviations of
the quantity measured, so they fail on a real error, not on bad luck.
"""

import json
import math
import os
import subprocess
import sys
from fractions import Fraction
from hashlib import blake2b

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stickylab import hashing as H

NODES = [f"n{i}" for i in range(12)]
K = 200_000
KEYS = H.mix64(np.arange(K))                       # precomputed uint64 hashes of integer keys
CONSISTENT = ["ring", "rendezvous", "jump", "maglev"]


def binomial_tol(p: float, n: int = K, sigmas: float = 5.0) -> float:
    return sigmas * math.sqrt(p * (1 - p) / n)


@pytest.fixture(scope="module")
def tables():
    return {name: H.build(name, NODES[:10]) for name in H.SCHEMES}


# -- hashes: stable, and the same on every path ----------------------------------------------------
def test_stable_hash_is_blake2b_little_endian():
    """stable_hash is BLAKE2b-64 read little-endian: a definition that must never change."""
    for key in ["", "10.0.0.1", "user-42", "é"]:
        digest = blake2b(key.encode(), digest_size=8).digest()
        assert H.stable_hash(key) == int.from_bytes(digest, "little")
    assert H.stable_hash("a", seed=1) != H.stable_hash("a")


@pytest.mark.parametrize("key,error", [(2**200, ValueError), (1.5, TypeError), (None, TypeError),
                                       (True, TypeError)])
def test_stable_hash_refuses_keys_it_cannot_hash_naming_them(key, error):
    with pytest.raises(error, match=repr(key).replace("(", r"\(")):
        H.stable_hash(key)


def test_hash_keys_matches_stable_hash():
    keys = [f"user{i}" for i in range(500)] + ["", "ü"]
    hashes = H.hash_keys(keys)
    assert hashes.dtype == np.uint64
    assert hashes.tolist() == [H.stable_hash(k) for k in keys]
    assert H.hash_keys(np.array(keys)).tolist() == hashes.tolist()


@settings(deadline=None)
@given(st.lists(st.integers(min_value=-(2**63), max_value=2**63 - 1), min_size=1, max_size=50))
def test_mix64_scalar_and_vector_agree(values):
    vector = H.mix64(np.array(values, dtype=np.int64))
    assert vector.tolist() == [H.mix64(v) for v in values]


def test_mix64_is_a_bijection_on_a_range():
    """splitmix64's finaliser is invertible, so distinct integer keys never share a hash."""
    assert len(np.unique(KEYS)) == K


@pytest.mark.slow
@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(max_size=12), min_size=1, max_size=20))
def test_every_lookup_path_agrees_for_string_keys(tables, keys):
    hashes = H.hash_keys(keys)
    for table in tables.values():
        scalar = [table.lookup(k) for k in keys]
        assert scalar == [table.lookup_hash(int(h)) for h in hashes]
        assert scalar == table.lookup_many(keys).tolist()
        assert scalar == table.lookup_many(hashes).tolist()
        assert [table.nodes[i] for i in table.index_many(hashes)] == scalar


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=2**64 - 1), min_size=1, max_size=20))
def test_scalar_and_vector_agree_on_any_hash(tables, hashes):
    array = np.array(hashes, dtype=np.uint64)
    for table in tables.values():
        assert table.lookup_many(array).tolist() == [table.lookup_hash(h) for h in hashes]


def test_lookups_are_the_same_in_a_fresh_interpreter(tables):
    """Python's str hash is salted per process; ours is not, so a restart routes the same way."""
    seed = "2" if os.environ.get("PYTHONHASHSEED") == "1" else "1"
    code = (
        "import json; from stickylab import hashing as H\n"
        f"names = {list(tables)!r}; keys = [f'k{{i}}' for i in range(200)]\n"
        "built = {n: H.build(n, %r) for n in names}\n"
        "out = {n: [t.lookup(k) for k in keys] for n, t in built.items()}\n"
        "print(json.dumps({'salted': hash('stickylab'), 'lookups': out}))\n" % NODES[:10])
    env = dict(os.environ, PYTHONHASHSEED=seed)
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          check=True)
    child = json.loads(done.stdout)
    assert child["salted"] != hash("stickylab")          # the child's built-in hash did differ
    keys = [f"k{i}" for i in range(200)]
    assert child["lookups"] == {n: [t.lookup(k) for k in keys] for n, t in tables.items()}


# -- mod N -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("n, m", [(4, 5), (10, 11), (10, 12), (4, 6), (6, 3), (12, 8)])
def test_mod_n_moves_one_minus_min_over_lcm(n, m):
    """N -> M nodes under h mod N moves 1 - min(N,M)/lcm(N,M) of keys (REFERENCE; L&V's 10 -> 12 example)."""
    expected = 1 - min(n, m) / math.lcm(n, m)
    moved = H.moved_fraction(H.ModN(NODES[:n]), H.ModN(NODES[:m]), KEYS)
    assert moved == pytest.approx(expected, abs=binomial_tol(expected))


# -- adding and removing one node ------------------------------------------------------------------
@pytest.mark.parametrize("scheme", CONSISTENT)
def test_adding_a_node_moves_keys_only_to_it(scheme):
    """Karger et al. / L&V / Maglev: adding node N+1 moves about 1/(N+1) of keys, all to the new node.

    Maglev also shuffles a few entries between old nodes ("a little more" than the share).
    """
    n = 9
    before, after = H.build(scheme, NODES[:n]), H.build(scheme, NODES[:n + 1])
    old, new = before.lookup_many(KEYS), after.lookup_many(KEYS)
    moved = old != new
    share = 1 / (n + 1)
    if scheme == "maglev":
        assert np.mean(new == NODES[n]) == pytest.approx(share, abs=binomial_tol(share))
        assert share - binomial_tol(share) < moved.mean() < share + 0.01
        return
    assert set(new[moved]) == {NODES[n]}
    if scheme == "ring":       # the new node's arc has relative spread 1/sqrt(160): test it exactly
        arc = after.arc_shares()[NODES[n]]
        assert moved.mean() == pytest.approx(arc, abs=binomial_tol(arc))
        assert arc == pytest.approx(share, rel=4 / math.sqrt(after.vnodes))
    else:
        assert moved.mean() == pytest.approx(share, abs=binomial_tol(share))


@pytest.mark.parametrize("scheme", ["ring", "rendezvous"])
def test_removing_any_node_moves_only_its_keys(scheme):
    """Karger et al., rendezvous: removing a node moves exactly the keys it held."""
    nodes = NODES[:10]
    before = H.build(scheme, nodes)
    after = H.build(scheme, nodes[:3] + nodes[4:])
    old, new = before.lookup_many(KEYS), after.lookup_many(KEYS)
    assert np.array_equal(old != new, old == nodes[3])


def test_jump_removing_the_last_bucket_moves_only_its_keys_but_the_middle_renumbers():
    """Lamping & Veach: buckets can only be added or removed at the end."""
    nodes = NODES[:10]
    old = H.Jump(nodes).lookup_many(KEYS)
    new = H.Jump(nodes[:-1]).lookup_many(KEYS)
    assert np.array_equal(old != new, old == nodes[-1])
    middle = H.Jump(nodes[:3] + nodes[4:]).lookup_many(KEYS)
    assert np.mean(old != middle) > 3 * np.mean(old == nodes[3])


def test_maglev_removal_changes_a_little_more_than_its_share():
    """Eisenbud et al. (NSDI 2016): removing a backend changes its entries and a few more;
    the extra shrinks as the table grows relative to the backends."""
    nodes = NODES[:10]

    def extra(size):
        before = H.Maglev(nodes, size)
        after = H.Maglev(nodes[:3] + nodes[4:], size)
        every_entry = np.arange(size, dtype=np.uint64)          # h % size visits each entry once
        old, new = before.lookup_many(every_entry), after.lookup_many(every_entry)
        changed = old != new
        assert changed[old == nodes[3]].all()
        return np.mean(changed & (old != nodes[3]))

    big, small = extra(65537), extra(251)
    assert 0 < big < 0.01
    assert small > big


# -- load spread -----------------------------------------------------------------------------------
@pytest.mark.parametrize("k", [10, 100, 1000])
def test_ring_load_spread_falls_like_one_over_sqrt_vnodes(k):
    """Lamping & Veach 2014 (Karger's ring, k points per bucket): load std/mean about 1/sqrt(k).

    Measured exactly from the arcs of 100 nodes; the sample std of 100 values is good to
    about 7%, so 25% is five standard errors.
    """
    ring = H.Ring([f"s{i}" for i in range(100)], vnodes=k)
    shares = np.array(list(ring.arc_shares().values()))
    assert shares.sum() == pytest.approx(1.0)
    assert shares.std() / shares.mean() == pytest.approx(1 / math.sqrt(k), rel=0.25)


def test_ring_weights_scale_a_nodes_points_and_share():
    """nginx: 160 points per unit of weight; a weight-3 node gets about three times the share."""
    ring = H.Ring(["a", "b", "c"], vnodes=160, weights={"a": 3})
    assert np.bincount(ring.owner).tolist() == [480, 160, 160]
    shares = ring.arc_shares()
    assert shares["a"] == pytest.approx(0.6, abs=4 * 0.6 / math.sqrt(480))


@pytest.mark.parametrize("scheme", ["jump", "rendezvous", "modn", "maglev"])
def test_even_schemes_give_equal_shares(scheme):
    """Jump (L&V: equal expected share per bucket), rendezvous, mod N and Maglev: even up to noise."""
    shares = H.load_shares(H.build(scheme, NODES[:7]), KEYS)
    assert list(shares) == NODES[:7]
    for share in shares.values():
        assert share == pytest.approx(1 / 7, abs=binomial_tol(1 / 7))


# -- jump, bit for bit -----------------------------------------------------------------------------
@pytest.mark.parametrize("key, buckets, expected", [
    (1, 1, 0), (42, 57, 43), (256, 1024, 520), (0xDEAD10CC, 1, 0), (0xDEAD10CC, 666, 361),
    (16045690984833335023, 255, 237), (123456, 1000, 984),
])
def test_jump_matches_the_papers_code(key, buckets, expected):
    """Outputs of L&V's C++ JumpConsistentHash, as ClickHouse's and rust jumphash's tests record them."""
    assert H.jump_bucket(key, buckets) == expected
    assert H.jump_buckets(np.array([key], dtype=np.uint64), buckets)[0] == expected


@pytest.mark.parametrize("buckets", [2**31, 2**62, 2**63, 2**64, np.uint64(2**63)])
def test_jump_refuses_bucket_counts_past_32_bits_instead_of_looping_forever(buckets):
    """L&V's num_buckets is an int32; past it the vectorised int64 arithmetic overflowed and never ended."""
    for jump in (lambda: H.jump_buckets(np.array([], dtype=np.uint64), buckets),
                 lambda: H.jump_buckets(KEYS[:3], buckets), lambda: H.jump_bucket(7, buckets)):
        with pytest.raises(ValueError, match=f"buckets={int(buckets)}"):
            jump()


def test_jump_at_the_largest_bucket_count_agrees_in_both_paths():
    top = H.MAX_JUMP_BUCKETS
    keys = KEYS[:50]
    many = H.jump_buckets(keys, top)
    assert many.tolist() == [H.jump_bucket(int(k), top) for k in keys]
    assert many.max() < top and many.min() >= 0


def test_numpy_integers_are_taken_wherever_python_ints_are():
    assert H.jump_bucket(np.uint64(0xDEAD10CC), np.int64(666)) == 361
    assert H.jump_buckets(KEYS[:10], np.int32(57)).tolist() == H.jump_buckets(KEYS[:10], 57).tolist()
    assert H.stable_hash(np.int64(42)) == H.stable_hash(42)
    assert H.stable_hash(np.uint8(7), seed=3) == H.stable_hash(7, seed=3)
    ring = H.Ring(NODES[:3], vnodes=np.int64(40), weights=[np.int64(1), np.int64(2), np.float32(1)])
    assert ring.lookup_many(KEYS[:100]).tolist() == H.Ring(
        NODES[:3], vnodes=40, weights=[1, 2, 1]).lookup_many(KEYS[:100]).tolist()
    assert H.Maglev(NODES[:3], table_size=np.int64(251)).table_size == 251
    assert H.BoundedLoad(NODES[:3], factor=np.int64(2), vnodes=np.int16(10)).capacity(np.int64(9)) == 6
    assert H.build("ring", NODES[:3], vnodes=np.uint16(16)).vnodes == 16


@settings(deadline=None)
@given(st.integers(min_value=0, max_value=2**64 - 1), st.integers(min_value=1, max_value=5000))
def test_jump_grows_only_at_the_end(key, n):
    """L&V: going from n to n+1 buckets, a key stays or jumps to the new bucket n."""
    assert H.jump_bucket(key, n + 1) in (H.jump_bucket(key, n), n)


# -- maglev ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("n, size", [(3, 251), (10, 1009), (10, 65537), (64, 65537), (251, 251)])
def test_maglev_entries_are_floor_or_ceil(n, size):
    """Eisenbud et al.: every backend holds floor(M/N) or ceil(M/N) of the M entries."""
    table = H.Maglev([f"b{i}" for i in range(n)], size)
    counts = np.array(list(table.entries().values()))
    assert counts.sum() == size
    assert set(counts.tolist()) <= {size // n, -(-size // n)}


# -- bounded loads ---------------------------------------------------------------------------------
def bound(factor, m, n):
    return math.ceil(Fraction(str(factor)) * m / n)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 8), factor=st.sampled_from([1.01, 1.1, 1.25, 1.5, 2.0, 3.0]),
       keys=st.lists(st.text(max_size=6), max_size=150, unique=True))
def test_bounded_load_never_exceeds_ceil_c_m_over_n(n, factor, keys):
    """Mirrokni, Thorup & Zadimoghaddam: with factor c no node ever holds more than ceil(c*m/n) keys."""
    table = H.BoundedLoad([f"b{i}" for i in range(n)], factor=factor, vnodes=20)
    for m, key in enumerate(keys, start=1):
        table.assign(key)
        assert max(table.load) <= bound(factor, m, n)
    assert table.assigned == len(keys) == sum(table.load)


def test_bounded_load_bites_where_the_plain_ring_would_overflow():
    nodes, factor, m = NODES[:10], 1.1, 20_000
    hashes = KEYS[:m]
    plain = np.bincount(H.Ring(nodes, vnodes=20).index_many(hashes), minlength=10)
    assert plain.max() > bound(factor, m, 10)                  # a ring alone breaks the bound
    table = H.BoundedLoad(nodes, factor=factor, vnodes=20)
    table.assign_many(hashes)
    assert max(table.load) <= bound(factor, m, 10)


def test_bounded_load_keys_stay_until_released():
    table = H.BoundedLoad(NODES[:4], factor=1.25)
    first = table.assign("alice")
    assert table.assign("alice") == first and table.assigned == 1
    assert table.placed("alice") == first
    assert table.release("alice") == first
    assert table.placed("alice") is None and sum(table.load) == 0
    with pytest.raises(KeyError, match="alice"):
        table.release("alice")


def test_bounded_load_with_outside_loads_walks_past_full_nodes():
    """HAProxy hash-balance-factor: a key whose server is full walks on to the next with room."""
    table = H.BoundedLoad(NODES[:4], factor=1.25)
    home = table.lookup("key")
    loads = {home: 5}                     # 5 in flight: capacity ceil(1.25 * 6 / 4) = 2
    other = table.lookup("key", loads=loads)
    assert other != home
    hashes = KEYS[:5000]
    vector = table.lookup_many(hashes, loads=loads)
    assert vector.tolist() == [table.lookup_hash(int(h), loads=loads) for h in hashes]
    assert home not in set(vector.tolist())


# -- helpers and bad input -------------------------------------------------------------------------
def test_helpers_measure_what_they_say():
    a = H.Ring(NODES[:5])
    assert H.moved_fraction(a, H.Ring(NODES[:5]), KEYS) == 0.0
    assert sum(H.load_shares(a, KEYS).values()) == pytest.approx(1.0)
    assert H.moved_fraction(H.ModN(["x"]), H.ModN(["x", "y"]), KEYS) == pytest.approx(
        0.5, abs=binomial_tol(0.5))


@pytest.mark.parametrize("make, error, named", [
    (lambda: H.Ring([]), ValueError, "empty"),
    (lambda: H.Ring(["a", "b", "a"]), ValueError, r"\['a'\]"),
    (lambda: H.Jump("abc"), TypeError, "'abc'"),
    (lambda: H.Rendezvous(["a", 7]), TypeError, "7"),
    (lambda: H.Ring(["a"], vnodes=0), ValueError, "vnodes=0"),
    (lambda: H.Ring(["a"], vnodes=2.5), ValueError, "vnodes=2.5"),
    (lambda: H.Ring(["a"], weights={"a": -1}), ValueError, "-1"),
    (lambda: H.Ring(["a"], weights={"z": 1}), ValueError, "'z'"),
    (lambda: H.Ring(["a", "b"], vnodes=5_000_000), ValueError, "vnodes=5000000"),
    (lambda: H.Maglev(["a"], table_size=65536), ValueError, "table_size=65536"),
    (lambda: H.Maglev(["a"], table_size=2**31 - 1), ValueError, "table_size=2147483647"),
    (lambda: H.Maglev(["a", "b", "c"], table_size=2), ValueError, "table_size=2"),
    (lambda: H.BoundedLoad(["a"], factor=1.0), ValueError, "factor=1.0"),
    (lambda: H.BoundedLoad(["a"], factor=0.5), ValueError, "factor=0.5"),
    (lambda: H.BoundedLoad(["a"], factor=125), ValueError, "1.25"),
    (lambda: H.BoundedLoad(["a"], factor=float("nan")), ValueError, "nan"),
    (lambda: H.build("ketama", ["a"]), ValueError, "'ketama'"),
    (lambda: H.build("jump", ["a"], vnodes=10), TypeError, "vnodes"),
    (lambda: H.Ring(["a"]).lookup(42), TypeError, "42"),
    (lambda: H.Ring(["a"]).lookup(b"x"), TypeError, "b'x'"),
    (lambda: H.Ring(["a"]).lookup_hash(-1), TypeError, "-1"),
    (lambda: H.Ring(["a"]).lookup_many([1, 2]), TypeError, "int 1"),
    (lambda: H.Ring(["a"]).lookup_many(np.arange(3)), TypeError, "int64"),
    (lambda: H.BoundedLoad(["a"]).assign(3.5), TypeError, "3.5"),
    (lambda: H.jump_bucket(1, 0), ValueError, "buckets=0"),
])
def test_bad_input_is_refused_with_the_value_named(make, error, named):
    with pytest.raises(error, match=named):
        make()
