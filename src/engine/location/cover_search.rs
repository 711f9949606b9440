//! Row-weighting local search for the unicost set cover of a reduced core (after Gao, Weise & Li,
//! "An efficient local search heuristic with row weighting for the unicost set covering
//! problem", EJOR 2015: RWLS).
//!
//! The MILP solver's own heuristics stall on village-scale covers (at 2,800 villages and 3 km,
//! HiGHS keeps 342 sites for a minute). This search walks through infeasible solutions instead:
//! whenever the current sites cover every row it records them and drops one; otherwise it swaps
//! one site out and one in for a random uncovered row, guided by row weights that grow on the
//! rows that stay uncovered (so the search is pushed off the covers it keeps returning to). A
//! swap never undoes the previous one (the site just added is not removed next, the one just
//! removed not added next), and ties go to the site left alone longest.
//!
//! It proves nothing: its result is an incumbent for the MILP (LSCP) or a "yes" for a cover test
//! with a budget (p-center). Deterministic for a given seed and iteration count.

use std::time::Instant;

use super::cover::CoverCore;
use crate::engine::random::Rng;

/// The search's state over the core's rows and (renumbered) columns.
struct Search<'a> {
    rows: &'a [Vec<usize>],
    cols: Vec<Vec<usize>>,
    weight: Vec<u64>,
    /// Open sites covering each row.
    covered: Vec<u32>,
    in_solution: Vec<bool>,
    /// Out of the solution: the weight it would newly cover; in: minus the weight only it covers.
    score: Vec<i64>,
    /// Iteration of each column's last change (older first on ties).
    stamp: Vec<u64>,
    /// The uncovered rows, and each row's place in that list.
    uncovered: Vec<usize>,
    place: Vec<usize>,
}

