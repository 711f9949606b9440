#!/usr/bin/env python3
"""Synthetic county for the zoning benchmark: N village polygons that tile a rounded, irregular
outline without gaps or overlaps, with the village attributes liancun recognises.

  make_county.py --villages 2800 --seed 1 --out county-2800.geojson

Geometry (computed in metres on a local plane, then written as lon/lat near 118.2E 36.15N):
  - outline: a closed curve r(theta) made of a few low harmonics, stretched and rotated at random and
    scaled so that its area is N x --cell-km2 (default 3 km2 per village);
  - seeds: N uniform random points inside it, moved twice towards the centroid of their clipped
    Voronoi cell (Lloyd steps), which spaces them evenly without making a regular grid;
  - cells: the Voronoi edges of the seeds and the outline are noded together and polygonized, so two
    neighbouring villages are built from the very same edge and share every vertex bit for bit. A
    vertex is converted to lon/lat and rounded to 7 decimals once, so the shared borders stay
    shared after rounding. A cell cut in two by a concave stretch of the outline makes the whole
    draw start again with a new jitter (the seed is only used to derive the draws).
Attributes (deterministic for --seed):
  code        12 digits: 3703 + county (2) + town (3, 101...) + village within the town (3, 001...)
  name        村00001...,  town_code  first 9 digits of code,  town  镇001...
  towns       k-means clusters of the seeds (~30 villages each), made contiguous along shared edges
  population  lognormal, median 1,500, clipped to 300-6,000
  households  population / 2.6-3.0
  collective_income  万元, lognormal around 30, driven by a smooth random field (length scale ~8 km)
              plus noise, so that neighbouring villages are alike and zones mean something
  industry    one of 苹果 蔬菜 食用菌 桃 畜牧 乡村旅游 粮食 工业, the largest of eight smooth fields
              plus noise (spatially clustered)
  strong      true for the top 20 % of villages by collective_income

Needs numpy and shapely >= 2.1 (GEOS >= 3.12). 10,000 villages take a few seconds.
"""
import argparse
import json
import math
import sys
import time
from collections import defaultdict, deque

import numpy as np
import shapely

M_PER_DEG_LAT = 110_950.0
INDUSTRIES = ["苹果", "蔬菜", "食用菌", "桃", "畜牧", "乡村旅游", "粮食", "工业"]


def m_per_deg_lon(lat):
    return 111_320.0 * math.cos(math.radians(lat))


def make_outline(rng, area_m2):
    """A rounded irregular closed curve with the given area, centred near the origin."""
    theta = np.linspace(0.0, 2.0 * math.pi, 360, endpoint=False)
    r = np.ones_like(theta)
    for k in range(2, 7):
        r += rng.uniform(0.02, 0.11) / k ** 0.6 * np.cos(k * theta + rng.uniform(0, 2 * math.pi))
    stretch = rng.uniform(1.1, 1.45)
    x, y = r * np.cos(theta) * stretch, r * np.sin(theta) / stretch
    a = rng.uniform(0, math.pi)
    x, y = x * math.cos(a) - y * math.sin(a), x * math.sin(a) + y * math.cos(a)
    poly = shapely.Polygon(np.column_stack([x, y]))
    scale = math.sqrt(area_m2 / poly.area)
    return shapely.Polygon(np.column_stack([x * scale, y * scale]))


def random_points_in(rng, poly, n):
    x0, y0, x1, y1 = poly.bounds
    shapely.prepare(poly)
    out = np.empty((0, 2))
    while len(out) < n:
        cand = rng.uniform([x0, y0], [x1, y1], size=(2 * n, 2))
        cand = cand[shapely.contains_xy(poly, cand[:, 0], cand[:, 1])]
        out = np.vstack([out, cand])
    return out[:n]


def lloyd(seeds, outline, steps):
    ext = outline.buffer(outline.length * 0.05)
    for _ in range(steps):
        cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=ext,
                                                           ordered=True))
        cent = shapely.get_coordinates(shapely.centroid(shapely.intersection(cells, outline)))
        ok = shapely.contains_xy(outline, cent[:, 0], cent[:, 1])
        seeds = np.where(ok[:, None], cent, seeds)
    return seeds


