#!/usr/bin/env python3
"""Stronger peers of `liancun locate`: HiGHS (highspy) and OR-Tools CP-SAT called directly on sparse
models of our own, no PuLP, no spopt. Same instance as compare.sh / spopt_locate.py.

  direct_peers.py run   --points POINTS.csv --model {lscp,mclp,pmedian,pcenter} --solver {highs,highs-ipm,cpsat}
                        [--radius 3000] [--p N] [--time-limit 60] [--threads 1] [--workers 2]
                        [--cpsat-subsolver max_lp] [--pmedian-form {knn,knn-slack,dense}] [--k 30]
                        [--scale 1] [--mem-limit-gb 8] --out RESULT.json
  direct_peers.py drive SIZE... [--time-limit 60] [--models ...] [--solvers highs highs-ipm cpsat]
                        [--pmedian-form knn [knn-slack dense]] [--results DIR] [--table FILE]
                        [--reuse] [--no-liancun] [--grace 60] [run options]
  direct_peers.py table SIZE... [--results DIR] [--table FILE] [--solvers …]   (rows from results on disk)

The instance (see README "The problem"): POINTS.csv = code,x,y,population as written by the harness
(`locate_util.py points`, results/points-N.csv): projected village centroids in EPSG:4548, demand =
every village weighted by population, candidates = the same points, straight-line distances in
metres from scipy's cdist (computed in row blocks, never a dense N x N matrix unless --pmedian-form
dense), covered when d <= radius, p = round(N/20) half up. `drive` makes the points the way
compare.sh does (bench/peer/make_county.py --seed 1, then `locate_util.py points`) when
results/points-N.csv is missing.

Models (y_j = site j open; every MIP at relative and absolute gap 0):
  lscp     min sum y  s.t.  sum_{j: d_ij <= r} y_j >= 1  for all i        (coverage sets, sparse)
  mclp     max sum w_i z_i  s.t.  z_i <= sum_{j: d_ij <= r} y_j,  sum y = p
           (HiGHS: z continuous in [0,1], integral at any integral y; CP-SAT: z boolean, the row as
           the clause  not z_i or y_j1 or ...)
  pmedian  min sum w_i d_ij x_ij  s.t.  sum_j x_ij (+ s_i) = 1,  x_ij <= y_j,  sum y = p
           --pmedian-form knn (default): x_ij only for the K (--k, default 30) nearest candidates of
             each demand. This RESTRICTS the model: its optimum can be worse than the true one and
             the solver's bound is a bound of the restricted model only, NOT of the full problem
             (bound_is_full_problem = false). The objective is still the true value of the sites.
           --pmedian-form knn-slack: the same plus a slack s_i costing w_i times the distance to the
             (K+1)-th nearest candidate, not tied to any site. That RELAXES the model (any
             assignment outside the K nearest costs at least that much), so its bound is a bound of
             the full problem; a solution may use the slack, its objective is recomputed anyway.
           --pmedian-form dense: every pair (N^2 assignment variables; refused above 500 villages
             unless --force): the exact textbook model.
           HiGHS: x (and s) continuous, y integer. CP-SAT: x, s boolean, x_ij => y_j.
  pcenter  bisection over the sorted distinct pairwise distances; each step asks whether p sites
           cover every demand within radius v (sum_{j: d_ij <= v} y_j >= 1, sum y <= p, no
           objective: a feasibility MILP / CP-SAT satisfaction model). The range starts at
           [r_G/2, r_G] with r_G the value of the farthest-first (Gonzalez) p sites, a
           2-approximation (candidates = demand points), so OPT >= r_G/2. A feasible step's cover is
           padded to exactly p sites (farthest demand first) and its true max distance becomes the
           new upper end. bound = the smallest distinct distance above the largest radius PROVEN
           infeasible (the optimum is one of the distances), which is a real bound of the full
           problem; largest_infeasible_radius_m is written too. A step that hits the time limit
           stops the bisection with the best cover found.

CP-SAT runs with num_workers = --workers (default 2: the machine has 2 cores) and, by default, the
`max_lp` worker added (extra_subsolvers): with 2 workers CP-SAT's own portfolio has one
full-problem worker, `default_lp`, whose LP leaves clauses out (LSCP at 200 villages: bound 3
against the optimum 26 after 20 s); `max_lp` linearizes them (26 proven in 0.2 s).
CP-SAT needs integer coefficients. LSCP, MCLP and p-center (bisection) need none: coverage is
decided on the float distances, populations are integers (non-integers would be rounded, and the
bound then flagged as not exact). p-median costs are w_i * round(d_ij * scale) with metres rounded
half up to whole units (--scale 1: metres; 10: decimetres). CP-SAT's bound is converted back
conservatively: true objective >= (bound - 0.5 * sum w) / scale, since each rounded distance is at
most half a unit above the true one; "optimal" then means optimal for the rounded costs
(status "optimal (integer-rounded model)"), and the gap written is against the converted bound.

Output JSON (one run): model, solver, form, versions, n_demand, n_candidates, radius_m, p, objective
(recomputed here from the chosen sites with cdist distances, as spopt_locate.py), bound (metres /
persons / sites, the solver's best bound converted back), bound_is_full_problem, bound_note, gap
(relative, like liancun: (objective - bound) / |objective|, bound - objective for MCLP, >= 0),
status, solver_status, seconds_total (process start to JSON; = "seconds"), seconds_build,
seconds_solve, facilities (village codes, sorted), solver details. `locate_util.py check POINTS.csv
RESULT.json MODEL RADIUS` re-scores it; `drive` does the same for every run (and for liancun's
results-dir/liancun-N-MODEL.json when present) and appends one row per run to a markdown table.
"""
import time

