#!/usr/bin/env python3
"""Peer side of the liancun benchmark: per-village land-use statistics with GeoPandas.

Does what a competent GeoPandas analyst would do, phase by phase, timing each phase with
time.perf_counter() and reporting peak RSS (resource.getrusage ru_maxrss):

  read       geopandas.read_file(..., engine="pyogrio"[, use_arrow=True])
  project    GeoDataFrame.to_crs(epsg=EPSG)                      (default 4548: CGCS2000 3-deg GK CM 117E)
  assign     parcels whose zldwdm[:12] is a village code take that village; the rest are cut with
             geopandas.overlay(how="intersection") against the villages (exact pieces), or, with
             --method sjoin, assigned whole by sjoin(predicate="intersects") of a representative
             point; greenhouses / facilities by village_code when it names a village, else by
             representative point within a village
  aggregate  area per parcel (or overlay piece) in the metric CRS, pivot village x dlbm,
             cultivated land (dlbm starting "01"), greenhouse count/area, facilities per kind
  write      CSV: code, name, parcel_area_m2, cultivated_area_m2, greenhouse_count,
             greenhouse_area_m2, facility_count, facility_<kind>..., dlbm_<code>...

stdout: one line of JSON (the summary); everything else goes to stderr.

Usage:
  geopandas_stats.py --villages villages.geojson --parcels parcels.geojson \
      [--greenhouses greenhouses.geojson] [--facilities facilities.geojson] \
      --epsg 4548 --out stats.csv [--method overlay|sjoin|both] [--arrow auto|on|off|compare]
"""
import argparse
import json
import platform
import resource
import sys
import time

T_PROCESS = time.perf_counter()

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import geopandas as gpd  # noqa: E402
import pyogrio  # noqa: E402
import pyproj  # noqa: E402
import shapely  # noqa: E402

try:
    import pyarrow  # noqa: F401,E402

    HAVE_ARROW = True
except ImportError:  # pragma: no cover - depends on the venv
    HAVE_ARROW = False

IMPORT_S = time.perf_counter() - T_PROCESS

# Default read mode for --arrow auto. Measured here (2 cores, see README.md) on a 111 MB synthetic
# parcels.geojson (200 000 polygons): read_file without Arrow 3.39-4.02 s (median 3.47 s, 9 runs),
# use_arrow=True 3.48-4.54 s (median 3.77 s). GDAL's GeoJSON parsing dominates, so Arrow buys
# nothing for GeoJSON and auto reads without it; --arrow on / compare still use it.
AUTO_USE_ARROW = False


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def versions():
    v = {
        "python": platform.python_version(),
        "geopandas": gpd.__version__,
        "pandas": pd.__version__,
        "numpy": np.__version__,
        "shapely": shapely.__version__,
        "pyproj": pyproj.__version__,
        "pyogrio": pyogrio.__version__,
        "GDAL": pyogrio.__gdal_version_string__,
        "GEOS": shapely.geos_version_string,
        "PROJ": pyproj.proj_version_str,
    }
    if HAVE_ARROW:
        v["pyarrow"] = pyarrow.__version__
    return v


def peak_rss_mb():
    # Linux: ru_maxrss is in KiB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


# ------------------------------------------------------------------------------------------------
# attribute normalisation: GeoJSON codes may arrive as strings, int64 or (for 19 digits) float64
# ------------------------------------------------------------------------------------------------
def code_series(s: pd.Series) -> pd.Series:
    """Codes as Python str (object dtype), None where missing/blank (vectorised pandas string ops)."""
    if s is None:
        return None
    if pd.api.types.is_float_dtype(s):
        t = s.round().astype("Int64").astype("string")
    elif pd.api.types.is_integer_dtype(s):
        t = s.astype("Int64").astype("string")
    else:
        t = s.astype("string").str.strip()
        t = t.str.replace(r"^(\d+)\.0$", r"\1", regex=True)  # "370323001001.0" from a spreadsheet
        t = t.mask(t == "")
    return t.astype(object).where(t.notna(), None)


