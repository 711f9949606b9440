#!/usr/bin/env python3
"""Exact reference optima for the benchmark problem, NOT spopt: compact formulations of our own
passed straight to HiGHS (highspy), to know the true optimum where spopt's PuLP models are too big
or too weak to finish (e.g. p-center, whose assignment formulation has a poor LP bound).

  exact_reference.py --county county.geojson --model {lscp,mclp,pcenter,pmedian}
                     [--radius 3000] [--p N] [--time-limit 900] [--threads 1] --out ref.json

Same points, distances, radius rule (d <= radius) and p as spopt_locate.py (it imports them).
  lscp     min sum y_j  s.t.  sum_{j: d_ij <= r} y_j >= 1 for every i      (sparse rows)
  mclp     max sum w_i z_i  s.t.  z_i <= sum_{j: d_ij <= r} y_j, sum y = p  (sparse rows)
  pcenter  the optimum is one of the pairwise distances: bisection over the sorted distinct
           distances, each step an exact LSCP at that radius (feasible iff the minimum cover
           needs <= p sites); then the p sites of the last feasible cover (padded with any sites
           if the cover is smaller) give the max distance, which equals that radius
  pmedian  min sum w_i d_ij x_ij, sum_j x_ij = 1, x_ij <= y_j, sum y = p, x continuous (dense:
           n x n columns, for small n only)
All MIPs at mip_rel_gap 0. Output JSON: model, objective, facilities (codes), status, seconds,
method, steps (p-center).
"""
import argparse
import json
import os
import sys
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from spopt_locate import cost_matrix, default_p, load_points  # noqa: E402


def highs(threads, time_limit):
    import highspy

    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("mip_rel_gap", 0.0)
    h.setOptionValue("mip_abs_gap", 0.0)
    h.setOptionValue("threads", threads)
    h.setOptionValue("time_limit", float(max(1.0, time_limit)))
    return h


def solve_lp(h, ncol, nrow, cost, col_lb, col_ub, row_lb, row_ub, A_csc, integer, sense_max=False):
    import highspy

    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = ncol, nrow
    lp.col_cost_ = np.asarray(cost, dtype=float)
    lp.col_lower_ = np.asarray(col_lb, dtype=float)
    lp.col_upper_ = np.asarray(col_ub, dtype=float)
    lp.row_lower_ = np.asarray(row_lb, dtype=float)
    lp.row_upper_ = np.asarray(row_ub, dtype=float)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = A_csc.indptr.astype(np.int32)
    lp.a_matrix_.index_ = A_csc.indices.astype(np.int32)
    lp.a_matrix_.value_ = A_csc.data.astype(float)
    lp.integrality_ = [highspy.HighsVarType.kInteger if b else highspy.HighsVarType.kContinuous for b in integer]
    if sense_max:
        lp.sense_ = highspy.ObjSense.kMaximize
    h.passModel(lp)
    h.run()
    status = h.modelStatusToString(h.getModelStatus())
    sol = np.array(h.getSolution().col_value)
    info = h.getInfo()
    return status, sol, info


def lscp(D, r, threads, time_limit):
    from scipy.sparse import csr_matrix

    n, m = D.shape
    A = csr_matrix((D <= r).astype(float)).tocsc()  # rows demand, cols sites
    if (A.getnnz(axis=1) == 0).any():
        return "Infeasible", None, None
    h = highs(threads, time_limit)
    st, x, info = solve_lp(h, m, n, np.ones(m), np.zeros(m), np.ones(m), np.ones(n), np.full(n, np.inf), A, [True] * m)
    if st != "Optimal":
        return st, None, info
    return st, [j for j in range(m) if x[j] > 0.5], info


def mclp(D, w, r, p, threads, time_limit):
    from scipy.sparse import csr_matrix, hstack, identity, vstack

    n, m = D.shape
    cover = csr_matrix((D <= r).astype(float))
    # rows 0..n-1: -sum_{j in N_i} y_j + z_i <= 0 ; row n: sum y = p
    A = vstack([hstack([-cover, identity(n, format="csr")]),
                hstack([csr_matrix(np.ones((1, m))), csr_matrix((1, n))])]).tocsc()
    h = highs(threads, time_limit)
    st, x, info = solve_lp(h, m + n, n + 1, np.concatenate([np.zeros(m), w]), np.zeros(m + n), np.ones(m + n),
                           np.concatenate([np.full(n, -np.inf), [p]]), np.concatenate([np.zeros(n), [p]]),
                           A, [True] * (m + n), sense_max=True)
    return st, [j for j in range(m) if x[j] > 0.5] if x is not None and len(x) else None, info