impl<'a> Search<'a> {
    fn new(rows: &'a [Vec<usize>], ncols: usize) -> Search<'a> {
        let mut cols = vec![Vec::new(); ncols];
        for (r, cs) in rows.iter().enumerate() {
            for &c in cs {
                cols[c].push(r);
            }
        }
        let score = cols.iter().map(|rs| rs.len() as i64).collect();
        Search {
            rows,
            cols,
            weight: vec![1; rows.len()],
            covered: vec![0; rows.len()],
            in_solution: vec![false; ncols],
            score,
            stamp: vec![0; ncols],
            uncovered: (0..rows.len()).collect(),
            place: (0..rows.len()).collect(),
        }
    }

    fn mark_covered(&mut self, r: usize) {
        let k = self.place[r];
        let last = *self.uncovered.last().expect("uncovered");
        self.uncovered.swap_remove(k);
        if last != r {
            self.place[last] = k;
        }
    }

    fn mark_uncovered(&mut self, r: usize) {
        self.place[r] = self.uncovered.len();
        self.uncovered.push(r);
    }

    fn add(&mut self, j: usize, now: u64) {
        self.in_solution[j] = true;
        self.stamp[j] = now;
        for i in 0..self.cols[j].len() {
            let r = self.cols[j][i];
            let w = self.weight[r] as i64;
            self.covered[r] += 1;
            match self.covered[r] {
                1 => {
                    self.mark_covered(r);
                    for &k in &self.rows[r] {
                        if k != j {
                            self.score[k] -= w;
                        }
                    }
                }
                2 => {
                    // The site that covered r alone no longer does.
                    if let Some(&k) = self.rows[r]
                        .iter()
                        .find(|&&k| k != j && self.in_solution[k])
                    {
                        self.score[k] += w;
                    }
                }
                _ => {}
            }
        }
        self.score[j] = -self.cols[j]
            .iter()
            .filter(|&&r| self.covered[r] == 1)
            .map(|&r| self.weight[r] as i64)
            .sum::<i64>();
    }

    fn remove(&mut self, j: usize, now: u64) {
        self.in_solution[j] = false;
        self.stamp[j] = now;
        for i in 0..self.cols[j].len() {
            let r = self.cols[j][i];
            let w = self.weight[r] as i64;
            self.covered[r] -= 1;
            match self.covered[r] {
                0 => {
                    self.mark_uncovered(r);
                    for &k in &self.rows[r] {
                        if k != j {
                            self.score[k] += w;
                        }
                    }
                }
                1 => {
                    if let Some(&k) = self.rows[r].iter().find(|&&k| self.in_solution[k]) {
                        self.score[k] -= w;
                    }
                }
                _ => {}
            }
        }
        self.score[j] = self.cols[j]
            .iter()
            .filter(|&&r| self.covered[r] == 0)
            .map(|&r| self.weight[r] as i64)
            .sum();
    }

    /// The site in the solution whose removal loses least (oldest first on ties), not `tabu`.
    fn best_to_remove(&self, solution: &[usize], tabu: Option<usize>) -> Option<usize> {
        solution
            .iter()
            .copied()
            .filter(|&j| Some(j) != tabu)
            .max_by(|&a, &b| {
                self.score[a]
                    .cmp(&self.score[b])
                    .then(self.stamp[b].cmp(&self.stamp[a]))
            })
    }
}

/// Searches for a smaller cover of the core's rows than `start` (sites as original indices, a
/// cover of the core) until `deadline`, `max_iterations`, or a cover of `target` sites or fewer.
/// Returns the smallest cover found (original site indices, sorted).
pub fn improve_cover(
    core: &CoverCore,
    start: &[usize],
    target: usize,
    deadline: Instant,
    max_iterations: u64,
    seed: u64,
) -> Vec<usize> {
    let col_of: std::collections::HashMap<usize, usize> = core
        .columns
        .iter()
        .enumerate()
        .map(|(k, &j)| (j, k))
        .collect();
    let rows: Vec<Vec<usize>> = core
        .rows
        .iter()
        .map(|r| r.iter().map(|j| col_of[j]).collect())
        .collect();
    let mut s = Search::new(&rows, core.columns.len());
    let mut solution: Vec<usize> = Vec::new();
    for j in start.iter().filter_map(|j| col_of.get(j).copied()) {
        if !s.in_solution[j] {
            s.add(j, 0);
            solution.push(j);
        }
    }
    let to_sites = |sol: &[usize]| {
        let mut v: Vec<usize> = sol.iter().map(|&k| core.columns[k]).collect();
        v.sort_unstable();
        v
    };
    if !s.uncovered.is_empty() {
        return start.to_vec(); // not a cover of the core: nothing to improve from
    }
    let mut best = solution.clone();
    let mut rng = Rng::new(seed);
    let (mut added, mut removed): (Option<usize>, Option<usize>) = (None, None);
    let mut iteration = 0u64;
    while iteration < max_iterations {
        iteration += 1;
        if iteration.is_multiple_of(256)
            && (Instant::now() >= deadline || crate::engine::cancel::requested())
        {
            break;
        }
        while s.uncovered.is_empty() {
            if solution.len() < best.len() {
                best = solution.clone();
            }
            if best.len() <= target || solution.is_empty() {
                return to_sites(&best);
            }
            let j = s.best_to_remove(&solution, None).expect("sites");
            s.remove(j, iteration);
            solution.retain(|&k| k != j);
        }
        // Swap: out goes the cheapest site (not the one just added), in comes the best site of
        // a random uncovered row (not the one just removed).
        if let Some(j) = s.best_to_remove(&solution, added) {
            s.remove(j, iteration);
            solution.retain(|&k| k != j);
            removed = Some(j);
        }
        let r = s.uncovered[rng.below(s.uncovered.len())];
        let candidates = &rows[r];
        let pick = candidates
            .iter()
            .copied()
            .filter(|&k| Some(k) != removed || candidates.len() == 1)
            .max_by(|&a, &b| {
                s.score[a]
                    .cmp(&s.score[b])
                    .then(s.stamp[b].cmp(&s.stamp[a]))
            })
            .expect("a row has a site");
        s.add(pick, iteration);
        solution.push(pick);
        added = Some(pick);
        // Rows still uncovered weigh more.
        for k in 0..s.uncovered.len() {
            let r = s.uncovered[k];
            s.weight[r] += 1;
            for &c in &rows[r] {
                s.score[c] += 1;
            }
        }
    }
    to_sites(&best)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::location::cover;

    /// Every row has a chosen site.
    fn covers(core: &CoverCore, sites: &[usize]) -> bool {
        core.rows
            .iter()
            .all(|r| r.iter().any(|j| sites.contains(j)))
    }

    #[test]
    fn finds_the_optimum_of_small_random_covers_and_never_returns_a_non_cover() {
        let mut rng = Rng::new(7);
        for case in 0..40 {
            // Random instance: 10 sites, 14 rows of 1–4 sites each.
            let m = 10;
            let sets: Vec<Vec<usize>> = (0..14)
                .map(|_| {
                    let mut r: Vec<usize> = (0..1 + rng.below(4)).map(|_| rng.below(m)).collect();
                    r.sort_unstable();
                    r.dedup();
                    r
                })
                .collect();
            let all: Vec<usize> = (0..sets.len()).collect();
            let core = cover::reduce(&sets, &all, m);
            if core.rows.is_empty() {
                continue;
            }
            // Brute force over the core's columns.
            let cols = &core.columns;
            let mut optimum = usize::MAX;
            for mask in 0u32..(1 << cols.len()) {
                let pick: Vec<usize> = (0..cols.len())
                    .filter(|k| mask >> k & 1 == 1)
                    .map(|k| cols[k])
                    .collect();
                if pick.len() < optimum && covers(&core, &pick) {
                    optimum = pick.len();
                }
            }
            let start = cover::greedy(&core, m);
            let far = Instant::now() + std::time::Duration::from_secs(5);
            let found = improve_cover(&core, &start, 0, far, 20_000, case);
            assert!(
                covers(&core, &found),
                "case {case}: {found:?} is not a cover"
            );
            assert!(found.len() <= start.len());
            assert_eq!(found.len(), optimum, "case {case}: greedy {}", start.len());
        }
    }
}
