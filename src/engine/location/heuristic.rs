//! Fast heuristics and bounds for the location models: greedy covers, greedy + interchange for
//! MCLP, p-median (Whitaker's fast swap evaluation, iterated local search) and p-center. The
//! p-median lower bound is in `lagrangian.rs`.

// Index loops over demands and candidates read as the formulas they implement.
#![allow(clippy::needless_range_loop)]

use std::time::Instant;

use super::lagrangian::Incumbent;
use super::{Instance, pcenter_cost};

/// Greedy set cover of the demands not already covered by a fixed site: repeatedly open the
/// candidate covering most uncovered demands, then drop sites made redundant. `None` when more
/// than `limit` sites would be needed or a demand cannot be covered.
pub fn greedy_cover(
    inst: &Instance,
    sets: &[Vec<usize>],
    fixed: &[bool],
    limit: usize,
) -> Option<Vec<usize>> {
    let mut covered: Vec<bool> = sets.iter().map(|s| s.iter().any(|&j| fixed[j])).collect();
    if sets.iter().zip(&covered).any(|(s, &c)| !c && s.is_empty()) {
        return None;
    }
    let mut reach: Vec<Vec<usize>> = vec![vec![]; inst.m];
    for (i, s) in sets.iter().enumerate() {
        if !covered[i] {
            for &j in s {
                reach[j].push(i);
            }
        }
    }
    let mut gain: Vec<usize> = reach.iter().map(Vec::len).collect();
    let mut open = Vec::new();
    let mut left = covered.iter().filter(|c| !**c).count();
    while left > 0 {
        if open.len() >= limit {
            return None;
        }
        let best = (0..inst.m)
            .filter(|&j| !fixed[j])
            .max_by_key(|&j| (gain[j], std::cmp::Reverse(j)))?;
        if gain[best] == 0 {
            return None;
        }
        open.push(best);
        for &i in &reach[best] {
            if !covered[i] {
                covered[i] = true;
                left -= 1;
                for &j in &sets[i] {
                    gain[j] -= 1;
                }
            }
        }
    }
    // Redundancy removal: a site whose every demand has another open site goes.
    let mut count = vec![0usize; inst.n];
    let mut is_open = fixed.to_vec();
    for &j in &open {
        is_open[j] = true;
    }
    for (i, s) in sets.iter().enumerate() {
        count[i] = s.iter().filter(|&&j| is_open[j]).count();
    }
    let mut keep = Vec::new();
    for &j in open.iter().rev() {
        if reach[j].iter().all(|&i| count[i] >= 2) {
            for &i in &reach[j] {
                count[i] -= 1;
            }
        } else {
            keep.push(j);
        }
    }
    keep.sort_unstable();
    Some(keep)
}

/// A lower bound on the new sites a cover needs: demands whose candidate sets are pairwise
/// disjoint each need their own site (packed greedily, smallest sets first).
pub fn cover_lower_bound(sets: &[Vec<usize>], fixed: &[bool]) -> usize {
    let mut order: Vec<usize> = (0..sets.len())
        .filter(|&i| !sets[i].iter().any(|&j| fixed[j]))
        .collect();
    order.sort_by_key(|&i| sets[i].len());
    let mut used = std::collections::HashSet::new();
    let mut n = 0;
    for i in order {
        if sets[i].iter().all(|j| !used.contains(j)) {
            used.extend(sets[i].iter().copied());
            n += 1;
        }
    }
    n
}

