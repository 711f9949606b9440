#!/usr/bin/env python3
"""Helpers for bench/zones/geoda_compare.sh (numpy + shapely only: runs in the pygeoda venv).

  geoda_util.py floor COUNTY.geojson                  -> "N F": villages, 5 x median population
  geoda_util.py k RESULTS TAG                         -> "K METHOD": the larger p of pygeoda
                                                         maxp_sa / maxp_greedy on TAG (ties: lower SSD)
  geoda_util.py check COUNTY.geojson ZONING.json F    -> peer-side check of any zoning as JSON:
                                                         SSD, zones, below F, disconnected (exact queen)
  geoda_util.py table RESULTS SIZES SEEDS             -> the markdown table (SIZES, SEEDS: "200 2800", "1 2")
  geoda_util.py peer RESULTS SIZES SEEDS              -> the pygeoda half alone, one row per county:
                                                         p, SSD and call seconds of every method

ZONING.json is {"labels": {code: zone}} (geoda_zones.py) or {"zones": [{"members": [...]}]}
(liancun zones propose). Files of a county are named after its tag, N-sS (villages, seed).
"""
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "peer"))

ATTRS = ["population", "collective_income"]
PEER_METHODS = ["maxp_sa", "maxp_greedy", "redcap", "skater", "azp_sa", "azp_greedy"]


def load(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def zoning_labels(z):
    if "labels" in z:
        return {str(k): v for k, v in z["labels"].items() if v is not None}
    out = {}
    for i, zone in enumerate(z.get("zones", [])):
        for c in zone.get("members", []):
            out[str(c)] = zone.get("id", i)
    return out


def cmd_floor(path):
    pops = [float(ft["properties"]["population"]) for ft in load(path)["features"]]
    print(len(pops), 5.0 * float(np.median(pops)))


def best_maxp(results, tag):
    best = None
    for m in ("maxp_sa", "maxp_greedy"):
        d = load(os.path.join(results, f"geoda-{tag}-{m}.json"))
        if d and "p" in d:
            key = (-d["p"], d["objectives"]["ssd"])
            if best is None or key < best[0]:
                best = (key, d["p"], m)
    return best


def cmd_k(results, tag):
    b = best_maxp(results, tag)
    if b is None:
        sys.exit(f"no pygeoda maxp result for {tag} in {results}")
    print(b[1], b[2])


def cmd_check(county, zoning, floor):
    from geoda_zones import exact_queen, load as load_county, score, zscore

    codes, cols, geoms = load_county(county, ATTRS)
    lab = zoning_labels(load(zoning))
    # A village the zoning leaves out is label 0 (not assigned), as libgeoda does.
    ids = {}
    labels = [ids.setdefault(lab[c], len(ids) + 1) if c in lab else 0 for c in codes]
    s = score(labels, zscore(cols, ATTRS), cols["population"], float(floor), exact_queen(geoms))
    s["checks"]["unknown_codes"] = len(set(lab) - set(codes))
    print(json.dumps(s, ensure_ascii=False))


def fmt(v, nd=2):
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:,.{nd}f}"
    return f"{v:,}" if isinstance(v, int) else str(v)


