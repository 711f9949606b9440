#!/usr/bin/env python3
"""z14 parcel tiles side by side: liancun replicas over HTTP vs ST_AsMVT in PostGIS.

Every z14 tile meeting the parcels' extent is asked for once per configuration, by THREADS
workers at a time; latencies are per request (HTTP round trip for liancun, query round trip for
PostGIS), throughput is tiles over wall time.

  tiles.py --pg "host=127.0.0.1 user=liancun password=liancun dbname=liancun" --schema bench_ogr \
           --servers http://127.0.0.1:PORT[,http://127.0.0.1:PORT2] --bbox W,S,E,N [--threads 4]

The PostGIS side runs the query martin generates for a table source (ST_TileEnvelope with its
64-pixel margin, ST_AsMVTGeom clipped with a 64-unit buffer, extent 4096, ST_AsMVT), on one
connection per worker. Prints one JSON line per configuration.
"""
import argparse, http.client, json, math, statistics, threading, time, urllib.parse

import psycopg

p = argparse.ArgumentParser()
p.add_argument("--pg", required=True)
p.add_argument("--schema", required=True)
p.add_argument("--servers", default="")
p.add_argument("--bbox", required=True)
p.add_argument("--zoom", type=int, default=14)
p.add_argument("--threads", type=int, default=4)
p.add_argument("--label", default="")
p.add_argument("--no-postgis", action="store_true", help="only the liancun servers")
a = p.parse_args()

w, s, e, n = map(float, a.bbox.split(","))


def tile_of(lon, lat, z):
    x = (lon + 180.0) / 360.0 * 2**z
    r = math.radians(lat)
    y = (1.0 - math.asinh(math.tan(r)) / math.pi) / 2.0 * 2**z
    return int(x), int(y)


x0, y0 = tile_of(w, n, a.zoom)
x1, y1 = tile_of(e, s, a.zoom)
tiles = [(a.zoom, x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]

MARTIN_SQL = f"""
SELECT ST_AsMVT(tile, 'parcels', 4096, 'geom') FROM (
  SELECT ST_AsMVTGeom(ST_Transform(geom, 3857), ST_TileEnvelope(%(z)s, %(x)s, %(y)s), 4096, 64, true) AS geom,
         fid, dlbm, dlmc, zldwdm
  FROM "{a.schema}".parcels
  WHERE geom && ST_Transform(ST_TileEnvelope(%(z)s, %(x)s, %(y)s, margin => (64.0 / 4096)), 4490)
) AS tile WHERE geom IS NOT NULL
"""


def run(fetch_factory):
    """Each worker takes the next tile; returns latencies (ms), bytes, non-empty count, wall s."""
    lock = threading.Lock()
    queue = list(tiles)
    lat, sizes = [], []

    def worker():
        fetch = fetch_factory()
        while True:
            with lock:
                if not queue:
                    return
                t = queue.pop()
            t0 = time.perf_counter()
            size = fetch(t)
            dt = (time.perf_counter() - t0) * 1000.0
            with lock:
                lat.append(dt)
                sizes.append(size)

    start = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(a.threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start
    lat.sort()
    return {
        "tiles": len(lat),
        "non_empty": sum(1 for b in sizes if b > 0),
        "bytes": sum(sizes),
        "p50_ms": round(statistics.median(lat), 2),
        "p99_ms": round(lat[min(len(lat) - 1, int(0.99 * len(lat)))], 2),
        "tiles_per_s": round(len(lat) / wall, 1),
        "wall_s": round(wall, 2),
    }


def postgis_fetch():
    conn = psycopg.connect(a.pg, autocommit=True)

    def fetch(t):
        z, x, y = t
        row = conn.execute(MARTIN_SQL, {"z": z, "x": x, "y": y}).fetchone()
        return len(row[0] or b"")

    return fetch


def http_fetch(servers):
    counter = [0]

    def factory():
        conns = {}

        def fetch(t):
            z, x, y = t
            counter[0] += 1
            base = servers[counter[0] % len(servers)]
            u = urllib.parse.urlparse(base)
            c = conns.get(base)
            if c is None:
                c = conns[base] = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
            c.request("GET", f"/tiles/parcels/{z}/{x}/{y}.mvt", headers={"Accept-Encoding": "gzip"})
            r = c.getresponse()
            body = r.read()
            if r.status not in (200, 204):
                raise SystemExit(f"{base} tile {t}: HTTP {r.status} {body[:200]!r}")
            return len(body)

        return fetch

    return factory


results = []
if a.servers:
    servers = a.servers.split(",")
    # One pass to warm both sides alike (PostGIS pages in the buffer cache, liancun's first touch).
    run(http_fetch(servers))
    results.append(("liancun %d replica(s)" % len(servers), run(http_fetch(servers))))
if not a.no_postgis:
    run(postgis_fetch)
    results.append(("PostGIS ST_AsMVT (martin's query)", run(postgis_fetch)))
for name, r in results:
    print(json.dumps({"config": name, "label": a.label, "threads": a.threads, **r}, ensure_ascii=False))
