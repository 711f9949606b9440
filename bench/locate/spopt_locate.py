#!/usr/bin/env python3
"""PySAL spopt peer of liancun's facility location: one model, one solver, one run.

  spopt_locate.py --county county.geojson --model {lscp,mclp,pmedian,pcenter} --solver {cbc,highs}
                  [--radius 3000] [--p N] [--time-limit 900] [--gap-rel 0] [--threads 1]
                  [--mem-limit-gb 8] [--points-out points.csv] [--compare-points other.csv]
                  [--solver-log FILE] --out result.json

The problem (the same for every model):
  demand      every village, weighted by its `population`, placed at its polygon centroid;
  candidates  the same village centroids (candidate j = village j);
  centroids   computed in the projected CRS: the lon/lat polygons (CGCS2000, EPSG:4490; GeoJSON
              says WGS84, the two are taken as equal) are projected to the CGCS2000 3-degree
              Gauss-Krueger zone without zone prefix (EPSG:4548, central meridian 117E, for the
              synthetic counties near 118.2E; --epsg to change) and shapely's area centroid of each
              projected polygon is the village point;
  distances   straight-line Euclidean distances between those points, in metres (dense n x n
              float64 matrix, scipy cdist);
  radius      a demand point is covered by a site when d_ij <= radius (spopt uses <=; its docs say <);
  p           default round(N / 20), rounded half up (floor(N/20 + 0.5)), like Rust's f64::round.

Models (spopt.locate, built with from_cost_matrix, solved with .solve(solver)):
  lscp     LSCP.from_cost_matrix(D, radius)                  min number of sites covering all demand
  mclp     MCLP.from_cost_matrix(D, pop, radius, p)          p sites (exactly) maximising covered pop
  pmedian  PMedian.from_cost_matrix(D, pop, p)               p sites minimising sum pop_i * d_i
  pcenter  PCenter.from_cost_matrix(D, p)                    p sites minimising max_i d_i (unweighted)
where d_i is the distance from demand i to its nearest open site. The "objective" written to the
output is recomputed here from the chosen sites and the matrix (LSCP: number of open sites; MCLP:
population within radius of an open site; p-median: sum of pop_i * d_i in metre-persons; p-center:
max d_i in metres); spopt's own objective value is kept as spopt_objective_value.

Solvers (PuLP 3.3.2):
  cbc      pulp.PULP_CBC_CMD(msg=False, timeLimit=T, gapRel=G, logPath=...): the CBC binary bundled
           with PuLP, run as a child process on an MPS file (single-threaded).
  highs    pulp.HiGHS(msg=False, timeLimit=T, gapRel=G, threads=1): highspy in-process; PuLP copies
           the model column by column and row by row through the Python API.
  T is the time still left of --time-limit after reading and building (minus 5 s), so the whole run
  stays within --time-limit. G = --gap-rel (default 0: prove optimality; HiGHS's own default
  mip_rel_gap is 1e-4 and would let it stop 0.01 % short; pass --gap-rel default for the solver's
  own default). When a solver stops at its time limit with a solution, PuLP still reports status
  "Optimal" (sol_status "integer feasible"): the status written here comes from sol_status and,
  for HiGHS, from its model status.

Memory: --mem-limit-gb caps the address space of this process and of the CBC child (RLIMIT_AS,
inherited); a model too big to build then fails with status "out of memory" instead of taking the
machine down. PuLP needs roughly 1-2 kB per variable/constraint: p-median and p-center have
n x n assignment variables and n x n opening constraints (7.8 million of each at 2,800 villages).

Output JSON: model, solver, versions, n_demand, n_candidates, radius_m, p, objective, facilities
(village codes, sorted), status, seconds_read, seconds_build (matrix + model), seconds_solve
(.solve(): PuLP's hand-over to the solver plus the solver), seconds_total, plus solver details.
"""
import argparse
import json
import math
import os
import re
import resource
import sys
import time

for _v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

T_START = time.perf_counter()

import numpy as np  # noqa: E402

MODELS = ("lscp", "mclp", "pmedian", "pcenter")


def default_p(n):
    return max(1, int(math.floor(n / 20 + 0.5)))


