#!/usr/bin/env python3
"""Synthetic RFC 7946 inputs for the per-village statistics benchmark (standard library only).

Villages: an N x N grid of lon/lat squares (default ~1 km) near 118.10E 36.15N (沂源县),
  properties code (12 digits, 370323101xxx), name, population.
Parcels: valid star-shaped polygons (8-24 vertices, 20-150 m across) scattered over the grid's bounding
  box grown by 5 %, so some parcels cross village borders and a few lie outside every village;
  properties dlbm, tbmj (planar-ish area estimate), zldwdm: 60 % the village containing the
  parcel's seed point + 7 zeros, 5 % a different existing village (the attribute wins), 5 % a code
  naming no village, 30 % absent.
Greenhouses: 10 x 60 m rectangles, half with village_code, properties kind.
Facilities: points, properties kind, half with village_code.

  python3 make_synthetic.py --grid 2 --parcels 50 --greenhouses 10 --facilities 12 --out-dir /tmp/syn
"""
import argparse
import json
import math
import os
import random

DLBM = ["0101", "0102", "0103", "0201", "0204", "0301", "0305", "0307", "0404", "0601", "0702", "1003",
        "1006", "1101", "1104", "1202"]
FACILITY_KINDS = ["well", "pump_station", "warehouse", "toilet"]
GH_KINDS = ["plastic", "glass", "solar"]
M_PER_DEG_LAT = 110_950.0  # near 36 N


def m_per_deg_lon(lat):
    return 111_320.0 * math.cos(math.radians(lat))


def write_fc(path, feats):
    with open(path, "w", encoding="utf-8") as f:
        f.write('{"type":"FeatureCollection","features":[\n')
        for i, ft in enumerate(feats):
            if i:
                f.write(",\n")
            f.write(json.dumps(ft, ensure_ascii=False, separators=(",", ":")))
        f.write("\n]}\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--grid", type=int, default=2)
    ap.add_argument("--village-size-m", type=float, default=1000.0)
    ap.add_argument("--parcels", type=int, default=50)
    ap.add_argument("--greenhouses", type=int, default=10)
    ap.add_argument("--facilities", type=int, default=12)
    ap.add_argument("--lon0", type=float, default=118.10)
    ap.add_argument("--lat0", type=float, default=36.15)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--numeric-codes", action="store_true",
                    help="write code / zldwdm / village_code as JSON numbers instead of strings")
    ap.add_argument("--out-dir", required=True)
    a = ap.parse_args()
    rnd = random.Random(a.seed)
    os.makedirs(a.out_dir, exist_ok=True)
    dlat = a.village_size_m / M_PER_DEG_LAT
    dlon = a.village_size_m / m_per_deg_lon(a.lat0)
    cv = (lambda s: int(s)) if a.numeric_codes else (lambda s: s)

    villages, codes = [], []
    for r in range(a.grid):
        for c in range(a.grid):
            code = f"370323101{len(codes) + 1:03d}"
            codes.append(code)
            x0, y0 = a.lon0 + c * dlon, a.lat0 + r * dlat
            ring = [[round(x0, 7), round(y0, 7)], [round(x0 + dlon, 7), round(y0, 7)],
                    [round(x0 + dlon, 7), round(y0 + dlat, 7)], [round(x0, 7), round(y0 + dlat, 7)],
                    [round(x0, 7), round(y0, 7)]]
            villages.append({"type": "Feature",
                             "properties": {"code": cv(code), "name": f"测试{len(codes)}村",
                                            "population": rnd.randint(300, 3000)},
                             "geometry": {"type": "Polygon", "coordinates": [ring]}})
    write_fc(os.path.join(a.out_dir, "villages.geojson"), villages)

    W, H = a.grid * dlon, a.grid * dlat
    mx, my = 0.05 * W, 0.05 * H

    def village_at(x, y):
        c, r = int((x - a.lon0) // dlon), int((y - a.lat0) // dlat)
        if 0 <= c < a.grid and 0 <= r < a.grid:
            return codes[r * a.grid + c]
        return None

    parcels = []
    for i in range(a.parcels):
        x, y = a.lon0 - mx + rnd.random() * (W + 2 * mx), a.lat0 - my + rnd.random() * (H + 2 * my)
        n = rnd.randint(8, 24)
        rad = rnd.uniform(10, 75)
        off = rnd.uniform(0, 2 * math.pi)  # one vertex per sector: a simple (valid) star-shaped ring
        angles = [off + (k + rnd.uniform(0.15, 0.85)) * 2 * math.pi / n for k in range(n)]
        ring, pts_m = [], []
        for t in angles:
            rr = rad * rnd.uniform(0.6, 1.0)
            ex, ny = rr * math.cos(t), rr * math.sin(t)
            pts_m.append((ex, ny))
            ring.append([round(x + ex / m_per_deg_lon(y), 7), round(y + ny / M_PER_DEG_LAT, 7)])
        ring.append(ring[0])
        shoelace = abs(sum(pts_m[k][0] * pts_m[(k + 1) % n][1] - pts_m[(k + 1) % n][0] * pts_m[k][1]
                           for k in range(n))) / 2
        props = {"dlbm": rnd.choice(DLBM), "tbmj": round(shoelace, 2)}
        u = rnd.random()
        home = village_at(x, y)
        if u < 0.60 and home:
            props["zldwdm"] = cv(home + "0000000")
        elif u < 0.65:
            props["zldwdm"] = cv(rnd.choice(codes) + "0000000")
        elif u < 0.70:
            props["zldwdm"] = cv("370323999999" + "0000000")
        parcels.append({"type": "Feature", "properties": props,
                        "geometry": {"type": "Polygon", "coordinates": [ring]}})
    write_fc(os.path.join(a.out_dir, "parcels.geojson"), parcels)

    gh = []
    for i in range(a.greenhouses):
        x, y = a.lon0 + rnd.random() * W, a.lat0 + rnd.random() * H
        w, h = 10 / m_per_deg_lon(y), 60 / M_PER_DEG_LAT
        ring = [[round(x, 7), round(y, 7)], [round(x + w, 7), round(y, 7)], [round(x + w, 7), round(y + h, 7)],
                [round(x, 7), round(y + h, 7)], [round(x, 7), round(y, 7)]]
        props = {"kind": rnd.choice(GH_KINDS)}
        if rnd.random() < 0.5 and village_at(x, y):
            props["village_code"] = cv(village_at(x, y))
        gh.append({"type": "Feature", "properties": props, "geometry": {"type": "Polygon", "coordinates": [ring]}})
    write_fc(os.path.join(a.out_dir, "greenhouses.geojson"), gh)

    fac = []
    for i in range(a.facilities):
        x, y = a.lon0 + rnd.random() * W, a.lat0 + rnd.random() * H
        props = {"kind": rnd.choice(FACILITY_KINDS)}
        if rnd.random() < 0.5 and village_at(x, y):
            props["village_code"] = cv(village_at(x, y))
        fac.append({"type": "Feature", "properties": props,
                    "geometry": {"type": "Point", "coordinates": [round(x, 7), round(y, 7)]}})
    write_fc(os.path.join(a.out_dir, "facilities.geojson"), fac)
    print(json.dumps({"villages": len(villages), "parcels": len(parcels), "greenhouses": len(gh),
                      "facilities": len(fac), "out_dir": a.out_dir}))


if __name__ == "__main__":
    main()
