#!/usr/bin/env bash
# Side-by-side benchmark of liancun's facility location (`liancun locate`) against PySAL spopt
# (LSCP, MCLP, PMedian, PCenter) solved through PuLP with CBC and with HiGHS. See bench/locate/README.md.
#
#   bench/locate/compare.sh [SIZE…]        default: 200 2800
#
# A SIZE is a number of villages: a synthetic county (bench/peer/make_county.py --seed $SEED).
# The problem: demand = village population at the village centroid, candidates = the same centroids,
# centroids and straight-line distances in EPSG:4548 (CGCS2000 3° Gauss–Krüger CM 117E), radius
# $RADIUS m for LSCP/MCLP, p = round(N/20) (half up) for MCLP, p-median, p-center.
#
# Environment:
#   LIANCUN=path          liancun binary (default target/release/liancun). Without a binary that has
#                         `locate` (`"$bin" locate --help` fails), only the spopt half runs.
#   PEER_PYTHON=path      Python of the peer venv (default /root/.venv-peer/bin/python)
#   RESULTS=dir           where everything is written (default bench/locate/results)
#   TIME_LIMIT=900        seconds per spopt run, whole run (read + build + solve): the solver gets
#                         what is left of it after the build; `timeout` kills the run at
#                         TIME_LIMIT + GRACE (default 60) s. liancun gets --time-limit when its
#                         `locate` help mentions it.
#   MODELS="lscp mclp pmedian pcenter"   SOLVERS="cbc highs" (SOLVERS="": liancun only, no spopt
#                         needed; direct_peers.py then adds HiGHS and CP-SAT called directly)
#   RADIUS=3000           metres (LSCP, MCLP)
#   P=…                   facilities for MCLP/p-median/p-center (default round(N/20) per size)
#   GAP_REL=0             relative MIP gap for CBC and HiGHS ('default' = each solver's own:
#                         CBC 0, HiGHS 1e-4)
#   MEM_LIMIT_GB=8        address-space cap of each spopt run (and its CBC child)
#   SEED=1                county seed
#   REUSE=1               keep spopt results already in RESULTS (default 0: run again)
#   LIANCUN_LOCATE_ARGS="…"  extra arguments for every `liancun locate` call
#   LIANCUN_TIME_LIMIT=s  --time-limit for liancun (default TIME_LIMIT)
#
# Every spopt run is appended to RESULTS/queue.log (start, end, exit code, status); runs are
# strictly sequential and niced (nice -n 10): the machine is shared.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
bin=${LIANCUN:-$here/target/release/liancun}
py=${PEER_PYTHON:-/root/.venv-peer/bin/python}
out=${RESULTS:-$here/bench/locate/results}
limit=${TIME_LIMIT:-900}
grace=${GRACE:-60}
models=${MODELS:-lscp mclp pmedian pcenter}
solvers=${SOLVERS-cbc highs}   # SOLVERS="" runs the liancun half only
radius=${RADIUS:-3000}
gap=${GAP_REL:-0}
mem=${MEM_LIMIT_GB:-8}
seed=${SEED:-1}
reuse=${REUSE:-0}
util="$py $here/bench/locate/locate_util.py"
peer="$here/bench/locate/spopt_locate.py"
if [ $# -gt 0 ]; then sizes=("$@"); else sizes=(200 2800); fi
mkdir -p "$out" "$out/tmp"
[ -z "$solvers" ] || "$py" -c 'import spopt, pulp, highspy' 2>/dev/null || {
  echo "peer venv lacks spopt/PuLP/highspy: $py -m pip install -r $here/bench/peer/requirements.txt -r $here/bench/locate/requirements.txt" >&2; exit 1; }

have_liancun=1
if [ ! -x "$bin" ]; then
  echo "!! no liancun binary at $bin: run 'cargo build --release' (or set LIANCUN=…); spopt half only" >&2
  have_liancun=0
elif ! "$bin" locate --help > /dev/null 2>&1; then
  echo "!! $bin has no 'locate' command yet: spopt half only" >&2
  have_liancun=0
fi

now() { date +%s.%N; }
log() { echo "$(date +%T) $*" >> "$out/queue.log"; }

county() { # size → path of its GeoJSON (generated; deterministic for the seed)
  local f="$out/county-$1.geojson"
  [ -s "$f" ] || nice -n 10 "$py" "$here/bench/peer/make_county.py" --villages "$1" --seed "$seed" --out "$f" >&2
  echo "$f"
}

spopt_run() { # size file model solver n p
  local tag=$1 file=$2 m=$3 s=$4 n=$5 p=$6
  local res="$out/spopt-$tag-$m-$s.json" log="$out/spopt-$tag-$m-$s.log"
  if [ "$reuse" = 1 ] && [ -s "$res" ]; then echo "== reuse $res" >&2; return; fi
  rm -f "$res"
  echo "== spopt $m/$s on $tag villages (p=$p, radius $radius m, limit ${limit}s)" >&2
  log "start $tag $m $s p=$p limit=${limit}s"
  local t0 t1 rc
  t0=$(now)
  set +e
  TMPDIR="$out/tmp" timeout --kill-after=30 $((limit + grace)) nice -n 10 "$py" "$peer" \
    --county "$file" --model "$m" --solver "$s" --radius "$radius" --p "$p" --time-limit "$limit" \
    --gap-rel "$gap" --mem-limit-gb "$mem" --solver-log "$out/spopt-$tag-$m-$s.solver.log" \
    --out "$res" > "$log" 2>&1
  rc=$?
  set -e
  t1=$(now)
  rm -rf "${out:?}/tmp/"*   # PuLP's MPS/solution files of a killed CBC run
  [ -s "$res" ] || $util killed "$res" "$m" "$s" "$n" "$p" "$rc" "$(echo "$t1 - $t0" | bc -l)" "$limit"
  log "done $tag $m $s rc=$rc $("$py" -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d.get("status"), d.get("objective"), d.get("seconds_total"))' "$res")"
}

for tag in "${sizes[@]}"; do
  file=$(county "$tag")
  read -r n pdef < <($util params "$file")
  p=${P:-$pdef}
  printf '{"size":"%s","villages":%s,"p":%s,"radius_m":%s,"time_limit_s":%s,"gap_rel":"%s","seed":%s}\n' \
    "$tag" "$n" "$p" "$radius" "$limit" "$gap" "$seed" > "$out/params-$tag.json"
  echo "== $tag: N=$n villages, p=$p, radius $radius m" >&2
  points="$out/points-$tag.csv"
  [ -s "$points" ] || $util points "$file" "$points"

  # 1. liancun: import once, then one `locate` per model. (Earlier liancun outputs of this size go first.)
  rm -f "$out/liancun-$tag-"*
  if [ $have_liancun = 1 ]; then
    ws="$out/ws-$tag.gpkg"
    rm -f "$ws"
    "$bin" import -w "$ws" --layer villages "$file" > "$out/liancun-$tag-import.log" 2>&1 \
      || { cat "$out/liancun-$tag-import.log" >&2; exit 1; }
    for m in $models; do
      help=$("$bin" locate "$m" --help 2>&1 || true)
      largs=(-w "$ws" --demand centroid --candidates centroid --format json)
      case $m in lscp|mclp) largs+=(--radius "$radius") ;; esac
      case $m in lscp) ;; *) largs+=(--p "$p") ;; esac
      grep -q -- '--time-limit' <<< "$help" && largs+=(--time-limit "${LIANCUN_TIME_LIMIT:-$limit}")
      [ -n "${LIANCUN_LOCATE_ARGS:-}" ] && { read -r -a extra <<< "$LIANCUN_LOCATE_ARGS"; largs+=("${extra[@]}"); }
      echo "== liancun locate $m ${largs[*]}" >&2
      t0=$(now)
      "$bin" locate "$m" "${largs[@]}" > "$out/liancun-$tag-$m.json" 2> "$out/liancun-$tag-$m.log" \
        || { echo "!! liancun locate $m failed on $tag (exit $?):" >&2; cat "$out/liancun-$tag-$m.log" >&2
             rm -f "$out/liancun-$tag-$m.json"; }
      t1=$(now)
      [ -s "$out/liancun-$tag-$m.json" ] && printf \
        '{"seconds":%.3f,"what":"wall time of liancun locate (process start to exit)"}\n' \
        "$(echo "$t1 - $t0" | bc -l)" > "$out/liancun-$tag-$m-seconds.json"
    done
  fi

  # 2. spopt: every model with every solver, one run at a time.
  for m in $models; do
    for s in $solvers; do
      spopt_run "$tag" "$file" "$m" "$s" "$n" "$p"
    done
  done

  # 3. Peer-side check: every result's objective recomputed from its facility codes.
  for m in $models; do
    for r in "$out/liancun-$tag-$m.json" "$out"/spopt-"$tag"-"$m"-*.json; do
      [ -s "$r" ] || continue
      case $r in *-check.json|*-seconds.json) continue ;; esac
      $util check "$points" "$r" "$m" "$radius" > "${r%.json}-check.json" || rm -f "${r%.json}-check.json"
    done
  done
done

echo
$util table "$out" "${sizes[@]}" | tee "$out/table.md"