/// MCLP: greedy by covered weight, then swaps (one site out, one in) while they gain.
pub fn mclp_greedy_swap(
    inst: &Instance,
    sets: &[Vec<usize>],
    fixed: &[bool],
    p: usize,
    deadline: Instant,
) -> Vec<usize> {
    let mut reach: Vec<Vec<usize>> = vec![vec![]; inst.m];
    for (i, s) in sets.iter().enumerate() {
        for &j in s {
            reach[j].push(i);
        }
    }
    // count[i]: open sites covering demand i.
    let mut count = vec![0usize; inst.n];
    for (j, f) in fixed.iter().enumerate() {
        if *f {
            for &i in &reach[j] {
                count[i] += 1;
            }
        }
    }
    let mut is_open = fixed.to_vec();
    let mut open = Vec::new();
    for _ in 0..p {
        let best = (0..inst.m).filter(|&j| !is_open[j]).max_by(|&a, &b| {
            let g = |j: usize| -> f64 {
                reach[j]
                    .iter()
                    .filter(|&&i| count[i] == 0)
                    .map(|&i| inst.weights[i])
                    .sum()
            };
            g(a).total_cmp(&g(b)).then(b.cmp(&a))
        });
        let Some(best) = best else { break };
        is_open[best] = true;
        open.push(best);
        for &i in &reach[best] {
            count[i] += 1;
        }
    }
    // Swaps: removing `out` loses the demands only it covers; adding `inn` gains the demands
    // nobody covers (or only `out` covered).
    loop {
        if Instant::now() >= deadline || crate::engine::cancel::requested() {
            break;
        }
        let mut best: Option<(f64, usize, usize)> = None;
        for (k, &out) in open.iter().enumerate() {
            let loss: f64 = reach[out]
                .iter()
                .filter(|&&i| count[i] == 1)
                .map(|&i| inst.weights[i])
                .sum();
            for inn in 0..inst.m {
                if is_open[inn] {
                    continue;
                }
                let gain: f64 = reach[inn]
                    .iter()
                    .filter(|&&i| count[i] == 0 || (count[i] == 1 && reach_has(&sets[i], out)))
                    .map(|&i| inst.weights[i])
                    .sum();
                let delta = gain - loss;
                if delta > 1e-9 * (1.0 + gain) && best.is_none_or(|b| delta > b.0) {
                    best = Some((delta, k, inn));
                }
            }
        }
        let Some((_, k, inn)) = best else { break };
        let out = open[k];
        for &i in &reach[out] {
            count[i] -= 1;
        }
        is_open[out] = false;
        for &i in &reach[inn] {
            count[i] += 1;
        }
        is_open[inn] = true;
        open[k] = inn;
    }
    open.sort_unstable();
    open
}

fn reach_has(set: &[usize], j: usize) -> bool {
    set.binary_search(&j).is_ok()
}

/// Nearest and second-nearest open site per demand.
#[derive(Clone)]
struct Nearest {
    site: Vec<usize>,
    site2: Vec<usize>,
    d1: Vec<f64>,
    d2: Vec<f64>,
}

impl Nearest {
    fn of_demand(&mut self, inst: &Instance, open: &[usize], i: usize) {
        let (mut s1, mut s2) = (usize::MAX, usize::MAX);
        let (mut d1, mut d2) = (f64::INFINITY, f64::INFINITY);
        for &j in open {
            let d = inst.d(i, j);
            if d < d1 {
                (s2, d2) = (s1, d1);
                (s1, d1) = (j, d);
            } else if d < d2 {
                (s2, d2) = (j, d);
            }
        }
        (self.site[i], self.site2[i], self.d1[i], self.d2[i]) = (s1, s2, d1, d2);
    }

    /// After `out` closed and `inn` opened (`open` already updated): only the demands that
    /// had `out` as nearest or second nearest are recomputed; the rest just meet `inn`.
    fn swap(
        &mut self,
        inst: &Instance,
        open: &[usize],
        out: usize,
        inn: usize,
        column: Option<&[f64]>,
    ) {
        for i in 0..inst.n {
            if self.site[i] == out || self.site2[i] == out {
                self.of_demand(inst, open, i);
                continue;
            }
            let d = column.map_or_else(|| inst.d(i, inn), |c| c[i]);
            if d < self.d1[i] {
                (self.site2[i], self.d2[i]) = (self.site[i], self.d1[i]);
                (self.site[i], self.d1[i]) = (inn, d);
            } else if d < self.d2[i] {
                (self.site2[i], self.d2[i]) = (inn, d);
            }
        }
    }
}

fn nearest_two(inst: &Instance, open: &[usize]) -> Nearest {
    let mut nn = Nearest {
        site: vec![usize::MAX; inst.n],
        site2: vec![usize::MAX; inst.n],
        d1: vec![f64::INFINITY; inst.n],
        d2: vec![f64::INFINITY; inst.n],
    };
    for i in 0..inst.n {
        nn.of_demand(inst, open, i);
    }
    nn
}

