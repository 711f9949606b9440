#!/usr/bin/env python3
"""GeoDa (libgeoda through pygeoda) peer of liancun's zoning engine: contiguous zones of villages.

  geoda_zones.py --villages county.geojson
                 --method {redcap,skater,azp_sa,azp_greedy,maxp_sa,maxp_greedy}
                 [--zones K] [--pop-floor F] [--attrs population,collective_income] [--seed 1]
                 [--time-limit 900] [--cpu-threads 1] --out result.json

Steps, the same for every method (the spopt peer, spopt_zones.py, does the same with PySAL):
  1. read the GeoJSON with json + shapely (no geopandas); the village key is `code` as a string;
  2. queen contiguity with libgeoda (`pygeoda.queen_weights`, exact vertex match,
     precision_threshold 0). The polygons go to libgeoda as WKB, which is what `pygeoda.open` does
     with a GeoDataFrame. The same graph is also computed here from the coordinates (two villages
     are neighbours when their rings share a vertex bit for bit) and the two are compared:
     `weights.mismatched_pairs` must be 0;
  3. z-score each attribute over all villages (mean 0, population standard deviation, ddof=0) and
     give the z columns to pygeoda with scale_method="raw", so that the solver sees exactly the
     numbers liancun standardises to (GeoDa's own "standardize" would rescale by the ddof=1 sd);
  4. time the pygeoda call alone, in a forked child process killed when --time-limit runs out
     (then {"timed_out": true, "seconds": limit}); reading, weights and z-scores are prep_seconds;
  5. score the labels: SSD = Σ over zones of the squared deviations of the z-scored attributes from
     the zone mean (what liancun calls heterogeneity), zones below F, disconnected zones under the
     exact queen graph.

Methods (pygeoda 0.1.3 defaults unless stated; euclidean distance; random_seed = --seed):
  redcap       redcap(K, w, z, method): fullorder-completelinkage (GeoDa's default) and
               fullorder-wardlinkage are both run (each in its own child, each with the time limit);
               the result with the lower SSD is kept, the other is reported under `variants`.
               --redcap-linkage picks one. No population bound (K regions).
  skater       skater(K, w, z). No population bound.
  azp_sa       azp_sa(K, w, z, cooling_rate=0.85) (sa_maxit=1, inits=0). No population bound.
  azp_greedy   azp_greedy(K, w, z) (inits=0). No population bound.
  maxp_sa      maxp_sa(w, z, bound_variable=population, min_bound=F, cooling_rate=0.85)
               (iterations=99, sa_maxit=1); p is an output.
  maxp_greedy  maxp_greedy(w, z, bound_variable=population, min_bound=F) (iterations=99).
--cpu-threads goes to the methods that take it (redcap, skater, maxp_*); pygeoda's default is 6.
The default here is 1: one core, like liancun, on a shared 2-core machine. `cpu_seconds` is the
child's user+system CPU time during the call, so a multithreaded run shows.
F defaults to 5 x the median village population.

Output JSON: method, seconds (pygeoda call only), cpu_seconds, prep_seconds, peak_rss_mb, labels
{code: zone} (read as is by `liancun zones evaluate --zoning`, like spopt_zones.py output),
n_zones (p for maxp_*), objectives, checks, weights, params, versions; or timed_out / error.
"""
import argparse
import json
import multiprocessing as mp
import os
import resource
import sys
import time
from collections import defaultdict

import numpy as np

METHODS = ["redcap", "skater", "azp_sa", "azp_greedy", "maxp_sa", "maxp_greedy"]
LINKAGES = {"complete": "fullorder-completelinkage", "ward": "fullorder-wardlinkage"}


