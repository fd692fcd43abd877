"""Correct, but it logs and prints to stderr on every request, and answers with numpy floats.

nbgrader zeroes a test cell that writes to stderr; what the learner's code writes while
the tests call it never reaches the test cell, so this scores full marks. Its rates are
numpy floats in an OrderedDict: reasonable types, accepted as float and dict.
"""
import stickylab as sl

# %% first-sticky
import logging
import sys


class FirstSticky(sl.Router):
    def __init__(self):
        self.seen = {}
        self.turn = 0

    def route(self, request, pool):
        logging.warning("routing %s", request.client_ip)
        print("route", request.client_ip, file=sys.stderr)
        iid = self.seen.get(request.client_ip)
        if iid is not None and pool.is_up(iid):
            return iid
        if not pool.healthy:
            raise sl.NoHealthyInstance("no healthy instance")
        iid = pool.healthy[self.turn % len(pool.healthy)]
        self.turn += 1
        self.seen[request.client_ip] = iid
        return iid

# %% logout-rates
from collections import OrderedDict

import numpy as np


def logout_rates(scenario):
    print("measuring", scenario, file=sys.stderr)
    return OrderedDict(
        round_robin=np.float64(sl.simulate(scenario, sl.routers.RoundRobin()).session_loss_rate()),
        sticky=np.float64(sl.simulate(scenario, FirstSticky()).session_loss_rate()),
    )