def pmedian(D, w, p, threads, time_limit):
    from scipy.sparse import coo_matrix

    n, m = D.shape
    # columns: y_0..y_{m-1}, then x_ij at m + i*m + j
    rows, cols, vals = [], [], []
    ii = np.repeat(np.arange(n), m)
    jj = np.tile(np.arange(m), n)
    xc = m + ii * m + jj
    rows.append(ii); cols.append(xc); vals.append(np.ones(n * m))  # sum_j x_ij = 1   (rows 0..n-1)
    r2 = n + np.arange(n * m)                                        # x_ij - y_j <= 0 (rows n..)
    rows += [r2, r2]; cols += [xc, jj]; vals += [np.ones(n * m), -np.ones(n * m)]
    rows.append(np.full(m, n + n * m)); cols.append(np.arange(m)); vals.append(np.ones(m))  # sum y = p
    nrow, ncol = n + n * m + 1, m + n * m
    A = coo_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(nrow, ncol)).tocsc()
    cost = np.concatenate([np.zeros(m), (w[:, None] * D).ravel()])
    rl = np.concatenate([np.ones(n), np.full(n * m, -np.inf), [p]])
    ru = np.concatenate([np.ones(n), np.zeros(n * m), [p]])
    h = highs(threads, time_limit)
    st, x, info = solve_lp(h, ncol, nrow, cost, np.zeros(ncol), np.ones(ncol), rl, ru, A,
                           [True] * m + [False] * (n * m))
    return st, [j for j in range(m) if x[j] > 0.5] if x is not None and len(x) else None, info


def pcenter(D, p, threads, deadline):
    vals = np.unique(D)  # sorted distinct distances (0 included)
    lo, hi = 0, len(vals) - 1  # answer index in [lo, hi]; vals[hi] is always feasible
    steps, best = [], None
    # cheap lower bound: every demand point needs a site within r; with p sites the answer is at
    # least the p-th... keep it simple: plain bisection
    while lo < hi:
        mid = (lo + hi) // 2
        t0 = time.perf_counter()
        st, S, _ = lscp(D, vals[mid], threads, deadline - time.perf_counter())
        steps.append({"radius": float(vals[mid]), "status": st, "min_cover": None if S is None else len(S),
                      "seconds": round(time.perf_counter() - t0, 3)})
        if st not in ("Optimal", "Infeasible"):
            return "stopped: " + st, None, steps
        if S is not None and len(S) <= p:
            hi, best = mid, S
        else:
            lo = mid + 1
        if time.perf_counter() > deadline:
            return "time limit", None, steps
    if best is None:
        st, best, _ = lscp(D, vals[lo], threads, deadline - time.perf_counter())
    S = list(best)
    for j in range(D.shape[1]):  # pad to exactly p sites (more sites never increase the max)
        if len(S) >= p:
            break
        if j not in S:
            S.append(j)
    return "Optimal", sorted(S), steps


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--county", required=True)
    ap.add_argument("--model", required=True, choices=("lscp", "mclp", "pcenter", "pmedian"))
    ap.add_argument("--radius", type=float, default=3000.0)
    ap.add_argument("--p", type=int)
    ap.add_argument("--time-limit", type=float, default=900.0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    t0 = time.perf_counter()
    codes, xy, pop = load_points(a.county, 4548)
    n = len(codes)
    p = a.p or default_p(n)
    D = cost_matrix(xy)
    deadline = t0 + a.time_limit
    steps, info = None, None
    if a.model == "lscp":
        st, S, info = lscp(D, a.radius, a.threads, a.time_limit)
    elif a.model == "mclp":
        st, S, info = mclp(D, pop, a.radius, p, a.threads, a.time_limit)
    elif a.model == "pmedian":
        st, S, info = pmedian(D, pop, p, a.threads, a.time_limit)
    else:
        st, S, steps = pcenter(D, p, a.threads, deadline)
    res = {"model": a.model, "what": "exact reference (own compact formulation, highspy), not spopt",
           "n_demand": n, "radius_m": a.radius if a.model in ("lscp", "mclp") else None,
           "p": None if a.model == "lscp" else p, "status": st.lower() if st == "Optimal" else st}
    if S:
        dmin = D[:, S].min(axis=1)
        res["objective"] = {"lscp": float(len(S)), "mclp": float(pop[dmin <= a.radius].sum()),
                            "pmedian": float((pop * dmin).sum()), "pcenter": float(dmin.max())}[a.model]
        res["facilities"] = sorted(codes[j] for j in S)
    if info is not None:
        res["highs"] = {"mip_gap": float(info.mip_gap), "nodes": int(info.mip_node_count),
                        "dual_bound": float(info.mip_dual_bound)}
    if steps is not None:
        res["bisection_steps"] = steps
    res["seconds_total"] = round(time.perf_counter() - t0, 3)
    with open(a.out, "w", encoding="utf-8") as f:
        json.dump(res, f, indent=1)
        f.write("\n")
    print(f"{a.model} n={n}: {res['status']} {res.get('objective')} {res['seconds_total']} s", file=sys.stderr)


if __name__ == "__main__":
    main()
