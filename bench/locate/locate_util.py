#!/usr/bin/env python3
"""Helpers for bench/locate/compare.sh (run with the peer venv's Python).

  locate_util.py params COUNTY.geojson                      -> "N P": villages, round(N/20) half up
  locate_util.py points COUNTY.geojson POINTS.csv           -> code,x,y,population of the projected
                                                               centroids (as spopt_locate.py)
  locate_util.py killed OUT.json MODEL SOLVER N P RC SECONDS LIMIT
                                                            -> writes a result for a run that was
                                                               killed or crashed (no JSON of its own)
  locate_util.py check POINTS.csv RESULT.json MODEL RADIUS  -> peer-side recomputation of a result's
                                                               objective from its facility codes
  locate_util.py table RESULTS_DIR SIZE...                  -> the markdown comparison table

RESULT.json is either spopt_locate.py's output or liancun's `locate … --format json` output. The
liancun format is not fixed yet, so it is read leniently: the objective from "objective" (or
"objective_value", "value"), the facilities from "facilities"/"sites"/"open" (codes, or objects with
a "code"), the gap from "gap"/"mip_gap", the method from "method"/"solver"/"algorithm", and the
status from "status" — at the top level or under "result"/"solution". The check recomputes the
objective the way spopt_locate.py does (LSCP: number of sites; MCLP: population within RADIUS of a
site, d <= RADIUS; p-median: sum pop x distance to the nearest site, metres; p-center: max distance
to the nearest site, metres) on the projected centroids in POINTS.csv (spopt_locate.py
--points-out), so a disagreement in definitions or points shows.
"""
import csv
import json
import math
import os
import sys

import numpy as np

MODELS = ("lscp", "mclp", "pmedian", "pcenter")
MAXIMISE = {"mclp"}
LABEL = {"lscp": "LSCP", "mclp": "MCLP", "pmedian": "p-median", "pcenter": "p-center"}


def default_p(n):
    return max(1, int(math.floor(n / 20 + 0.5)))


def cmd_params(path):
    with open(path, encoding="utf-8") as f:
        n = len(json.load(f)["features"])
    print(n, default_p(n))


def cmd_points(county, out):
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from spopt_locate import load_points, write_points

    codes, xy, pop = load_points(county, 4548)
    write_points(out, codes, xy, pop)


def cmd_killed(out, model, solver, n, p, rc, seconds, limit):
    rc = int(rc)
    if rc in (124, 137):
        status = f"killed at the time limit ({limit} s + grace, exit {rc})"
    elif rc in (-9, 9) or rc == 128 + 9:
        status = f"killed (SIGKILL, exit {rc}; out of memory?)"
    else:
        status = f"crashed (exit {rc})"
    res = {"model": model, "solver": solver, "n_demand": int(n), "n_candidates": int(n),
           "p": None if model == "lscp" else int(p), "objective": None, "facilities": [],
           "status": status, "seconds_total": float(seconds), "time_limit_s": float(limit)}
    with open(out, "w", encoding="utf-8") as f:
        json.dump(res, f, indent=1)
        f.write("\n")


def _find(d, keys):
    for where in (d, d.get("result") or {}, d.get("solution") or {}):
        if isinstance(where, dict):
            for k in keys:
                if k in where and where[k] is not None:
                    return where[k]
    return None


def read_result(path):
    """Normalised view of a spopt_locate.py or liancun result."""
    try:
        with open(path, encoding="utf-8") as f:
            d = json.load(f)
    except (OSError, ValueError):
        return None
    obj = _find(d, ("objective", "objective_value", "value"))
    if isinstance(obj, dict):  # e.g. {"value": …, "unit": …}
        obj = obj.get("value")
    fac = _find(d, ("facilities", "sites", "open", "selected"))
    codes = []
    for x in fac or []:
        if isinstance(x, dict):
            x = x.get("code", x.get("village", x.get("id")))
        codes.append(str(x))
    secs = _find(d, ("seconds_total", "seconds", "elapsed_seconds", "elapsed_s", "solve_seconds",
                     "time_seconds"))
    return {"objective": None if obj is None else float(obj), "facilities": codes,
            "status": _find(d, ("status",)), "gap": _find(d, ("gap", "mip_gap", "relative_gap")),
            "method": _find(d, ("method", "solver", "algorithm")),
            "seconds": None if secs is None else float(secs), "raw": d}


