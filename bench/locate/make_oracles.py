#!/usr/bin/env python3
"""Oracle cases for liancun's facility-location unit tests: bench/locate/oracle/<name>.json.

  make_oracles.py [--out bench/locate/oracle] [--only NAME_PREFIX] [--skip-spopt]

Three families, every case self-contained (full cost matrix, weights, radius/p, expected optimum):

  sf_*       spopt 0.7.0's real-world test data (spopt/tests/test_locate/data, shipped in the wheel):
             205 San Francisco census tracts (demand, weight POP2000) x 16 candidate stores, network
             distances in metres. The matrix is built the way spopt's tests build it: pivot of the
             distance CSV, rows = DestinationName sorted, columns = store name sorted as strings
             (Store_1, Store_11, ..., Store_19, Store_2, ..., Store_7); the weights are the demand CSV
             sorted by NAME (same order; checked). Published values: MCLP r=5000 p=4 leaves 21 tracts
             uncovered (89.756 %), p-median p=4 mean distance 2982.1268579890657 m, and the
             infeasible cases (LSCP r=20, MCLP p=1000, p-median p=0, p-center p=0). LSCP r=5000 and
             p-center p=4 are only asserted "optimal" there; their optima are computed here.
  lattice_*  spopt's synthetic test instance (tests/conftest.py `network_instance(100, 5)`): a 10x10
             spaghetti lattice, 100 clients (simulated_geo_points seed 5) and 5 facilities (seed 6)
             snapped to it, weights numpy.random.randint(1, 12, 100) drawn right after (global numpy
             state left by seed 6). Network distances (spaghetti allneighbordistances) for the
             from_cost_matrix tests, Euclidean distances between the snapped points for the
             from_geodataframe tests. Published: pickled fac2cli/cli2fac (which facilities serve
             whom: the chosen set), MCLP n_cli_uncov 1 / perc_cov 99.0, the p-median docstring value
             1870.747 (mean 3.027), and with predefined facilities: p-median 1872.5093264630818
             (sites 1,3,4) and p-center 6.2520432 (sites 2,3,4).
  rand_*     seeded random instances made here (15-40 points, candidates = demand points, Euclidean
             metres, weights 300-6000 like village populations), five per model, among them one with
             duplicated points and one on a 1 km grid (ties), as in liancun's benchmark problem.

Every expected optimum is verified three ways, independently of spopt's code: exhaustive
enumeration of facility sets (all sets of size p; for LSCP all sets of size 1, 2, ... until one
covers), and a MIP of our own (the textbook formulation, not spopt's) solved by HiGHS and by CBC with
relative gap 0. The published spopt values are also reproduced by running spopt itself on the
reconstructed data (unless --skip-spopt). The enumeration gives the number of optimal facility sets,
so `expected.unique` says whether a test may compare the facility set or only the objective.

Objective definitions (d_i = distance from demand i to its nearest open candidate):
  lscp     number of open candidates, every demand point within radius (d_ij <= radius) of one
  mclp     sum of weights of demand points within radius of an open candidate, exactly p open
  pmedian  sum_i w_i d_i, exactly p open
  pcenter  max_i d_i (unweighted, as spopt), exactly p open
"""
import argparse
import importlib.metadata as md
import itertools
import json
import math
import os
import sys
import time
import warnings

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REL = 1e-9
SPOPT_VERSION = md.version("spopt")


def spopt_data_dir():
    import spopt

    return os.path.join(os.path.dirname(spopt.__file__), "tests", "test_locate", "data")


# ----------------------------------------------------------------------------- exact solving

def cover_sets(D, radius):
    return D <= radius


def objective_of(model, D, w, radius, S):
    dmin = D[:, list(S)].min(axis=1)
    if model == "lscp":
        return float(len(S)) if bool((dmin <= radius).all()) else math.inf
    if model == "mclp":
        return float(w[dmin <= radius].sum())
    if model == "pmedian":
        return float((w * dmin).sum())
    return float(dmin.max())


def _combos(m, k, chunk=200_000):
    it = itertools.combinations(range(m), k)
    while True:
        block = list(itertools.islice(it, chunk))
        if not block:
            return
        yield np.array(block, dtype=np.int64)