T_START = time.perf_counter()

import argparse  # noqa: E402
import datetime  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import resource  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402

for _v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import locate_util as lu  # noqa: E402

MODELS = lu.MODELS
SOLVERS = ("highs", "highs-ipm", "cpsat")
# highs-ipm: HiGHS with mip_lp_solver=ipm (the root LP by interior point + crossover), the setting
# liancun uses; plain "highs" keeps HiGHS's default (dual simplex).
HIGHS_MIP_LP = {"highs": None, "highs-ipm": "ipm"}
highs_mip_lp = None
MAXIMISE = {"mclp"}
DENSE_MAX = 500
PMEDIAN_FORMS = ("knn", "knn-slack", "dense")
TOOL = {"highs": "HiGHS", "highs-ipm": "HiGHS · ipm root", "cpsat": "CP-SAT", "liancun": "liancun"}


# ----------------------------------------------------------------------------------------------
# instance: points, distances in row blocks


def row_blocks(xy, max_cells=4_000_000):
    """(first row, cdist(xy[rows], xy)) blocks of at most max_cells distances (32 MB)."""
    from scipy.spatial.distance import cdist

    n = len(xy)
    step = max(1, min(n, max_cells // max(n, 1)))
    for s in range(0, n, step):
        yield s, cdist(xy[s:s + step], xy)


def dist_to(xy, sites):
    """n x len(sites) distances, the same numbers as the columns of cdist(xy, xy)."""
    from scipy.spatial.distance import cdist

    return cdist(xy, xy[np.asarray(sites, dtype=int)])


def nearest_open(xy, sites):
    dmin = np.full(len(xy), np.inf)
    sites = list(sites)
    for k in range(0, len(sites), 512):
        dmin = np.minimum(dmin, dist_to(xy, sites[k:k + 512]).min(axis=1))
    return dmin


def cover_pairs(xy, r):
    """(i, j) with d_ij <= r, row-major."""
    ii, jj = [], []
    for s, B in row_blocks(xy):
        i, j = np.nonzero(B <= r)
        ii.append(i + s)
        jj.append(j)
    return np.concatenate(ii), np.concatenate(jj)


def pairs_within(xy, r):
    """(i, j, d) with d_ij <= r, row-major."""
    ii, jj, dd = [], [], []
    for s, B in row_blocks(xy):
        i, j = np.nonzero(B <= r)
        ii.append(i + s)
        jj.append(j)
        dd.append(B[i, j])
    return np.concatenate(ii), np.concatenate(jj), np.concatenate(dd)


def nearest_k(xy, k):
    """Each demand's k nearest candidates: (i, j, d) row-major sorted by distance, and the distance
    to the (k+1)-th nearest (inf when k >= n)."""
    n = len(xy)
    k = min(k, n)
    ii, jj, dd, nxt = [], [], [], []
    for s, B in row_blocks(xy):
        rows = np.arange(B.shape[0])[:, None]
        if k < n:
            part = np.argpartition(B, k, axis=1)[:, :k + 1]  # the k+1 smallest, unordered
        else:
            part = np.broadcast_to(np.arange(n), B.shape)
        d = B[rows, part]
        o = np.lexsort((part, d), axis=1)  # by distance, then index
        part, d = part[rows, o], d[rows, o]
        ii.append(np.repeat(np.arange(B.shape[0]) + s, k))
        jj.append(part[:, :k].ravel())
        dd.append(d[:, :k].ravel())
        nxt.append(d[:, k] if k < n else np.full(B.shape[0], np.inf))
    return np.concatenate(ii), np.concatenate(jj), np.concatenate(dd), np.concatenate(nxt)


def objective_of(model, xy, pop, radius, sites):
    dmin = nearest_open(xy, sites)
    return {"lscp": float(len(set(sites))), "mclp": float(pop[dmin <= radius].sum()),
            "pmedian": float((pop * dmin).sum()), "pcenter": float(dmin.max())}[model], dmin


def gap_of(model, obj, bound):
    if obj is None or bound is None or not math.isfinite(bound):
        return None
    diff = bound - obj if model in MAXIMISE else obj - bound
    return max(diff, 0.0) / max(abs(obj), 1e-12)


def half_up(a):
    return np.floor(np.asarray(a, dtype=float) + 0.5).astype(np.int64)


# ----------------------------------------------------------------------------------------------
# HiGHS (highspy): one MILP in, status / solution / bound out


def highs_solve(ncol, cost, lb, ub, integer, row_lb, row_ub, rows, cols, vals, nrow, time_limit, threads,
                maximise=False):
    import highspy
    from scipy.sparse import coo_matrix

    A = coo_matrix((vals, (rows, cols)), shape=(nrow, ncol)).tocsc()
    A.sum_duplicates()
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("mip_rel_gap", 0.0)
    h.setOptionValue("mip_abs_gap", 0.0)
    h.setOptionValue("threads", int(threads))
    h.setOptionValue("time_limit", float(max(0.1, time_limit)))
    if highs_mip_lp:
        h.setOptionValue("mip_lp_solver", highs_mip_lp)
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = ncol, nrow
    lp.col_cost_ = np.asarray(cost, dtype=float)
    lp.col_lower_ = np.asarray(lb, dtype=float)
    lp.col_upper_ = np.asarray(ub, dtype=float)
    lp.row_lower_ = np.asarray(row_lb, dtype=float)
    lp.row_upper_ = np.asarray(row_ub, dtype=float)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = A.indptr.astype(np.int32)
    lp.a_matrix_.index_ = A.indices.astype(np.int32)
    lp.a_matrix_.value_ = A.data.astype(float)
    kint, kcont = highspy.HighsVarType.kInteger, highspy.HighsVarType.kContinuous
    lp.integrality_ = [kint if b else kcont for b in integer]
    if maximise:
        lp.sense_ = highspy.ObjSense.kMaximize
    h.passModel(lp)
    t0 = time.perf_counter()
    h.run()
    secs = time.perf_counter() - t0
    ms = h.modelStatusToString(h.getModelStatus())
    info = h.getInfo()
    has_sol = int(info.primal_solution_status) == 2  # kSolutionStatusFeasible
    x = np.array(h.getSolution().col_value) if has_sol else None
    det = {"model_status": ms, "mip_dual_bound": float(info.mip_dual_bound),
           "mip_gap": float(info.mip_gap), "nodes": int(info.mip_node_count),
           "objective_function_value": float(info.objective_function_value) if has_sol else None,
           "columns": ncol, "rows": nrow, "nonzeros": int(A.nnz), "seconds_run": round(secs, 3)}
    return ms, x, det


def highs_status(ms, has_solution):
    if ms == "Optimal":
        return "optimal"
    if ms == "Infeasible":
        return "infeasible"
    if "Time limit" in ms:
        return "time limit (feasible)" if has_solution else "time limit (no solution)"
    return ms


# ----------------------------------------------------------------------------------------------
# CP-SAT


def cpsat_solver(time_limit, workers, subsolver):
    from ortools.sat.python import cp_model

    s = cp_model.CpSolver()
    s.parameters.max_time_in_seconds = float(max(0.1, time_limit))
    s.parameters.num_workers = int(workers)
    s.parameters.log_search_progress = False
    if subsolver != "default":
        # With 2 workers CP-SAT's portfolio has one full-problem worker, `default_lp`, whose LP
        # (linearization level 1) leaves the clauses out: its LSCP bound at 200 villages stays at
        # 3 against the optimum 26 after 20 s. `max_lp` (level 2) takes that slot instead.
        s.parameters.extra_subsolvers.append(subsolver)
    return s


def cpsat_run(model, time_limit, a):
    from ortools.sat.python import cp_model

    s = cpsat_solver(time_limit, a.workers, a.cpsat_subsolver)
    t0 = time.perf_counter()
    st = s.solve(model)
    secs = time.perf_counter() - t0
    name = s.status_name(st)
    has_sol = st in (cp_model.OPTIMAL, cp_model.FEASIBLE)
    det = {"status_name": name, "wall_time": round(s.wall_time, 3), "branches": int(s.num_branches),
           "conflicts": int(s.num_conflicts), "seconds_run": round(secs, 3)}
    if model.has_objective():
        det["objective_value_scaled"] = float(s.objective_value) if has_sol else None
        det["best_objective_bound_scaled"] = float(s.best_objective_bound)
    return name, s, has_sol, det


def cpsat_status(name, has_sol):
    if name == "OPTIMAL":
        return "optimal"
    if name == "INFEASIBLE":
        return "infeasible"
    if name == "FEASIBLE":
        return "time limit (feasible)"
    if name == "UNKNOWN":
        return "time limit (no solution)"
    return name


def int_weights(pop):
    w = half_up(pop)
    return w, bool(np.all(w == pop))


# ----------------------------------------------------------------------------------------------
# the four models, each solver


def solve_lscp(solver, xy, pop, a, deadline):
    n = len(xy)
    ci, cj = cover_pairs(xy, a.radius)
    tb = time.perf_counter()
    if solver.startswith("highs"):
        ms, x, det = highs_solve(n, np.ones(n), np.zeros(n), np.ones(n), [True] * n,
                                 np.ones(n), np.full(n, np.inf), ci, cj, np.ones(len(ci)), n,
                                 deadline - time.perf_counter(), a.threads)
        sites = [] if x is None else [j for j in range(n) if x[j] > 0.5]
        return {"status": highs_status(ms, x is not None), "sites": sites, "bound": det["mip_dual_bound"],
                "bound_is_full_problem": True, "details": det, "seconds_build_model": None}
    from ortools.sat.python import cp_model

    m = cp_model.CpModel()
    y = [m.new_bool_var(f"y{j}") for j in range(n)]
    starts = np.searchsorted(ci, np.arange(n + 1))
    for i in range(n):
        m.add_bool_or([y[j] for j in cj[starts[i]:starts[i + 1]]])
    m.minimize(cp_model.LinearExpr.sum(y))
    build = time.perf_counter() - tb
    name, s, ok, det = cpsat_run(m, deadline - time.perf_counter(), a)
    det["nonzeros"] = int(len(ci))
    sites = [j for j in range(n) if ok and s.boolean_value(y[j])]
    return {"status": cpsat_status(name, ok), "sites": sites, "bound": float(s.best_objective_bound),
            "bound_is_full_problem": True, "details": det, "seconds_build_model": build}


def solve_mclp(solver, xy, pop, a, deadline):
    n, p = len(xy), a.p
    ci, cj = cover_pairs(xy, a.radius)
    tb = time.perf_counter()
    if solver.startswith("highs"):
        # columns y_0..y_{n-1}, z_0..z_{n-1}; rows i: z_i - sum_{N_i} y <= 0; row n: sum y = p
        rows = np.concatenate([ci, np.arange(n), np.full(n, n)])
        cols = np.concatenate([cj, n + np.arange(n), np.arange(n)])
        vals = np.concatenate([-np.ones(len(ci)), np.ones(n), np.ones(n)])
        ms, x, det = highs_solve(2 * n, np.concatenate([np.zeros(n), pop]), np.zeros(2 * n), np.ones(2 * n),
                                 [True] * n + [False] * n,
                                 np.concatenate([np.full(n, -np.inf), [p]]), np.concatenate([np.zeros(n), [p]]),
                                 rows, cols, vals, n + 1, deadline - time.perf_counter(), a.threads, maximise=True)
        sites = [] if x is None else [j for j in range(n) if x[j] > 0.5]
        return {"status": highs_status(ms, x is not None), "sites": sites, "bound": det["mip_dual_bound"],
                "bound_is_full_problem": True, "details": det, "seconds_build_model": None}
    from ortools.sat.python import cp_model

    w, exact = int_weights(pop)
    m = cp_model.CpModel()
    y = [m.new_bool_var(f"y{j}") for j in range(n)]
    z = [m.new_bool_var(f"z{i}") for i in range(n)]
    starts = np.searchsorted(ci, np.arange(n + 1))
    for i in range(n):
        m.add_bool_or([~z[i]] + [y[j] for j in cj[starts[i]:starts[i + 1]]])
    m.add(cp_model.LinearExpr.sum(y) == p)
    m.maximize(cp_model.LinearExpr.weighted_sum(z, [int(v) for v in w]))
    build = time.perf_counter() - tb
    name, s, ok, det = cpsat_run(m, deadline - time.perf_counter(), a)
    det["nonzeros"] = int(len(ci))
    det["weights_integer"] = exact
    sites = [j for j in range(n) if ok and s.boolean_value(y[j])]
    return {"status": cpsat_status(name, ok), "sites": sites, "bound": float(s.best_objective_bound),
            "bound_is_full_problem": exact, "details": det, "seconds_build_model": build,
            "bound_note": None if exact else "populations rounded to integers for CP-SAT"}


def solve_pmedian(solver, xy, pop, a, deadline):
    n, p = len(xy), a.p
    form = a.pmedian_form
    if form == "dense":
        if n > DENSE_MAX and not a.force:
            sys.exit(f"--pmedian-form dense has n^2 = {n * n:,} assignment variables: refused above "
                     f"{DENSE_MAX} villages (--force to insist)")
        k = n
    else:
        k = min(a.k, n)
    pi, pj, pd, nxt = nearest_k(xy, k)
    slack = form == "knn-slack" and k < n
    full = form == "dense" or slack or k >= n
    note = {"knn": f"bound of the model restricted to each demand's {k} nearest candidates: NOT a bound "
                   f"of the full problem",
            "knn-slack": f"{k} nearest candidates plus a slack at the distance to the next one (K+1 = "
                         f"{k + 1}): a relaxation, so a bound of the full problem",
            "dense": "full assignment model"}[form]
    if k >= n:
        note = "every demand-candidate pair (K >= N): full assignment model"
    npair = len(pi)
    tb = time.perf_counter()
    if solver.startswith("highs"):
        # columns: y (n), x (npair), [s (n)]; rows: assign (n), link x - y <= 0 (npair), sum y = p
        ns = n if slack else 0
        ncol = n + npair + ns
        e = np.arange(npair)
        rows = [pi, n + e, n + e, np.full(n, n + npair)]
        cols = [n + e, n + e, pj, np.arange(n)]
        vals = [np.ones(npair), np.ones(npair), -np.ones(npair), np.ones(n)]
        if slack:
            rows.append(np.arange(n))
            cols.append(n + npair + np.arange(n))
            vals.append(np.ones(n))
        cost = np.concatenate([np.zeros(n), pop[pi] * pd] + ([pop * nxt] if slack else []))
        rl = np.concatenate([np.ones(n), np.full(npair, -np.inf), [p]])
        ru = np.concatenate([np.ones(n), np.zeros(npair), [p]])
        ms, x, det = highs_solve(ncol, cost, np.zeros(ncol), np.ones(ncol), [True] * n + [False] * (npair + ns),
                                 rl, ru, np.concatenate(rows), np.concatenate(cols), np.concatenate(vals),
                                 n + npair + 1, deadline - time.perf_counter(), a.threads)
        sites = [] if x is None else [j for j in range(n) if x[j] > 0.5]
        st = highs_status(ms, x is not None)
        if not full and st in ("optimal", "infeasible"):
            st += " (restricted model)"
        det.update(form=form, k=k, assignment_pairs=npair)
        if slack and x is not None:
            det["demands_on_slack"] = int((x[n + npair:] > 0.5).sum())
            if st == "optimal" and det["demands_on_slack"]:
                st = "optimal (relaxed model)"  # the relaxation's optimum uses a slack: gap vs true value
        return {"status": st, "sites": sites, "bound": det["mip_dual_bound"], "bound_is_full_problem": full,
                "bound_note": note, "details": det, "seconds_build_model": None}
    from ortools.sat.python import cp_model

    w, exact = int_weights(pop)
    dq = half_up(pd * a.scale)
    m = cp_model.CpModel()
    y = [m.new_bool_var(f"y{j}") for j in range(n)]
    xs = [m.new_bool_var(f"x{e}") for e in range(npair)]
    sv = [m.new_bool_var(f"s{i}") for i in range(n)] if slack else []
    starts = np.searchsorted(pi, np.arange(n + 1))
    for i in range(n):
        m.add_exactly_one(xs[starts[i]:starts[i + 1]] + ([sv[i]] if slack else []))
    for e in range(npair):
        m.add_implication(xs[e], y[pj[e]])
    m.add(cp_model.LinearExpr.sum(y) == p)
    coef = (w[pi] * dq).tolist()
    if slack:
        coef += (w * half_up(nxt * a.scale)).tolist()
    m.minimize(cp_model.LinearExpr.weighted_sum(xs + sv, coef))
    build = time.perf_counter() - tb
    name, s, ok, det = cpsat_run(m, deadline - time.perf_counter(), a)
    sites = [j for j in range(n) if ok and s.boolean_value(y[j])]
    st = cpsat_status(name, ok)
    if st == "optimal":
        st = "optimal (integer-rounded model)" if full else "optimal (restricted, integer-rounded model)"
    elif st == "infeasible" and not full:
        st = "infeasible (restricted model)"
    lb_scaled = float(s.best_objective_bound)
    bound = (lb_scaled - 0.5 * float(w.sum())) / a.scale
    det.update(form=form, k=k, assignment_pairs=npair, scale_units_per_metre=a.scale, weights_integer=exact,
               bound_conversion="(best_objective_bound - 0.5 * sum(population)) / scale")
    if slack and ok:
        det["demands_on_slack"] = int(sum(s.boolean_value(v) for v in sv))
        if st.startswith("optimal") and det["demands_on_slack"]:
            st = "optimal (relaxed, integer-rounded model)"
    note += (f"; CP-SAT costs = population x distance rounded to 1/{a.scale:g} m, bound converted "
             f"conservatively (minus half a unit per person)")
    return {"status": st, "sites": sites, "bound": bound, "bound_is_full_problem": full and exact,
            "bound_note": note, "details": det, "seconds_build_model": build}


def gonzalez(xy, p):
    """Farthest-first p sites (start: the point nearest the mean), their max nearest distance."""
    c = xy.mean(axis=0)
    j0 = int(np.argmin(np.hypot(xy[:, 0] - c[0], xy[:, 1] - c[1])))
    S = [j0]
    dmin = dist_to(xy, [j0])[:, 0]
    while len(S) < p:
        j = int(np.argmax(dmin))
        if dmin[j] == 0:
            break
        S.append(j)
        dmin = np.minimum(dmin, dist_to(xy, [j])[:, 0])
    return S, float(dmin.max()), dmin


def pad_sites(xy, S, p):
    """Add the farthest demand point as a site until there are p sites (never raises the max)."""
    S = list(dict.fromkeys(S))
    dmin = nearest_open(xy, S) if S else np.full(len(xy), np.inf)
    while len(S) < min(p, len(xy)):
        j = int(np.argmax(dmin))
        if j in S:
            j = next(t for t in range(len(xy)) if t not in S)
        S.append(j)
        dmin = np.minimum(dmin, dist_to(xy, [j])[:, 0])
    return S, float(dmin.max())


def cover_test(solver, n, p, ci, cj, a, time_left):
    """Do p sites cover every demand through the pairs (ci, cj)? -> (verdict, sites, details)."""
    if solver.startswith("highs"):
        rows = np.concatenate([ci, np.full(n, n)])
        cols = np.concatenate([cj, np.arange(n)])
        rl = np.concatenate([np.ones(n), [-np.inf]])
        ru = np.concatenate([np.full(n, np.inf), [p]])
        ms, x, det = highs_solve(n, np.zeros(n), np.zeros(n), np.ones(n), [True] * n, rl, ru, rows, cols,
                                 np.ones(len(rows)), n + 1, time_left, a.threads)
        if ms == "Optimal" and x is not None:
            return "feasible", [j for j in range(n) if x[j] > 0.5], det
        if ms == "Infeasible":
            return "infeasible", None, det
        return "unknown: " + ms, None, det
    from ortools.sat.python import cp_model

    m = cp_model.CpModel()
    y = [m.new_bool_var(f"y{j}") for j in range(n)]
    starts = np.searchsorted(ci, np.arange(n + 1))
    for i in range(n):
        m.add_bool_or([y[j] for j in cj[starts[i]:starts[i + 1]]])
    m.add(cp_model.LinearExpr.sum(y) <= p)
    name, s, ok, det = cpsat_run(m, time_left, a)
    if ok:
        return "feasible", [j for j in range(n) if s.boolean_value(y[j])], det
    if name == "INFEASIBLE":
        return "infeasible", None, det
    return "unknown: " + name, None, det


def solve_pcenter(solver, xy, pop, a, deadline):
    n, p = len(xy), a.p
    S_best, rG, _ = gonzalez(xy, p)
    S_best, f_best = pad_sites(xy, S_best, p)
    # OPT >= r_G / 2 (farthest-first is a 2-approximation; candidates = demand points); the factor
    # keeps the triangle inequality safe from rounding in the last bit
    lb0 = rG / 2.0 * (1 - 1e-12)
    pi, pj, pd = pairs_within(xy, f_best)  # every pair that can matter: OPT <= f_best
    vals = np.unique(pd[pd >= lb0])  # the optimum is one of these distances
    lo = 0
    hi = int(np.searchsorted(vals, f_best, side="right")) - 1
    steps, verdict, largest_infeasible = [], None, None
    while lo < hi:
        left = deadline - time.perf_counter()
        if left <= 0.1:
            verdict = "time limit"
            break
        mid = (lo + hi) // 2
        r = float(vals[mid])
        keep = pd <= r
        t0 = time.perf_counter()
        v, S, det = cover_test(solver, n, p, pi[keep], pj[keep], a, left)
        step = {"radius_m": r, "verdict": v, "sites": None if S is None else len(S),
                "seconds": round(time.perf_counter() - t0, 3)}
        steps.append(step)
        if v == "feasible":
            S, f = pad_sites(xy, S, p)
            step["max_distance_m"] = f
            if f < f_best:
                S_best, f_best = S, f
            hi = min(mid, int(np.searchsorted(vals, f_best, side="right")) - 1)
        elif v == "infeasible":
            largest_infeasible = r
            lo = mid + 1
        else:
            verdict = "time limit"
            break
    bound = float(vals[lo]) if lo < len(vals) else f_best
    done = lo >= hi and abs(f_best - bound) <= 1e-9 * max(1.0, f_best)
    status = "optimal" if done else "time limit (feasible)"
    det = {"method": "bisection over sorted distinct distances, set-cover feasibility tests",
           "gonzalez_value_m": rG, "start_range_m": [lb0, float(vals[-1]) if len(vals) else f_best],
           "levels": int(len(vals)), "pairs_within_upper_bound": int(len(pi)), "steps": steps,
           "largest_infeasible_radius_m": largest_infeasible, "stopped": verdict}
    note = ("smallest distinct distance above the largest radius proven infeasible"
            if largest_infeasible is not None else "smallest distinct distance >= r_G/2 (farthest-first)")
    return {"status": status, "sites": S_best, "bound": bound, "bound_is_full_problem": True,
            "bound_note": note, "details": det, "seconds_build_model": None,
            "largest_infeasible_radius_m": largest_infeasible}


SOLVE = {"lscp": solve_lscp, "mclp": solve_mclp, "pmedian": solve_pmedian, "pcenter": solve_pcenter}


def versions():
    v = {"python": platform.python_version(), "numpy": np.__version__}
    try:
        import scipy

        v["scipy"] = scipy.__version__
    except ImportError:
        pass
    try:
        import highspy

        h = highspy.Highs()
        v["highspy"] = f"{h.versionMajor()}.{h.versionMinor()}.{h.versionPatch()}"
    except ImportError:
        pass
    try:
        import ortools

        v["ortools"] = ortools.__version__
    except ImportError:
        pass
    return v


def cmd_run(a):
    if a.mem_limit_gb and a.mem_limit_gb > 0:
        cap = int(a.mem_limit_gb * 1024 ** 3)
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    deadline = T_START + a.time_limit
    codes, xy, pop = lu.read_points(a.points)
    n = len(codes)
    a.p = a.p or lu.default_p(n)
    t_read = time.perf_counter()
    global highs_mip_lp
    highs_mip_lp = HIGHS_MIP_LP.get(a.solver)
    try:
        r = SOLVE[a.model](a.solver, xy, pop, a, deadline)
    except MemoryError:
        r = {"status": "out of memory", "sites": [], "bound": None, "bound_is_full_problem": False,
             "details": {}, "seconds_build_model": None}
    t_solve_end = time.perf_counter()
    sites = sorted(set(int(j) for j in r["sites"]))
    obj = None
    if sites:
        obj, _ = objective_of(a.model, xy, pop, a.radius, sites)
    bound = r.get("bound")
    if bound is not None and not math.isfinite(bound):
        bound = None
    if a.model == "lscp" and bound is not None:
        bound_raw = bound
        bound = float(math.ceil(bound - 1e-6))  # a count of sites: the bound rounds up
        r["details"]["bound_unrounded"] = bound_raw
    res = {"model": a.model, "solver": a.solver, "tool": TOOL[a.solver],
           "what": "direct peer: own sparse model passed straight to the solver (not spopt, not PuLP)",
           "points": os.path.abspath(a.points), "versions": versions(), "n_demand": n, "n_candidates": n,
           "radius_m": a.radius if a.model in ("lscp", "mclp") else None,
           "p": None if a.model == "lscp" else a.p,
           "form": (a.pmedian_form + (f" K={min(a.k, n)}" if a.pmedian_form != "dense" else "")
                    if a.model == "pmedian" else {"pcenter": "bisection"}.get(a.model, "coverage sets")),
           "options": {"time_limit_s": a.time_limit, "threads_highs": a.threads, "workers_cpsat": a.workers,
                       "cpsat_extra_subsolver": a.cpsat_subsolver if a.solver == "cpsat" else None,
                       "mip_rel_gap": 0.0, "mip_abs_gap": 0.0, "scale_units_per_metre": a.scale,
                       "mem_limit_gb": a.mem_limit_gb},
           "objective": obj, "bound": bound, "bound_is_full_problem": bool(r.get("bound_is_full_problem")),
           "bound_note": r.get("bound_note"), "gap": gap_of(a.model, obj, bound),
           "status": r["status"], "facilities": sorted(codes[j] for j in sites),
           "n_facilities": len(sites)}
    if a.model == "pcenter":
        res["largest_infeasible_radius_m"] = r.get("largest_infeasible_radius_m")
    res["solver_details"] = r["details"]
    res["seconds_read"] = round(t_read - T_START, 3)
    res["seconds_solve"] = round(t_solve_end - t_read, 3)  # distances + model + solver(s)
    if r.get("seconds_build_model") is not None:
        res["seconds_build_model"] = round(r["seconds_build_model"], 3)
    res["seconds_total"] = res["seconds"] = round(time.perf_counter() - T_START, 3)
    with open(a.out, "w", encoding="utf-8") as f:
        json.dump(res, f, indent=1)
        f.write("\n")
    g = res["gap"]
    print(f"{a.model}/{a.solver} n={n}: {res['status']} objective {obj} bound {bound} "
          f"gap {'-' if g is None else f'{g:.3%}'} {res['seconds_total']} s", file=sys.stderr)


# ----------------------------------------------------------------------------------------------
# driver and table


def ensure_points(results, size, seed, python):
    pts = os.path.join(results, f"points-{size}.csv")
    if os.path.exists(pts) and os.path.getsize(pts) > 0:
        return pts
    county = os.path.join(results, f"county-{size}.geojson")
    if not (os.path.exists(county) and os.path.getsize(county) > 0):
        subprocess.run([python, os.path.join(ROOT, "bench", "peer", "make_county.py"), "--villages", str(size),
                        "--seed", str(seed), "--out", county], check=True, stdout=subprocess.DEVNULL)
    subprocess.run([python, os.path.join(HERE, "locate_util.py"), "points", county, pts], check=True)
    return pts


def rescore(points, path, model, radius, write=True):
    """locate_util's peer-side check (hypot distances, its own code path); written as -check.json
    for our own results (liancun's is left to compare.sh, whose check also compares coordinates)."""
    r = lu.read_result(path)
    if r is None:
        return None
    chk = lu.recompute(points, r["facilities"], model, float(radius)) if r["facilities"] else {"objective": None}
    chk["reported_objective"] = r["objective"]
    if chk.get("objective") is not None and r["objective"] is not None:
        chk["relative_difference"] = (r["objective"] - chk["objective"]) / max(abs(chk["objective"]), 1e-12)
    if write:
        with open(path[:-5] + "-check.json", "w", encoding="utf-8") as f:
            json.dump(chk, f, indent=1)
            f.write("\n")
    return chk


def fmt_num(model, v):
    if v is None:
        return "–"
    if model in ("lscp", "mclp") and float(v).is_integer():
        return f"{v:,.0f}"
    if model in ("lscp", "mclp"):
        return f"{v:,.2f}"
    if model == "pmedian":
        return f"{v:,.1f}"
    return f"{v:,.2f}"


HEADER = ("| size | model | tool | objective | bound | gap | seconds | status | bound of full problem "
          "| re-scored | run |\n| ---: | --- | --- | ---: | ---: | ---: | ---: | --- | --- | --- | --- |\n")


def table_row(size, p, model, tool, form, res, chk, when):
    o = res.get("objective")
    g = res.get("gap")
    gap = "–" if g is None else f"{g * 100:.4f} %"
    s = res.get("seconds")
    sec = "–" if s is None else f"{s:,.2f}"
    full = res.get("bound_is_full_problem")
    full = "–" if res.get("bound") is None else ("yes" if full else "no")
    if chk is None or chk.get("objective") is None or o is None:
        rs = "–"
    else:
        d = chk.get("relative_difference", 0.0)
        rs = f"ok ({d:+.1e})" if abs(d) <= 1e-9 else f"MISMATCH ({chk['objective']:.6g}, {d:+.1e})"
    ptxt = "" if model == "lscp" or p is None else f", p={p}"
    label = lu.LABEL[model] + ptxt
    return (f"| {size} | {label} | {tool}{' · ' + form if form else ''} | {fmt_num(model, o)} "
            f"| {fmt_num(model, res.get('bound'))} | {gap} | {sec} | {res.get('status') or '?'} | {full} "
            f"| {rs} | {when} |")


def liancun_result(results, size, model):
    path = os.path.join(results, f"liancun-{size}-{model}.json")
    try:
        with open(path, encoding="utf-8") as f:
            d = json.load(f)
    except (OSError, ValueError):
        return None, None
    secs = d.get("seconds")
    try:  # compare.sh's process wall time, when it wrote one
        with open(os.path.join(results, f"liancun-{size}-{model}-seconds.json"), encoding="utf-8") as f:
            secs = json.load(f)["seconds"]
    except (OSError, ValueError, KeyError):
        pass
    if d.get("optimal") is True:
        st = "optimal"
    elif d.get("stopped_by_time_limit"):
        st = "time limit (feasible)"
    else:
        st = str(d.get("status") or "feasible")
    res = {"objective": d.get("objective"), "bound": d.get("bound"), "gap": d.get("gap"), "seconds": secs,
           "status": st, "bound_is_full_problem": True, "p": d.get("p")}
    return path, res


def append_rows(table, rows):
    new = not (os.path.exists(table) and os.path.getsize(table) > 0)
    with open(table, "a", encoding="utf-8") as f:
        if new:
            f.write(HEADER)
        for r in rows:
            f.write(r + "\n")


def run_one(a, size, points, model, solver, form, out):
    cmd = [sys.executable, os.path.abspath(__file__), "run", "--points", points, "--model", model, "--solver", solver,
           "--radius", str(a.radius), "--time-limit", str(a.time_limit), "--threads", str(a.threads),
           "--workers", str(a.workers), "--cpsat-subsolver", a.cpsat_subsolver, "--pmedian-form", form, "--k", str(a.k), "--scale", str(a.scale),
           "--mem-limit-gb", str(a.mem_limit_gb), "--out", out]
    if a.p:
        cmd += ["--p", str(a.p)]
    if a.force:
        cmd.append("--force")
    log = out[:-5] + ".log"
    if os.path.exists(out):
        os.remove(out)
    t0 = time.perf_counter()
    with open(log, "w", encoding="utf-8") as lf:
        try:
            rc = subprocess.run(cmd, stdout=lf, stderr=subprocess.STDOUT, timeout=a.time_limit + a.grace).returncode
        except subprocess.TimeoutExpired:
            rc = "timeout"
    wall = time.perf_counter() - t0
    if not (os.path.exists(out) and os.path.getsize(out) > 0):
        status = (f"killed at the time limit ({a.time_limit:g} s + {a.grace:g} s grace)" if rc == "timeout"
                  else f"crashed (exit {rc}, see {os.path.basename(log)})")
        with open(out, "w", encoding="utf-8") as f:
            label = {"pmedian": f"{form} K={a.k}" if form != "dense" else "dense", "pcenter": "bisection"}
            json.dump({"model": model, "solver": solver, "form": label.get(model), "objective": None,
                       "bound": None, "gap": None,
                       "status": status, "facilities": [], "seconds_total": round(wall, 3),
                       "seconds": round(wall, 3)}, f, indent=1)
            f.write("\n")
    print(f"== {size} {os.path.basename(out)[:-5]}: exit {rc}, {wall:.1f} s wall", file=sys.stderr)


def rows_for(a, size, when, run=False):
    results = a.results
    points = ensure_points(results, size, a.seed, sys.executable)
    pts = lu.read_points(points)
    n = len(pts[0])
    p = a.p or lu.default_p(n)
    rows = []
    for model in a.models:
        for form, solver in [(f, s) for f in (a.pmedian_form if model == "pmedian" else [None])
                             for s in a.solvers]:
            tag = f"{model}-{form}" if form else model
            out = os.path.join(results, f"direct-{size}-{tag}-{solver}.json")
            if run and not (a.reuse and os.path.exists(out)):
                if form == "dense" and n > DENSE_MAX and not a.force:
                    print(f"== {size} {tag} {solver}: skipped (dense above {DENSE_MAX} villages)", file=sys.stderr)
                    continue
                run_one(a, size, points, model, solver, form or "knn", out)
            if not os.path.exists(out):
                continue
            with open(out, encoding="utf-8") as f:
                res = json.load(f)
            chk = rescore(pts, out, model, a.radius)
            form = res.get("form") if model in ("pmedian", "pcenter") else None
            rows.append(table_row(size, None if model == "lscp" else res.get("p", p), model, TOOL[solver], form,
                                  res, chk, when))
        if a.liancun:
            path, res = liancun_result(results, size, model)
            if res is not None:
                chk = rescore(pts, path, model, a.radius, write=False)
                rows.append(table_row(size, res.get("p") or p, model, "liancun", None, res, chk, when))
    return rows


def cmd_drive(a, run=True):
    when = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    if run:
        when += f", {a.time_limit:g} s"
    table = a.table or os.path.join(a.results, "direct-table.md")
    rows = []
    for size in a.sizes:
        rows += rows_for(a, size, when, run=run)
    append_rows(table, rows)
    print(HEADER + "\n".join(rows))
    print(f"(appended {len(rows)} rows to {table})", file=sys.stderr)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)

    def common(q):
        q.add_argument("--radius", type=float, default=3000.0, help="LSCP/MCLP radius, m (d <= radius)")
        q.add_argument("--p", type=int, help="sites for MCLP/p-median/p-center (default round(N/20) half up)")
        q.add_argument("--time-limit", type=float, default=60.0, help="seconds per run, whole run (default 60)")
        q.add_argument("--threads", type=int, default=1, help="HiGHS threads (default 1)")
        q.add_argument("--workers", type=int, default=2, help="CP-SAT num_workers (default 2)")
        q.add_argument("--cpsat-subsolver", default="max_lp",
                       help="CP-SAT extra_subsolvers entry (default max_lp: the LP worker that linearizes "
                            "the clauses); 'default' = CP-SAT's own portfolio")
        q.add_argument("--k", type=int, default=30, help="nearest candidates per demand (p-median knn forms)")
        q.add_argument("--scale", type=float, default=1.0, help="CP-SAT p-median cost units per metre (1: metres)")
        q.add_argument("--force", action="store_true", help="allow --pmedian-form dense above 500 villages")
        q.add_argument("--mem-limit-gb", type=float, default=8.0, help="address-space cap per run (0: none)")

    r = sub.add_parser("run", help="one model, one solver")
    r.add_argument("--points", required=True)
    r.add_argument("--model", required=True, choices=MODELS)
    r.add_argument("--solver", required=True, choices=SOLVERS)
    r.add_argument("--out", required=True)
    r.add_argument("--pmedian-form", choices=PMEDIAN_FORMS, default="knn")
    common(r)
    for name in ("drive", "table"):
        d = sub.add_parser(name, help="all models x solvers for SIZEs, rows appended to a markdown table"
                           if name == "drive" else "table rows from the results already on disk")
        d.add_argument("sizes", nargs="+")
        d.add_argument("--models", nargs="+", choices=MODELS, default=list(MODELS))
        d.add_argument("--solvers", nargs="+", choices=SOLVERS, default=list(SOLVERS))
        d.add_argument("--results", default=os.path.join(HERE, "results"))
        d.add_argument("--table", help="markdown file to append to (default RESULTS/direct-table.md)")
        d.add_argument("--reuse", action="store_true", help="keep direct-N-MODEL-SOLVER.json already there")
        d.add_argument("--no-liancun", dest="liancun", action="store_false",
                       help="leave out liancun-N-MODEL.json even when present")
        d.add_argument("--grace", type=float, default=60.0, help="kill a run at time limit + grace (s)")
        d.add_argument("--seed", type=int, default=1, help="county seed when the points must be made")
        d.add_argument("--pmedian-form", nargs="+", choices=PMEDIAN_FORMS, default=["knn"],
                       help="p-median form(s) to run (default knn; e.g. knn knn-slack dense)")
        common(d)
    a = ap.parse_args()
    if a.cmd == "run":
        cmd_run(a)
    else:
        cmd_drive(a, run=a.cmd == "drive")


if __name__ == "__main__":
    main()
