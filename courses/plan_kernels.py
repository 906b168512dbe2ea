"""Compiled per-teacher kernels of the Lagrangian planner (``courses.plan_lagrange``).

Every function here works on flat arrays of candidates sorted by teacher (``start[t]`` …
``start[t + 1]``): session, value, hours, half-year, first and last day, offer, mentor and up
to ``MAX_COVER`` open needs each covers. ``best_route`` is the exact route of one teacher for
given reduced values: the subset of candidates of largest total that keeps every teacher limit
(one item per need, the hours cap per half-year, no two overlapping sessions, an offer once),
found by depth-first branch and bound over the positive candidates in decreasing order; past
``node_cap`` nodes it keeps the best found (the first leaf is the greedy route).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

MAX_COVER = 4
_EPS = 1e-9


@njit(cache=True)
def _fits(j: int, chosen: np.ndarray, depth: int, cover: np.ndarray, need_left: np.ndarray,
          day0: np.ndarray, day1: np.ndarray, offer: np.ndarray) -> bool:
    """Whether candidate ``j`` fits beside the ``depth`` chosen ones (needs, dates, offers)."""
    for k in range(cover.shape[1]):
        need = cover[j, k]
        if need < 0:
            break
        used = 0
        for d in range(depth):
            c = chosen[d]
            for k2 in range(cover.shape[1]):
                if cover[c, k2] == need:
                    used += 1
        if used >= need_left[need]:
            return False
    for d in range(depth):
        c = chosen[d]
        if offer[c] == offer[j]:
            return False
        if day0[c] <= day1[j] and day0[j] <= day1[c]:
            return False
    return True


@njit(cache=True)
def _mentor_fits(j: int, chosen: np.ndarray, depth0: int, depth: int, mentor: np.ndarray,
                 mentor_room: np.ndarray) -> bool:
    """Whether the mentor of candidate ``j`` has room for it beside the new items chosen."""
    if mentor[j] < 0:
        return True
    used = 1
    for d in range(depth0, depth):
        if mentor[chosen[d]] == mentor[j]:
            used += 1
    room: float = mentor_room[mentor[j]]
    return used <= room


@njit(cache=True)
def _need_bound(i: int, n: int, idx: np.ndarray, reduced: np.ndarray, cover: np.ndarray,
                chosen: np.ndarray, depth: int, need_left: np.ndarray, hours: np.ndarray,
                left: np.ndarray, period: np.ndarray, ids: np.ndarray, top: np.ndarray
                ) -> float:
    """What candidates ``i`` … ``n`` can still add: per open need, the largest share
    (reduced value over the needs it covers) of a candidate that fits the hours left and
    covers no need already full, times the need's free places."""
    m = 0
    total = 0.0
    for q in range(i, n):
        j = idx[q]
        if hours[j] > 0 and left[period[j]] - hours[j] < -1e-6:
            continue
        count = 0
        full = False
        for kk in range(cover.shape[1]):
            need = cover[j, kk]
            if need < 0:
                break
            count += 1
            if _used(need, chosen, depth, cover) >= need_left[need]:
                full = True
        if full:
            continue
        if count == 0:
            total += reduced[j]
            continue
        share = reduced[j] / count
        for kk in range(count):
            need = cover[j, kk]
            at = -1
            for p in range(m):
                if ids[p] == need:
                    at = p
                    break
            if at < 0:
                ids[m] = need
                top[m] = share
                m += 1
            elif share > top[at]:
                top[at] = share
    for p in range(m):
        total += top[p] * (need_left[ids[p]] - _used(ids[p], chosen, depth, cover))
    return total


@njit(cache=True)
def _used(need: int, chosen: np.ndarray, depth: int, cover: np.ndarray) -> int:
    used = 0
    for d in range(depth):
        for k2 in range(cover.shape[1]):
            if cover[chosen[d], k2] == need:
                used += 1
    return used


