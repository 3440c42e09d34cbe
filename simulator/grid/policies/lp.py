"""The battery dispatch linear program that the MPC solves every step and the oracle solves once.

Per step t (dt_t hours long; the MPC uses 1-min steps over the forecast horizon and 15-min steps after it):
charge c_t and discharge d_t (kW at the meter), stored energy s_t (kWh), grid import g_t >= 0, curtailed solar
w_t, import above the limit u_t (a priced slack: the limit cannot always be held, and the violation is then
reported rather than the problem being infeasible). Per billing month m the
demand-charge peak P_m, at least the peak already set that month. Minimise

    sum price_t g_t dt + degradation (c_t + d_t) dt + penalty u_t dt + sum_m demand_charge P_m + value z

subject to  g_t = load_t - solar_t + w_t + c_t - d_t,  s_t = s_(t-1) + eta c_t dt - d_t dt / eta,
time-weighted mean of g over each clock-aligned 15-minute block (with the part already metered) <= P_m,
g_t - u_t <= limit_t, c_t <= max(0, ceiling - load_t + solar_t) (the MPC's: never charge above the month's
peak), and a soft terminal store s_T + z >= target. The MPC adds a small reward per
kWh-hour stored (a plan redone every step otherwise postpones its refill to a horizon end that never comes)
and a price on every kWh-hour below a reserve r_t (so the battery is not emptied to sell at an evening price
spike just before a peak the forecast cannot see yet; shaving a peak is worth far more than the reserve price).
Solved with HiGHS (highspy).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from functools import cache

import highspy
import numpy as np
from scipy import sparse

from simulator.grid.battery import Battery
from simulator.grid.signals import BLOCK_H, Tariff

LIMIT_PENALTY_USD_PER_KWH = 10.0
"""Price of a kWh imported above the limit: far above any energy price, so the limit binds when it can."""


@dataclass(frozen=True)
class DispatchProblem:
    load_kw: np.ndarray
    solar_kw: np.ndarray
    price_usd_per_kwh: np.ndarray
    limit_kw: np.ndarray  # inf where there is none
    block: np.ndarray  # 15-min block index of each step, 0..B-1
    block_past_kwh: np.ndarray  # (B,) import already metered in each block (MPC: the current block)
    block_month: np.ndarray  # (B,) month index of each block, 0..M-1
    peak_so_far_kw: np.ndarray  # (M,)
    tariff: Tariff
    dt_h: np.ndarray  # (T,) step lengths in hours
    battery: Battery
    stored_kwh: float
    terminal_kwh: float | None = None
    terminal_usd_per_kwh: float = 0.0
    hold_usd_per_kwh_h: float = 0.0  # a small reward for energy kept, so a receding plan refills early
    reserve_kwh: float = 0.0  # energy kept back for peaks: going below it costs reserve_usd_per_kwh_h
    reserve_usd_per_kwh_h: float = 0.0
    charge_ceiling_kw: float = np.inf  # charging may not lift the import above this (the MPC: the month's peak)


@dataclass(frozen=True)
class DispatchPlan:
    battery_kw: np.ndarray  # + charge, - discharge
    import_kw: np.ndarray
    stored_kwh: np.ndarray
    objective_usd: float


class _Rows:
    """Constraint rows as (row, column, value) triplets with lower and upper bounds: one matrix, built once."""

    def __init__(self):
        self.r, self.c, self.v, self.lo, self.hi = [], [], [], [], []
        self.count = 0

    def add(self, local_rows, columns, values, lower, upper) -> None:
        self.r.append(np.asarray(local_rows) + self.count)
        self.c.append(np.asarray(columns))
        self.v.append(np.asarray(values, float))
        self.lo.append(np.asarray(lower, float))
        self.hi.append(np.asarray(upper, float))
        self.count += len(self.lo[-1])


def solve(p: DispatchProblem) -> DispatchPlan:
    n, months = len(p.load_kw), len(p.peak_so_far_kw)
    b = p.battery
    # variable layout: c, d, s, g, w, u, r (n each), P (months), z (1)
    c, d, s, g, w, u, r = (np.arange(n) + k * n for k in range(7))
    peak, z = 7 * n + np.arange(months), 7 * n + months
    size = z + 1
    rows, one = np.arange(n), np.ones(n)
    dt = np.broadcast_to(np.asarray(p.dt_h, float), (n,))
    m = _Rows()
    # power balance: g - c + d - w = load - solar
    net = p.load_kw - p.solar_kw
    m.add(np.tile(rows, 4), np.concatenate([g, c, d, w]), np.concatenate([one, -one, one, -one]), net, net)
    # storage: s_t - s_(t-1) - eta dt c_t + dt / eta d_t = 0 (s_(-1) is the stored energy now)
    start = np.r_[p.stored_kwh, np.zeros(n - 1)]
    m.add(np.concatenate([rows, rows[1:], rows, rows]), np.concatenate([s, s[:-1], c, d]),
          np.concatenate([one, -one[1:], -b.eta * dt, dt / b.eta]), start, start)
    # peaks: time-weighted mean import per block (with what is already metered) - P_month <= 0;
    # a block lasts 15 minutes, a coarse outlook step longer than that is a block of its own length
    used = np.unique(p.block)
    local = np.searchsorted(used, p.block)
    block_h = np.maximum(np.bincount(local, weights=dt), BLOCK_H)
    m.add(np.concatenate([local, np.arange(len(used))]), np.concatenate([g, peak[p.block_month[used]]]),
          np.concatenate([dt / block_h[local], -np.ones(len(used))]), np.full(len(used), -np.inf),
          -p.block_past_kwh[used] / block_h)
    limited = np.flatnonzero(np.isfinite(p.limit_kw))
    if len(limited):  # g - u <= limit
        k = np.arange(len(limited))
        m.add(np.tile(k, 2), np.concatenate([g[limited], u[limited]]), np.r_[np.ones(len(k)), -np.ones(len(k))],
              np.full(len(k), -np.inf), p.limit_kw[limited])
    if p.reserve_kwh > 0:  # s + r >= reserve
        m.add(np.tile(rows, 2), np.concatenate([s, r]), np.ones(2 * n), np.full(n, p.reserve_kwh), np.full(n, np.inf))
    if p.terminal_kwh is not None:  # s_T + z >= target
        m.add([0, 0], [s[-1], z], [1.0, 1.0], [min(p.terminal_kwh, b.e_max)], [np.inf])

    cost = np.zeros(size)
    cost[g] = p.price_usd_per_kwh * dt
    cost[c] = cost[d] = b.degradation_usd_per_kwh * dt
    cost[u] = LIMIT_PENALTY_USD_PER_KWH * dt
    cost[peak] = p.tariff.demand_charge_usd_per_kw
    cost[z] = p.terminal_usd_per_kwh
    cost[s] = -p.hold_usd_per_kwh_h * dt
    cost[r] = p.reserve_usd_per_kwh_h * dt
    lower, upper = np.zeros(size), np.full(size, np.inf)
    upper[d] = b.power_kw
    upper[c] = np.minimum(b.power_kw, np.maximum(p.charge_ceiling_kw - net, 0.0))
    lower[s], upper[s] = b.e_min, b.e_max
    upper[w] = np.maximum(p.solar_kw, 0.0)
    lower[peak] = p.peak_so_far_kw
    x, objective = _highs(cost, lower, upper, m, size)
    return DispatchPlan(x[c] - x[d], x[g], x[s], objective)


@cache
def _solver():
    """One HiGHS instance per process, reused (each model replaces the last); HiGHS prints a banner from C++
    when the first instance is made, before its output can be switched off, so that moment runs with the
    process's stdout pointed at /dev/null."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            h = highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
    h.setOptionValue("output_flag", False)
    return h


def _highs(cost, lower, upper, m: _Rows, size: int) -> tuple[np.ndarray, float]:
    """Solve with HiGHS through highspy: passing one column-wise matrix avoids scipy's per-call checks, which
    cost several times the solve itself on the MPC's small problems."""
    matrix = sparse.csc_matrix((np.concatenate(m.v), (np.concatenate(m.r), np.concatenate(m.c))),
                               shape=(m.count, size))
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = size, m.count
    lp.col_cost_, lp.col_lower_, lp.col_upper_ = cost, lower, upper
    lp.row_lower_, lp.row_upper_ = np.concatenate(m.lo), np.concatenate(m.hi)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = matrix.indptr, matrix.indices, matrix.data
    lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = size, m.count
    h = _solver()
    h.passModel(lp)
    h.run()
    status = h.getModelStatus()
    if status != highspy.HighsModelStatus.kOptimal:
        raise RuntimeError(f"dispatch LP failed: {h.modelStatusToString(status)}")
    return np.asarray(h.getSolution().col_value), float(h.getInfo().objective_function_value)