def read_points(path):
    codes, xy, pop = [], [], []
    with open(path, encoding="utf-8") as f:
        for row in csv.DictReader(f):
            codes.append(row["code"])
            xy.append((float(row["x"]), float(row["y"])))
            pop.append(float(row["population"]))
    return codes, np.array(xy), np.array(pop)


def recompute(points, codes_open, model, radius):
    codes, xy, pop = points
    idx = {c: i for i, c in enumerate(codes)}
    unknown = [c for c in codes_open if c not in idx]
    js = [idx[c] for c in codes_open if c in idx]
    if not js:
        return {"objective": None, "unknown_codes": unknown}
    fx = xy[js]
    dmin = np.full(len(xy), np.inf)
    for k in range(0, len(js), 256):  # n x k blocks, no n x n matrix needed
        blk = np.hypot(xy[:, None, 0] - fx[None, k:k + 256, 0], xy[:, None, 1] - fx[None, k:k + 256, 1])
        dmin = np.minimum(dmin, blk.min(axis=1))
    covered = dmin <= radius
    obj = {"lscp": float(len(set(js))), "mclp": float(pop[covered].sum()),
           "pmedian": float((pop * dmin).sum()), "pcenter": float(dmin.max())}[model]
    return {"objective": obj, "n_facilities": len(set(js)), "duplicates": len(js) - len(set(js)),
            "unknown_codes": unknown, "uncovered_demand_points": int((~covered).sum()),
            "max_distance_m": float(dmin.max())}


def facility_xy_difference(points, raw):
    """Max |dx|, |dy| between a result's own facility coordinates (liancun writes x, y in EPSG:4548)
    and the projected centroids of the same villages in POINTS.csv."""
    codes, xy, _ = points
    idx = {c: i for i, c in enumerate(codes)}
    dx, dy, worst = [], [], None
    for f in _find(raw, ("facilities", "sites", "open", "selected")) or []:
        if not isinstance(f, dict) or "x" not in f or "y" not in f:
            continue
        c = str(f.get("code", f.get("village", f.get("id"))))
        if c not in idx:
            continue
        dx.append(abs(float(f["x"]) - xy[idx[c], 0]))
        dy.append(abs(float(f["y"]) - xy[idx[c], 1]))
    if not dx:
        return None
    return {"compared": len(dx), "max_abs_dx_m": max(dx), "max_abs_dy_m": max(dy)}


def cmd_check(points_csv, result, model, radius):
    r = read_result(result)
    if r is None:
        sys.exit(f"{result}: unreadable")
    pts = read_points(points_csv)
    chk = recompute(pts, r["facilities"], model, float(radius))
    xyd = facility_xy_difference(pts, r["raw"])
    if xyd:
        chk["facility_xy_vs_points_csv"] = xyd
        print(f"{os.path.basename(result)}: facility x,y vs {os.path.basename(points_csv)}: "
              f"max |dx| {xyd['max_abs_dx_m']:.4f} m, max |dy| {xyd['max_abs_dy_m']:.4f} m "
              f"over {xyd['compared']} sites", file=sys.stderr)
    chk["reported_objective"] = r["objective"]
    if chk["objective"] is not None and r["objective"] is not None:
        chk["relative_difference"] = (r["objective"] - chk["objective"]) / max(abs(chk["objective"]), 1e-12)
    json.dump(chk, sys.stdout, indent=1)
    print()


def fmt_obj(model, v):
    if v is None:
        return "–"
    if model == "lscp":
        return f"{v:.0f}"
    if model == "mclp":
        return f"{v:,.0f}"
    if model == "pmedian":
        return f"{v / 1000:,.1f} k"  # metre-persons → thousands
    return f"{v:,.1f}"


def short_status(s):
    if not s:
        return "?"
    s = str(s)
    if s == "optimal":
        return "opt"
    if s.startswith("time limit (feasible)"):
        return "TL"
    if s.startswith("killed at the time limit"):
        return "killed"
    if "out of memory" in s:
        return "OOM"
    if s.startswith("time limit during build"):
        return "TL(build)"
    return s


