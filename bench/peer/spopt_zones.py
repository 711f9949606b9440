#!/usr/bin/env python3
"""PySAL spopt peer of liancun's zoning engine: group villages into contiguous zones.

  spopt_zones.py --villages county.geojson --method {maxp,skater,azp} [--zones K] [--pop-floor F]
                 [--attrs population,collective_income] [--seed 1] [--time-limit 900] --out labels.json

Steps, the same for every method:
  1. read the villages with geopandas; the village key is `code` as a string;
  2. queen contiguity with libpysal (`Queen.from_dataframe(..., use_index=False)`: two villages are
     neighbours when their boundaries share at least one vertex);
  3. z-score each attribute over all villages (mean 0, population standard deviation 1, ddof=0);
     the z columns are what every method measures dissimilarity on;
  4. build the spopt model and time `solve()` alone, in a forked child process that is killed
     when --time-limit runs out (then the output is {"timed_out": true, "seconds": limit});
  5. score the labels with spopt's own objectives and a few neutral checks (see `score`).

Methods and the parameters used (spopt's documented defaults unless stated):
  maxp    MaxPHeuristic(threshold_name="population", threshold=F, top_n=2,
          max_iterations_construction=99, max_iterations_sa=10, policy="single"); the number of
          zones p is an output. It draws from numpy's global generator, seeded with --seed.
  skater  Skater(n_clusters=K, floor=--skater-floor, trace=False, islands="increase"), default
          SpanningForest (manhattan dissimilarity, sum reduction, mean centre). Skater's floor is a
          number of villages, not a population: by default ceil(F / mean village population).
  azp     AZP(n_clusters=K, random_state=--seed), default move strategy (plain AZP) and objective
          (ObjectiveFunctionPairwise, manhattan).
F defaults to 5 x the median village population.

Output JSON: method, seconds (solve() only), labels {code: zone}, n_zones, params, versions,
objectives, checks; or method, timed_out, seconds, params when the limit was hit.
"""
import argparse
import json
import math
import multiprocessing as mp
import os
import random
import resource
import sys
import time
import warnings

import numpy as np


def load(path, attrs):
    import geopandas as gpd

    gdf = gpd.read_file(path)
    if "code" not in gdf.columns:
        sys.exit(f"{path}: no `code` column")
    gdf["code"] = gdf["code"].astype(str)
    for a in attrs + ["population"]:
        if a not in gdf.columns:
            sys.exit(f"{path}: no `{a}` column")
        gdf[a] = gdf[a].astype(float)
    if not gdf["code"].is_unique:
        sys.exit(f"{path}: village codes are not unique")
    return gdf.reset_index(drop=True)


def zscore(gdf, attrs):
    cols = []
    for a in attrs:
        x = gdf[a].to_numpy(dtype=float)
        sd = x.std()
        gdf[f"z_{a}"] = (x - x.mean()) / (sd if sd > 0 else 1.0)
        cols.append(f"z_{a}")
    return cols


def build_model(method, gdf, w, zcols, a):
    from spopt.region import AZP, MaxPHeuristic, Skater

    if method == "maxp":
        params = dict(threshold_name="population", threshold=a.pop_floor, top_n=a.top_n,
                      max_iterations_construction=a.maxp_construction, max_iterations_sa=a.maxp_sa,
                      policy="single")
        return MaxPHeuristic(gdf, w, zcols, **params), params
    if method == "skater":
        params = dict(n_clusters=a.zones, floor=a.skater_floor, trace=False, islands="increase")
        return Skater(gdf, w, zcols, **params), params
    params = dict(n_clusters=a.zones, random_state=a.seed)
    return AZP(gdf, w, zcols, **params), params


def _child(conn, model, seed):
    try:
        np.random.seed(seed)
        random.seed(seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t0 = time.perf_counter()
            model.solve()
            dt = time.perf_counter() - t0
        labels = np.asarray(model.labels_)
        conn.send({"seconds": dt, "labels": [int(x) for x in labels],
                   "p": int(getattr(model, "p", 0) or 0)})
    except BaseException as e:  # report, never hang the parent
        conn.send({"error": f"{type(e).__name__}: {e}"})
    finally:
        conn.close()


def run_with_limit(model, seed, limit):
    ctx = mp.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(child, model, seed))
    proc.start()
    child.close()
    deadline = time.monotonic() + limit
    result = None
    while time.monotonic() < deadline:
        if parent.poll(min(1.0, max(0.0, deadline - time.monotonic()))):
            try:
                result = parent.recv()
            except EOFError:
                result = {"error": f"solver process died (exit code {proc.exitcode})"}
            break
        if not proc.is_alive() and not parent.poll():
            result = {"error": f"solver process died (exit code {proc.exitcode})"}
            break
    if result is None:
        proc.kill()
    proc.join()
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return result, peak_mb


def pairwise_l1(x):
    """Sum over pairs i<j of |x_i - x_j|_1, per column via sorting: sum_k (2k - m + 1) x_(k)."""
    m = len(x)
    s = np.sort(x, axis=0)
    coef = 2 * np.arange(m) - m + 1
    return float((coef[:, None] * s).sum())


def components_within(members, neighbors):
    left = set(members)
    n = 0
    while left:
        n += 1
        stack = [left.pop()]
        while stack:
            u = stack.pop()
            for v in neighbors[u]:
                if v in left:
                    left.remove(v)
                    stack.append(v)
    return n