def load_points(path, epsg):
    """Village codes, projected centroid coordinates (n x 2, metres) and populations."""
    import geopandas as gpd

    gdf = gpd.read_file(path)
    for col in ("code", "population"):
        if col not in gdf.columns:
            sys.exit(f"{path}: no `{col}` column")
    codes = gdf["code"].astype(str).tolist()
    if len(set(codes)) != len(codes):
        sys.exit(f"{path}: village codes are not unique")
    # The lon/lat are CGCS2000; declare them so (no datum shift is applied either way).
    gdf = gdf.set_crs(4490, allow_override=True).to_crs(epsg)
    cent = gdf.geometry.centroid
    xy = np.column_stack([cent.x.to_numpy(dtype=float), cent.y.to_numpy(dtype=float)])
    pop = gdf["population"].to_numpy(dtype=float)
    return codes, xy, pop


def write_points(path, codes, xy, pop):
    with open(path, "w", encoding="utf-8") as f:
        f.write("code,x,y,population\n")
        for c, (x, y), w in zip(codes, xy.tolist(), pop.tolist()):
            f.write(f"{c},{x!r},{y!r},{int(w) if w.is_integer() else w!r}\n")


def compare_points(path, codes, xy):
    """Max |dx|, |dy| against another code,x,y[,…] CSV (matching by code)."""
    import csv

    other = {}
    with open(path, encoding="utf-8") as f:
        for row in csv.DictReader(f):
            other[str(row["code"])] = (float(row["x"]), float(row["y"]))
    idx = {c: i for i, c in enumerate(codes)}
    common = [c for c in codes if c in other]
    missing = len(codes) - len(common)
    extra = len(set(other) - set(idx))
    if not common:
        return {"compared": 0, "missing": missing, "extra": extra}
    a = np.array([xy[idx[c]] for c in common])
    b = np.array([other[c] for c in common])
    d = np.abs(a - b)
    k = int(np.argmax(np.hypot(d[:, 0], d[:, 1])))
    return {"file": path, "compared": len(common), "missing_there": missing, "extra_there": extra,
            "max_abs_dx_m": float(d[:, 0].max()), "max_abs_dy_m": float(d[:, 1].max()),
            "max_dist_m": float(np.hypot(d[:, 0], d[:, 1]).max()), "worst_code": common[k]}


def cost_matrix(xy):
    from scipy.spatial.distance import cdist

    return cdist(xy, xy)  # metres, float64


def build(model, D, pop, radius, p):
    from spopt.locate import LSCP, MCLP, PCenter, PMedian

    if model == "lscp":
        return LSCP.from_cost_matrix(D, service_radius=radius)
    if model == "mclp":
        return MCLP.from_cost_matrix(D, pop, service_radius=radius, p_facilities=p)
    if model == "pmedian":
        return PMedian.from_cost_matrix(D, pop, p_facilities=p)
    return PCenter.from_cost_matrix(D, p_facilities=p)


def make_solver(name, time_limit, gap_rel, threads, log):
    import pulp

    kw = {"msg": False, "timeLimit": time_limit}
    if gap_rel is not None:
        kw["gapRel"] = gap_rel
    if name == "cbc":
        if log:
            kw["logPath"] = log
        return pulp.PULP_CBC_CMD(**kw)
    if name == "highs":
        if log:  # output on, to a file only
            kw.update(msg=True, log_to_console=False, log_file=log)
        return pulp.HiGHS(threads=threads, **kw)
    sys.exit(f"unknown solver {name}")


def evaluate(model, D, pop, radius, open_idx):
    """Objective and neutral facts recomputed from the chosen sites and the matrix."""
    if len(open_idx) == 0:
        return None, {}
    dmin = D[:, open_idx].min(axis=1)
    covered = dmin <= radius if radius is not None else None
    facts = {"max_distance_m": float(dmin.max()),
             "mean_distance_weighted_m": float((pop * dmin).sum() / pop.sum()),
             "total_weighted_distance": float((pop * dmin).sum())}
    if covered is not None:
        facts.update(covered_population=float(pop[covered].sum()),
                     covered_share=float(pop[covered].sum() / pop.sum()),
                     uncovered_demand_points=int((~covered).sum()))
    if model == "lscp":
        obj = float(len(open_idx))
    elif model == "mclp":
        obj = float(pop[covered].sum())
    elif model == "pmedian":
        obj = float((pop * dmin).sum())
    else:
        obj = float(dmin.max())
    return obj, facts


