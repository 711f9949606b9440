#!/usr/bin/env bash
# Side-by-side benchmark of liancun's zoning engine against PySAL spopt (MaxP, Skater, AZP), every
# zoning judged by liancun's own evaluator. See bench/zones/README.md.
#
#   bench/zones/compare.sh [SIZE…]        default: 200 2800 10000
#
# A SIZE is a number of villages (a synthetic county, bench/peer/make_county.py --seed $SEED) or the
# name of a bundled libpysal dataset (georgia, sids2: bench/zones/libpysal_example.py).
#
# Environment:
#   LIANCUN=path          liancun binary (default target/release/liancun; run `cargo build --release`
#                         first). Without a binary that has `zones`, only the spopt half runs.
#   PEER_PYTHON=path      Python of the peer venv (default /root/.venv-peer/bin/python)
#   RESULTS=dir           where everything is written (default bench/zones/results)
#   TIME_LIMIT=900        seconds per solver run (spopt runs are killed past it, liancun gets
#                         --time-limit)
#   SEED=1                county seed and solver seed
#   CALIB_SIZE=200        synthetic size whose spopt MaxP p fixes the mean zone size
#   SPOPT_METHODS="maxp skater azp"   methods run up to LARGE_N villages
#   SPOPT_LARGE_METHODS="maxp azp"    methods run above LARGE_N (default 5000) villages (Skater
#                         cannot finish there; MaxP needs an n×n matrix: 1.4 GB at 10,000)
#   K_RULE=calib|own      calib (default): K = round(N × p_calib / CALIB_SIZE) at every synthetic
#                         size; own: K = the p of spopt MaxP at that size when that run finished
#                         (run or reused before K is fixed), else the calib rule
#   REUSE=1               keep spopt results already in RESULTS (default 0: run again)
#   LIANCUN_ZONE_ARGS="…" constraints/objective given to BOTH `zones propose` and `zones evaluate`
#                         besides --attributes and --pop-floor F. Default (the problem spopt solves:
#                         queen contiguity on exact shared vertices (libpysal Queen has no tolerance), no size bounds, no strong-village rule, heterogeneity
#                         only): "--queen --tolerance 0.001 --no-strong --min-members 1 --max-members N
#                         --weights heterogeneity=1,industry=0,compactness=0,balance=0".
#                         Set LIANCUN_ZONE_ARGS=none for the bare contract (liancun's own defaults).
#   LIANCUN_TIME_LIMIT=s  --time-limit for liancun (default TIME_LIMIT)
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
bin=${LIANCUN:-$here/target/release/liancun}
py=${PEER_PYTHON:-/root/.venv-peer/bin/python}
out=${RESULTS:-$here/bench/zones/results}
limit=${TIME_LIMIT:-900}
seed=${SEED:-1}
calib=${CALIB_SIZE:-200}
methods=${SPOPT_METHODS:-maxp skater azp}
large_methods=${SPOPT_LARGE_METHODS:-maxp azp}
large_n=${LARGE_N:-5000}
reuse=${REUSE:-0}
attrs=population,collective_income
util="$py $here/bench/zones/zones_util.py"
peer="$here/bench/peer/spopt_zones.py"
if [ $# -gt 0 ]; then sizes=("$@"); else sizes=(200 2800 10000); fi
mkdir -p "$out"
"$py" -c 'import spopt, libpysal' 2>/dev/null || {
  echo "peer venv lacks spopt: $py -m pip install -r $here/bench/peer/requirements.txt" >&2; exit 1; }

have_liancun=1
if [ ! -x "$bin" ]; then
  echo "!! no liancun binary at $bin: run 'cargo build --release' (or set LIANCUN=…); spopt half only" >&2
  have_liancun=0
elif ! "$bin" zones --help > /dev/null 2>&1; then
  echo "!! $bin has no 'zones' command yet: spopt half only" >&2
  have_liancun=0
fi

now() { date +%s.%N; }

county() { # tag → path of its GeoJSON (generated; deterministic for the seed)
  local tag=$1 f="$out/county-$1.geojson"
  case $tag in
    ''|*[!0-9]*) f="$out/real-$tag.geojson"
       [ -s "$f" ] || nice -n 10 "$py" "$here/bench/zones/libpysal_example.py" --example "$tag" --out "$f" >&2 ;;
    *) [ -s "$f" ] || nice -n 10 "$py" "$here/bench/peer/make_county.py" --villages "$tag" --seed "$seed" --out "$f" ;;
  esac
  echo "$f"
}