def load(path, attrs):
    import shapely

    with open(path, encoding="utf-8") as f:
        fc = json.load(f)
    feats = fc["features"]
    codes = [str(ft["properties"]["code"]) for ft in feats]
    if len(set(codes)) != len(codes):
        sys.exit(f"{path}: village codes are not unique")
    cols = {}
    for a in dict.fromkeys(attrs + ["population"]):
        try:
            cols[a] = np.array([float(ft["properties"][a]) for ft in feats])
        except KeyError:
            sys.exit(f"{path}: no `{a}` property")
    geoms = [shapely.geometry.shape(ft["geometry"]) for ft in feats]
    return codes, cols, geoms


def zscore(cols, attrs):
    out = []
    for a in attrs:
        x = cols[a]
        sd = x.std()  # ddof=0
        out.append((x - x.mean()) / (sd if sd > 0 else 1.0))
    return np.column_stack(out)


def exact_queen(geoms):
    """Neighbour sets: polygons whose rings share at least one vertex (bit-for-bit equal)."""
    import shapely

    owners = defaultdict(set)
    for i, g in enumerate(geoms):
        for xy in map(tuple, shapely.get_coordinates(g).tolist()):
            owners[xy].add(i)
    nb = [set() for _ in geoms]
    for s in owners.values():
        if len(s) > 1:
            for i in s:
                nb[i] |= s
    for i in range(len(nb)):
        nb[i].discard(i)
    return nb


def geoda_weights(geoms):
    """libgeoda queen weights from WKB (what pygeoda.open does for a GeoDataFrame)."""
    import pygeoda
    from pygeoda.gda import geoda
    from pygeoda.libgeoda import GeoDa, GeoDaTable

    wkbs = [g.wkb for g in geoms]
    table = GeoDaTable()  # libgeoda keeps a pointer to it: it must outlive the GeoDa object
    gda = geoda(GeoDa(table, "villages", "map_polygons", bytearray(b"".join(wkbs)),
                      [len(b) for b in wkbs]))
    gda._table = table
    return gda, pygeoda.queen_weights(gda)


def compare_graphs(w, nb):
    g_nb = [set(w.get_neighbors(i)) for i in range(w.num_obs)]
    only_geoda = sum(len(g_nb[i] - nb[i]) for i in range(len(nb))) // 2
    only_exact = sum(len(nb[i] - g_nb[i]) for i in range(len(nb))) // 2
    links = sum(len(s) for s in g_nb) // 2
    return {
        "pygeoda_links": links, "exact_links": sum(len(s) for s in nb) // 2,
        "pygeoda_mean_neighbors": round(2 * links / len(nb), 3),
        "only_in_pygeoda": only_geoda, "only_in_exact": only_exact,
        "mismatched_pairs": only_geoda + only_exact,
        "villages_with_different_neighbours": sum(1 for i in range(len(nb)) if g_nb[i] != nb[i]),
        "pygeoda_isolates": sum(1 for s in g_nb if not s),
        "exact_components": components_within(range(len(nb)), nb),
    }


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


def call(method, k, w, z, pop, floor, seed, threads, linkage=None):
    """The pygeoda call under test; returns the label list (0 = not assigned)."""
    import pygeoda

    data = [z[:, j].tolist() for j in range(z.shape[1])]
    common = dict(scale_method="raw", distance_method="euclidean", random_seed=seed)
    bound = dict(bound_variable=pop.tolist(), min_bound=floor)
    if method == "redcap":
        r = pygeoda.redcap(k, w, data, linkage, cpu_threads=threads, **common)
    elif method == "skater":
        r = pygeoda.skater(k, w, data, cpu_threads=threads, **common)
    elif method == "azp_sa":
        r = pygeoda.azp_sa(k, w, data, cooling_rate=0.85, **common)
    elif method == "azp_greedy":
        r = pygeoda.azp_greedy(k, w, data, **common)
    elif method == "maxp_sa":
        r = pygeoda.maxp_sa(w, data, cooling_rate=0.85, cpu_threads=threads, **bound, **common)
    else:
        r = pygeoda.maxp_greedy(w, data, cpu_threads=threads, **bound, **common)
    return [int(x) for x in r["Clusters"]], float(r["Total within-cluster sum of squares"])