def tile(seeds, outline):
    """Faces of the noded Voronoi edges + outline, one per seed; None if a cell was cut apart."""
    ext = outline.buffer(outline.length * 0.05)
    edges = shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=ext, only_edges=True)
    noded = shapely.unary_union([edges, outline.exterior])
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(noded)))
    inside = shapely.contains(outline, shapely.point_on_surface(faces))
    faces = faces[inside]
    tree = shapely.STRtree(faces)
    pt_idx, face_idx = tree.query(shapely.points(seeds), predicate="within")
    if len(pt_idx) != len(seeds) or len(set(face_idx.tolist())) != len(seeds):
        raise ValueError("a seed is not inside exactly one face")
    if len(faces) != len(seeds):
        return None  # some cell was split by the outline: an orphan face holds no seed
    out = np.empty(len(seeds), dtype=object)
    out[pt_idx] = faces[face_idx]
    return out


def to_lonlat_rings(cells, lon0, lat0):
    """Exterior rings as lists of [lon, lat] rounded to 7 decimals (one conversion per vertex value)."""
    mx = m_per_deg_lon(lat0)
    rings = []
    for c in cells:
        xy = shapely.get_coordinates(shapely.orient_polygons(c, exterior_cw=False).exterior)
        ll = np.column_stack([np.round(lon0 + xy[:, 0] / mx, 7), np.round(lat0 + xy[:, 1] / M_PER_DEG_LAT, 7)])
        keep = np.ones(len(ll), dtype=bool)
        keep[1:] = np.any(ll[1:] != ll[:-1], axis=1)  # rounding may merge a sub-centimetre edge
        rings.append(ll[keep])
    return rings


def edge_adjacency(rings):
    """Rook adjacency from shared rounded edges; also the number of edges seen once (the outline)."""
    owner = {}
    adj = defaultdict(lambda: defaultdict(int))
    for i, r in enumerate(rings):
        pts = list(map(tuple, r.tolist()))
        for a, b in zip(pts[:-1], pts[1:]):
            key = (a, b) if a < b else (b, a)
            j = owner.pop(key, None)
            if j is None:
                owner[key] = i
            elif j != i:
                adj[i][j] += 1
                adj[j][i] += 1
    return adj, len(owner)


def smooth_fields(rng, xy, n_fields, length_m, n_waves=64):
    """Stationary Gaussian-like random fields (random Fourier features), unit variance each."""
    out = np.empty((n_fields, len(xy)))
    for f in range(n_fields):
        w = rng.normal(0.0, 1.0 / length_m, size=(n_waves, 2))
        b = rng.uniform(0, 2 * math.pi, size=n_waves)
        v = np.sqrt(2.0 / n_waves) * np.cos(xy @ w.T + b).sum(axis=1)
        out[f] = (v - v.mean()) / (v.std() or 1.0)
    return out