@njit(cache=True)
def best_route(a: int, b: int, reduced: np.ndarray, ok: np.ndarray, taken: np.ndarray,
               cover: np.ndarray, need_left: np.ndarray, hours: np.ndarray,
               period: np.ndarray, day0: np.ndarray, day1: np.ndarray, offer: np.ndarray,
               mentor: np.ndarray, mentor_room: np.ndarray, hours_left: np.ndarray,
               node_cap: int, out: np.ndarray) -> float:
    """The best addition to one teacher's route (candidates ``a`` … ``b``): items already
    ``taken`` stay and use their limits; among the others with ``ok`` and a positive reduced
    value, the subset of largest total that fits, with no more new items of a mentor than
    ``mentor_room`` (a mentor may run several offers). Sets ``out`` for the chosen ones (False for
    the rest of ``a`` … ``b`` not taken) and returns its total."""
    n_all = b - a
    left = hours_left.copy()
    chosen = np.empty(n_all, np.int64)
    depth0 = 0
    for j in range(a, b):
        out[j] = False
        if taken[j]:
            chosen[depth0] = j
            depth0 += 1
            if hours[j] > 0:
                left[period[j]] -= hours[j]
    idx = np.empty(n_all, np.int64)
    n = 0
    for j in range(a, b):
        if not taken[j] and ok[j] and reduced[j] > _EPS:
            idx[n] = j
            n += 1
    if n == 0:
        return 0.0
    for i in range(1, n):  # insertion sort, largest reduced value first
        v = idx[i]
        k = i - 1
        while k >= 0 and reduced[idx[k]] < reduced[v]:
            idx[k + 1] = idx[k]
            k -= 1
        idx[k + 1] = v
    suffix = np.zeros(n + 1)
    for i in range(n - 1, -1, -1):
        suffix[i] = suffix[i + 1] + reduced[idx[i]]
    ids = np.empty(cover.shape[1] * n + 1, np.int64)
    top = np.empty(cover.shape[1] * n + 1)
    decision = np.zeros(n, np.int8)  # 0 untried, 1 taken, 2 skipped
    best_set = np.zeros(n, np.bool_)
    best = 0.0
    current = 0.0
    depth = depth0
    i = 0
    nodes = 0
    while True:
        nodes += 1
        if i < n and current + suffix[i] > best + _EPS and nodes > 1 and \
                current + _need_bound(i, n, idx, reduced, cover, chosen, depth, need_left,
                                      hours, left, period, ids, top) <= best + _EPS:
            prune = True
        else:
            prune = i == n or current + suffix[i] <= best + _EPS
        if prune or nodes > node_cap:
            if current > best + _EPS:
                best = current
                for q in range(n):
                    best_set[q] = decision[q] == 1 and q < i
            if nodes > node_cap:
                break
            i -= 1
            while i >= 0:
                j = idx[i]
                if decision[i] == 1:
                    decision[i] = 2
                    current -= reduced[j]
                    depth -= 1
                    if hours[j] > 0:
                        left[period[j]] += hours[j]
                    i += 1
                    break
                decision[i] = 0
                i -= 1
            if i < 0:
                break
            continue
        j = idx[i]
        if (hours[j] <= 0 or left[period[j]] - hours[j] >= -1e-6) and \
                _fits(j, chosen, depth, cover, need_left, day0, day1, offer) and \
                _mentor_fits(j, chosen, depth0, depth, mentor, mentor_room):
            decision[i] = 1
            chosen[depth] = j
            depth += 1
            current += reduced[j]
            if hours[j] > 0:
                left[period[j]] -= hours[j]
        else:
            decision[i] = 2
        i += 1
    for q in range(n):
        if best_set[q]:
            out[idx[q]] = True
    return best