def _child(conn, args):
    try:
        r0 = resource.getrusage(resource.RUSAGE_SELF)
        t0 = time.perf_counter()
        labels, wss = call(*args)
        dt = time.perf_counter() - t0
        r1 = resource.getrusage(resource.RUSAGE_SELF)
        conn.send({"seconds": dt, "labels": labels, "pygeoda_wss": wss,
                   "cpu_seconds": (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime),
                   "peak_rss_mb": r1.ru_maxrss / 1024})
    except BaseException as e:  # report, never hang the parent
        conn.send({"error": f"{type(e).__name__}: {e}"})
    finally:
        conn.close()


def run_with_limit(args, limit):
    ctx = mp.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(child, args))
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
    if result is None or "peak_rss_mb" not in result:
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        result = dict(result or {}, peak_rss_mb=peak)
    return result


def score(labels, Z, pop, floor, nb):
    """SSD (liancun's heterogeneity), zones below F, disconnected zones under the exact queen graph."""
    zones = defaultdict(list)
    unassigned = 0
    for i, l in enumerate(labels):
        if l == 0:
            unassigned += 1
        else:
            zones[l].append(i)
    ssd = 0.0
    disconnected = below = 0
    sizes, pops = [], []
    for members in zones.values():
        d = Z[members] - Z[members].mean(axis=0)
        ssd += float((d * d).sum())
        if components_within(members, nb) > 1:
            disconnected += 1
        p = float(pop[members].sum())
        pops.append(p)
        sizes.append(len(members))
        if floor is not None and p < floor:
            below += 1
    return {
        "objectives": {"ssd": round(ssd, 6)},
        "checks": {
            "zones": len(zones), "unassigned_villages": unassigned,
            "disconnected_zones": disconnected, "all_zones_connected": disconnected == 0,
            "pop_floor": floor, "pop_floor_violations": below,
            "villages_per_zone": {"min": min(sizes), "median": float(np.median(sizes)), "max": max(sizes)},
            "population_per_zone": {"min": min(pops), "median": float(np.median(pops)), "max": max(pops)},
        },
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--villages", required=True)
    ap.add_argument("--method", required=True, choices=METHODS)
    ap.add_argument("--zones", type=int, help="K (redcap, skater, azp_*)")
    ap.add_argument("--pop-floor", type=float, help="F: min zone population (maxp_* bound; checked for "
                    "all); default 5 x median village population")
    ap.add_argument("--attrs", default="population,collective_income")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--time-limit", type=float, default=900.0, help="seconds per pygeoda call")
    ap.add_argument("--cpu-threads", type=int, default=1, help="cpu_threads for redcap/skater/maxp_* "
                    "(pygeoda default 6; default here 1)")
    ap.add_argument("--redcap-linkage", choices=["both", "complete", "ward"], default="both")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    attrs = [s.strip() for s in a.attrs.split(",") if s.strip()]
    if not a.method.startswith("maxp") and not a.zones:
        sys.exit(f"--zones is required for {a.method}")

    import pygeoda
    import shapely

    t_load = time.perf_counter()
    codes, cols, geoms = load(a.villages, attrs)
    pop = cols["population"]
    if a.pop_floor is None:
        a.pop_floor = 5.0 * float(np.median(pop))
    Z = zscore(cols, attrs)
    _gda, w = geoda_weights(geoms)
    prep_s = time.perf_counter() - t_load
    t_check = time.perf_counter()
    nb = exact_queen(geoms)
    wcmp = compare_graphs(w, nb)
    wcmp["check_seconds"] = round(time.perf_counter() - t_check, 3)
    if wcmp["mismatched_pairs"]:
        print(f"!! pygeoda queen graph differs from the exact shared-vertex graph: {wcmp}", file=sys.stderr)

    params = dict(attrs=attrs, standardise="z-score, ddof=0, passed with scale_method=raw",
                  distance_method="euclidean", random_seed=a.seed, time_limit=a.time_limit,
                  pop_floor=a.pop_floor, weights="pygeoda.queen_weights (exact vertex match)")
    if a.method.startswith("maxp"):
        params.update(bound_variable="population", min_bound=a.pop_floor, iterations=99)
    else:
        params.update(k=a.zones, bound="none")
    if a.method.endswith("_sa"):
        params.update(cooling_rate=0.85, sa_maxit=1)
    if a.method in ("redcap", "skater", "maxp_sa", "maxp_greedy"):
        params["cpu_threads"] = a.cpu_threads
    out = {
        "method": a.method, "villages": len(codes), "input": os.path.basename(a.villages),
        "versions": {"pygeoda": pygeoda.__version__, "numpy": np.__version__,
                     "shapely": shapely.__version__, "python": sys.version.split()[0]},
        "weights": wcmp, "prep_seconds": round(prep_s, 3), "params": params,
    }

    linkages = [None]
    if a.method == "redcap":
        linkages = list(LINKAGES.values()) if a.redcap_linkage == "both" else [LINKAGES[a.redcap_linkage]]
    runs = []
    for lk in linkages:
        r = run_with_limit((a.method, a.zones, w, Z, pop, a.pop_floor, a.seed, a.cpu_threads, lk),
                           a.time_limit)
        r["linkage"] = lk
        if "labels" in r:
            r.update(score(r["labels"], Z, pop, a.pop_floor, nb))
        runs.append(r)
        print(json.dumps({k: v for k, v in r.items() if k != "labels"}, ensure_ascii=False), file=sys.stderr)
    done = [r for r in runs if "labels" in r]
    best = min(done, key=lambda r: r["objectives"]["ssd"]) if done else runs[0]
    if a.method == "redcap":
        params["linkage"] = best["linkage"]
        out["variants"] = [{k: (round(v, 3) if isinstance(v, float) else v) for k, v in r.items()
                            if k in ("linkage", "seconds", "cpu_seconds", "timed_out", "error", "objectives",
                                     "peak_rss_mb")} | ({"zones": r["checks"]["zones"],
                                                         "pop_floor_violations": r["checks"]["pop_floor_violations"]}
                                                        if "checks" in r else {})
                           for r in runs]
    out["peak_rss_mb"] = round(max(r["peak_rss_mb"] for r in runs), 1)
    if "labels" not in best:
        if "error" in best:
            out["error"] = best["error"]
        else:
            out.update(timed_out=True, seconds=a.time_limit)
    else:
        labels = best["labels"]
        out["seconds"] = round(best["seconds"], 3)
        out["cpu_seconds"] = round(best["cpu_seconds"], 3)
        out["n_zones"] = best["checks"]["zones"]
        if a.method.startswith("maxp"):
            out["p"] = out["n_zones"]
        # pygeoda's own within-cluster SS re-standardises with the sample sd (ddof=1): it equals
        # ssd x (n-1)/n, a cross-check of ssd.
        out["objectives"] = dict(best["objectives"], pygeoda_total_within_ss=round(best["pygeoda_wss"], 6))
        out["checks"] = best["checks"]
        # 0 = not assigned by libgeoda: null, which liancun's evaluator reads as "not in a zone".
        out["labels"] = {c: (l if l else None) for c, l in zip(codes, labels)}
    with open(a.out, "w", encoding="utf-8") as f:  # one top-level key a line, values compact
        f.write("{\n" + ",\n".join(
            f" {json.dumps(k)}: " + json.dumps(v, ensure_ascii=False,
                                                separators=(",", ":") if k == "labels" else None)
            for k, v in out.items()) + "\n}\n")
    summary = {k: v for k, v in out.items() if k not in ("labels", "params", "versions")}
    print(json.dumps(summary, ensure_ascii=False))
    if "error" in out:
        sys.exit(1)


if __name__ == "__main__":
    main()