def parse_cbc_log(path):
    out = {}
    try:
        text = open(path, encoding="utf-8", errors="replace").read()
    except OSError:
        return out
    m = re.search(r"^Result - (.*)$", text, re.M)
    if m:
        out["cbc_result"] = m.group(1).strip()
    for key, pat in (("cbc_objective", r"^Objective value:\s+(\S+)"),
                     ("cbc_lower_bound", r"^Lower bound:\s+(\S+)"),
                     ("cbc_gap", r"^Gap:\s+(\S+)"),
                     ("cbc_nodes", r"^Enumerated nodes:\s+(\S+)"),
                     ("cbc_cpu_seconds", r"Total time \(CPU seconds\):\s+(\S+)"),
                     ("cbc_wall_seconds", r"\(Wallclock seconds\):\s+(\S+)")):
        m = re.search(pat, text, re.M)
        if m:
            try:
                out[key] = float(m.group(1))
            except ValueError:
                out[key] = m.group(1)
    return out


def highs_details(problem):
    try:
        h = problem.solverModel
        info = h.getInfo()
        return {"highs_model_status": h.modelStatusToString(h.getModelStatus()),
                "highs_objective": float(info.objective_function_value),
                "highs_dual_bound": float(info.mip_dual_bound),
                "highs_mip_gap": float(info.mip_gap),
                "highs_nodes": int(info.mip_node_count),
                "highs_run_seconds": float(h.getRunTime())}
    except Exception as e:  # noqa: BLE001
        return {"highs_details_error": f"{type(e).__name__}: {e}"}