@njit(cache=True, parallel=True)
def all_routes(start: np.ndarray, reduced: np.ndarray, ok: np.ndarray, taken: np.ndarray,
               cover: np.ndarray, need_left: np.ndarray, hours: np.ndarray,
               period: np.ndarray, day0: np.ndarray, day1: np.ndarray, offer: np.ndarray,
               mentor: np.ndarray, mentor_room: np.ndarray, hours_left: np.ndarray,
               node_cap: int, out: np.ndarray, value: np.ndarray) -> None:
    """``best_route`` for every teacher (in parallel): ``out`` and each teacher's ``value``."""
    for t in prange(len(start) - 1):
        value[t] = best_route(start[t], start[t + 1], reduced, ok, taken, cover, need_left,
                              hours, period, day0, day1, offer, mentor, mentor_room,
                              hours_left[t], node_cap, out)


@njit(cache=True)
def fill(order: np.ndarray, start: np.ndarray, reduced: np.ndarray, taken: np.ndarray,
         session: np.ndarray, mentor: np.ndarray, seats: np.ndarray, mentor_left: np.ndarray,
         cover: np.ndarray, need_left: np.ndarray, hours: np.ndarray, period: np.ndarray,
         day0: np.ndarray, day1: np.ndarray, offer: np.ndarray, hours_left: np.ndarray,
         node_cap: int) -> None:
    """Teachers in ``order`` add their best route among sessions with seats and mentor places
    left (``seats``, ``mentor_left`` go down as they do); ``taken`` grows."""
    n = len(reduced)
    ok = np.zeros(n, np.bool_)
    out = np.zeros(n, np.bool_)
    for t in order:
        a = start[t]
        b = start[t + 1]
        for j in range(a, b):
            ok[j] = seats[session[j]] >= 1 and (mentor[j] < 0 or mentor_left[mentor[j]] >= 1)
        got = best_route(a, b, reduced, ok, taken, cover, need_left, hours, period, day0, day1,
                         offer, mentor, mentor_left, hours_left[t], node_cap, out)
        if got <= 0:
            continue
        for j in range(a, b):
            if out[j]:
                taken[j] = True
                seats[session[j]] -= 1
                if mentor[j] >= 0:
                    mentor_left[mentor[j]] -= 1


@njit(cache=True)
def improve(order: np.ndarray, start: np.ndarray, value: np.ndarray, taken: np.ndarray,
            session: np.ndarray, mentor: np.ndarray, seats: np.ndarray,
            mentor_left: np.ndarray, cover: np.ndarray, need_left: np.ndarray,
            hours: np.ndarray, period: np.ndarray, day0: np.ndarray, day1: np.ndarray,
            offer: np.ndarray, hours_left: np.ndarray, node_cap: int) -> float:
    """Each teacher in ``order`` in turn gives back its seats and takes its best route among
    the sessions with seats left (its old route is among them, so nobody loses): returns the
    total gained."""
    n = len(value)
    ok = np.zeros(n, np.bool_)
    out = np.zeros(n, np.bool_)
    none = np.zeros(n, np.bool_)
    gained = 0.0
    for t in order:
        a = start[t]
        b = start[t + 1]
        old = 0.0
        for j in range(a, b):
            if taken[j]:
                old += value[j]
                seats[session[j]] += 1
                if mentor[j] >= 0:
                    mentor_left[mentor[j]] += 1
        for j in range(a, b):
            ok[j] = seats[session[j]] >= 1 and (mentor[j] < 0 or mentor_left[mentor[j]] >= 1)
        got = best_route(a, b, value, ok, none, cover, need_left, hours, period, day0, day1,
                         offer, mentor, mentor_left, hours_left[t], node_cap, out)
        use_new = got > old + 1e-9
        for j in range(a, b):
            keep = out[j] if use_new else taken[j]
            taken[j] = keep
            if keep:
                seats[session[j]] -= 1
                if mentor[j] >= 0:
                    mentor_left[mentor[j]] -= 1
        if use_new:
            gained += got - old
    return gained
