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
def _clashes(j: int, chosen: np.ndarray, depth: int, day0: np.ndarray, day1: np.ndarray,
             offer: np.ndarray) -> bool:
    """Whether candidate ``j`` overlaps in dates or shares an offer with a chosen one."""
    for d in range(depth):
        c = chosen[d]
        if offer[c] == offer[j] or (day0[c] <= day1[j] and day0[j] <= day1[c]):
            return True
    return False


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
def best_route(a: int, b: int, reduced: np.ndarray, ok: np.ndarray, taken: np.ndarray,
               cover: np.ndarray, need_left: np.ndarray, hours: np.ndarray,
               period: np.ndarray, day0: np.ndarray, day1: np.ndarray, offer: np.ndarray,
               mentor: np.ndarray, mentor_room: np.ndarray, hours_left: np.ndarray,
               node_cap: int, out: np.ndarray) -> float:
    """The best addition to one teacher's route (candidates ``a`` … ``b``): items already
    ``taken`` stay and use their limits; among the others with ``ok`` and a positive reduced
    value, the subset of largest total that fits, with no more new items of a mentor than
    ``mentor_room`` (a mentor may run several offers). Sets ``out`` for the chosen ones (False
    for the rest of ``a`` … ``b`` not taken) and returns its total.

    The bound at a node: per need still open, the largest share (reduced value over the needs
    it covers) among the candidates left, times its free places."""
    n_all = b - a
    width = cover.shape[1]
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
    # Local needs: ids, free places (less what the items taken hold), who covers what.
    needs = np.empty(width * n, np.int64)
    local = np.full((n, width), -1, np.int64)
    m = 0
    for q in range(n):
        j = idx[q]
        for kk in range(width):
            g = cover[j, kk]
            if g < 0:
                break
            at = -1
            for p in range(m):
                if needs[p] == g:
                    at = p
                    break
            if at < 0:
                needs[m] = g
                at = m
                m += 1
            local[q, kk] = at
    free = np.empty(m, np.int64)
    for p in range(m):
        free[p] = need_left[needs[p]]
        for d in range(depth0):
            for kk in range(width):
                if cover[chosen[d], kk] == needs[p]:
                    free[p] -= 1
    top = np.zeros((n + 1, m))  # top[i, p]: the largest share of need p among i … n − 1
    loose = np.zeros(n + 1)  # candidates covering no open need: their values from i on
    for q in range(n - 1, -1, -1):
        top[q] = top[q + 1]
        loose[q] = loose[q + 1]
        count = 0
        for kk in range(width):
            if local[q, kk] >= 0:
                count += 1
        if count == 0:
            loose[q] += reduced[idx[q]]
            continue
        share = reduced[idx[q]] / count
        for kk in range(count):
            p = local[q, kk]
            top[q, p] = max(top[q, p], share)
    used = np.zeros(m, np.int64)
    decision = np.zeros(n, np.int8)  # 0 untried, 1 taken, 2 skipped
    best_set = np.zeros(n, np.bool_)
    best = 0.0
    current = 0.0
    depth = depth0
    i = 0
    nodes = 0
    while True:
        nodes += 1
        prune = i == n
        if not prune:
            bound = loose[i]
            for p in range(m):
                if free[p] > used[p]:
                    bound += top[i, p] * (free[p] - used[p])
            prune = current + bound <= best + _EPS
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
                    for kk in range(width):
                        if local[i, kk] >= 0:
                            used[local[i, kk]] -= 1
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
        fits = hours[j] <= 0 or left[period[j]] - hours[j] >= -1e-6
        for kk in range(width):
            if fits and local[i, kk] >= 0 and used[local[i, kk]] >= free[local[i, kk]]:
                fits = False
        if fits and not _clashes(j, chosen, depth, day0, day1, offer) and \
                _mentor_fits(j, chosen, depth0, depth, mentor, mentor_room):
            decision[i] = 1
            chosen[depth] = j
            depth += 1
            current += reduced[j]
            for kk in range(width):
                if local[i, kk] >= 0:
                    used[local[i, kk]] += 1
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


@njit(cache=True)
def _reroute(t: int, start: np.ndarray, value: np.ndarray, taken: np.ndarray,
             session: np.ndarray, mentor: np.ndarray, seats: np.ndarray,
             mentor_left: np.ndarray, cover: np.ndarray, need_left: np.ndarray,
             hours: np.ndarray, period: np.ndarray, day0: np.ndarray, day1: np.ndarray,
             offer: np.ndarray, hours_left: np.ndarray, node_cap: int, banned: int,
             extra: int, ok: np.ndarray, none: np.ndarray, out: np.ndarray) -> float:
    """Teacher ``t``'s best route with its own seats given back, never session ``banned``,
    and one more seat in session ``extra`` (-1: none); ``out`` holds it, the state is left as
    it was. Returns its value."""
    a = start[t]
    b = start[t + 1]
    for j in range(a, b):
        if taken[j]:
            seats[session[j]] += 1
            if mentor[j] >= 0:
                mentor_left[mentor[j]] += 1
    for j in range(a, b):
        s = session[j]
        room = seats[s] >= 1 or s == extra
        ok[j] = s != banned and room and (mentor[j] < 0 or mentor_left[mentor[j]] >= 1)
    got = best_route(a, b, value, ok, none, cover, need_left, hours, period, day0, day1,
                     offer, mentor, mentor_left, hours_left[t], node_cap, out)
    for j in range(a, b):
        if taken[j]:
            seats[session[j]] -= 1
            if mentor[j] >= 0:
                mentor_left[mentor[j]] -= 1
    return got