def make_towns(rng, xy, adj, per_town=30, iters=15):
    n = len(xy)
    t = max(1, round(n / per_town))
    centres = xy[rng.choice(n, size=t, replace=False)]
    for _ in range(iters):
        lab = np.argmin(((xy[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2), axis=1)
        for k in range(t):
            m = lab == k
            if m.any():
                centres[k] = xy[m].mean(axis=0)
    # Contiguity: a piece of a town not holding its largest part goes to the neighbouring town it
    # shares most edges with (repeat until every town is one piece).
    for _ in range(10):
        moved = 0
        for k in range(t):
            members = set(np.flatnonzero(lab == k).tolist())
            comps = []
            while members:
                s = members.pop()
                comp, q = [s], deque([s])
                while q:
                    u = q.popleft()
                    for v in adj[u]:
                        if v in members:
                            members.remove(v)
                            comp.append(v)
                            q.append(v)
                comps.append(comp)
            comps.sort(key=len, reverse=True)
            for comp in comps[1:]:
                votes = defaultdict(int)
                for u in comp:
                    for v, e in adj[u].items():
                        if lab[v] != k:
                            votes[lab[v]] += e
                if votes:
                    lab[comp] = max(votes, key=votes.get)
                    moved += 1
        if not moved:
            break
    # Renumber the towns that still have villages, north-west first (rows of ~sqrt(t) towns).
    used = sorted(set(lab.tolist()))
    cen = np.array([xy[lab == k].mean(axis=0) for k in used])
    row_h = (xy[:, 1].max() - xy[:, 1].min()) / max(1, round(math.sqrt(len(used))))
    order = sorted(range(len(used)), key=lambda i: (-math.floor(cen[i, 1] / row_h), cen[i, 0]))
    remap = {used[i]: r for r, i in enumerate(order)}
    return np.array([remap[v] for v in lab])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--villages", type=int, required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", required=True)
    ap.add_argument("--cell-km2", type=float, default=3.0)
    ap.add_argument("--lon0", type=float, default=118.2)
    ap.add_argument("--lat0", type=float, default=36.15)
    ap.add_argument("--county", default="23", help="2-digit county part of the codes (default 23)")
    a = ap.parse_args()
    n = a.villages
    if n < 3:
        sys.exit("need at least 3 villages")
    t0 = time.perf_counter()
    for attempt in range(50):
        rng = np.random.default_rng([a.seed, attempt])
        outline = make_outline(rng, n * a.cell_km2 * 1e6)
        seeds = lloyd(random_points_in(rng, outline, n), outline, steps=2)
        cells = tile(seeds, outline)
        if cells is None:
            continue
        rings = to_lonlat_rings(cells, a.lon0, a.lat0)
        polys = np.array([shapely.Polygon(r) for r in rings], dtype=object)
        if not shapely.is_valid(polys).all() or any(len(r) < 4 for r in rings):
            continue
        adj, outer_edges = edge_adjacency(rings)
        if any(len(adj[i]) == 0 for i in range(n)):
            continue
        break
    else:
        sys.exit("could not draw a county without split cells in 50 attempts")

    rng = np.random.default_rng([a.seed, 1000])
    xy = seeds
    f_pop, f_inc = smooth_fields(rng, xy, 2, 8000.0)
    f_ind = smooth_fields(rng, xy, len(INDUSTRIES), 6000.0)
    pop = np.exp(math.log(1500) + 0.45 * rng.normal(size=n) + 0.15 * f_pop)
    pop = np.clip(np.round(pop), 300, 6000).astype(int)
    households = np.round(pop / rng.uniform(2.6, 3.0, size=n)).astype(int)
    income = np.exp(math.log(30) + 0.6 * f_inc + 0.35 * rng.normal(size=n) + 0.15 * np.log(pop / 1500))
    income = np.round(income, 2)
    industry = np.argmax(f_ind + 0.35 * rng.normal(size=f_ind.shape), axis=0)
    strong = np.zeros(n, dtype=bool)
    strong[np.argsort(-income, kind="stable")[: round(0.2 * n)]] = True

    town = make_towns(rng, xy, adj)
    n_towns = town.max() + 1
    if n_towns > 899:
        sys.exit("too many towns for 3-digit town codes")
    # Villages numbered within their town, north-west first; output sorted by code.
    order = np.lexsort((xy[:, 0], -np.floor(xy[:, 1] / 1500.0), town))
    within = np.zeros(n, dtype=int)
    counts = defaultdict(int)
    for i in order:
        counts[town[i]] += 1
        within[i] = counts[town[i]]
    if max(counts.values()) > 999:
        sys.exit("a town has more than 999 villages")
    tw = max(2, len(str(n_towns)))
    nw = max(4, len(str(n)))
    feats = []
    for rank, i in enumerate(order):
        tcode = f"3703{a.county}{101 + town[i]:03d}"
        feats.append({
            "type": "Feature",
            "properties": {
                "code": f"{tcode}{within[i]:03d}",
                "name": f"村{rank + 1:0{nw}d}",
                "town_code": tcode,
                "town": f"镇{town[i] + 1:0{tw}d}",
                "population": int(pop[i]),
                "households": int(households[i]),
                "collective_income": float(income[i]),
                "industry": INDUSTRIES[industry[i]],
                "strong": bool(strong[i]),
            },
            "geometry": {"type": "Polygon", "coordinates": [rings[i].tolist()]},
        })
    with open(a.out, "w", encoding="utf-8") as f:
        f.write('{"type":"FeatureCollection","features":[\n')
        f.write(",\n".join(json.dumps(ft, ensure_ascii=False, separators=(",", ":")) for ft in feats))
        f.write("\n]}\n")
    print(json.dumps({
        "villages": n, "towns": int(n_towns), "attempts": attempt + 1,
        "area_km2": round(outline.area / 1e6, 1), "outline_edges": outer_edges,
        "median_population": float(np.median(pop)), "seconds": round(time.perf_counter() - t0, 2),
        "out": a.out,
    }, ensure_ascii=False), file=sys.stderr)


if __name__ == "__main__":
    main()