def score(labels, X, pop, floor, w):
    """spopt's objectives and neutral checks on z-scored attributes X.

    pairwise_l1  sum over zones of the manhattan distance of every pair of members
                 (MaxP's and AZP's objective; MaxP reports it as total within-region distance)
    l1_to_mean   sum over zones of the manhattan distance of each member to the zone mean
                 (Skater's score with its default SpanningForest)
    ssd          sum over zones of squared euclidean distances to the zone mean (within-zone sum of
                 squares; the heterogeneity the harness compares, also computed by liancun)
    """
    labels = np.asarray(labels)
    zones = {}
    for i, l in enumerate(labels.tolist()):
        zones.setdefault(l, []).append(i)
    pw = l1m = ssd = 0.0
    disconnected = violations = 0
    sizes, pops = [], []
    for members in zones.values():
        xm = X[members]
        d = xm - xm.mean(axis=0)
        pw += pairwise_l1(xm)
        l1m += float(np.abs(d).sum())
        ssd += float((d * d).sum())
        if components_within(members, w.neighbors) > 1:
            disconnected += 1
        p = float(pop[members].sum())
        pops.append(p)
        sizes.append(len(members))
        if floor is not None and p < floor:
            violations += 1
    return {
        "objectives": {"pairwise_l1": round(pw, 6), "l1_to_mean": round(l1m, 6), "ssd": round(ssd, 6)},
        "checks": {
            "zones": len(zones), "disconnected_zones": disconnected,
            "pop_floor": floor, "pop_floor_violations": violations,
            "villages_per_zone": {"min": min(sizes), "median": float(np.median(sizes)), "max": max(sizes)},
            "population_per_zone": {"min": min(pops), "median": float(np.median(pops)), "max": max(pops)},
        },
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--villages", required=True)
    ap.add_argument("--method", required=True, choices=["maxp", "skater", "azp"])
    ap.add_argument("--zones", type=int, help="K (skater, azp)")
    ap.add_argument("--pop-floor", type=float, help="F: minimum zone population (maxp; checked for all); "
                    "default 5 x median village population")
    ap.add_argument("--attrs", default="population,collective_income")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--time-limit", type=float, default=900.0)
    ap.add_argument("--skater-floor", type=int, help="minimum villages per zone for skater "
                    "(default ceil(F / mean village population))")
    ap.add_argument("--top-n", type=int, default=2, help="maxp top_n (default 2)")
    ap.add_argument("--maxp-construction", type=int, default=99,
                    help="maxp max_iterations_construction (MaxPHeuristic default 99)")
    ap.add_argument("--maxp-sa", type=int, default=10, help="maxp max_iterations_sa (default 10)")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    attrs = [s.strip() for s in a.attrs.split(",") if s.strip()]
    if a.method in ("skater", "azp") and not a.zones:
        sys.exit(f"--zones is required for {a.method}")

    import libpysal
    import spopt
    from libpysal.weights import Queen

    t_load = time.perf_counter()
    gdf = load(a.villages, attrs)
    pop = gdf["population"].to_numpy(dtype=float)
    if a.pop_floor is None:
        a.pop_floor = 5.0 * float(np.median(pop))
    if a.skater_floor is None:
        a.skater_floor = max(1, math.ceil(a.pop_floor / pop.mean()))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        w = Queen.from_dataframe(gdf, use_index=False, silence_warnings=True)
    zcols = zscore(gdf, attrs)
    X = gdf[zcols].to_numpy(dtype=float)
    model, params = build_model(a.method, gdf, w, zcols, a)
    prep_s = time.perf_counter() - t_load

    shown = {k: v for k, v in params.items()}
    shown.update(attrs=attrs, standardise="z-score, ddof=0", seed=a.seed, time_limit=a.time_limit,
                 pop_floor=a.pop_floor, weights="queen (libpysal Queen.from_dataframe, use_index=False)")
    out = {
        "method": a.method,
        "villages": len(gdf),
        "input": os.path.basename(a.villages),
        "versions": {"spopt": spopt.__version__, "libpysal": libpysal.__version__,
                     "python": sys.version.split()[0]},
        "weights": {"components": int(w.n_components), "islands": len(w.islands),
                    "mean_neighbors": round(float(w.mean_neighbors), 3)},
        "prep_seconds": round(prep_s, 3),
        "params": shown,
    }
    result, peak_mb = run_with_limit(model, a.seed, a.time_limit)
    out["peak_rss_mb"] = round(peak_mb, 1)
    if result is None:
        out.update(timed_out=True, seconds=a.time_limit)
    elif "error" in result:
        out.update(error=result["error"])
    else:
        labels = result["labels"]
        out["seconds"] = round(result["seconds"], 3)
        out["n_zones"] = len(set(labels))
        if a.method == "maxp":
            out["p"] = result["p"]
        out.update(score(labels, X, pop, a.pop_floor, w))
        out["labels"] = {c: l for c, l in zip(gdf["code"].tolist(), labels)}
    with open(a.out, "w", encoding="utf-8") as f:  # one top-level key a line, values compact
        f.write("{\n" + ",\n".join(f" {json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}"
                                   for k, v in out.items()) + "\n}\n")
    summary = {k: v for k, v in out.items() if k not in ("labels", "params")}
    print(json.dumps(summary, ensure_ascii=False))
    if "error" in out:
        sys.exit(1)


if __name__ == "__main__":
    main()
