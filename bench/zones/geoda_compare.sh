#!/usr/bin/env bash
# Side-by-side benchmark of liancun's zoning engine against GeoDa's C++ library (libgeoda, through
# pygeoda): maxp_sa, maxp_greedy, redcap, skater, azp_sa, azp_greedy. Every zoning is judged by
# liancun's own evaluator when a liancun binary is there. See bench/zones/GEODA.md.
#
#   bench/zones/geoda_compare.sh [SIZE…]        default: 200 2800 10000
#
# Per SIZE (villages) and SEED: a synthetic county (bench/peer/make_county.py --villages SIZE
# --seed SEED), F = 5 × its median village population, pygeoda maxp_sa and maxp_greedy with floor F,
# K = the larger of their p (ties: lower SSD), then redcap, skater, azp_sa, azp_greedy at K without
# a floor; liancun `zones propose` at K without the floor, with the floor F without --zones (its own
# max-p), and at K with the floor F (the peer's p, for SSD at equal p);
# `liancun zones evaluate` (with F, the same flags for every zoning) and a peer-side check
# (bench/zones/geoda_util.py check) of every zoning; then the table.
#
# Environment:
#   SEEDS="1 2 3 4 5"     county seeds (also the solvers' seeds)
#   LIANCUN=path          liancun binary (default target/release/liancun). Without one that has
#                         `zones`, only the pygeoda half runs.
#   GEODA_PYTHON=path     Python with pygeoda, numpy, shapely (default /root/.venv-geoda/bin/python;
#                         python3 -m venv /root/.venv-geoda && …/pip install -r bench/peer/requirements-geoda.txt)
#   RESULTS=dir           default bench/zones/results/geoda
#   TIME_LIMIT=900        seconds per pygeoda call (the child is killed past it); liancun --time-limit
#   LIANCUN_TIME_LIMIT=s  --time-limit for liancun (default TIME_LIMIT)
#   GEODA_METHODS="redcap skater azp_sa azp_greedy"   fixed-K methods (maxp_sa, maxp_greedy always run)
#   CPU_THREADS=1         cpu_threads for redcap/skater/maxp_* (pygeoda's default is 6)
#   REUSE=1               keep pygeoda results already in RESULTS (default 0: run again)
#   NICE=10               nice level of every solver run
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
bin=${LIANCUN:-$here/target/release/liancun}
py=${GEODA_PYTHON:-/root/.venv-geoda/bin/python}
out=${RESULTS:-$here/bench/zones/results/geoda}
limit=${TIME_LIMIT:-900}
seeds=${SEEDS:-1 2 3 4 5}
methods=${GEODA_METHODS:-redcap skater azp_sa azp_greedy}
threads=${CPU_THREADS:-1}
reuse=${REUSE:-0}
nicer="nice -n ${NICE:-10}"
attrs=population,collective_income
util="$py $here/bench/zones/geoda_util.py"
peer="$here/bench/peer/geoda_zones.py"
if [ $# -gt 0 ]; then sizes=("$@"); else sizes=(200 2800 10000); fi
mkdir -p "$out"
"$py" -c 'import pygeoda, shapely, numpy' 2>/dev/null || {
  echo "no pygeoda in $py: python3 -m venv /root/.venv-geoda && /root/.venv-geoda/bin/pip install -r $here/bench/peer/requirements-geoda.txt" >&2; exit 1; }

have_liancun=1
if [ ! -x "$bin" ]; then
  echo "!! no liancun binary at $bin (cargo build --release, or LIANCUN=…): pygeoda half only" >&2
  have_liancun=0
elif ! "$bin" zones --help > /dev/null 2>&1; then
  echo "!! $bin has no 'zones' command: pygeoda half only" >&2
  have_liancun=0
fi

now() { date +%s.%N; }

geoda() { # tag method K F
  local tag=$1 m=$2 k=$3 f=$4 res="$out/geoda-$1-$2.json"
  if [ "$reuse" = 1 ] && [ -s "$res" ]; then echo "== reuse $res" >&2; return; fi
  echo "== pygeoda $m on $tag (K=${k:-p}, F=$f, limit ${limit}s)" >&2
  $nicer "$py" "$peer" --villages "$out/county-$tag.geojson" --method "$m" ${k:+--zones "$k"} \
    --pop-floor "$f" --attrs "$attrs" --seed "$seed" --time-limit "$limit" --cpu-threads "$threads" \
    --out "$res" > "$out/geoda-$tag-$m.log" 2>&1 || { echo "!! $m on $tag failed:" >&2; tail -3 "$out/geoda-$tag-$m.log" >&2; }
}

lprop() { # tag run(k|floor) args…: liancun zones propose, its wall time
  local tag=$1 run=$2; shift 2
  local z="$out/liancun-$tag-$run-zoning.json" t0 t1
  rm -f "$z" "$out/liancun-$tag-$run-seconds.json"
  t0=$(now)
  $nicer "$bin" zones propose -w "$out/ws-$tag.gpkg" "$@" --attributes "$attrs" "${common[@]}" --seed "$seed" \
    --time-limit "${LIANCUN_TIME_LIMIT:-$limit}" --out "$z" > "$out/liancun-$tag-$run-propose.log" 2>&1 \
    || { echo "!! liancun zones propose ($run) failed on $tag:" >&2; cat "$out/liancun-$tag-$run-propose.log" >&2; rm -f "$z"; }
  t1=$(now)
  [ -s "$z" ] && printf '{"seconds":%.3f,"what":"wall time of liancun zones propose (process start to exit)"}\n' \
    "$(echo "$t1 - $t0" | bc -l)" > "$out/liancun-$tag-$run-seconds.json"
  return 0
}

for n in "${sizes[@]}"; do
  for seed in $seeds; do
    tag=$n-s$seed
    file="$out/county-$tag.geojson"
    [ -s "$file" ] || $nicer "$py" "$here/bench/peer/make_county.py" --villages "$n" --seed "$seed" --out "$file"
    read -r nv f < <($util floor "$file")

    # 1. pygeoda max-p with the floor; K = its p.
    geoda "$tag" maxp_sa "" "$f"
    geoda "$tag" maxp_greedy "" "$f"
    read -r k kfrom < <($util k "$out" "$tag") || { echo "!! no max-p result on $tag: no K, skipped" >&2; continue; }
    printf '{"tag":"%s","villages":%s,"seed":%s,"pop_floor":%s,"k":%s,"k_from":"%s"}\n' \
      "$tag" "$nv" "$seed" "$f" "$k" "$kfrom" > "$out/params-$tag.json"
    echo "== $tag: N=$nv, F=$f, K=$k (p of pygeoda $kfrom)" >&2

    # 2. pygeoda fixed-K methods, no floor.
    for m in $methods; do geoda "$tag" "$m" "$k" "$f"; done

    # 3. liancun: import, propose at K (no floor) and with the floor (its own number of zones).
    common=(--queen --tolerance 0.001 --no-strong --min-members 1 --max-members "$nv"
            --weights heterogeneity=1,industry=0,compactness=0,balance=0)
    rm -f "$out/liancun-$tag-"* "$out/geoda-$tag-"*-eval.json "$out/geoda-$tag-"*-check.json
    if [ $have_liancun = 1 ]; then
      rm -f "$out/ws-$tag.gpkg"
      "$bin" import -w "$out/ws-$tag.gpkg" -l villages "$file" > "$out/liancun-$tag-import.log" 2>&1 \
        || { cat "$out/liancun-$tag-import.log" >&2; exit 1; }
      lprop "$tag" k --zones "$k"
      lprop "$tag" floor --pop-floor "$f"
      lprop "$tag" kfloor --zones "$k" --pop-floor "$f"
    fi

    # 4. One yardstick: liancun's evaluator (with F, the same flags for all) and the peer check.
    for z in "$out/liancun-$tag-k-zoning.json" "$out/liancun-$tag-floor-zoning.json" "$out/liancun-$tag-kfloor-zoning.json" "$out"/geoda-"$tag"-*.json; do
      [ -s "$z" ] || continue
      case $z in *-eval.json|*-check.json) continue ;; esac
      [[ $z == */geoda-* ]] && ! grep -q '"labels"' "$z" && continue   # timed out or failed
      base=${z%.json}
      if [ $have_liancun = 1 ]; then
        "$bin" zones evaluate -w "$out/ws-$tag.gpkg" --zoning "$z" --attributes "$attrs" --pop-floor "$f" \
          "${common[@]}" --format json > "$base-eval.json" 2> "$base-eval.log" \
          || { echo "!! evaluate failed on $z:" >&2; cat "$base-eval.log" >&2; rm -f "$base-eval.json"; }
      fi
      $util check "$file" "$z" "$f" > "$base-check.json"
    done
  done
done

echo
$util table "$out" "${sizes[*]}" "$seeds" | tee "$out/table.md"