@njit(cache=True)
def _commit(t: int, start: np.ndarray, taken: np.ndarray, out: np.ndarray,
            session: np.ndarray, mentor: np.ndarray, seats: np.ndarray,
            mentor_left: np.ndarray) -> None:
    """Teacher ``t`` takes the route in ``out`` instead of its own."""
    for j in range(start[t], start[t + 1]):
        if taken[j]:
            seats[session[j]] += 1
            if mentor[j] >= 0:
                mentor_left[mentor[j]] += 1
        taken[j] = out[j]
        if out[j]:
            seats[session[j]] -= 1
            if mentor[j] >= 0:
                mentor_left[mentor[j]] -= 1


@njit(cache=True)
def swap_seats(by_session: np.ndarray, session_start: np.ndarray, teacher_of: np.ndarray,
               start: np.ndarray, value: np.ndarray, taken: np.ndarray, session: np.ndarray,
               mentor: np.ndarray, seats: np.ndarray, mentor_left: np.ndarray,
               cover: np.ndarray, need_left: np.ndarray, hours: np.ndarray,
               period: np.ndarray, day0: np.ndarray, day1: np.ndarray, offer: np.ndarray,
               hours_left: np.ndarray, node_cap: int) -> float:
    """For each full session (candidates ``by_session[session_start[s]:session_start[s+1]]``):
    the holder who loses least by re-routing without it and the teacher who gains most by
    re-routing with its seat; when the gain beats the loss, both re-route. Returns the total
    gained."""
    n = len(value)
    ok = np.zeros(n, np.bool_)
    none = np.zeros(n, np.bool_)
    out = np.zeros(n, np.bool_)
    keep = np.zeros(n, np.bool_)
    current = np.zeros(len(start) - 1)
    for j in range(n):
        if taken[j]:
            current[teacher_of[j]] += value[j]
    gained = 0.0
    for s in range(len(session_start) - 1):
        if seats[s] >= 1 or seats[s] > 1e8:
            continue
        lo = session_start[s]
        hi = session_start[s + 1]
        worth = 0.0  # what the session is worth at most to a teacher not holding it
        for q in range(lo, hi):
            if not taken[by_session[q]]:
                worth = max(worth, value[by_session[q]])
        if worth <= 1e-9:
            continue
        loss = np.inf
        holder = -1
        for q in range(lo, hi):
            c = by_session[q]
            if not taken[c] or loss <= 1e-9:
                continue
            h = teacher_of[c]
            got = _reroute(h, start, value, taken, session, mentor, seats, mentor_left, cover,
                           need_left, hours, period, day0, day1, offer, hours_left, node_cap,
                           s, -1, ok, none, out)
            if current[h] - got < loss:
                loss = current[h] - got
                holder = h
        if holder < 0 or loss >= worth:
            continue
        gain = 0.0
        taker = -1
        for q in range(lo, hi):
            c = by_session[q]
            t = teacher_of[c]
            # A teacher's route can gain no more than the candidate is worth (its route
            # without the session is already its best), so most need no search.
            if taken[c] or t == holder or value[c] <= max(gain, loss) + 1e-9:
                continue
            got = _reroute(t, start, value, taken, session, mentor, seats, mentor_left, cover,
                           need_left, hours, period, day0, day1, offer, hours_left, node_cap,
                           -1, s, ok, none, out)
            if out[c] and got - current[t] > gain:
                gain = got - current[t]
                taker = t
        if taker < 0 or gain <= loss + 1e-9:
            continue
        # The holder re-routes without the session, then the taker re-routes with its seat.
        got = _reroute(holder, start, value, taken, session, mentor, seats, mentor_left,
                       cover, need_left, hours, period, day0, day1, offer, hours_left,
                       node_cap, s, -1, ok, none, out)
        _commit(holder, start, taken, out, session, mentor, seats, mentor_left)
        current[holder] = got
        got_t = _reroute(taker, start, value, taken, session, mentor, seats, mentor_left,
                         cover, need_left, hours, period, day0, day1, offer, hours_left,
                         node_cap, -1, -1, ok, none, out)
        for j in range(start[taker], start[taker + 1]):
            keep[j] = out[j]
        if got_t > current[taker] + 1e-9:
            _commit(taker, start, taken, keep, session, mentor, seats, mentor_left)
            gained += got_t - current[taker]
            current[taker] = got_t
        gained -= loss
    return gained