def cmd_table(results, sizes, seeds):
    print("| size | seed | method | zones / p | seconds (call) | liancun wall s | SSD | violations | "
          "zones below F | × liancun time |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for n in sizes.split():
        for s in seeds.split():
            tag = f"{n}-s{s}"
            prm = load(os.path.join(results, f"params-{tag}.json")) or {}
            lc = {}
            for run in ("k", "floor", "kfloor"):
                z = load(os.path.join(results, f"liancun-{tag}-{run}-zoning.json"))
                w = load(os.path.join(results, f"liancun-{tag}-{run}-seconds.json")) or {}
                lc[run] = (z, w.get("seconds"))
            rows = []
            for run, label in (("floor", "liancun, floor F (no --zones: own max-p)"),
                               ("kfloor", f"liancun, K={prm.get('k', '?')} with floor F"),
                               ("k", f"liancun, K={prm.get('k', '?')} (no floor)")):
                z, wall = lc[run]
                if z is None and wall is None:
                    continue
                rows.append((label, f"liancun-{tag}-{run}-zoning", z, (z or {}).get("seconds"), wall, None))
            for m in PEER_METHODS:
                d = load(os.path.join(results, f"geoda-{tag}-{m}.json"))
                if d is None:
                    continue
                ref = lc["floor"][0] if m.startswith("maxp") else lc["k"][0]
                name = m + (f" ({d['params'].get('linkage', '').replace('fullorder-', '')})" if m == "redcap" else "")
                rows.append((name, f"geoda-{tag}-{m}", d, d.get("seconds"), None, ref))
            for name, base, d, secs, wall, ref in rows:
                ev = (load(os.path.join(results, f"{base}-eval.json")) or {}).get("totals", {})
                chk = load(os.path.join(results, f"{base}-check.json")) or {}
                c = chk.get("checks", {}) or (d or {}).get("checks", {})
                ssd = ev.get("heterogeneity", (chk.get("objectives") or (d or {}).get("objectives") or {}).get("ssd"))
                zones = ev.get("zones", c.get("zones"))
                if d is not None and d.get("timed_out"):
                    secs_s = f"> {fmt(float(secs), 0)} (killed)"
                elif d is not None and d.get("error"):
                    secs_s = f"error: {d['error'][:40]}"
                else:
                    secs_s = fmt(secs, 3) if secs is not None else "–"
                    if d is not None and d.get("stopped_by_time_limit"):
                        secs_s += " (time limit)"
                ratio = "–"
                if ref is not None and secs is not None and ref.get("seconds"):
                    ratio = f"{float(secs) / float(ref['seconds']):,.2f}×"
                if name.startswith("maxp") and d and d.get("p"):
                    zones = f"p={d['p']}"
                print(f"| {n} | {s} | {name} | {fmt(zones)} | {secs_s} | {fmt(wall, 2)} | {fmt(ssd, 2)} | "
                      f"{fmt(ev.get('violations'))} | {fmt(c.get('pop_floor_violations'))} | {ratio} |")


def cmd_peer(results, sizes, seeds):
    def cell(d, what):
        if d is None:
            return "–"
        if d.get("timed_out"):
            return "killed" if what == "s" else "–"
        if d.get("error"):
            return "error"
        if what == "s":
            return f"{d['seconds']:,.2f}"
        if what == "p":
            return f"{d['p']:,}"
        return f"{d['objectives']['ssd']:,.1f}"

    head = ["size", "seed", "F", "K", "p sa / greedy", "SSD maxp_sa", "SSD maxp_greedy",
            "SSD redcap", "SSD skater", "SSD azp_sa", "SSD azp_greedy",
            "s maxp_sa", "s maxp_greedy", "s redcap (complete / ward)", "s skater", "s azp_sa", "s azp_greedy"]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for n in sizes.split():
        for s in seeds.split():
            tag = f"{n}-s{s}"
            prm = load(os.path.join(results, f"params-{tag}.json")) or {}
            d = {m: load(os.path.join(results, f"geoda-{tag}-{m}.json")) for m in PEER_METHODS}
            if not any(d.values()):
                continue
            rc = d["redcap"]
            rc_s = "–"
            if rc is not None:
                v = {x["linkage"].replace("fullorder-", "").replace("linkage", ""): x for x in rc.get("variants", [])}
                rc_s = " / ".join(("killed" if x.get("timed_out") else f"{x['seconds']:,.2f}") if x else "–"
                                  for x in (v.get("complete"), v.get("ward")))
            ssd_rc = cell(rc, "ssd")
            if rc is not None and "params" in rc and rc["params"].get("linkage") and ssd_rc not in ("–", "error"):
                ssd_rc += " (" + rc["params"]["linkage"].replace("fullorder-", "").replace("linkage", "") + ")"
            row = [n, s, fmt(prm.get("pop_floor"), 1), fmt(prm.get("k")),
                   f"{cell(d['maxp_sa'], 'p')} / {cell(d['maxp_greedy'], 'p')}",
                   cell(d["maxp_sa"], "ssd"), cell(d["maxp_greedy"], "ssd"), ssd_rc,
                   cell(d["skater"], "ssd"), cell(d["azp_sa"], "ssd"), cell(d["azp_greedy"], "ssd"),
                   cell(d["maxp_sa"], "s"), cell(d["maxp_greedy"], "s"), rc_s,
                   cell(d["skater"], "s"), cell(d["azp_sa"], "s"), cell(d["azp_greedy"], "s")]
            print("| " + " | ".join(str(x) for x in row) + " |")


def cmd_summary(results, sizes, seeds):
    """One row per county: liancun beside the best pygeoda method at K, and beside maxp_sa."""
    def ld(f):
        return load(os.path.join(results, f))

    def ssd(base):
        e = ld(base + "-eval.json")
        if e:
            return e["totals"]["heterogeneity"], e["totals"]["zones"]
        c = ld(base + "-check.json")
        return (c["objectives"]["ssd"], c["checks"]["zones"]) if c else (None, None)

    def f(x, d=2):
        return "–" if x is None else f"{x:,.{d}f}"

    print("| N | seed | K (peer p) | liancun p (floor, own) | SSD liancun K no floor | best peer SSD at K (method) | "
          "SSD liancun K + floor | SSD maxp_sa at p | liancun wall s (K / floor / K+floor) | redcap call s | maxp_sa call s |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for n in sizes.split():
        for s in seeds.split():
            tag = f"{n}-s{s}"
            k = (ld(f"params-{tag}.json") or {}).get("k")
            lk, lf, lkf = (ssd(f"liancun-{tag}-{r}-zoning") for r in ("k", "floor", "kfloor"))
            wall = [(ld(f"liancun-{tag}-{r}-seconds.json") or {}).get("seconds") for r in ("k", "floor", "kfloor")]
            best = None
            for m in ("redcap", "skater", "azp_sa", "azp_greedy"):
                v = ssd(f"geoda-{tag}-{m}")[0]
                if v is not None and (best is None or v < best[0]):
                    best = (v, m)
            mp = ssd(f"geoda-{tag}-maxp_sa")[0]
            rc = (ld(f"geoda-{tag}-redcap.json") or {}).get("seconds")
            ms = (ld(f"geoda-{tag}-maxp_sa.json") or {}).get("seconds")
            print(f"| {n} | {s} | {k} | {lf[1]} | {f(lk[0])} | {f(best[0]) if best else '–'} ({best[1] if best else ''}) | "
                  f"{f(lkf[0])} | {f(mp)} | {' / '.join(f(w) for w in wall)} | {f(rc)} | {f(ms)} |")


def main():
    cmds = {"floor": cmd_floor, "k": cmd_k, "check": cmd_check, "table": cmd_table, "peer": cmd_peer,
            "summary": cmd_summary}
    if len(sys.argv) < 3 or sys.argv[1] not in cmds:
        sys.exit(__doc__)
    cmds[sys.argv[1]](*sys.argv[2:])


if __name__ == "__main__":
    main()