spopt() { # tag method K F
  local tag=$1 m=$2 k=$3 f=$4 res="$out/spopt-$1-$2.json"
  if [ "$reuse" = 1 ] && [ -s "$res" ]; then echo "== reuse $res" >&2; return; fi
  echo "== spopt $m on $tag (K=${k:-p}, F=$f, limit ${limit}s)" >&2
  nice -n 10 "$py" "$peer" --villages "$(county "$tag")" --method "$m" ${k:+--zones "$k"} \
    --pop-floor "$f" --attrs "$attrs" --seed "$seed" --time-limit "$limit" --out "$res" >&2 || true
}

# 1. Mean zone size from spopt MaxP with the population floor at the calibration size.
calib_json="$out/spopt-$calib-maxp.json"
need_calib=0
for tag in "${sizes[@]}"; do case $tag in *[!0-9]*) ;; *) need_calib=1 ;; esac; done
if [ $need_calib = 1 ]; then
  read -r _ cf < <($util floor "$(county "$calib")")
  REUSE=$reuse spopt "$calib" maxp "" "$cf"
fi

for tag in "${sizes[@]}"; do
  file=$(county "$tag")
  read -r n f < <($util floor "$file")
  case $tag in
    *[!0-9]*) cal="$out/spopt-$tag-maxp.json"; spopt "$tag" maxp "" "$f" ;;  # real data: its own p
    *) cal=$calib_json
       if [ "${K_RULE:-calib}" = own ] && [ "$tag" != "$calib" ]; then
         spopt "$tag" maxp "" "$f"
         grep -q '"n_zones"' "$out/spopt-$tag-maxp.json" 2>/dev/null && cal="$out/spopt-$tag-maxp.json"
       fi ;;
  esac
  k=$($util k "$cal" "$n")
  printf '{"tag":"%s","villages":%s,"pop_floor":%s,"k":%s,"calibration":"%s"}\n' \
    "$tag" "$n" "$f" "$k" "$(basename "$cal")" > "$out/params-$tag.json"
  echo "== $tag: N=$n villages, pop floor F=$f, K=$k" >&2

  # 2. liancun: import, propose. (Earlier liancun outputs and evaluations of this tag go first.)
  rm -f "$out/liancun-$tag-"* "$out/spopt-$tag-"*-eval.json "$out/spopt-$tag-"*-eval.log "$out/spopt-$tag-"*-check.json
  if [ "${LIANCUN_ZONE_ARGS:-}" = none ]; then zargs=(--pop-floor "$f")
  elif [ -n "${LIANCUN_ZONE_ARGS:-}" ]; then read -r -a custom <<< "$LIANCUN_ZONE_ARGS"; zargs=(--pop-floor "$f" "${custom[@]}")
  else zargs=(--pop-floor "$f" --queen --tolerance 0.001 --no-strong --min-members 1 --max-members "$n"
              --weights heterogeneity=1,industry=0,compactness=0,balance=0); fi
  if [ $have_liancun = 1 ]; then
    ws="$out/ws-$tag.gpkg"
    rm -f "$ws"
    "$bin" import -w "$ws" --layer villages "$file" > "$out/liancun-$tag-import.log" 2>&1 \
      || { cat "$out/liancun-$tag-import.log" >&2; exit 1; }
    t0=$(now)
    "$bin" zones propose -w "$ws" --zones "$k" --attributes "$attrs" "${zargs[@]}" --seed "$seed" \
      --time-limit "${LIANCUN_TIME_LIMIT:-$limit}" --out "$out/liancun-$tag-zoning.json" > "$out/liancun-$tag-propose.log" 2>&1 \
      || { echo "!! liancun zones propose failed on $tag (exit $?):" >&2; cat "$out/liancun-$tag-propose.log" >&2
           rm -f "$out/liancun-$tag-zoning.json"; }
    t1=$(now)
    [ -s "$out/liancun-$tag-zoning.json" ] && printf \
      '{"seconds":%.3f,"what":"wall time of liancun zones propose (process start to exit)"}\n' \
      "$(echo "$t1 - $t0" | bc -l)" > "$out/liancun-$tag-seconds.json"
    # The same without the population floor: the problem AZP and Skater solve (K zones, no floor).
    t0=$(now)
    "$bin" zones propose -w "$ws" --zones "$k" --attributes "$attrs" "${zargs[@]:2}" --seed "$seed" \
      --time-limit "${LIANCUN_TIME_LIMIT:-$limit}" --out "$out/liancun-$tag-nofloor-zoning.json" > "$out/liancun-$tag-nofloor-propose.log" 2>&1 \
      || { echo "!! liancun zones propose (no floor) failed on $tag:" >&2; cat "$out/liancun-$tag-nofloor-propose.log" >&2
           rm -f "$out/liancun-$tag-nofloor-zoning.json"; }
    t1=$(now)
    [ -s "$out/liancun-$tag-nofloor-zoning.json" ] && printf \
      '{"seconds":%.3f,"what":"wall time of liancun zones propose (process start to exit)"}\n' \
      "$(echo "$t1 - $t0" | bc -l)" > "$out/liancun-$tag-nofloor-seconds.json"
  fi

  # 3. spopt with the same K (MaxP finds its own p with the same floor F).
  if [ "$tag" = "$calib" ] || [ "${tag//[0-9]/}" ]; then run_methods=$methods
  elif [ "$n" -gt "$large_n" ]; then run_methods=$large_methods
  else run_methods=$methods; fi
  for m in $run_methods; do
    if [ "$m" = maxp ]; then
      [ "$tag" = "$calib" ] || [ "${tag//[0-9]/}" ] || [ "${K_RULE:-calib}" = own ] || spopt "$tag" maxp "" "$f"
    else
      spopt "$tag" "$m" "$k" "$f"
    fi
  done

  # 4. One yardstick: liancun's evaluator on every zoning, plus the peer-side cross-check.
  for z in "$out/liancun-$tag-zoning.json" "$out/liancun-$tag-nofloor-zoning.json" "$out"/spopt-"$tag"-*.json; do
    [ -s "$z" ] || continue
    case $z in *-eval.json|*-check.json) continue ;; esac
    base=${z%.json}
    zin=$z   # spopt output is read as {"labels": {code: zone}}, its other keys ignored
    if [[ $z == */spopt-* ]] && ! grep -q '"labels"' "$z"; then continue; fi  # timed out or failed
    if [ $have_liancun = 1 ]; then
      eargs=("${zargs[@]}")
      [[ $z == *-nofloor-* ]] && eargs=("${zargs[@]:2}")  # judged by the problem it solved
      "$bin" zones evaluate -w "$out/ws-$tag.gpkg" --zoning "$zin" --attributes "$attrs" "${eargs[@]}" \
        --format json > "$base-eval.json" 2> "$base-eval.log" || { echo "!! evaluate failed on $zin:" >&2; cat "$base-eval.log" >&2; }
    fi
    $util check "$file" "$zin" "$f" > "$base-check.json"
  done
done

echo
tags=()
for tag in "${sizes[@]}"; do tags+=("$tag"); done
$util table "$out" "${tags[@]}" | tee "$out/table.md"