/// p-median: greedy construction, then first-improvement vertex interchange with Whitaker's
/// evaluation (for a candidate coming in, one pass over the demands prices every site going out).
/// Returns the new sites.
pub fn pmedian_interchange(
    inst: &Instance,
    fixed: &[bool],
    p: usize,
    deadline: Instant,
) -> Vec<usize> {
    let mut is_open = fixed.to_vec();
    let mut open: Vec<usize> = (0..inst.m).filter(|&j| fixed[j]).collect();
    let mut d1 = vec![f64::INFINITY; inst.n];
    for i in 0..inst.n {
        for &j in &open {
            d1[i] = d1[i].min(inst.d(i, j));
        }
    }
    let mut new_sites = Vec::new();
    let mut gain = vec![0.0f64; inst.m];
    for _ in 0..p {
        gain.iter_mut().for_each(|g| *g = 0.0);
        let first = open.is_empty();
        for i in 0..inst.n {
            let w = inst.weights[i];
            let row = &inst.cost[i * inst.m..(i + 1) * inst.m];
            if first {
                // No site yet: minimise the total cost (stored as a negative gain).
                for (g, &d) in gain.iter_mut().zip(row) {
                    *g -= w * d;
                }
            } else {
                let di = d1[i];
                for (g, &d) in gain.iter_mut().zip(row) {
                    if d < di {
                        *g += w * (di - d);
                    }
                }
            }
        }
        let Some(best) = (0..inst.m)
            .filter(|&j| !is_open[j])
            .max_by(|&a, &b| gain[a].total_cmp(&gain[b]).then(b.cmp(&a)))
        else {
            break;
        };
        is_open[best] = true;
        open.push(best);
        new_sites.push(best);
        for (i, d) in d1.iter_mut().enumerate() {
            *d = d.min(inst.d(i, best));
        }
    }
    pmedian_improve(inst, fixed, new_sites, deadline)
}

/// First-improvement vertex interchange from `new_sites` until no swap of a new site for a
/// closed candidate lowers the cost (Whitaker's evaluation). Returns the new sites.
pub fn pmedian_improve(
    inst: &Instance,
    fixed: &[bool],
    new_sites: Vec<usize>,
    deadline: Instant,
) -> Vec<usize> {
    let all: Vec<usize> = (0..inst.m).collect();
    pmedian_improve_among(inst, fixed, new_sites, &all, None, deadline)
}

/// A p-median solution with what the interchange needs to price swaps.
#[derive(Clone)]
struct SwapState {
    new_sites: Vec<usize>,
    is_open: Vec<bool>,
    open: Vec<usize>,
    nn: Nearest,
    cost: f64,
}

impl SwapState {
    fn new(inst: &Instance, fixed: &[bool], new_sites: Vec<usize>) -> SwapState {
        let mut is_open = fixed.to_vec();
        for &j in &new_sites {
            is_open[j] = true;
        }
        let open: Vec<usize> = (0..inst.m).filter(|&j| is_open[j]).collect();
        let nn = nearest_two(inst, &open);
        let mut st = SwapState {
            new_sites,
            is_open,
            open,
            nn,
            cost: 0.0,
        };
        st.recost(inst);
        st
    }

    fn recost(&mut self, inst: &Instance) {
        self.cost = (0..inst.n).map(|i| inst.weights[i] * self.nn.d1[i]).sum();
    }

    /// Closes new site number `k` and opens `inn` instead (`by_site`: the transposed costs).
    fn swap(&mut self, inst: &Instance, k: usize, inn: usize, by_site: Option<&[f64]>) {
        let out = self.new_sites[k];
        self.is_open[out] = false;
        self.is_open[inn] = true;
        self.new_sites[k] = inn;
        if let Some(pos) = self.open.iter().position(|&x| x == out) {
            self.open[pos] = inn;
        }
        let column = by_site.map(|t| &t[inn * inst.n..(inn + 1) * inst.n]);
        self.nn.swap(inst, &self.open, out, inn, column);
        self.recost(inst);
    }
}

