#!/usr/bin/env bash
# Side-by-side benchmark: import + index + per-village statistics of the demo county scaled to
# PARCELS parcels (liancun demo-data: the real 沂源县 outline and its 468 villages),
# liancun vs GeoPandas (pyogrio read, to_crs, zldwdm + exact overlay, groupby), same files, one run.
#
#   bench/stats_vs_geopandas.sh [PARCELS=1000000] [WORKDIR=/tmp/liancun-bench]
#
# Needs the peer venv (bench/peer/README.md) and a release build (cargo build --release).
# Prints one table row per tool: seconds per phase, end-to-end wall time, peak RSS, the ratio, and
# the totals of both so that the results can be checked against each other.
set -euo pipefail
parcels=${1:-1000000}
work=${2:-/tmp/liancun-bench}
here=$(cd "$(dirname "$0")/.." && pwd)
bin="$here/target/release/liancun"
py=${PEER_PYTHON:-/root/.venv-peer/bin/python}
[ -x "$bin" ] || (cd "$here" && cargo build --release)
mkdir -p "$work"
data="$work/data-$parcels"
if [ ! -f "$data/parcels.geojson" ]; then
  echo "== generating $parcels parcels into $data"
  "$bin" demo-data --seed 2026 --parcels "$parcels" --out "$data" --reference "$here/data/reference"
fi
size_mb=$(( $(stat -c %s "$data/parcels.geojson") / 1048576 ))
echo "== input: parcels.geojson ${size_mb} MB"
# Warm the page cache for both tools alike.
cat "$data"/*.geojson > /dev/null

timed() { # label, command… → appends "label seconds peak_kb" to $work/times
  local label=$1; shift
  /usr/bin/time -f "%e %M" -o "$work/t.$label" "$@" > "$work/out.$label" 2> "$work/err.$label" \
    || { cat "$work/err.$label" "$work/out.$label"; exit 1; }
  echo "$label $(cat "$work/t.$label")" >> "$work/times"
}

rm -f "$work/times" "$work/ws.gpkg"
start=$(date +%s.%N)
for layer in villages parcels greenhouses facilities; do
  timed "import_$layer" "$bin" import -w "$work/ws.gpkg" -l "$layer" "$data/$layer.geojson"
done
timed stats "$bin" stats -w "$work/ws.gpkg" --format json -o "$work/liancun_stats.json"
end=$(date +%s.%N)
ours_wall=$(echo "$end - $start" | bc)
ours_peak=$(awk '{print $3}' "$work/times" | sort -n | tail -1)

start=$(date +%s.%N)
timed geopandas "$py" "$here/bench/peer/geopandas_stats.py" --villages "$data/villages.geojson" \
  --parcels "$data/parcels.geojson" --greenhouses "$data/greenhouses.geojson" \
  --facilities "$data/facilities.geojson" --epsg 4548 --out "$work/geopandas_stats.csv" --method overlay
end=$(date +%s.%N)
peer_wall=$(echo "$end - $start" | bc)
peer_peak=$(awk '$1=="geopandas"{print $3}' "$work/times")

echo
echo "| phase | seconds | peak RSS MB |"
echo "|---|---|---|"
awk '{printf "| %s | %.2f | %d |\n", $1, $2, $3/1024}' "$work/times"
echo
printf "| tool | end-to-end wall s | peak RSS MB | peak RSS / input size |\n|---|---|---|---|\n"
printf "| liancun | %.2f | %d | %.2f |\n" "$ours_wall" $((ours_peak / 1024)) "$(echo "$ours_peak / 1024 / $size_mb" | bc -l)"
printf "| GeoPandas | %.2f | %d | %.2f |\n" "$peer_wall" $((peer_peak / 1024)) "$(echo "$peer_peak / 1024 / $size_mb" | bc -l)"
printf "speed-up (GeoPandas wall / liancun wall): %.2fx\n" "$(echo "$peer_wall / $ours_wall" | bc -l)"
echo
echo "== totals (must agree)"
python3 - "$work/liancun_stats.json" "$work/out.geopandas" <<'PY'
import json, sys
ours = json.load(open(sys.argv[1]))["totals"]
peer = json.loads([l for l in open(sys.argv[2]) if l.startswith("{")][-1])
print(f"parcel area      liancun {ours['parcel_area_m2']:.1f}  geopandas {peer['total_parcel_area_m2']:.1f}")
print(f"unassigned area  liancun {ours['unassigned_parcel_area_m2']:.1f}  geopandas {peer['unassigned_area_m2']:.1f}")
print(f"reconciliation error (liancun): {ours['parcel_reconciliation_error']:.2e}")
PY