def cell_spopt(model, r):
    if r is None:
        return "not run"
    o = fmt_obj(model, r["objective"])
    t = r["seconds"]
    t = "–" if t is None else f"{t:,.1f} s"
    return f"{o} / {t} / {short_status(r['status'])}"


def cmd_table(out, sizes):
    rows = ["| model | N | p | spopt CBC obj / time / status | spopt HiGHS obj / time / status "
            "| liancun obj / time / gap / method | liancun vs spopt (rel. obj.) | speed (spopt / liancun) |",
            "| --- | ---: | ---: | --- | --- | --- | ---: | ---: |"]
    for size in sizes:
        for m in MODELS:
            sp = {s: read_result(os.path.join(out, f"spopt-{size}-{m}-{s}.json")) for s in ("cbc", "highs")}
            lc = read_result(os.path.join(out, f"liancun-{size}-{m}.json"))
            lsec = None
            try:
                with open(os.path.join(out, f"liancun-{size}-{m}-seconds.json"), encoding="utf-8") as f:
                    lsec = json.load(f)["seconds"]
            except (OSError, ValueError, KeyError):
                pass
            p = None
            for r in list(sp.values()) + [lc]:
                if r and r["raw"].get("p") is not None:
                    p = r["raw"]["p"]
                    break
            p = "–" if m == "lscp" or p is None else p
            # reference: the best spopt objective, preferring runs that proved optimality
            cands = [r for r in sp.values() if r and r["objective"] is not None]
            opt = [r for r in cands if r["status"] == "optimal"]
            pool = opt or cands
            ref = None
            if pool:
                ref = (max if m in MAXIMISE else min)(pool, key=lambda r: r["objective"])
            if lc is None:
                lcell, rel, speed = "not run", "–", "–"
            else:
                gap = lc["gap"]
                gap = "–" if gap is None else (f"{gap:.3%}" if isinstance(gap, (int, float)) else str(gap))
                ls = lsec if lsec is not None else lc["seconds"]
                lcell = f"{fmt_obj(m, lc['objective'])} / {'–' if ls is None else f'{ls:,.2f} s'} / {gap} / {lc['method'] or '?'}"
                if ref is not None and lc["objective"] is not None:
                    d = (lc["objective"] - ref["objective"]) / max(abs(ref["objective"]), 1e-12)
                    rel = f"{d:+.2e}" + ("" if ref["status"] == "optimal" else " (spopt not optimal)")
                else:
                    rel = "–"
                fast = [r for r in opt if r["seconds"] is not None]
                g = lc["gap"]
                l_done = (lc["raw"].get("optimal") is True or (isinstance(g, (int, float)) and g <= 1e-9)
                          or str(lc["status"] or "").lower() == "optimal")
                ran = [r["seconds"] for r in sp.values() if r and r["seconds"] is not None]
                if not cands:
                    speed = "– (no spopt result)"
                elif fast and ls:
                    speed = f"{min(r['seconds'] for r in fast) / ls:,.1f}×"
                elif ls and ran and l_done:
                    speed = f"> {max(ran) / ls:,.0f}× (spopt unfinished)"
                elif ls and ran:
                    speed = "– (neither proved optimality)"
                else:
                    speed = "–"
            rows.append(f"| {LABEL[m]} | {size} | {p} | {cell_spopt(m, sp['cbc'])} | {cell_spopt(m, sp['highs'])} "
                        f"| {lcell} | {rel} | {speed} |")
    print("\n".join(rows))
    print()
    print("Objective: LSCP sites; MCLP population covered (max); p-median Σ population × metres, in "
          "thousands; p-center metres. Status: opt = proven optimal (gap 0), TL = stopped at the time "
          "limit with a feasible solution, killed = killed by `timeout`, OOM = address-space cap hit. "
          "spopt time = whole run (read, projection, matrix, PuLP model, solve). Relative objective: "
          "(liancun − spopt) / spopt against the best spopt run (proven optimal preferred); > 0 is "
          "better for liancun on MCLP, worse on the others. Speed: fastest proven-optimal spopt run "
          "/ liancun wall time.")


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "params":
        cmd_params(*args)
    elif cmd == "points":
        cmd_points(*args)
    elif cmd == "killed":
        cmd_killed(*args)
    elif cmd == "check":
        cmd_check(*args)
    elif cmd == "table":
        cmd_table(args[0], args[1:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
