"""The battery dispatch linear program that the MPC solves every step and the oracle solves once.

Per step t (dt_t hours long; the MPC uses 1-min steps over the forecast horizon and 15-min steps after it):
charge c_t and discharge d_t (kW at the meter), stored energy s_t (kWh), grid import g_t >= 0, curtailed solar
w_t, import above the limit u_t (a priced slack: the limit cannot always be held, and the violation is then
reported rather than the problem being infeasible). Per billing month m the
demand-charge peak P_m, at least the peak already set that month. Minimise

    sum price_t g_t dt + degradation (c_t + d_t) dt + penalty u_t dt + sum_m demand_charge P_m + value z

subject to  g_t = load_t - solar_t + w_t + c_t - d_t,  s_t = s_(t-1) + eta c_t dt - d_t dt / eta,
time-weighted mean of g over each clock-aligned 15-minute block (with the part already metered) <= P_m,
g_t - u_t <= limit_t,  and a soft terminal store s_T + z >= target. The MPC adds a small reward per
kWh-hour stored (a plan redone every step otherwise postpones its refill to a horizon end that never comes)
and a price on every kWh-hour below a reserve r_t (so the battery is not emptied to sell at an evening price
spike just before a peak the forecast cannot see yet; shaving a peak is worth far more than the reserve price).
Solved with HiGHS (``scipy.optimize.linprog``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.optimize import linprog

from simulator.battery import Battery

BLOCK_H = 0.25
"""Demand charges are billed on 15-minute average import."""
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
    demand_charge_usd_per_kw: float
    dt_h: np.ndarray  # (T,) step lengths in hours
    battery: Battery
    stored_kwh: float
    terminal_kwh: float | None = None
    terminal_usd_per_kwh: float = 0.0
    hold_usd_per_kwh_h: float = 0.0  # a small reward for energy kept, so a receding plan refills early
    reserve_kwh: float = 0.0  # energy kept back for peaks: going below it costs reserve_usd_per_kwh_h
    reserve_usd_per_kwh_h: float = 0.0


@dataclass(frozen=True)
class DispatchPlan:
    battery_kw: np.ndarray  # + charge, - discharge
    import_kw: np.ndarray
    stored_kwh: np.ndarray
    objective_usd: float


def solve(p: DispatchProblem) -> DispatchPlan:
    n, months = len(p.load_kw), len(p.peak_so_far_kw)
    b = p.battery
    # variable layout: c, d, s, g, w, u, r (n each), P (months), z (1)
    c, d, s, g, w, u, r = (np.arange(n) + k * n for k in range(7))
    peak, z = 7 * n + np.arange(months), 7 * n + months
    size = z + 1
    rows = np.arange(n)

    def block_of(columns, values, row_index):
        return sparse.csr_matrix((values, (row_index, columns)), shape=(int(row_index.max()) + 1, size))

    one = np.ones(n)
    # power balance: g - c + d - w = load - solar
    balance = sparse.csr_matrix(
        (np.concatenate([one, -one, one, -one]), (np.tile(rows, 4), np.concatenate([g, c, d, w]))), shape=(n, size))
    # storage: s_t - s_(t-1) - eta dt c_t + dt / eta d_t = 0 (s_(-1) is the stored energy now)
    dt = np.broadcast_to(np.asarray(p.dt_h, float), (n,))
    storage = sparse.csr_matrix(
        (np.concatenate([one, -one[1:], -b.eta * dt, dt / b.eta]),
         (np.concatenate([rows, rows[1:], rows, rows]), np.concatenate([s, s[:-1], c, d]))), shape=(n, size))
    a_eq = sparse.vstack([balance, storage])
    b_eq = np.concatenate([p.load_kw - p.solar_kw, np.r_[p.stored_kwh, np.zeros(n - 1)]])

    used_blocks = np.unique(p.block)
    local = np.searchsorted(used_blocks, p.block)
    # a block lasts 15 minutes; a coarse outlook step longer than that is a block of its own length
    block_h = np.maximum(np.bincount(local, weights=dt), BLOCK_H)
    peak_rows = sparse.csr_matrix(
        (np.concatenate([dt / block_h[local], -np.ones(len(used_blocks))]),
         (np.concatenate([local, np.arange(len(used_blocks))]),
          np.concatenate([g, peak[p.block_month[used_blocks]]]))), shape=(len(used_blocks), size))
    peak_rhs = -p.block_past_kwh[used_blocks] / block_h
    limited = np.isfinite(p.limit_kw)
    limit_rows = block_of(np.concatenate([g[limited], u[limited]]),
                          np.concatenate([np.ones(limited.sum()), -np.ones(limited.sum())]),
                          np.tile(np.arange(limited.sum()), 2)) if limited.any() else None
    parts, rhs = [peak_rows], [peak_rhs]
    if limit_rows is not None:
        parts.append(limit_rows)
        rhs.append(p.limit_kw[limited])
    if p.reserve_kwh > 0:  # s_t + r_t >= reserve
        parts.append(block_of(np.concatenate([s, r]), -np.ones(2 * n), np.tile(rows, 2)))
        rhs.append(np.full(n, -p.reserve_kwh))
    if p.terminal_kwh is not None:
        parts.append(sparse.csr_matrix(([-1.0, -1.0], ([0, 0], [s[-1], z])), shape=(1, size)))
        rhs.append(np.array([-min(p.terminal_kwh, b.e_max)]))
    a_ub, b_ub = sparse.vstack(parts), np.concatenate(rhs)

    cost = np.zeros(size)
    cost[g] = p.price_usd_per_kwh * dt
    cost[c] = cost[d] = b.degradation_usd_per_kwh * dt
    cost[u] = LIMIT_PENALTY_USD_PER_KWH * dt
    cost[peak] = p.demand_charge_usd_per_kw
    cost[z] = p.terminal_usd_per_kwh
    cost[s] = -p.hold_usd_per_kwh_h * dt
    cost[r] = p.reserve_usd_per_kwh_h * dt
    bounds = np.zeros((size, 2))
    bounds[:, 1] = np.inf
    bounds[c, 1] = bounds[d, 1] = b.power_kw
    bounds[s] = (b.e_min, b.e_max)
    bounds[w, 1] = np.maximum(p.solar_kw, 0.0)
    bounds[peak, 0] = p.peak_so_far_kw
    result = linprog(cost, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
    if result.status != 0:
        raise RuntimeError(f"dispatch LP failed: {result.message}")
    x = result.x
    return DispatchPlan(x[c] - x[d], x[g], x[s], float(result.fun))
