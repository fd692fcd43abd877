"""The trace's layout: a code per request packs the serving instance and the outcome flags."""

import numpy as np

import stickylab as sl
from stickylab.routers import RoundRobin
from stickylab.trace import (FAILED, HIT, LOST, NEEDED, NO_INSTANCE, OUTCOME_BITS, OUTCOME_MASK, pack,
                             split)


def test_a_code_packs_the_instance_above_the_outcome_flags():
    flags = [HIT, NEEDED, LOST, FAILED]
    assert sum(flags) == OUTCOME_MASK == (1 << OUTCOME_BITS) - 1 and len(set(flags)) == 4
    codes = [pack(3, HIT | NEEDED), pack(NO_INSTANCE, FAILED | NEEDED), pack(0, 0), pack(999, LOST)]
    instance, outcome = split(codes)
    assert instance.tolist() == [3, -1, 0, 999] and outcome.tolist() == [3, 10, 0, 4]
    assert instance.dtype == np.int32 and outcome.dtype == np.int8


def test_result_properties_read_the_flags_so_lessons_need_no_bit_masks(small):
    res = sl.simulate(small, RoundRobin())
    assert np.array_equal(res.lost, (res.outcome & LOST) != 0) and res.lost.any()
    assert np.array_equal(res.needed, (res.outcome & NEEDED) != 0)
    assert np.array_equal(res.hit, (res.outcome & HIT) != 0)
    assert np.array_equal(res.failed, res.instance < 0)
    assert res.users is res.workload.users