def village12(s: pd.Series, known: set) -> pd.Series:
    """First 12 digits of a (12- or 19-digit) village/zldwdm code, when that names a known village."""
    if pd.api.types.is_float_dtype(s):
        # Without Arrow, pyogrio turns an int64 column with nulls into float64: a 19-digit code is then
        # only good to ~±512, and its first 12 digits can be off by one (…003 0000000 -> …002 9999616).
        # The code is village code + 7 zeros, so round to the 12 leading digits instead of truncating.
        v = s.to_numpy(dtype=float)
        with np.errstate(invalid="ignore", divide="ignore"):
            nd = np.floor(np.log10(np.where(v >= 1e11, v, np.nan))) + 1  # digit count, NaN if < 12
            head = np.round(v / 10.0 ** np.maximum(nd - 12, 0))
        c = pd.Series(head, index=s.index).astype("Int64").astype("string")
        return c.astype(object).where((c.isin(known)).fillna(False).astype(bool), None)
    c = code_series(s).astype("string")
    head = c.str.slice(0, 12)
    ok = (c.str.len() >= 12) & head.isin(known)
    return head.astype(object).where(ok.fillna(False).astype(bool), None)


def column(df, name):
    """Case-insensitive column lookup; None when absent."""
    for c in df.columns:
        if c.lower() == name.lower():
            return df[c]
    return None


# ------------------------------------------------------------------------------------------------
# phases
# ------------------------------------------------------------------------------------------------
def _arrow_types(t):
    # int64 columns with nulls would become float64 in pandas and a 19-digit zldwdm written as a JSON
    # number (3.7e18 > 2**53) would lose its last digits: keep them as nullable Int64 instead.
    return pd.Int64Dtype() if t == pyarrow.int64() else None


def read_layer(path, use_arrow):
    if use_arrow:
        return gpd.read_file(path, engine="pyogrio", use_arrow=True,
                             arrow_to_pandas_kwargs={"types_mapper": _arrow_types})
    return gpd.read_file(path, engine="pyogrio")


def read_all(paths, arrow_mode, summary):
    """Read every layer; returns dict name -> GeoDataFrame."""
    if arrow_mode == "compare":
        timings = {}
        best = {}
        for use_arrow in ([False, True] if HAVE_ARROW else [False]):
            t0 = time.perf_counter()
            layers = {k: read_layer(p, use_arrow) for k, p in paths.items()}
            timings["arrow" if use_arrow else "no_arrow"] = time.perf_counter() - t0
            best[use_arrow] = layers
        summary["read_s_no_arrow"] = round(timings["no_arrow"], 4)
        if "arrow" in timings:
            summary["read_s_arrow"] = round(timings["arrow"], 4)
        use = HAVE_ARROW and timings.get("arrow", 1e18) < timings["no_arrow"]
        summary["read_mode"] = "arrow" if use else "no_arrow"
        summary["read_s"] = round(min(timings.values()), 4)
        return best[use]
    if arrow_mode == "on" and not HAVE_ARROW:
        raise SystemExit("--arrow on needs pyarrow")
    use = arrow_mode == "on" or (arrow_mode == "auto" and HAVE_ARROW and AUTO_USE_ARROW)
    t0 = time.perf_counter()
    layers = {k: read_layer(p, use) for k, p in paths.items()}
    summary["read_s"] = round(time.perf_counter() - t0, 4)
    summary["read_mode"] = "arrow" if use else "no_arrow"
    return layers


def assign_overlay(rest, villages):
    """Exact: cut unassigned parcels by villages. Returns long frame (village_code, dlbm, area_m2) and
    the pieces GeoDataFrame (for its area)."""
    pieces = gpd.overlay(rest[["pid", "dlbm", "geometry"]], villages[["village_code", "geometry"]],
                         how="intersection", keep_geom_type=True)
    return pieces


