#!/usr/bin/env python3
"""Helpers for bench/zones/compare.sh (run with the peer venv's Python).

  zones_util.py floor COUNTY.geojson                 -> "N F": villages, 5 x median population
  zones_util.py k CALIB_MAXP.json N                  -> K = round(N * p / N_calib)
  zones_util.py check COUNTY.geojson ZONING.json F   -> peer-side cross-check as JSON (stdout)
  zones_util.py table RESULTS_DIR TAG...             -> the markdown comparison table

ZONING.json is either {"labels": {code: zone}} (spopt_zones.py) or {"zones": [{"members": [...]}]}
(liancun zones propose). The cross-check scores any zoning the way spopt_zones.py does (z-scores
with ddof=0, libpysal queen contiguity) so that a disagreement with liancun's evaluator shows.
"""
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "peer"))

ATTRS = ["population", "collective_income"]


def read_features(path):
    with open(path, encoding="utf-8") as f:
        return [ft["properties"] for ft in json.load(f)["features"]]


def zoning_labels(path):
    """code -> zone label from either zoning format."""
    with open(path, encoding="utf-8") as f:
        z = json.load(f)
    if "labels" in z:
        return {str(k): v for k, v in z["labels"].items()}
    out = {}
    for i, zone in enumerate(z.get("zones", [])):
        zid = zone.get("id", i)
        for c in zone.get("members", []):
            out[str(c)] = zid
    return out


def cmd_floor(path):
    pops = [float(p["population"]) for p in read_features(path)]
    print(len(pops), 5.0 * float(np.median(pops)))


def cmd_k(calib, n):
    with open(calib, encoding="utf-8") as f:
        d = json.load(f)
    if "n_zones" not in d:
        sys.exit(f"{calib}: MaxP calibration has no result ({'timed out' if d.get('timed_out') else d.get('error')})")
    print(max(1, round(int(n) * d["n_zones"] / d["villages"])))


def cmd_check(county, zoning, floor):
    import geopandas as gpd
    from libpysal.weights import Queen

    from spopt_zones import score, zscore
    gdf = gpd.read_file(county)
    gdf["code"] = gdf["code"].astype(str)
    for a in ATTRS:
        gdf[a] = gdf[a].astype(float)
    lab = zoning_labels(zoning)
    missing = [c for c in gdf["code"] if c not in lab]
    unknown = len(set(lab) - set(gdf["code"]))
    # A village the zoning leaves out forms a zone of its own, so that it still counts.
    labels = [lab.get(c, f"__missing_{c}") for c in gdf["code"]]
    w = Queen.from_dataframe(gdf, use_index=False, silence_warnings=True)
    X = gdf[zscore(gdf, ATTRS)].to_numpy(dtype=float)
    s = score(labels, X, gdf["population"].to_numpy(dtype=float), float(floor), w)
    s["checks"]["villages_not_zoned"] = len(missing)
    s["checks"]["unknown_codes"] = unknown
    print(json.dumps(s, ensure_ascii=False))


def load(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def fmt(v, nd=2):
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:,.{nd}f}"
    return f"{v:,}" if isinstance(v, int) else str(v)


def cmd_table(results, tags):
    print("| size | method | zones | seconds | heterogeneity (liancun eval) | disconnected zones | "
          "violations | × liancun time | SSD (peer check) | disconnected (peer) | below pop floor (peer) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for tag in tags:
        prm = load(os.path.join(results, f"params-{tag}.json")) or {}
        size = f"{tag} (N={prm.get('villages', '?')}, K={prm.get('k', '?')}, F={fmt(prm.get('pop_floor'), 0)})"
        # liancun: the proposal's own "seconds" (the search alone, like spopt's solve()), else the
        # wall time of the whole `zones propose` process.
        t = load(os.path.join(results, f"liancun-{tag}-seconds.json")) or {}
        lz = load(os.path.join(results, f"liancun-{tag}-zoning.json")) or {}
        lc_secs = lz.get("seconds", t.get("seconds"))
        lc_note = ""
        if t.get("seconds") is not None:
            lc_note = f" (wall {float(t['seconds']):,.2f})"
        if lz.get("stopped_by_time_limit"):
            lc_note += " (hit time limit)"
        rows = [("liancun", f"liancun-{tag}-zoning.json", lc_secs, None)]
        nf = load(os.path.join(results, f"liancun-{tag}-nofloor-zoning.json"))
        if nf is not None:
            rows.append(("liancun, no floor (as AZP/Skater)", f"liancun-{tag}-nofloor-zoning.json", nf.get("seconds"), None))
        for m in ("maxp", "skater", "azp"):
            d = load(os.path.join(results, f"spopt-{tag}-{m}.json"))
            if d is not None:
                rows.append((f"spopt {m}", f"spopt-{tag}-{m}.json", d.get("seconds"), d))
        for name, zfile, secs, d in rows:
            base = zfile[:-5]
            ev = load(os.path.join(results, f"{base}-eval.json")) or {}
            tot = ev.get("totals", {})
            chk = load(os.path.join(results, f"{base}-check.json")) or {}
            c = chk.get("checks", {})
            zones = tot.get("zones", c.get("zones"))
            if d is not None and d.get("timed_out"):
                secs_s = f"> {fmt(float(secs), 0)} (timed out)"
            elif d is not None and d.get("error"):
                secs_s = f"error: {d['error'][:40]}"
            elif secs is None:
                secs_s = "–" if not name.startswith("liancun") or not os.path.exists(os.path.join(results, zfile)) else "?"
            else:
                secs_s = fmt(float(secs), 2) + (lc_note if name == "liancun" else "")
            ratio = "–"
            if secs is not None and lc_secs:
                ratio = f"{float(secs) / float(lc_secs):,.1f}×" + (" (≥)" if d is not None and d.get("timed_out") else "")
            if name == "spopt maxp" and d is not None and d.get("p"):
                name = f"spopt maxp (p={d['p']})"
            print(f"| {size} | {name} | {fmt(zones)} | {secs_s} | {fmt(tot.get('heterogeneity'), 3)} | "
                  f"{fmt(tot.get('disconnected_zones'))} | {fmt(tot.get('violations'))} | {ratio} | "
                  f"{fmt(chk.get('objectives', {}).get('ssd'), 3)} | {fmt(c.get('disconnected_zones'))} | "
                  f"{fmt(c.get('pop_floor_violations'))} |")


def main():
    cmds = {"floor": cmd_floor, "k": cmd_k, "check": cmd_check}
    if len(sys.argv) < 3 or sys.argv[1] not in list(cmds) + ["table"]:
        sys.exit(__doc__)
    if sys.argv[1] == "table":
        cmd_table(sys.argv[2], sys.argv[3:])
    else:
        cmds[sys.argv[1]](*sys.argv[2:])


if __name__ == "__main__":
    main()