/// The interchange with only `entering` as candidates to open (every new site may close).
fn pmedian_improve_among(
    inst: &Instance,
    fixed: &[bool],
    new_sites: Vec<usize>,
    entering: &[usize],
    by_site: Option<&[f64]>,
    deadline: Instant,
) -> Vec<usize> {
    if new_sites.is_empty() || entering.is_empty() {
        return new_sites;
    }
    let mut st = SwapState::new(inst, fixed, new_sites);
    improve_state(inst, fixed, &mut st, entering, by_site, None, deadline);
    let mut sites = st.new_sites;
    sites.sort_unstable();
    sites
}

fn improve_state(
    inst: &Instance,
    fixed: &[bool],
    st: &mut SwapState,
    entering: &[usize],
    by_site: Option<&[f64]>,
    area: Option<&[bool]>,
    deadline: Instant,
) {
    let mut loss = vec![0.0f64; inst.m];
    // With an area (a mask of candidates), only the demands served by an area site (first or
    // second nearest) are priced: the losses of area sites stay exact and gains elsewhere are
    // left out, so a swap judged improving is improving (the cost is recounted exactly).
    let area_demands = |st: &SwapState| -> Vec<usize> {
        match area {
            Some(mask) => (0..inst.n)
                .filter(|&i| {
                    mask[st.nn.site[i]] || (st.nn.site2[i] < inst.m && mask[st.nn.site2[i]])
                })
                .collect(),
            None => (0..inst.n).collect(),
        }
    };
    let mut demands = area_demands(st);
    let mut since_improvement = 0usize;
    let mut inn = 0usize;
    while since_improvement < entering.len() {
        if Instant::now() >= deadline || crate::engine::cancel::requested() {
            break;
        }
        let j = entering[inn];
        inn = (inn + 1) % entering.len();
        since_improvement += 1;
        if st.is_open[j] {
            continue;
        }
        // gain from adding j; loss[r]: extra cost of then removing r.
        let mut add_gain = 0.0;
        for &r in &st.new_sites {
            loss[r] = 0.0;
        }
        // A candidate's column, contiguous when a transposed copy is at hand (the strided reads
        // of the row-major matrix are cache misses, most of the time on large instances).
        let column = by_site.map(|t| &t[j * inst.n..(j + 1) * inst.n]);
        let nn = &st.nn;
        for &i in &demands {
            let w = inst.weights[i];
            let d = column.map_or_else(|| inst.d(i, j), |c| c[i]);
            if d < nn.d1[i] {
                add_gain += w * (nn.d1[i] - d);
            } else {
                let r = nn.site[i];
                // Only a removable (new) site's loss matters; fixed ones stay.
                if !fixed[r] {
                    loss[r] += w * (d.min(nn.d2[i]) - nn.d1[i]);
                }
            }
        }
        let Some((k, &out)) = st
            .new_sites
            .iter()
            .enumerate()
            .filter(|(_, r)| area.is_none_or(|mask| mask[**r]))
            .min_by(|a, b| loss[*a.1].total_cmp(&loss[*b.1]).then(a.1.cmp(b.1)))
        else {
            break;
        };
        let delta = loss[out] - add_gain;
        if delta < -1e-9 * st.cost.max(1.0) {
            st.swap(inst, k, j, by_site);
            demands = area_demands(st);
            since_improvement = 0;
        }
    }
}

