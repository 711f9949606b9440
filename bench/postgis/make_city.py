#!/usr/bin/env python3
"""A generated city for the PostGIS benchmark: VILLAGES villages (bench/peer/make_county.py: a
rounded outline tiled by Voronoi villages sharing their borders, 3 km2 each) and about PARCELS
三调-style parcels: a square grid cut by the village polygons, so every parcel lies in one village
and the parcels of a village tile it. Parcels carry dlbm/dlmc (a fixed mix of land-use classes),
zldwdm (the village code + 7 zeros for 90 % of them, none for the rest, which must then be
placed by geometry) and tbmj. Writes villages.geojson, parcels.geojson and empty
greenhouses.geojson / facilities.geojson into OUT.

  make_city.py --villages 10000 --parcels 5000000 --out DIR
Needs numpy and shapely >= 2.1 (a venv: python3 -m venv …; pip install numpy shapely).
"""
import argparse, json, math, os, subprocess, sys, time

import numpy as np
import shapely

ap = argparse.ArgumentParser()
ap.add_argument("--villages", type=int, default=10000)
ap.add_argument("--parcels", type=int, default=5_000_000)
ap.add_argument("--seed", type=int, default=1)
ap.add_argument("--out", required=True)
a = ap.parse_args()
os.makedirs(a.out, exist_ok=True)
t0 = time.time()
villages_path = os.path.join(a.out, "villages.geojson")
if not os.path.exists(villages_path):
    here = os.path.dirname(os.path.abspath(__file__))
    subprocess.run([sys.executable, os.path.join(here, "..", "peer", "make_county.py"),
                    "--villages", str(a.villages), "--seed", str(a.seed), "--out", villages_path],
                   check=True, stdout=subprocess.DEVNULL)
with open(villages_path, encoding="utf-8") as f:
    fc = json.load(f)
codes = [ft["properties"]["code"] for ft in fc["features"]]
polys = shapely.from_geojson([json.dumps(ft["geometry"]) for ft in fc["features"]])
print(f"villages: {len(polys)} in {time.time() - t0:.1f} s", file=sys.stderr)

# A grid in degrees with square-ish cells in metres, sized to give about PARCELS pieces.
lat0 = float(np.mean(shapely.get_coordinates(polys)[:, 1]))
kx = math.cos(math.radians(lat0))
total_area = float(shapely.area(polys).sum()) * kx  # degree² scaled to equal-axis units
cell = math.sqrt(total_area / a.parcels)
dy, dx = cell, cell / kx
x0, y0, x1, y1 = shapely.total_bounds(polys)
xs = np.arange(x0, x1, dx)
ys = np.arange(y0, y1, dy)
gx, gy = np.meshgrid(xs, ys)
boxes = shapely.box(gx.ravel(), gy.ravel(), gx.ravel() + dx, gy.ravel() + dy)
tree = shapely.STRtree(polys)
box_i, village_i = tree.query(boxes, predicate="intersects")
pieces = shapely.intersection(boxes[box_i], polys[village_i], grid_size=1e-7)
keep = shapely.get_type_id(pieces) == 3  # polygons only (drop slivers that collapse to lines)
keep &= shapely.area(pieces) > 0
pieces, village_i = pieces[keep], village_i[keep]
print(f"parcels: {len(pieces)} in {time.time() - t0:.1f} s", file=sys.stderr)

CLASSES = [("0101", "水田", 0.05), ("0103", "旱地", 0.35), ("0201", "果园", 0.12),
           ("0301", "乔木林地", 0.18), ("0404", "其他草地", 0.05), ("0702", "农村宅基地", 0.12),
           ("1006", "农村道路", 0.05), ("1101", "河流水面", 0.03), ("1202", "设施农用地", 0.05)]
rng = np.random.default_rng(a.seed)
klass = rng.choice(len(CLASSES), size=len(pieces), p=[c[2] for c in CLASSES])
attributed = rng.random(len(pieces)) < 0.9
m2_per_deg2 = 111_320.0 * kx * 110_950.0
areas = shapely.area(pieces) * m2_per_deg2
with open(os.path.join(a.out, "parcels.geojson"), "w", encoding="utf-8") as f:
    f.write('{"type":"FeatureCollection","features":[\n')
    for n, (g, v, k, z, area) in enumerate(zip(shapely.to_geojson(pieces), village_i, klass,
                                               attributed, areas)):
        dlbm, dlmc, _ = CLASSES[k]
        zl = f'"{codes[v]}0000000"' if z else "null"
        f.write(f'{"," if n else ""}{{"type":"Feature","properties":{{"BSM":{n + 1},"DLBM":"{dlbm}",'
                f'"DLMC":"{dlmc}","ZLDWDM":{zl},"TBMJ":{area:.2f}}},"geometry":{g}}}\n')
    f.write("]}\n")
for layer in ("greenhouses", "facilities"):
    with open(os.path.join(a.out, f"{layer}.geojson"), "w", encoding="utf-8") as f:
        f.write('{"type":"FeatureCollection","features":[]}\n')
print(json.dumps({"villages": len(polys), "parcels": len(pieces), "seconds": round(time.time() - t0, 1)}))
