#!/usr/bin/env python3
"""Self-test of geopandas_stats.py on a small synthetic pair (4 villages, 50 parcels by default).

Generates the inputs with make_synthetic.py, runs geopandas_stats.py with --method overlay, sjoin and
both, with --arrow auto / off / compare (and all again on the same data with codes written as
JSON numbers, where a 19-digit zldwdm exceeds float64's exact range), and reconciles every
number in its CSV and summary against a brute-force computation that uses only json + pyproj +
shapely (no GeoPandas, no pandas, no GDAL):

  * total_parcel_area_m2 = sum of shapely areas of the pyproj-transformed parcels
  * assigned + unassigned = total; sum of the CSV's parcel_area_m2 = assigned
  * each village x dlbm cell: overlay = attribute parcels + exact intersections; sjoin = attribute
    parcels + whole parcels whose representative point lies in the village
  * parcel_area_m2 = sum of dlbm columns; cultivated = sum of dlbm_01xx
  * greenhouse count/area and facility counts per kind

  /root/.venv-peer/bin/python bench/peer/selftest.py [--dir /tmp/liancun_peer_selftest] [--parcels 50]
Exit status 0 when everything reconciles within 1e-3 m² (1e-9 relative).
"""
import argparse
import csv
import json
import os
import subprocess
import sys

import shapely
from pyproj import Transformer
from shapely.geometry import shape

HERE = os.path.dirname(os.path.abspath(__file__))
PY = sys.executable


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)["features"]


def s12(v):
    if v is None:
        return None
    t = format(int(v), "d") if isinstance(v, (int, float)) else str(v).strip()
    return t or None


def brute_force(d, epsg):
    tr = Transformer.from_crs("EPSG:4326", f"EPSG:{epsg}", always_xy=True)

    def proj(geom):
        return shapely.transform(geom, lambda xy: list(zip(*tr.transform(xy[:, 0], xy[:, 1]))))

    vil = [(s12(f["properties"]["code"]), proj(shape(f["geometry"]))) for f in load(f"{d}/villages.geojson")]
    known = {c for c, _ in vil}
    res = {"overlay": {}, "sjoin": {}}
    total = 0.0
    for f in load(f"{d}/parcels.geojson"):
        p = proj(shape(f["geometry"]))
        a = p.area
        total += a
        dl = str(f["properties"]["dlbm"])
        z = s12(f["properties"].get("zldwdm"))
        if z and len(z) >= 12 and z[:12] in known:
            for m in res:
                res[m][(z[:12], dl)] = res[m].get((z[:12], dl), 0.0) + a
            continue
        rp = p.representative_point()
        hit = False
        for code, vg in vil:
            ia = p.intersection(vg).area
            if ia > 0:
                res["overlay"][(code, dl)] = res["overlay"].get((code, dl), 0.0) + ia
            if not hit and vg.intersects(rp):
                res["sjoin"][(code, dl)] = res["sjoin"].get((code, dl), 0.0) + a
                hit = True

    def assign_small(feats):
        out = []
        for f in feats:
            g = proj(shape(f["geometry"]))
            vc = s12(f["properties"].get("village_code"))
            if vc and vc[:12] in known:
                out.append((vc[:12], f, g))
                continue
            pt = g if g.geom_type == "Point" else g.representative_point()
            code = next((c for c, vg in vil if vg.intersects(pt)), None)
            out.append((code, f, g))
        return out

    gh, fac = {}, {}
    for code, f, g in assign_small(load(f"{d}/greenhouses.geojson")):
        if code:
            n, a = gh.get(code, (0, 0.0))
            gh[code] = (n + 1, a + g.area)
    for code, f, g in assign_small(load(f"{d}/facilities.geojson")):
        if code:
            k = (code, f["properties"]["kind"])
            fac[k] = fac.get(k, 0) + 1
    return total, res, gh, fac, [c for c, _ in vil]


