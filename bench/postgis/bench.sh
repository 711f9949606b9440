#!/usr/bin/env bash
# Side by side on one PostgreSQL + PostGIS, in one run (issue 17):
#   1. import of the demo county scaled to PARCELS parcels: `liancun import -w postgres://…`
#      (validation, COPY into a staging table, GiST index, swap) vs `ogr2ogr -f PostgreSQL`
#      (COPY, GiST index; no validation);
#   2. per-village statistics: `liancun stats -w postgres://…` vs the same computation in SQL
#      (bench/postgis/stats.sql) on the ogr2ogr tables;
#   3. z14 parcel tiles: liancun `serve` (1 and 2 replicas on the database) vs ST_AsMVT with the
#      query martin runs (bench/postgis/tiles.py).
#
#   bench/postgis/bench.sh [PARCELS=1000000] [WORKDIR=/tmp/liancun-pgbench]
#   BENCH_DATA=DIR bench/postgis/bench.sh …   # prepared layers instead (e.g. make_city.py's city)
#
# Needs: a release build, gdal-bin (ogr2ogr), PostgreSQL with PostGIS reachable as
# LIANCUN_BENCH_DATABASE (default postgres://liancun:liancun@127.0.0.1:5432/liancun), and a Python
# with psycopg (PEER_PYTHON, default /root/.venv-pg/bin/python: python3 -m venv …; pip install
# "psycopg[binary]"). Prints seconds and peak RSS per phase and the ratios.
set -euo pipefail
parcels=${1:-1000000}
work=${2:-/tmp/liancun-pgbench}
here=$(cd "$(dirname "$0")/../.." && pwd)
bin="$here/target/release/liancun"
py=${PEER_PYTHON:-/root/.venv-pg/bin/python}
db=${LIANCUN_BENCH_DATABASE:-postgres://liancun:liancun@127.0.0.1:5432/liancun}
# libpq keywords for ogr2ogr, psql and psycopg, from the URL.
rest=${db#*://}; cred=${rest%%@*}; hostpart=${rest#*@}
pg_user=${cred%%:*}; pg_pass=${cred#*:}
hostport=${hostpart%%/*}; pg_db=${hostpart#*/}; pg_db=${pg_db%%\?*}
pg_host=${hostport%%:*}; pg_port=${hostport#*:}; [ "$pg_port" = "$hostport" ] && pg_port=5432
libpq="host=$pg_host port=$pg_port user=$pg_user password=$pg_pass dbname=$pg_db"
export PGPASSWORD=$pg_pass
psql_cmd=(psql -X -q -h "$pg_host" -p "$pg_port" -U "$pg_user" -d "$pg_db")
psql_do() { "${psql_cmd[@]}" "$@"; }

[ -x "$bin" ] || (cd "$here" && cargo build --release)
mkdir -p "$work"
data=${BENCH_DATA:-$work/data-$parcels}
if [ ! -f "$data/parcels.geojson" ]; then
  echo "== generating $parcels parcels into $data"
  "$bin" demo-data --seed 2026 --parcels "$parcels" --out "$data" --reference "$here/data/reference" > /dev/null
fi
echo "== input: $(du -m "$data/parcels.geojson" | cut -f1) MB parcels.geojson"
cat "$data"/*.geojson > /dev/null   # warm the page cache for both tools alike

psql_do -c "DROP SCHEMA IF EXISTS bench_liancun CASCADE; DROP SCHEMA IF EXISTS bench_ogr CASCADE; CREATE SCHEMA bench_ogr;"
ws="$db?schema=bench_liancun"
rm -f "$work/times"
timed() { # label, command… → "label seconds peak_kb" in $work/times
  local label=$1; shift
  /usr/bin/time -f "%e %M" -o "$work/t.$label" "$@" > "$work/out.$label" 2> "$work/err.$label" \
    || { cat "$work/err.$label" "$work/out.$label"; exit 1; }
  echo "$label $(cat "$work/t.$label")" | tee -a "$work/times"
}

echo "== 1. import"
for layer in villages parcels greenhouses facilities; do
  # --repair: at 5 M parcels the generator rounds one sliver into a self-intersecting ring, which
  # liancun refuses without it (ogr2ogr stores it as it is).
  timed "liancun_import_$layer" "$bin" import -w "$ws" -l "$layer" --repair "$data/$layer.geojson"
  timed "ogr2ogr_import_$layer" ogr2ogr -f PostgreSQL "PG:$libpq" "$data/$layer.geojson" \
    -nln "bench_ogr.$layer" -lco GEOMETRY_NAME=geom -lco FID=fid -lco SPATIAL_INDEX=GIST \
    -a_srs EPSG:4490 -nlt PROMOTE_TO_MULTI --config PG_USE_COPY YES
done

# An empty layer (the generator makes no greenhouses at some sizes) reaches PostGIS without columns.
psql_do -c "ALTER TABLE bench_ogr.greenhouses ADD COLUMN IF NOT EXISTS village_code text; ALTER TABLE bench_ogr.facilities ADD COLUMN IF NOT EXISTS village_code text;"
# Planner statistics for the peer's tables, as liancun's import leaves them (ANALYZE in its swap).
psql_do -c "ANALYZE bench_ogr.villages; ANALYZE bench_ogr.parcels; ANALYZE bench_ogr.greenhouses; ANALYZE bench_ogr.facilities;"

echo "== 2. per-village statistics"
timed liancun_stats "$bin" stats -w "$ws" --format json -o "$work/liancun_stats.json"
timed postgis_stats "${psql_cmd[@]}" -v ON_ERROR_STOP=1 -c "SET search_path TO bench_ogr, public" -f "$here/bench/postgis/stats.sql"
cat "$work/out.postgis_stats"
python3 - "$work/liancun_stats.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
t = s["totals"]
print("liancun totals: villages", len(s["villages"]),
      "parcel_area_m2", round(t["parcel_area_m2"] - t["unassigned_parcel_area_m2"]),
      "cultivated_m2", round(sum(v.get("cultivated_m2", 0) for v in s["villages"])),
      "greenhouses", t["greenhouse_count"] - t["unassigned_greenhouses"],
      "greenhouse_area_m2", round(t["greenhouse_area_m2"]),
      "facilities", t["facility_count"] - t["unassigned_facilities"])
PY

echo "== 3. z14 parcel tiles"
bbox=$(psql_do -tA -c "SELECT concat_ws(',', min_x, min_y, max_x, max_y) FROM bench_liancun.liancun_layers WHERE name = 'parcels'")
start_server() { # name → sets url_<name>, pid_<name>; the first line printed is the address
  "$bin" serve -w "$ws" --bind 127.0.0.1:0 > "$work/serve.$1" 2> /dev/null &
  eval "pid_$1=$!"
  until grep -q '^listening on ' "$work/serve.$1" 2> /dev/null; do sleep 0.2; done
  local url; url=$(sed -n 's/^listening on \(.*\)\/$/\1/p' "$work/serve.$1" | head -1)
  eval "url_$1=$url"
}
start_server a
start_server b
trap 'kill "$pid_a" "$pid_b" 2> /dev/null || true' EXIT
rss() { awk '/VmHWM/ {print $2}' "/proc/$1/status"; }
"$py" "$here/bench/postgis/tiles.py" --pg "$libpq" --schema bench_ogr --servers "$url_a" --bbox "$bbox" --label "$parcels parcels" | tee "$work/tiles1.json"
"$py" "$here/bench/postgis/tiles.py" --pg "$libpq" --schema bench_ogr --servers "$url_a,$url_b" --bbox "$bbox" --label "$parcels parcels" --no-postgis | tee "$work/tiles2.json"
echo "liancun serve peak RSS: A $(( $(rss "$pid_a") / 1024 )) MB, B $(( $(rss "$pid_b") / 1024 )) MB"

echo "== ratios (peer time / liancun time; > 1 means liancun is faster)"
awk '
  { t[$1] = $2; m[$1] = $3 }
  END {
    split("villages parcels greenhouses facilities", L, " ")
    for (i = 1; i <= 4; i++) {
      a = t["liancun_import_" L[i]]; b = t["ogr2ogr_import_" L[i]]
      li += a; oi += b
      printf "import %-12s liancun %7.2f s  ogr2ogr %7.2f s  ratio %.2f\n", L[i], a, b, b / a
    }
    printf "import total        liancun %7.2f s  ogr2ogr %7.2f s  ratio %.2f\n", li, oi, oi / li
    printf "stats               liancun %7.2f s (%d MB)  PostGIS SQL %7.2f s  ratio %.2f\n", t["liancun_stats"], m["liancun_stats"] / 1024, t["postgis_stats"], t["postgis_stats"] / t["liancun_stats"]
  }' "$work/times"