def brute_force(model, D, w, radius, p, predefined=(), max_sets=30_000_000):
    """Exhaustive search: best objective and every optimal set (indices)."""
    n, m = D.shape
    t0 = time.perf_counter()
    pre = sorted(set(predefined))
    free = [j for j in range(m) if j not in pre]
    if model == "lscp":
        A = cover_sets(D, radius)
        if not A.any(axis=1).all():
            return {"status": "infeasible", "objective": None, "optimal_sets": [],
                    "seconds": round(time.perf_counter() - t0, 3), "sets_checked": 0}
        checked = 0
        for k in range(max(1, len(pre)), m + 1):
            kk = k - len(pre)
            if math.comb(len(free), kk) > max_sets:
                return {"status": "skipped", "reason": f"C({len(free)},{kk}) sets", "seconds": round(time.perf_counter() - t0, 3)}
            found = []
            base = A[:, pre].any(axis=1) if pre else np.zeros(n, bool)
            Af = A[:, free]
            for blk in _combos(len(free), kk):
                cov = base[None, :] | Af[:, blk].any(axis=2).T if kk else base[None, :]
                ok = cov.all(axis=1)
                checked += len(blk)
                for row in blk[ok]:
                    found.append(sorted(pre + [free[j] for j in row]))
            if found:
                return {"status": "optimal", "objective": float(k), "optimal_sets": found,
                        "seconds": round(time.perf_counter() - t0, 3), "sets_checked": checked}
        return {"status": "infeasible", "objective": None, "optimal_sets": []}
    if p is None or p < 1 or p > m or len(pre) > p:
        return {"status": "infeasible", "objective": None, "optimal_sets": [],
                "seconds": 0.0, "sets_checked": 0, "reason": f"p={p} with {m} candidates"}
    kk = p - len(pre)
    total = math.comb(len(free), kk)
    if total > max_sets:
        return {"status": "skipped", "reason": f"C({len(free)},{kk}) sets"}
    maximise = model == "mclp"
    best, sets = None, []
    Dp = D[:, pre].min(axis=1) if pre else np.full(n, np.inf)
    Df = D[:, free]
    for blk in _combos(len(free), kk, chunk=max(1, 4_000_000 // max(n, 1) // max(kk, 1))):
        if kk:
            dmin = np.minimum(Dp[None, :], Df[:, blk].min(axis=2).T)  # (sets, n)
        else:
            dmin = Dp[None, :]
        if model == "mclp":
            val = ((dmin <= radius) * w[None, :]).sum(axis=1)
        elif model == "pmedian":
            val = (dmin * w[None, :]).sum(axis=1)
        else:
            val = dmin.max(axis=1)
        b = val.max() if maximise else val.min()
        if best is None or (b > best * (1 + REL) + 1e-12 if maximise else b < best * (1 - REL) - 1e-12):
            best, sets = float(b), []
        tol = abs(best) * REL + 1e-9
        hit = np.nonzero(np.abs(val - best) <= tol)[0]
        for r in hit:
            sets.append(sorted(pre + [free[j] for j in blk[r]]))
    # recompute exactly from the sets (chunk bests may carry slightly different float sums)
    vals = [objective_of(model, D, w, radius, s) for s in sets]
    best = max(vals) if maximise else min(vals)
    sets = [s for s, v in zip(sets, vals) if abs(v - best) <= abs(best) * REL + 1e-9]
    return {"status": "optimal", "objective": best, "optimal_sets": sets,
            "seconds": round(time.perf_counter() - t0, 3), "sets_checked": total}


def mip(model, D, w, radius, p, solver, predefined=()):
    """Our own textbook MIP, solved with PuLP + HiGHS or CBC at gap 0."""
    import pulp

    n, m = D.shape
    if model == "lscp" and not (D <= radius).any(axis=1).all():
        # a demand point with no candidate in reach: the covering row would be empty (0 >= 1),
        # which PuLP cannot hand to a solver; infeasible by inspection
        return {"status": "infeasible", "seconds": 0.0, "note": "a demand point has no candidate within radius"}
    sense = pulp.LpMaximize if model == "mclp" else pulp.LpMinimize
    prob = pulp.LpProblem(f"oracle_{model}", sense)
    y = [pulp.LpVariable(f"y{j}", cat="Binary") for j in range(m)]
    for j in predefined:
        prob += y[j] == 1
    if model == "lscp":
        prob += pulp.lpSum(y)
        for i in range(n):
            prob += pulp.lpSum(y[j] for j in range(m) if D[i, j] <= radius) >= 1
    elif model == "mclp":
        z = [pulp.LpVariable(f"z{i}", cat="Binary") for i in range(n)]
        prob += pulp.lpSum(float(w[i]) * z[i] for i in range(n))
        for i in range(n):
            prob += pulp.lpSum(y[j] for j in range(m) if D[i, j] <= radius) - z[i] >= 0
        prob += pulp.lpSum(y) == p
    else:
        x = {(i, j): pulp.LpVariable(f"x{i}_{j}", lowBound=0, upBound=1) for i in range(n) for j in range(m)}
        # x continuous: with y binary an optimal assignment exists with x integral
        if model == "pmedian":
            prob += pulp.lpSum(float(w[i] * D[i, j]) * x[i, j] for i in range(n) for j in range(m))
        else:
            W = pulp.LpVariable("W", lowBound=0)
            prob += W
            for i in range(n):
                prob += pulp.lpSum(float(D[i, j]) * x[i, j] for j in range(m)) - W <= 0
        for i in range(n):
            prob += pulp.lpSum(x[i, j] for j in range(m)) == 1
            for j in range(m):
                prob += x[i, j] - y[j] <= 0
        prob += pulp.lpSum(y) == p
    s = (pulp.HiGHS(msg=False, gapRel=0, threads=1, timeLimit=600) if solver == "highs"
         else pulp.PULP_CBC_CMD(msg=False, gapRel=0, timeLimit=600))
    t0 = time.perf_counter()
    try:
        prob.solve(s)
    except pulp.PulpSolverError as e:
        return {"status": f"error: {e}"}
    dt = round(time.perf_counter() - t0, 3)
    if prob.sol_status == pulp.LpSolutionOptimal:
        S = sorted(j for j in range(m) if (y[j].value() or 0) > 0.5)
        return {"status": "optimal", "objective": objective_of(model, D, w, radius, S),
                "solver_objective": pulp.value(prob.objective), "facilities": S, "seconds": dt}
    if prob.status == pulp.LpStatusInfeasible or prob.sol_status == pulp.LpSolutionInfeasible:
        return {"status": "infeasible", "seconds": dt}
    return {"status": f"{pulp.LpStatus[prob.status]} / {pulp.LpSolution[prob.sol_status]}", "seconds": dt}


def run_spopt(model, D, w, radius, p, predefined=()):
    """spopt itself on the reconstructed data (checks the reconstruction against the published values)."""
    import pulp
    from spopt.locate import LSCP, MCLP, PCenter, PMedian

    pre = None
    if predefined:
        pre = np.zeros(D.shape[1], dtype=int)
        pre[list(predefined)] = 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if model == "lscp":
            mod = LSCP.from_cost_matrix(D, radius, predefined_facilities_arr=pre)
        elif model == "mclp":
            mod = MCLP.from_cost_matrix(D, w, radius, p, predefined_facilities_arr=pre)
        elif model == "pmedian":
            mod = PMedian.from_cost_matrix(D, w, p, predefined_facilities_arr=pre)
        else:
            mod = PCenter.from_cost_matrix(D, p, predefined_facilities_arr=pre)
        try:
            mod.solve(pulp.PULP_CBC_CMD(msg=False, warmStart=bool(predefined)))
        except RuntimeError as e:
            return {"status": "infeasible" if "Infeasible" in str(e) else str(e)}
    out = {"status": "optimal", "objective_value": mod.problem.objective.value(),
           "facilities": [j for j, v in enumerate(mod.fac_vars) if (v.value() or 0) > 0.5]}
    for k in ("n_cli_uncov", "perc_cov", "mean_dist"):
        if hasattr(mod, k):
            out[k] = float(getattr(mod, k))
    if hasattr(mod, "fac2cli"):
        out["fac2cli"] = [list(map(int, c)) for c in mod.fac2cli]
    return out


# ----------------------------------------------------------------------------- case assembly

def jfloat(a):
    return [[float(v) for v in row] for row in a]


def write_case(outdir, case, D, w, radius, p, predefined=(), skip_spopt=False, points=None):
    model = case["model"]
    n, m = D.shape
    bf = brute_force(model, D, w, radius, p, predefined)
    hi = mip(model, D, w, radius, p, "highs", predefined)
    cb = mip(model, D, w, radius, p, "cbc", predefined)
    verification = {"brute_force": {k: v for k, v in bf.items() if k != "optimal_sets"},
                    "highs": hi, "cbc": cb, "pulp": md.version("PuLP"), "highspy": md.version("highspy")}
    if bf["status"] == "optimal":
        verification["brute_force"]["n_optimal_sets"] = len(bf["optimal_sets"])
    statuses = {bf["status"], hi["status"], cb["status"]} - {"skipped"}
    if len(statuses) != 1:
        sys.exit(f"{case['name']}: verification disagrees on status: {bf['status']} {hi['status']} {cb['status']}")
    status = statuses.pop()
    expected = {"status": status}
    if status == "optimal":
        objs = [r["objective"] for r in (bf, hi, cb) if r.get("status") == "optimal"]
        ref = objs[0]
        for o in objs:
            if abs(o - ref) > abs(ref) * REL + 1e-9:
                sys.exit(f"{case['name']}: objectives disagree: {objs}")
        expected["objective"] = ref
        if bf["status"] == "optimal":
            sets = bf["optimal_sets"]
            for r in (hi, cb):
                if r["facilities"] not in sets:
                    sys.exit(f"{case['name']}: MIP set {r['facilities']} not among the enumerated optima")
            expected["n_optimal_sets"] = len(sets)
            expected["unique"] = len(sets) == 1
            expected["facilities"] = sets[0]
            pub_set = (case.get("published") or {}).get("values", {}).get("open_facilities_from_fac2cli")
            if pub_set is not None and sorted(pub_set) in sets:
                expected["facilities"] = sorted(pub_set)  # spopt's own choice among equal optima
            if 1 < len(sets) <= 50:
                expected["all_optimal_sets"] = sets
        else:
            expected["facilities"] = hi["facilities"]
            expected["unique"] = None
            expected["n_optimal_sets"] = None
        expected["facility_ids"] = [case["candidate_ids"][j] for j in expected["facilities"]]
    case["expected"] = expected
    pub = case.get("published")
    if pub is not None:
        f2c = pub.pop("fac2cli_expected", None)
        if status == "optimal":
            pub["agreement"] = agreement(pub.get("values", {}), expected, bf.get("optimal_sets"), D, w, radius, case)
            bad = [k for k, v in pub["agreement"].items() if not v["ok"]]
            if bad:
                print(f"!! {case['name']}: published values not matched: {bad}", file=sys.stderr)
        if not skip_spopt:
            sp = run_spopt(model, D, w, radius, p, predefined)
            pub["reproduced_with_spopt_cbc"] = {k: v for k, v in sp.items() if k != "fac2cli"}
            if f2c is not None:
                pub["reproduced_with_spopt_cbc"]["fac2cli_equals_pickle"] = sp.get("fac2cli") == f2c
    if model in ("lscp", "mclp") and status == "optimal":
        at = int((D == radius).sum())
        verification["pairs_exactly_at_radius"] = at
        if at:
            strict = brute_force(model, D, w, np.nextafter(radius, -np.inf), p, predefined)
            verification["optimum_with_strict_rule_d_lt_radius"] = strict.get("objective")
    case["verification"] = verification
    body = {k: case[k] for k in ("name", "model", "description") if k in case}
    body.update({"source": case.get("source"), "published": pub,
                 "distance": case["distance"], "n_demand": n, "n_candidates": m,
                 "demand_ids": case["demand_ids"], "candidate_ids": case["candidate_ids"]})
    if points is not None:
        body["demand_points"], body["candidate_points"] = points
    body.update({"weights": None if w is None or model in ("lscp", "pcenter") else [float(v) for v in w],
                 "radius": radius if model in ("lscp", "mclp") else None,
                 "coverage_rule": "d_ij <= radius" if model in ("lscp", "mclp") else None,
                 "p": p if model != "lscp" else None,
                 "predefined": sorted(predefined),
                 "objective_definition": OBJ_DEF[model],
                 "expected": expected, "verification": verification,
                 "cost_matrix_layout": "cost_matrix[i][j]: demand i (row) to candidate j (column)",
                 "cost_matrix": jfloat(D)})
    if model in ("lscp", "pcenter") and w is not None:
        body["weights_unused"] = [float(v) for v in w]
    path = os.path.join(outdir, f"{case['name']}.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(body, f, indent=1)
        f.write("\n")
    obj = expected.get("objective")
    print(f"{case['name']:32s} {model:8s} n={n:3d} m={m:3d} {status:10s} obj={obj} "
          f"sets={expected.get('n_optimal_sets')} bf={bf.get('seconds')}s", file=sys.stderr)
    return {"name": case["name"], "model": model, "n": n, "m": m, "status": status,
            "objective": obj, "unique": expected.get("unique"), "n_optimal_sets": expected.get("n_optimal_sets"),
            "published": pub}


def agreement(values, expected, sets, D, w, radius, case):
    """Each published number next to the same quantity computed from the expected optimum."""
    obj = expected["objective"]
    S = expected["facilities"]
    sets = sets or [S]
    out = {}
    for k, v in values.items():
        if k == "open_facilities_from_fac2cli":
            out[k] = {"published": v, "ours": S, "ok": sorted(v) in sets}
        elif k in ("n_cli_uncov", "perc_cov"):
            unc = int((D[:, S].min(axis=1) > radius).sum())
            ours = unc if k == "n_cli_uncov" else (1 - unc / D.shape[0]) * 100.0
            out[k] = {"published": v, "ours": ours, "ok": abs(ours - v) <= 1e-9 * max(1, abs(v))}
        elif k in ("mean_dist", "known_mean"):
            ours = obj / float(w.sum())
            out[k] = {"published": v, "ours": ours, "ok": abs(ours - v) <= 1e-9 * abs(v)}
        elif k == "known_objval":  # the tests compare with pytest.approx (relative 1e-6)
            out[k] = {"published": v, "ours": obj, "ok": abs(obj - v) <= 1e-6 * abs(v)}
        elif k == "docstring_objective_rounded":
            out[k] = {"published": v, "ours": obj, "ok": round(obj, 3) == v}
        elif k == "docstring_mean_dist_rounded":
            ours = obj / float(w.sum())
            out[k] = {"published": v, "ours": ours, "ok": round(ours, 3) == v}
        elif k == "known_solution_set":
            ours = [case["candidate_ids"][j] for j in S]
            out[k] = {"published": v, "ours": ours, "ok": any([case["candidate_ids"][j] for j in s] == v for s in sets)}
    return out


OBJ_DEF = {
    "lscp": "number of open candidates; every demand point has an open candidate with d_ij <= radius",
    "mclp": "sum of weights of demand points with an open candidate at d_ij <= radius; exactly p open",
    "pmedian": "sum over demand i of weight_i * min over open j of d_ij; exactly p open",
    "pcenter": "max over demand i of min over open j of d_ij (unweighted); exactly p open",
}


def src(test_file, test, data):
    return {"package": "spopt", "version": SPOPT_VERSION,
            "where": f"spopt/tests/{test_file}::{test} (tests shipped in the PyPI wheel spopt-{SPOPT_VERSION})",
            "data": data}


# --- SF real-world data ---

def sf_data():
    import pandas as pd

    d = spopt_data_dir()
    nd = pd.read_csv(os.path.join(d, "SF_network_distance_candidateStore_16_censusTract_205_new.csv"))
    piv = nd.pivot_table(values="distance", index="DestinationName", columns="name")
    dm = pd.read_csv(os.path.join(d, "SF_demand_205_centroid_uniform_weight.csv")).sort_values(by=["NAME"]).reset_index()
    if not (piv.index.values == dm["NAME"].values).all():
        sys.exit("SF: pivot rows and sorted demand names differ")
    # the tract names as written in the CSV (pandas reads them as floats)
    raw = pd.read_csv(os.path.join(d, "SF_demand_205_centroid_uniform_weight.csv"), dtype={"NAME": str})
    name_of = {float(s): s for s in raw["NAME"]}
    ids = [name_of[v] for v in piv.index.values]
    return piv.to_numpy(), dm["POP2000"].to_numpy(dtype=float), ids, [str(c) for c in piv.columns]


def sf_cases(outdir, skip_spopt, only):
    D, w, dem_ids, cand_ids = sf_data()
    files = ["SF_network_distance_candidateStore_16_censusTract_205_new.csv",
             "SF_demand_205_centroid_uniform_weight.csv (POP2000)"]
    base = {"distance": "network distance in metres (spopt test data, San Francisco street network)",
            "demand_ids": dem_ids, "candidate_ids": cand_ids}
    total = float(w.sum())
    specs = [
        ("sf_lscp_r5000", "lscp", 5000.0, None,
         src("test_locate/test_lscp.py", "TestRealWorldLSCP::test_optimality_lscp_from_cost_matrix", files),
         {"asserted": "status optimal", "values": {}, "relation": "spopt asserts only optimality; the optimum is computed here"}),
        ("sf_lscp_r20_infeasible", "lscp", 20.0, None,
         src("test_locate/test_lscp.py", "TestRealWorldLSCP::test_infeasibility_lscp_from_cost_matrix", files),
         {"asserted": "RuntimeError 'Model is not solved: Infeasible.'", "values": {}}),
        ("sf_mclp_r5000_p4", "mclp", 5000.0, 4,
         src("test_locate/test_mclp.py", "TestRealWorldLocate::test_mixin_mclp_get_uncovered_clients, test_mixin_mclp_get_percentage", files),
         {"values": {"n_cli_uncov": 21, "perc_cov": 89.75609756097561},
          "relation": "21 of 205 tracts uncovered (count, not population); the objective (population covered) is computed here"}),
        ("sf_mclp_p1000_infeasible", "mclp", 5000.0, 1000,
         src("test_locate/test_mclp.py", "TestRealWorldLocate::test_infeasibility_mclp_from_cost_matrix", files),
         {"asserted": "RuntimeError 'Model is not solved: Infeasible.' (p > 16 candidates)", "values": {}}),
        ("sf_pmedian_p4", "pmedian", None, 4,
         src("test_locate/test_p_median.py", "TestRealWorldLocate::test_mixin_mean_distance", files),
         {"values": {"mean_dist": 2982.1268579890657}, "sum_weights": total,
          "relation": "objective = mean_dist x sum of POP2000 = 2982.1268579890657 x %d" % total}),
        ("sf_pmedian_p0_infeasible", "pmedian", None, 0,
         src("test_locate/test_p_median.py", "TestRealWorldLocate::test_infeasibility_pmedian_from_cost_matrix", files),
         {"asserted": "RuntimeError 'Model is not solved: Infeasible.' (p = 0)", "values": {}}),
        ("sf_pcenter_p4", "pcenter", None, 4,
         src("test_locate/test_p_center.py", "TestRealWorldLocate::test_optimality_pcenter_from_cost_matrix", files),
         {"asserted": "status optimal", "values": {}, "relation": "spopt asserts only optimality; the optimum is computed here"}),
        ("sf_pcenter_p0_infeasible", "pcenter", None, 0,
         src("test_locate/test_p_center.py", "TestRealWorldLocate::test_infeasibility_pcenter_from_cost_matrix", files),
         {"asserted": "RuntimeError 'Model is not solved: Infeasible.' (p = 0)", "values": {}}),
    ]
    out = []
    for name, model, r, p, source, pub in specs:
        if only and not name.startswith(only):
            continue
        case = dict(base, name=name, model=model, source=source, published=pub,
                    description=f"spopt real-world test: {model} on 205 SF tracts x 16 stores"
                    + (f", radius {r:g} m" if r is not None else "") + (f", p = {p}" if p is not None else ""))
        out.append(write_case(outdir, case, D, w, r, p, skip_spopt=skip_spopt))
    return out


# --- lattice synthetic instance ---

def lattice_data():
    import geopandas
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import spaghetti
        from spopt.locate.util import simulated_geo_points

        lattice = spaghetti.regular_lattice((0, 0, 10, 10), 9, exterior=True)
        ntw = spaghetti.Network(in_data=lattice)
        gdf = spaghetti.element_as_gdf(ntw, arcs=True)
        space = gdf["geometry"].buffer(0.2).union_all()
        street = geopandas.GeoDataFrame(geopandas.GeoSeries(space), crs=gdf.crs, columns=["geometry"])
        cpts = simulated_geo_points(street, needed=100, seed=5)
        ntw.snapobservations(cpts, "clients", attribute=True)
        clients = spaghetti.element_as_gdf(ntw, pp_name="clients", snapped=True)
        fpts = simulated_geo_points(street, needed=5, seed=6)
        ntw.snapobservations(fpts, "facilities", attribute=True)
        facs = spaghetti.element_as_gdf(ntw, pp_name="facilities", snapped=True)
        Dnet = ntw.allneighbordistances(sourcepattern=ntw.pointpatterns["clients"],
                                        destpattern=ntw.pointpatterns["facilities"])
    ai = np.random.randint(1, 12, 100)  # the tests draw this right after the fixture
    cxy = np.column_stack([clients.geometry.x, clients.geometry.y])
    fxy = np.column_stack([facs.geometry.x, facs.geometry.y])
    from scipy.spatial.distance import cdist

    return np.asarray(Dnet, dtype=float), cdist(cxy, fxy), ai.astype(float), cxy, fxy


def load_pickle(name):
    import pickle

    with open(os.path.join(spopt_data_dir(), name), "rb") as f:
        return pickle.load(f)


def lattice_cases(outdir, skip_spopt, only):
    Dnet, Deuc, ai, cxy, fxy = lattice_data()
    gen = ("conftest.py network_instance(100, 5): spaghetti.regular_lattice((0,0,10,10), 9, exterior=True), "
           "buffer 0.2, simulated_geo_points seed 5 (100 clients) and seed 6 (5 facilities), snapped; "
           "weights numpy.random.randint(1, 12, 100) drawn next")
    ids_d = [f"client_{i}" for i in range(100)]
    ids_c = [f"y_{j}_" for j in range(5)]
    net = {"distance": "network distance along the lattice (spaghetti allneighbordistances), lattice units",
           "demand_ids": ids_d, "candidate_ids": ids_c}
    euc = {"distance": "Euclidean distance between the snapped points (spopt from_geodataframe: scipy cdist), lattice units",
           "demand_ids": ids_d, "candidate_ids": ids_c}
    pts = ([[float(x), float(y)] for x, y in cxy], [[float(x), float(y)] for x, y in fxy])

    def fac_from_pickle(pk):
        f2c = load_pickle(pk)
        return [j for j, c in enumerate(f2c) if len(c) > 0], [list(map(int, c)) for c in f2c]

    specs = []
    # LSCP r=8 (pickled fac2cli)
    s, f2c = fac_from_pickle("lscp_fac2cli.pkl")
    specs.append(("lattice_net_lscp_r8", "lscp", Dnet, net, None, 8.0, None, (),
                  src("test_locate/test_lscp.py", "TestSyntheticLocate::test_lscp_facility_client_array_from_cost_matrix",
                      [gen, "lscp_fac2cli.pkl"]),
                  {"values": {"open_facilities_from_fac2cli": s}, "fac2cli_expected": f2c,
                   "relation": "facilities with a non-empty fac2cli row are the open ones"}))
    s, f2c = fac_from_pickle("lscp_geodataframe_fac2cli.pkl")
    specs.append(("lattice_euc_lscp_r8", "lscp", Deuc, euc, pts, 8.0, None, (),
                  src("test_locate/test_lscp.py", "TestSyntheticLocate::test_lscp_facility_client_array_from_geodataframe",
                      [gen, "lscp_geodataframe_fac2cli.pkl"]),
                  {"values": {"open_facilities_from_fac2cli": s}, "fac2cli_expected": f2c,
                   "relation": "facilities with a non-empty fac2cli row are the open ones"}))
    # MCLP r=7 p=4
    s, f2c = fac_from_pickle("mclp_fac2cli.pkl")
    specs.append(("lattice_net_mclp_r7_p4", "mclp", Dnet, net, None, 7.0, 4, (),
                  src("test_locate/test_mclp.py", "TestSyntheticLocate::test_mclp_from_cost_matrix, "
                      "test_mclp_facility_client_array_from_cost_matrix", [gen, "mclp_fac2cli.pkl"]),
                  {"values": {"n_cli_uncov": 1, "perc_cov": 99.0, "open_facilities_from_fac2cli": s},
                   "fac2cli_expected": f2c,
                   "relation": "1 of 100 clients uncovered; objective (weight covered) computed here"}))
    s, f2c = fac_from_pickle("mclp_geodataframe_fac2cli.pkl")
    specs.append(("lattice_euc_mclp_r7_p4", "mclp", Deuc, euc, pts, 7.0, 4, (),
                  src("test_locate/test_mclp.py", "TestSyntheticLocate::test_mclp_facility_client_array_from_geodataframe",
                      [gen, "mclp_geodataframe_fac2cli.pkl"]),
                  {"values": {"open_facilities_from_fac2cli": s}, "fac2cli_expected": f2c}))
    # p-median p=4
    s, f2c = fac_from_pickle("pmedian_fac2cli.pkl")
    specs.append(("lattice_net_pmedian_p4", "pmedian", Dnet, net, None, None, 4, (),
                  src("test_locate/test_p_median.py", "TestSyntheticLocate::test_pmedian_facility_client_array_from_cost_matrix; "
                      "docstring of PMedian.from_cost_matrix (spopt/locate/p_median.py)", [gen, "pmedian_fac2cli.pkl"]),
                  {"values": {"docstring_objective_rounded": 1870.747, "docstring_mean_dist_rounded": 3.027,
                              "open_facilities_from_fac2cli": s}, "fac2cli_expected": f2c}))
    s, f2c = fac_from_pickle("pmedian_geodataframe_fac2cli.pkl")
    specs.append(("lattice_euc_pmedian_p4", "pmedian", Deuc, euc, pts, None, 4, (),
                  src("test_locate/test_p_median.py", "TestSyntheticLocate::test_pmedian_facility_client_array_from_geodataframe",
                      [gen, "pmedian_geodataframe_fac2cli.pkl"]),
                  {"values": {"open_facilities_from_fac2cli": s}, "fac2cli_expected": f2c}))
    specs.append(("lattice_euc_pmedian_p3_pre34", "pmedian", Deuc, euc, pts, None, 3, (3, 4),
                  src("test_locate/test_p_median.py", "TestSyntheticLocate::test_pmedian_preselected_facility_client_array_from_geodataframe", [gen]),
                  {"values": {"known_objval": 1872.5093264630818, "known_mean": 3.0299503664451164,
                              "known_solution_set": ["y_1_", "y_3_", "y_4_"]},
                   "relation": "objective = known_objval; sites 3 and 4 predefined (must be open)"}))
    # p-center p=4
    s, f2c = fac_from_pickle("pcenter_fac2cli.pkl")
    specs.append(("lattice_net_pcenter_p4", "pcenter", Dnet, net, None, None, 4, (),
                  src("test_locate/test_p_center.py", "TestSyntheticLocate::test_pcenter_facility_client_array_from_cost_matrix",
                      [gen, "pcenter_fac2cli.pkl"]),
                  {"values": {"open_facilities_from_fac2cli": s}, "fac2cli_expected": f2c,
                   "relation": "spopt's fac2cli is its assignment (not necessarily nearest-site); the open set is what is compared"}))
    s, f2c = fac_from_pickle("pcenter_geodataframe_fac2cli.pkl")
    specs.append(("lattice_euc_pcenter_p4", "pcenter", Deuc, euc, pts, None, 4, (),
                  src("test_locate/test_p_center.py", "TestSyntheticLocate::test_pcenter_facility_client_array_from_geodataframe",
                      [gen, "pcenter_geodataframe_fac2cli.pkl"]),
                  {"values": {"open_facilities_from_fac2cli": s}, "fac2cli_expected": f2c}))
    specs.append(("lattice_euc_pcenter_p3_pre34", "pcenter", Deuc, euc, pts, None, 3, (3, 4),
                  src("test_locate/test_p_center.py", "TestSyntheticLocate::test_pcenter_preselected_facility_client_array_from_geodataframe", [gen]),
                  {"values": {"known_objval": 6.2520432, "known_solution_set": ["y_2_", "y_3_", "y_4_"]},
                   "relation": "objective = known_objval (pytest.approx); sites 3 and 4 predefined"}))
    out = []
    for name, model, D, base, points, r, p, pre, source, pub in specs:
        if only and not name.startswith(only):
            continue
        case = dict(base, name=name, model=model, source=source, published=pub,
                    description=f"spopt synthetic lattice test: {model}, 100 clients x 5 facilities"
                    + (f", radius {r:g}" if r is not None else "") + (f", p = {p}" if p is not None else "")
                    + (f", predefined {list(pre)}" if pre else ""))
        out.append(write_case(outdir, case, D, ai, r, p, pre, skip_spopt=skip_spopt, points=points))
    return out


# --- seeded random instances ---

RAND = [  # (suffix, n, seed, kind)
    ("a", 15, 101, "uniform"),
    ("b", 20, 102, "uniform"),
    ("c", 25, 103, "uniform"),
    ("d", 30, 104, "duplicates"),
    ("e", 40, 105, "grid"),
]
RAND_P = {"mclp": [3, 3, 4, 4, 5], "pmedian": [3, 4, 4, 5, 5], "pcenter": [3, 3, 4, 4, 5]}
RAND_R = {"lscp": [3000.0, 3000.0, 3000.0, 3000.0, 3000.0], "mclp": [2000.0, 2000.0, 2500.0, 2500.0, 2000.0]}


def rand_points(n, seed, kind):
    rng = np.random.default_rng(seed)
    if kind == "grid":  # distinct nodes of a 1 km grid over 10 km x 8 km: many equal distances
        nodes = [(x * 1000.0, y * 1000.0) for x in range(11) for y in range(9)]
        pick = rng.choice(len(nodes), size=n, replace=False)
        xy = np.array([nodes[k] for k in sorted(pick)])
    else:
        xy = np.round(rng.uniform(0, 10_000, size=(n, 2)), 3)
        if kind == "duplicates":  # the last 3 points repeat 3 earlier ones exactly
            xy[-3:] = xy[[0, 5, 11]]
    w = np.clip(np.round(rng.lognormal(math.log(1500), 0.6, size=n)), 300, 6000)
    return xy, w


def rand_cases(outdir, only):
    from scipy.spatial.distance import cdist

    out = []
    for model in ("lscp", "mclp", "pmedian", "pcenter"):
        for k, (suf, n, seed, kind) in enumerate(RAND):
            name = f"rand_{model}_{suf}_n{n}"
            if only and not name.startswith(only):
                continue
            xy, w = rand_points(n, seed, kind)
            D = cdist(xy, xy)
            r = RAND_R[model][k] if model in RAND_R else None
            p = RAND_P[model][k] if model in RAND_P else None
            ids = [f"v{i:02d}" for i in range(n)]
            note = {"uniform": "uniform random points in a 10 km square",
                    "duplicates": "uniform random points; points 27, 28, 29 duplicate points 0, 5, 11 exactly",
                    "grid": "distinct nodes of a 1 km grid (ties in distances)"}[kind]
            case = {"name": name, "model": model, "distance": "Euclidean, metres",
                    "description": f"seeded random instance ({note}), candidates = demand points, "
                                   f"numpy default_rng({seed})" + (f", radius {r:g} m" if r else "") + (f", p = {p}" if p else ""),
                    "source": {"generated_by": "bench/locate/make_oracles.py rand_points", "seed": seed, "kind": kind},
                    "published": None, "demand_ids": ids, "candidate_ids": ids}
            pts = [[float(a), float(b)] for a, b in xy]
            out.append(write_case(outdir, case, D, w, r, p, points=(pts, pts)))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=os.path.join(HERE, "oracle"))
    ap.add_argument("--only", default="")
    ap.add_argument("--skip-spopt", action="store_true")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    idx = []
    if not a.only or a.only.startswith("sf") or "sf".startswith(a.only):
        idx += sf_cases(a.out, a.skip_spopt, a.only)
    if not a.only or a.only.startswith("lattice") or "lattice".startswith(a.only):
        idx += lattice_cases(a.out, a.skip_spopt, a.only)
    if not a.only or a.only.startswith("rand") or "rand".startswith(a.only):
        idx += rand_cases(a.out, a.only)
    if not a.only:
        with open(os.path.join(a.out, "index.json"), "w", encoding="utf-8") as f:
            json.dump({"generated_by": "bench/locate/make_oracles.py", "spopt": SPOPT_VERSION,
                       "pulp": md.version("PuLP"), "highspy": md.version("highspy"),
                       "relative_tolerance_used": REL, "cases": idx}, f, indent=1)
            f.write("\n")


if __name__ == "__main__":
    main()