/// p-center: Gonzalez's farthest-first start, then swaps while the maximum distance drops.
pub fn pcenter_interchange(
    inst: &Instance,
    fixed: &[bool],
    p: usize,
    deadline: Instant,
) -> Vec<usize> {
    let mut open: Vec<usize> = (0..inst.m).filter(|&j| fixed[j]).collect();
    let mut is_open = fixed.to_vec();
    let mut new_sites = Vec::new();
    let mut d1 = vec![f64::INFINITY; inst.n];
    for i in 0..inst.n {
        for &j in &open {
            d1[i] = d1[i].min(inst.d(i, j));
        }
    }
    for _ in 0..p {
        // The worst-served demand gets its nearest free candidate.
        let worst = (0..inst.n).max_by(|&a, &b| d1[a].total_cmp(&d1[b]).then(b.cmp(&a)));
        let Some(worst) = worst else { break };
        let Some(best) = (0..inst.m).filter(|&j| !is_open[j]).min_by(|&a, &b| {
            inst.d(worst, a)
                .total_cmp(&inst.d(worst, b))
                .then(a.cmp(&b))
        }) else {
            break;
        };
        is_open[best] = true;
        open.push(best);
        new_sites.push(best);
        for (i, d) in d1.iter_mut().enumerate() {
            *d = d.min(inst.d(i, best));
        }
    }
    // Swaps: try moving each new site to a candidate near the worst-served demand.
    let mut cost = pcenter_cost(inst, &open);
    let mut improved = true;
    while improved && Instant::now() < deadline && !crate::engine::cancel::requested() {
        improved = false;
        let worst = (0..inst.n)
            .max_by(|&a, &b| d1[a].total_cmp(&d1[b]).then(b.cmp(&a)))
            .expect("demands");
        let mut near: Vec<usize> = (0..inst.m).filter(|&j| !is_open[j]).collect();
        near.sort_by(|&a, &b| inst.d(worst, a).total_cmp(&inst.d(worst, b)));
        near.truncate(16);
        'outer: for k in 0..new_sites.len() {
            // One pass is n × p × 16 distance reads: check the clock between sites too.
            if Instant::now() >= deadline || crate::engine::cancel::requested() {
                break;
            }
            for &inn in &near {
                let out = new_sites[k];
                let mut trial = open.clone();
                let pos = trial.iter().position(|&x| x == out).expect("open");
                trial[pos] = inn;
                let c = pcenter_cost(inst, &trial);
                if c < cost - 1e-9 {
                    is_open[out] = false;
                    is_open[inn] = true;
                    new_sites[k] = inn;
                    open = trial;
                    cost = c;
                    for (i, d) in d1.iter_mut().enumerate() {
                        *d = open
                            .iter()
                            .map(|&j| inst.d(i, j))
                            .fold(f64::INFINITY, f64::min);
                    }
                    improved = true;
                    break 'outer;
                }
            }
        }
    }
    new_sites.sort_unstable();
    new_sites
}

/// Adds new sites until there are `p`: a cover test may prove a radius with fewer than `p` sites,
/// but the model asks for exactly `p` (as spopt's does). Each added site is the one that most
/// reduces the population-weighted distance (the p-median objective), so the extra facilities go
/// where they serve most; the maximum distance cannot grow by opening more.
pub fn pad_to_p(inst: &Instance, fixed: &[bool], sites: &mut Vec<usize>, p: usize) {
    if sites.len() >= p {
        return;
    }
    let mut is_open = fixed.to_vec();
    for &j in sites.iter() {
        is_open[j] = true;
    }
    let mut nearest: Vec<f64> = (0..inst.n)
        .map(|i| {
            (0..inst.m)
                .filter(|&j| is_open[j])
                .map(|j| inst.d(i, j))
                .fold(f64::INFINITY, f64::min)
        })
        .collect();
    while sites.len() < p {
        let mut best: Option<(f64, usize)> = None;
        for j in (0..inst.m).filter(|&j| !is_open[j]) {
            let mut saving = 0.0;
            for i in 0..inst.n {
                let d = inst.d(i, j);
                if d < nearest[i] {
                    saving += inst.weights[i] * (nearest[i] - d).min(1e300);
                }
            }
            if best.is_none_or(|(s, _)| saving > s) {
                best = Some((saving, j));
            }
        }
        let Some((_, j)) = best else {
            return; // fewer candidates than p: validated before, so not reached
        };
        is_open[j] = true;
        sites.push(j);
        for i in 0..inst.n {
            nearest[i] = nearest[i].min(inst.d(i, j));
        }
    }
    sites.sort_unstable();
}