def assign_sjoin(rest, villages):
    """Approximate: each unassigned parcel goes whole to the village containing its representative point."""
    # .to_numpy() on both: a GeoSeries keeps rest's index and would be aligned against a RangeIndex
    pts = gpd.GeoDataFrame({"pid": rest["pid"].to_numpy()},
                           geometry=rest.geometry.representative_point().to_numpy(), crs=rest.crs)
    j = gpd.sjoin(pts, villages[["village_code", "geometry"]], how="inner", predicate="intersects")
    j = j.drop_duplicates("pid")  # a point on a shared boundary matches both villages: keep one
    return j[["pid", "village_code"]]


def assign_points_or_attr(gdf, villages, known, code_col="village_code"):
    """Greenhouses / facilities: by village_code when it names a village, else representative point."""
    vc = column(gdf, code_col)
    by_attr = village12(vc, known) if vc is not None else pd.Series([None] * len(gdf), index=gdf.index,
                                                                     dtype=object)
    out = by_attr.copy()
    missing = out.isna().to_numpy()
    if missing.any():
        sub = gdf.loc[missing]
        geom = sub.geometry
        if not (geom.geom_type == "Point").all():
            geom = geom.representative_point()
        pts = gpd.GeoDataFrame({"_i": sub.index.to_numpy()}, geometry=geom.to_numpy(), crs=gdf.crs)
        j = gpd.sjoin(pts, villages[["village_code", "geometry"]], how="inner", predicate="intersects")
        j = j.drop_duplicates("_i")
        out.loc[j["_i"].to_numpy()] = j["village_code"].to_numpy()
    return out, int((~by_attr.isna()).sum())


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--villages", required=True)
    ap.add_argument("--parcels", required=True)
    ap.add_argument("--greenhouses")
    ap.add_argument("--facilities")
    ap.add_argument("--epsg", type=int, default=4548)
    ap.add_argument("--out", required=True)
    ap.add_argument("--method", choices=["overlay", "sjoin", "both"], default="overlay",
                    help="how parcels without a usable zldwdm are assigned; 'both' times both and writes "
                         "the overlay result")
    ap.add_argument("--arrow", choices=["auto", "on", "off", "compare"], default="auto",
                    help="pyogrio use_arrow: auto = off (measured faster for GeoJSON, see AUTO_USE_ARROW); "
                         "compare = read twice, report both timings, keep the faster")
    args = ap.parse_args(argv)

    summary = {"tool": "geopandas", "versions": versions(), "method": args.method, "epsg": args.epsg}
    t_start = time.perf_counter()

    # ---- read ------------------------------------------------------------------------------------
    paths = {"villages": args.villages, "parcels": args.parcels}
    if args.greenhouses:
        paths["greenhouses"] = args.greenhouses
    if args.facilities:
        paths["facilities"] = args.facilities
    layers = read_all(paths, args.arrow, summary)
    villages, parcels = layers["villages"], layers["parcels"]
    greenhouses, facilities = layers.get("greenhouses"), layers.get("facilities")
    log(f"read: villages={len(villages)} parcels={len(parcels)} "
        f"greenhouses={0 if greenhouses is None else len(greenhouses)} "
        f"facilities={0 if facilities is None else len(facilities)} in {summary['read_s']} s ({summary['read_mode']})")

    # ---- project ---------------------------------------------------------------------------------
    t0 = time.perf_counter()
    for name in list(layers):
        g = layers[name]
        if g.crs is None:  # RFC 7946: lon/lat on WGS 84 / CGCS2000 (the difference is ignored here)
            g = g.set_crs(epsg=4326)
        layers[name] = g.to_crs(epsg=args.epsg)
    villages, parcels = layers["villages"], layers["parcels"]
    greenhouses, facilities = layers.get("greenhouses"), layers.get("facilities")
    summary["project_s"] = round(time.perf_counter() - t0, 4)

    # ---- assign ----------------------------------------------------------------------------------
    t0 = time.perf_counter()
    villages = villages.copy()
    villages["village_code"] = code_series(column(villages, "code"))
    vname = column(villages, "name")
    villages["village_name"] = vname.astype(object) if vname is not None else None
    known = set(villages["village_code"].dropna())

    parcels = parcels.copy()
    parcels["pid"] = np.arange(len(parcels))
    dl = column(parcels, "dlbm")
    parcels["dlbm"] = code_series(dl).fillna("(none)") if dl is not None else "(none)"
    zl = column(parcels, "zldwdm")
    parcels["village_code"] = village12(zl, known) if zl is not None else None
    by_attr = parcels["village_code"].notna().to_numpy()
    rest = parcels.loc[~by_attr]
    t_common = time.perf_counter() - t0

    pieces = sj = None
    if args.method in ("overlay", "both"):
        t1 = time.perf_counter()
        pieces = assign_overlay(rest, villages)
        summary["assign_s_overlay_parcels"] = round(time.perf_counter() - t1, 4)
    if args.method in ("sjoin", "both"):
        t1 = time.perf_counter()
        sj = assign_sjoin(rest, villages)
        summary["assign_s_sjoin_parcels"] = round(time.perf_counter() - t1, 4)

    t1 = time.perf_counter()
    gh_code = fac_code = None
    if greenhouses is not None:
        gh_code, gh_attr = assign_points_or_attr(greenhouses, villages, known)
        summary["n_greenhouses"] = len(greenhouses)
        summary["n_greenhouses_by_attribute"] = gh_attr
    if facilities is not None:
        fac_code, fac_attr = assign_points_or_attr(facilities, villages, known)
        summary["n_facilities"] = len(facilities)
        summary["n_facilities_by_attribute"] = fac_attr
    t_other = time.perf_counter() - t1
    chosen = "overlay" if args.method in ("overlay", "both") else "sjoin"
    summary["assign_s"] = round(t_common + summary[f"assign_s_{chosen}_parcels"] + t_other, 4)
    if args.method == "both":
        summary["assign_s_overlay"] = round(t_common + summary["assign_s_overlay_parcels"] + t_other, 4)
        summary["assign_s_sjoin"] = round(t_common + summary["assign_s_sjoin_parcels"] + t_other, 4)

    # ---- aggregate -------------------------------------------------------------------------------
    t0 = time.perf_counter()
    parcels["area_m2"] = parcels.geometry.area
    total_area = float(parcels["area_m2"].sum())
    attr_part = parcels.loc[by_attr, ["village_code", "dlbm", "area_m2"]]

    def long_table(method):
        if method == "overlay":
            geo_part = pd.DataFrame({"village_code": pieces["village_code"].to_numpy(),
                                     "dlbm": pieces["dlbm"].to_numpy(),
                                     "area_m2": pieces.geometry.area.to_numpy()})
        else:
            m = rest[["pid", "dlbm", "area_m2"]].merge(sj, on="pid", how="inner") if len(sj) else \
                pd.DataFrame({"village_code": [], "dlbm": [], "area_m2": []})
            geo_part = m[["village_code", "dlbm", "area_m2"]]
        return pd.concat([attr_part, geo_part], ignore_index=True)

    rest = parcels.loc[~by_attr]  # now with area_m2
    long = long_table(chosen)
    piv = long.pivot_table(index="village_code", columns="dlbm", values="area_m2", aggfunc="sum",
                           fill_value=0.0)
    piv = piv.reindex(sorted(piv.columns), axis=1)
    dlbm_cols = list(piv.columns)
    piv.columns = [f"dlbm_{c}" for c in dlbm_cols]

    out = villages[["village_code", "village_name"]].rename(columns={"village_code": "code",
                                                                     "village_name": "name"})
    out = pd.DataFrame(out).drop_duplicates("code").set_index("code")
    out = out.join(piv, how="left")
    dcols = [f"dlbm_{c}" for c in dlbm_cols]
    out[dcols] = out[dcols].fillna(0.0)
    out["parcel_area_m2"] = out[dcols].sum(axis=1)
    cult = [f"dlbm_{c}" for c in dlbm_cols if str(c).startswith("01")]
    out["cultivated_area_m2"] = out[cult].sum(axis=1) if cult else 0.0

    extra_cols = []
    if greenhouses is not None:
        gh = pd.DataFrame({"village_code": gh_code.to_numpy(), "area_m2": greenhouses.geometry.area.to_numpy()})
        gh = gh.dropna(subset=["village_code"])
        g = gh.groupby("village_code")["area_m2"].agg(["count", "sum"])
        out["greenhouse_count"] = g["count"].reindex(out.index).fillna(0).astype(int)
        out["greenhouse_area_m2"] = g["sum"].reindex(out.index).fillna(0.0)
        extra_cols += ["greenhouse_count", "greenhouse_area_m2"]
        summary["greenhouse_area_m2"] = round(float(greenhouses.geometry.area.sum()), 4)
        summary["assigned_greenhouse_area_m2"] = round(float(gh["area_m2"].sum()), 4)
    if facilities is not None:
        kind = column(facilities, "kind")
        kind = code_series(kind).fillna("(none)") if kind is not None else pd.Series(
            ["(none)"] * len(facilities), index=facilities.index, dtype=object)
        fac = pd.DataFrame({"village_code": fac_code.to_numpy(), "kind": kind.to_numpy()}).dropna(
            subset=["village_code"])
        ct = pd.crosstab(fac["village_code"], fac["kind"]) if len(fac) else pd.DataFrame(index=out.index)
        ct = ct.reindex(sorted(ct.columns), axis=1)
        out["facility_count"] = ct.sum(axis=1).reindex(out.index).fillna(0).astype(int) if len(ct.columns) \
            else 0
        extra_cols.append("facility_count")
        for k in ct.columns:
            out[f"facility_{k}"] = ct[k].reindex(out.index).fillna(0).astype(int)
            extra_cols.append(f"facility_{k}")
    out = out[["name", "parcel_area_m2", "cultivated_area_m2"] + extra_cols + dcols]
    assigned_area = float(long["area_m2"].sum())
    summary["aggregate_s"] = round(time.perf_counter() - t0, 4)

    # ---- write -----------------------------------------------------------------------------------
    t0 = time.perf_counter()
    out.reset_index().to_csv(args.out, index=False, float_format="%.4f", encoding="utf-8")
    summary["write_s"] = round(time.perf_counter() - t0, 4)
    summary["total_s"] = round(time.perf_counter() - t_start, 4)
    summary["import_s"] = round(IMPORT_S, 4)
    summary["wall_incl_import_s"] = round(time.perf_counter() - T_PROCESS, 4)
    summary["peak_rss_mb"] = round(peak_rss_mb(), 1)

    summary["n_villages"] = len(villages)
    summary["n_parcels"] = len(parcels)
    summary["n_parcels_by_zldwdm"] = int(by_attr.sum())
    summary["n_parcels_by_geometry"] = int((~by_attr).sum())
    if pieces is not None:
        summary["n_overlay_pieces"] = len(pieces)
    summary["n_dlbm"] = len(dlbm_cols)
    summary["total_parcel_area_m2"] = round(total_area, 4)
    summary["assigned_area_m2"] = round(assigned_area, 4)
    summary["unassigned_area_m2"] = round(total_area - assigned_area, 4)
    summary["csv_parcel_area_sum_m2"] = round(float(out["parcel_area_m2"].sum()), 4)
    if args.method == "both":
        summary["assigned_area_m2_sjoin"] = round(float(long_table("sjoin")["area_m2"].sum()), 4)
    tb = column(parcels, "tbmj")
    if tb is not None:
        summary["total_tbmj_m2"] = round(float(pd.to_numeric(tb, errors="coerce").sum()), 4)
    print(json.dumps(summary, ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