def versions():
    import importlib.metadata as md

    out = {"python": sys.version.split()[0]}
    for pkg in ("spopt", "PuLP", "highspy", "numpy", "scipy", "geopandas", "shapely", "pyproj"):
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            pass
    try:
        import pyproj

        out["proj"] = pyproj.proj_version_str
    except Exception:  # noqa: BLE001
        pass
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--county", required=True)
    ap.add_argument("--model", required=True, choices=MODELS)
    ap.add_argument("--solver", required=True, choices=("cbc", "highs"))
    ap.add_argument("--radius", type=float, default=3000.0, help="metres (LSCP, MCLP)")
    ap.add_argument("--p", type=int, default=None, help="facilities (MCLP, p-median, p-center); "
                    "default round(N/20)")
    ap.add_argument("--time-limit", type=float, default=900.0, help="seconds for the whole run")
    ap.add_argument("--gap-rel", default="0", help="relative MIP gap; 'default' = solver default")
    ap.add_argument("--threads", type=int, default=1, help="HiGHS threads (CBC runs on one)")
    ap.add_argument("--mem-limit-gb", type=float, default=8.0, help="address-space cap, 0 = none")
    ap.add_argument("--epsg", type=int, default=4548)
    ap.add_argument("--points-out")
    ap.add_argument("--compare-points")
    ap.add_argument("--solver-log")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()

    if a.mem_limit_gb and a.mem_limit_gb > 0:
        lim = int(a.mem_limit_gb * 1024 ** 3)
        resource.setrlimit(resource.RLIMIT_AS, (lim, lim))
    gap = None if a.gap_rel == "default" else float(a.gap_rel)

    res = {"model": a.model, "solver": a.solver, "county": os.path.abspath(a.county),
           "epsg": a.epsg, "versions": versions()}
    res["spopt_version"] = res["versions"].get("spopt")
    res["solver_options"] = {"time_limit_total_s": a.time_limit,
                             "mip_rel_gap": a.gap_rel if gap is None else gap,
                             "threads": a.threads if a.solver == "highs" else 1,
                             "mem_limit_gb": a.mem_limit_gb}

    def finish(status, **kw):
        res.update(kw)
        res["status"] = status
        res["seconds_total"] = round(time.perf_counter() - T_START, 3)
        us, uc = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        # CPU seconds show how much of the wall time the process really ran on a shared machine.
        res["cpu_seconds"] = {"python": round(us.ru_utime + us.ru_stime, 3),
                              "children": round(uc.ru_utime + uc.ru_stime, 3)}
        # The child's peak includes the parent's pages at fork time (Linux ru_maxrss semantics).
        res["peak_rss_mb"] = {"python": round(us.ru_maxrss / 1024, 1),
                              "children": round(uc.ru_maxrss / 1024, 1)}
        tmp = a.out + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(res, f, ensure_ascii=False, indent=1)
            f.write("\n")
        os.replace(tmp, a.out)
        print(f"{a.model}/{a.solver} n={res.get('n_demand')} p={res.get('p')}: {status}, "
              f"objective {res.get('objective')}, {res['seconds_total']} s", file=sys.stderr)

    # 1. Points.
    codes, xy, pop = load_points(a.county, a.epsg)
    n = len(codes)
    p = a.p if a.p is not None else default_p(n)
    res.update(n_demand=n, n_candidates=n,
               radius_m=a.radius if a.model in ("lscp", "mclp") else None,
               p=p if a.model != "lscp" else None,
               total_population=float(pop.sum()))
    if a.points_out:
        write_points(a.points_out, codes, xy, pop)
    if a.compare_points:
        cmp = compare_points(a.compare_points, codes, xy)
        res["points_comparison"] = cmp
        print(f"points vs {a.compare_points}: {json.dumps(cmp)}", file=sys.stderr)
    dup = n - len({(x, y) for x, y in xy.tolist()})
    res["duplicate_points"] = dup
    t_read = time.perf_counter()
    res["seconds_read"] = round(t_read - T_START, 3)

    # 2. Matrix and model.
    try:
        D = cost_matrix(xy)
        model = build(a.model, D, pop, a.radius, p)
    except MemoryError:
        return finish("out of memory during build",
                      seconds_build=round(time.perf_counter() - t_read, 3))
    except SystemError as e:  # a C extension hit the address-space cap ("returned NULL …")
        return finish("out of memory during build" if "NULL" in str(e) else "error during build",
                      error=f"{type(e).__name__}: {e}",
                      seconds_build=round(time.perf_counter() - t_read, 3))
    t_built = time.perf_counter()
    res["seconds_build"] = round(t_built - t_read, 3)
    res["model_size"] = {"variables": model.problem.numVariables(),
                         "constraints": model.problem.numConstraints()}
    if a.model in ("lscp", "mclp"):
        res["covering_pairs"] = int((D <= a.radius).sum())

    left = a.time_limit - (t_built - T_START) - 5.0
    if left <= 0:
        return finish("time limit during build", seconds_solve=None)

    # 3. Solve.
    import pulp

    solver = make_solver(a.solver, left, gap, a.threads, a.solver_log)
    res["solver_options"]["solver_time_limit_s"] = round(left, 3)
    err = None
    t0 = time.perf_counter()
    try:
        model.solve(solver)
    except RuntimeError as e:  # spopt's check_status: not optimal per PuLP's status
        err = str(e)
    except MemoryError:
        err = "MemoryError"
    except pulp.PulpSolverError as e:
        err = f"PulpSolverError: {e}"
    t1 = time.perf_counter()
    res["seconds_solve"] = round(t1 - t0, 3)

    prob = model.problem
    res["pulp_status"] = pulp.LpStatus.get(prob.status, str(prob.status))
    res["pulp_sol_status"] = pulp.LpSolution.get(prob.sol_status, str(prob.sol_status))
    if a.solver == "cbc" and a.solver_log:
        res["solver_details"] = parse_cbc_log(a.solver_log)
    elif a.solver == "highs":
        res["solver_details"] = highs_details(prob)
    try:
        res["spopt_objective_value"] = prob.objective.value()
    except Exception:  # noqa: BLE001
        res["spopt_objective_value"] = None

    if err == "MemoryError":
        return finish("out of memory during solve", error=err)
    open_idx = [j for j, v in enumerate(model.fac_vars) if (v.value() or 0) > 0.5]
    if prob.sol_status == pulp.LpSolutionOptimal:
        status = "optimal"
    elif prob.sol_status == pulp.LpSolutionIntegerFeasible:
        status = "time limit (feasible)"
    elif prob.sol_status == pulp.LpSolutionInfeasible or prob.status == pulp.LpStatusInfeasible:
        status = "infeasible"
    elif prob.status == pulp.LpStatusNotSolved:
        status = "time limit (no solution)" if t1 - t0 >= left - 1 else "not solved"
    else:
        status = res["pulp_status"]
    if a.solver == "highs":
        hs = res["solver_details"].get("highs_model_status", "")
        if status == "optimal" and hs and hs != "Optimal":
            status = f"stopped: {hs}"
    if status not in ("optimal", "time limit (feasible)"):
        return finish(status, error=err, facilities=[], objective=None)
    # coverage facts use --radius for every model (for p-median/p-center they are informative only)
    obj, facts = evaluate(a.model, D, pop, a.radius, np.array(open_idx, dtype=int))
    res["facts"] = facts
    if a.model == "lscp" and facts.get("uncovered_demand_points"):
        status += " (some demand uncovered!)"
    finish(status, error=err, objective=obj, n_facilities=len(open_idx),
           facilities=sorted(codes[j] for j in open_idx))


if __name__ == "__main__":
    main()
