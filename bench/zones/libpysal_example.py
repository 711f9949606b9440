#!/usr/bin/env python3
"""A "real polygons" case for the zoning benchmark from a dataset bundled with libpysal (offline).

  libpysal_example.py [--example georgia|sids2] --out real.geojson

The polygons keep their real shapes and their real topology (shared borders, multi-part units,
coastal islands) but are scaled about their common centre so that the mean unit covers --cell-km2
(default 3 km2, like a village) and moved to lon/lat near 118.2E 36.15N, where liancun's metric CRS
(EPSG:4548) is valid. Every vertex is mapped by the same affine formula and rounded to 7 decimals,
so vertices the source units share stay shared.

Presets (source column -> liancun field):
  georgia  georgia/G_utm.shp, 159 counties of Georgia (US), 1990; UTM metres, no .prj
           AreaKey (FIPS, sorted)      -> code 370399101001... (AreaKey also kept as `fips`)
           TotPop90                    -> population
           PctBach (% with a degree)   -> collective_income (the income-like attribute)
           name GA-<AreaKey>, town_code 370399101, town 佐治亚; kept as is: PctPov, PctRural
  sids2    sids2/sids2.shp, 100 counties of North Carolina; lon/lat degrees
           FIPSNO (sorted)             -> code 370399101001...
           BIR74 (births 1974-78)      -> population (an extensive count standing in for people)
           SIDR74 (SIDS rate per 1000) -> collective_income
           NAME kept as `name`
columbus (49 neighbourhoods) has no population-like column (only HOVAL, INC, CRIME, ...), so it is
not offered: a population floor would mean nothing there.
"""
import argparse
import json
import math

import numpy as np
import shapely

M_PER_DEG_LAT = 110_950.0
PRESETS = {
    "georgia": dict(file="G_utm.shp", key="AreaKey", pop="TotPop90", income="PctBach", name=None,
                    keep=["PctPov", "PctRural"], degrees=False, town="佐治亚"),
    "sids2": dict(file="sids2.shp", key="FIPSNO", pop="BIR74", income="SIDR74", name="NAME",
                  keep=[], degrees=True, town="北卡"),
}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--example", default="georgia", choices=sorted(PRESETS))
    ap.add_argument("--out", required=True)
    ap.add_argument("--cell-km2", type=float, default=3.0)
    ap.add_argument("--lon0", type=float, default=118.2)
    ap.add_argument("--lat0", type=float, default=36.15)
    a = ap.parse_args()
    import geopandas as gpd
    import libpysal.examples

    p = PRESETS[a.example]
    gdf = gpd.read_file(libpysal.examples.get_path(p["file"]))
    gdf = gdf.sort_values(p["key"]).reset_index(drop=True)
    geoms = gdf.geometry.values
    if p["degrees"]:  # to a local plane in metres first (equirectangular about the centre)
        c = shapely.centroid(shapely.union_all(geoms))
        kx = 111_320.0 * math.cos(math.radians(c.y))
        geoms = shapely.transform(geoms, lambda xy: np.column_stack([(xy[:, 0] - c.x) * kx,
                                                                     (xy[:, 1] - c.y) * M_PER_DEG_LAT]))
    centre = shapely.centroid(shapely.union_all(geoms))
    scale = math.sqrt(a.cell_km2 * 1e6 / float(np.mean(shapely.area(geoms))))
    kx = 111_320.0 * math.cos(math.radians(a.lat0))

    def to_lonlat(xy):
        x = (xy[:, 0] - centre.x) * scale
        y = (xy[:, 1] - centre.y) * scale
        return np.column_stack([np.round(a.lon0 + x / kx, 7), np.round(a.lat0 + y / M_PER_DEG_LAT, 7)])

    geoms = shapely.transform(geoms, to_lonlat)
    geoms = shapely.orient_polygons(shapely.remove_repeated_points(geoms, 0.0), exterior_cw=False)
    feats = []
    for i, row in gdf.iterrows():
        props = {
            "code": f"370399101{i + 1:03d}",
            "name": str(row[p["name"]]) if p["name"] else f"GA-{int(row[p['key']])}",
            "town_code": "370399101",
            "town": p["town"],
            "population": int(round(float(row[p["pop"]]))),
            "collective_income": float(row[p["income"]]),
            "fips": int(row[p["key"]]),
        }
        for k in p["keep"]:
            props[k.lower()] = float(row[k])
        feats.append({"type": "Feature", "properties": props,
                      "geometry": json.loads(shapely.to_geojson(geoms[i]))})
    with open(a.out, "w", encoding="utf-8") as f:
        f.write('{"type":"FeatureCollection","features":[\n')
        f.write(",\n".join(json.dumps(ft, ensure_ascii=False, separators=(",", ":")) for ft in feats))
        f.write("\n]}\n")
    print(json.dumps({"example": a.example, "units": len(feats), "scale": scale,
                      "valid": bool(shapely.is_valid(geoms).all()), "out": a.out}))


if __name__ == "__main__":
    main()