def run_tool(d, method, arrow, out_csv, epsg):
    cmd = [PY, f"{HERE}/geopandas_stats.py", "--villages", f"{d}/villages.geojson",
           "--parcels", f"{d}/parcels.geojson", "--greenhouses", f"{d}/greenhouses.geojson",
           "--facilities", f"{d}/facilities.geojson", "--epsg", str(epsg), "--out", out_csv,
           "--method", method, "--arrow", arrow]
    r = subprocess.run(cmd, capture_output=True, text=True, check=True)
    with open(out_csv, encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return json.loads(r.stdout.strip().splitlines()[-1]), rows, " ".join(cmd)


def close(a, b):
    return abs(a - b) <= max(1e-3, 1e-9 * max(abs(a), abs(b)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", default="/tmp/liancun_peer_selftest")
    ap.add_argument("--parcels", type=int, default=50)
    ap.add_argument("--grid", type=int, default=2)
    ap.add_argument("--epsg", type=int, default=4548)
    a = ap.parse_args()
    fails = []
    first_summary = None
    for numeric in (False, True):
        d = a.dir + ("_numeric" if numeric else "")
        gen = [PY, f"{HERE}/make_synthetic.py", "--grid", str(a.grid), "--parcels", str(a.parcels),
               "--out-dir", d] + (["--numeric-codes"] if numeric else [])
        subprocess.run(gen, check=True, capture_output=True)
        total, exp, gh, fac, codes = brute_force(d, a.epsg)
        for method, arrow in (("overlay", "auto"), ("sjoin", "auto"), ("both", "auto"), ("overlay", "off"),
                              ("sjoin", "off"), ("both", "compare")):
            summary, rows, cmd = run_tool(d, method, arrow, f"{d}/stats_{method}_{arrow}.csv", a.epsg)
            if first_summary is None:
                first_summary = (cmd, summary, f"{d}/stats_{method}.csv")
            m = "sjoin" if method == "sjoin" else "overlay"
            tag = f"{'numeric' if numeric else 'string'} codes, --method {method} --arrow {arrow}"
            e = exp[m]
            checks = [("total_parcel_area_m2", summary["total_parcel_area_m2"], total),
                      ("assigned_area_m2", summary["assigned_area_m2"], sum(e.values())),
                      ("assigned+unassigned", summary["assigned_area_m2"] + summary["unassigned_area_m2"],
                       summary["total_parcel_area_m2"]),
                      ("csv sum parcel_area_m2", sum(float(r["parcel_area_m2"]) for r in rows),
                       summary["assigned_area_m2"])]
            if method == "both":
                checks.append(("assigned_area_m2_sjoin", summary["assigned_area_m2_sjoin"],
                               sum(exp["sjoin"].values())))
            if [r["code"] for r in rows] != codes:
                fails.append(f"{tag}: CSV codes {[r['code'] for r in rows]} != {codes}")
            for r in rows:
                c = r["code"]
                dcols = [k for k in r if k.startswith("dlbm_")]
                checks.append((f"{c} parcel_area = sum(dlbm)", float(r["parcel_area_m2"]),
                               sum(float(r[k]) for k in dcols)))
                checks.append((f"{c} cultivated", float(r["cultivated_area_m2"]),
                               sum(float(r[k]) for k in dcols if k.startswith("dlbm_01"))))
                for k in dcols:
                    checks.append((f"{c} {k}", float(r[k]), e.get((c, k[5:]), 0.0)))
                n, ga = gh.get(c, (0, 0.0))
                checks.append((f"{c} greenhouse_count", float(r["greenhouse_count"]), n))
                checks.append((f"{c} greenhouse_area_m2", float(r["greenhouse_area_m2"]), ga))
                for k in [k for k in r if k.startswith("facility_") and k != "facility_count"]:
                    checks.append((f"{c} {k}", float(r[k]), fac.get((c, k[9:]), 0)))
                checks.append((f"{c} facility_count", float(r["facility_count"]),
                               sum(v for (cc, _), v in fac.items() if cc == c)))
            bad = [(n, x, y) for n, x, y in checks if not close(x, y)]
            fails += [f"{tag}: {n}: tool {x} vs brute force {y}" for n, x, y in bad]
            print(f"{tag}: {len(checks) - len(bad)} passed, {len(bad)} failed; total={summary['total_parcel_area_m2']}"
                  f" assigned={summary['assigned_area_m2']} unassigned={summary['unassigned_area_m2']}"
                  f" assign_s={summary['assign_s']} read={summary['read_mode']}")
    cmd, summary, path = first_summary
    print("\nexample command:", cmd)
    print("example summary:", json.dumps(summary, ensure_ascii=False))
    for f in fails:
        print("FAIL", f)
    print("selftest:", "OK" if not fails else f"{len(fails)} FAILED")
    sys.exit(1 if fails else 0)


if __name__ == "__main__":
    main()
