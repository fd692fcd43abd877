"""How fast the hashing schemes look keys up and build their tables.

    python benchmarks/bench_hashing.py [--nodes 10] [--keys 1000000] [--repeat 3]

Prints, for every scheme in ``stickylab.hashing``:

- scalar lookups per second, from a string key (``lookup``, BLAKE2b included) and from a
  precomputed hash (``lookup_hash``);
- vectorised lookups per second on a ``uint64`` array of hashes (``lookup_many``), and
  the time for the whole array;
- what turning keys into hashes costs (``stable_hash``, ``hash_keys``, ``mix64``);
- table build time against table size: Maglev at 65537 and 655373 entries (the NSDI
  2016 paper reports its population in milliseconds), the ring for several ``vnodes``.

Each figure is the best of ``--repeat`` runs.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from stickylab import hashing as H


def best(fn, repeat: int) -> float:
    """The fastest of ``repeat`` timed calls of ``fn``, in seconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def rate(count: int, seconds: float) -> str:
    return f"{count / seconds / 1e6:8.2f} M/s" if count / seconds >= 1e6 else \
        f"{count / seconds / 1e3:8.0f} k/s"


def bench_key_hashing(keys: int, repeat: int) -> None:
    strings = [f"user-{i}" for i in range(keys)]
    ints = np.arange(keys)
    few = strings[:100_000]
    print("Turning keys into 64-bit hashes")
    t = best(lambda: [H.stable_hash(k) for k in few], repeat)
    print(f"  stable_hash, one string at a time  {rate(len(few), t)}")
    t = best(lambda: H.hash_keys(strings), repeat)
    print(f"  hash_keys, {keys:,} strings        {rate(keys, t)}   ({t * 1000:.0f} ms)")
    t = best(lambda: H.mix64(ints), repeat)
    print(f"  mix64, {keys:,} integers           {rate(keys, t)}   ({t * 1000:.1f} ms)")
    print()


def bench_lookups(nodes: list[str], keys: int, repeat: int) -> None:
    hashes = H.mix64(np.arange(keys))
    strings = [f"user-{i}" for i in range(50_000)]
    scalar_hashes = hashes[:50_000].tolist()
    print(f"Lookups, {len(nodes)} nodes (scalar: 50,000 keys; vectorised: {keys:,} uint64 hashes)")
    print(f"  {'scheme':<11}{'lookup(str)':>14}{'lookup_hash':>14}{'lookup_many':>14}{'1M array':>11}")
    for name in H.SCHEMES:
        table = H.build(name, nodes)
        t_str = best(lambda t=table: [t.lookup(k) for k in strings], repeat)
        t_hash = best(lambda t=table: [t.lookup_hash(h) for h in scalar_hashes], repeat)
        t_vec = best(lambda t=table: t.lookup_many(hashes), repeat)
        per_million = t_vec * 1e6 / keys
        print(f"  {name:<11}{rate(len(strings), t_str):>14}{rate(len(scalar_hashes), t_hash):>14}"
              f"{rate(keys, t_vec):>14}{per_million * 1000:>8.0f} ms")
    print()


def bench_builds(repeat: int) -> None:
    print("Table build time")
    for n in (10, 100):
        nodes = [f"backend-{i}" for i in range(n)]
        for size in (65537, 655373):
            t = best(lambda nodes=nodes, size=size: H.Maglev(nodes, size), repeat)
            print(f"  Maglev  N={n:<4} M={size:<7}          {t * 1000:8.1f} ms")
    for n in (10, 100):
        nodes = [f"backend-{i}" for i in range(n)]
        for vnodes in (10, 100, 160, 1000):
            t = best(lambda nodes=nodes, k=vnodes: H.Ring(nodes, vnodes=k), repeat)
            print(f"  Ring    N={n:<4} vnodes={vnodes:<5} points={n * vnodes:<7}{t * 1000:8.1f} ms")
    for n in (10, 1000):
        nodes = [f"backend-{i}" for i in range(n)]
        t = best(lambda nodes=nodes: H.Rendezvous(nodes), repeat)
        print(f"  Rendezvous N={n:<5}                  {t * 1000:8.2f} ms")
    print()


def bench_bounded(nodes: list[str], repeat: int) -> None:
    hashes = H.mix64(np.arange(100_000))

    def fill():
        table = H.BoundedLoad(nodes, factor=1.25)
        table.assign_many(hashes)

    t = best(fill, repeat)
    print(f"BoundedLoad.assign, {len(nodes)} nodes, factor 1.25: 100,000 keys in {t * 1000:.0f} ms "
          f"({rate(100_000, t).strip()})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=10)
    parser.add_argument("--keys", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    nodes = [f"backend-{i}" for i in range(args.nodes)]
    bench_key_hashing(args.keys, args.repeat)
    bench_lookups(nodes, args.keys, args.repeat)
    bench_builds(args.repeat)
    bench_bounded(nodes, args.repeat)


if __name__ == "__main__":
    main()