/// Iterated local search for p-median: from the incumbent, close a few new sites near one
/// another and open as many candidates near them (a local kick), re-run the interchange, keep
/// the result when it is cheaper; until `until`. Deterministic for the seed.
pub fn pmedian_iterated(
    inst: &Instance,
    fixed: &[bool],
    start: Vec<usize>,
    start_cost: f64,
    until: Instant,
    seed: u64,
    shared: Option<&Incumbent>,
) -> (Vec<usize>, f64) {
    let mut rng = crate::engine::random::Rng::new(seed);
    let (mut best, mut best_cost) = (start, start_cost);
    if best.is_empty() || inst.m <= best.len() + fixed.iter().filter(|&&f| f).count() {
        return (best, best_cost);
    }
    // Site-to-site distances are not in the instance; a candidate's neighbours are taken by
    // the demands nearest to it, through the demand × candidate costs of a reference demand.
    let mut kicks = 0usize;
    let mut by_site = vec![0.0; inst.n * inst.m];
    for i in 0..inst.n {
        for j in 0..inst.m {
            by_site[j * inst.n + i] = inst.d(i, j);
        }
    }
    let mut best_state = SwapState::new(inst, fixed, best.clone());
    let mut mask = vec![false; inst.m];
    // Threshold acceptance: a kicked and improved solution replaces the current one when it is
    // at most this much worse, so the search can leave a deep local optimum; the best is kept.
    const ACCEPT_WORSE: f64 = 1e-5;
    let mut current = best_state.clone();
    let cost_shares = |inst: &Instance, st: &SwapState| -> Vec<f64> {
        let mut acc = 0.0;
        (0..inst.n)
            .map(|i| {
                acc += inst.weights[i] * st.nn.d1[i];
                acc
            })
            .collect()
    };
    let mut share = cost_shares(inst, &current);
    while Instant::now() < until && !shared.is_some_and(|s| s.stopped()) {
        kicks += 1;
        let mut st = current.clone();
        // A demand drawn in proportion to its share of the cost marks the area of the kick:
        // the expensive corners are where a better arrangement is most likely.
        let i = {
            let x = rng.next_f64() * share.last().copied().unwrap_or(0.0);
            share.partition_point(|&c| c < x).min(inst.n - 1)
        };
        let row = &inst.cost[i * inst.m..(i + 1) * inst.m];
        let mut near: Vec<usize> = (0..inst.m).collect();
        let look = 160.min(inst.m);
        near.select_nth_unstable_by(look - 1, |&a, &b| row[a].total_cmp(&row[b]));
        near.truncate(look);
        let open_near: Vec<usize> = near
            .iter()
            .copied()
            .filter(|&j| st.is_open[j] && !fixed[j])
            .collect();
        let closed_near: Vec<usize> = near.iter().copied().filter(|&j| !st.is_open[j]).collect();
        let k = (1 + rng.below(3))
            .min(open_near.len())
            .min(closed_near.len());
        if k == 0 {
            continue;
        }
        let mut out = open_near;
        let mut inn = closed_near;
        for _ in 0..k {
            let a = out.swap_remove(rng.below(out.len()));
            let b = inn.swap_remove(rng.below(inn.len()));
            let pos = st
                .new_sites
                .iter()
                .position(|&x| x == a)
                .expect("open new site");
            st.swap(inst, pos, b, Some(&by_site));
        }
        // Only the kicked area's candidates may enter: a full sweep per kick would cost n × m.
        for &j in &near {
            mask[j] = true;
        }
        improve_state(
            inst,
            fixed,
            &mut st,
            &near,
            Some(&by_site),
            Some(&mask),
            until,
        );
        for &j in &near {
            mask[j] = false;
        }
        if st.cost < best_state.cost * (1.0 - 1e-12) {
            best_state = st.clone();
            if let Some(s) = shared {
                s.offer(st.cost);
            }
        }
        if st.cost < current.cost * (1.0 + ACCEPT_WORSE) {
            current = st;
            share = cost_shares(inst, &current);
        }
    }
    if best_state.cost < best_cost {
        best = best_state.new_sites.clone();
        best.sort_unstable();
        best_cost = best_state.cost;
    }
    if std::env::var_os("LIANCUN_SOLVER_LOG").is_some() {
        eprintln!("p-median: {kicks} kicks");
    }
    (best, best_cost)
}
