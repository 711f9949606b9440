//! Facility location: where to open shared facilities so that villages are served.
//!
//! Four classic models over a demand × candidate cost matrix (metres, straight-line or network):
//!
//! | model | decides | objective |
//! |---|---|---|
//! | LSCP (location set covering) | which candidates open | fewest new facilities so that every demand is within the radius |
//! | MCLP (maximal covering) | p new facilities | most demand weight within the radius |
//! | p-median | p new facilities | least Σ weight × distance to the nearest open facility |
//! | p-center | p new facilities | least maximum distance (unweighted, as in PySAL spopt) |
//!
//! Existing facilities are candidates fixed open (they count for coverage and distance, not for p
//! nor for the LSCP count). Capacities (LSCP, p-median) let a demand be split between facilities.
//!
//! How each model is solved (`Method::Auto`):
//! - LSCP and MCLP are exact MILPs in HiGHS over the sparse coverage sets (a village reaches a few
//!   candidates within a service radius). LSCP's core (after the classic reductions, `cover.rs`)
//!   first gets a row-weighting local search (`cover_search.rs`) from the greedy cover, whose
//!   result starts the MILP; the root LP is solved by interior point.
//! - p-median: greedy construction, then fast vertex interchange (Whitaker's swap evaluation, one
//!   O(n·m) pass per move) gives the incumbent. Then two threads side by side: an iterated local
//!   search improves the incumbent, while the Lagrangian dual of the assignment constraints
//!   (smoothed, climbed by L-BFGS: `lagrangian.rs`) reaches the LP bound and a branch-and-bound
//!   over sites raises it past the LP value; they share the incumbent's cost and stop when the
//!   bound proves it. The dual's penalties rule out candidates; when few are left, HiGHS solves
//!   the classical MILP over them from the incumbent. When that MILP would be too large for the
//!   time left, the answer is the incumbent with the bound's gap, and `method` says so.
//! - p-center: bisection over the sorted distinct distances; each step asks HiGHS whether the
//!   demands can be covered at that radius with p new facilities (a set-cover MILP).
//!   `Method::Heuristic` replaces the MILPs by greedy covers and interchange.
//!
//! Every run has a time limit; the result says whether it was proven optimal and the relative gap
//! between the best solution and the best bound.

mod cover;
mod cover_search;
mod heuristic;
mod lagrangian;
mod milp;

use std::time::{Duration, Instant};

/// A location problem: demands (rows) × candidate sites (columns).
#[derive(Debug, Clone)]
pub struct Instance {
    /// Demand weight (population) per demand point.
    pub weights: Vec<f64>,
    /// Row-major n × m costs in metres (or seconds for network travel times).
    pub cost: Vec<f64>,
    /// Number of demand points (rows).
    pub n: usize,
    /// Number of candidate sites (columns), existing facilities included.
    pub m: usize,
    /// Candidates already open (existing facilities).
    pub fixed_open: Vec<usize>,
    /// Capacity per candidate in demand-weight units, when the model should respect it.
    pub capacities: Option<Vec<f64>>,
    /// Per-candidate service radius for LSCP and MCLP: candidate `j` covers demand `i` when
    /// `d(i, j) ≤ reach[j]` (an existing facility keeps its own radius, new sites take the
    /// kind's). `None`: the model's radius for every candidate.
    pub reach: Option<Vec<f64>>,
}

impl Instance {
    /// The cost from demand `i` to candidate `j`.
    #[inline]
    pub fn d(&self, i: usize, j: usize) -> f64 {
        self.cost[i * self.m + j]
    }
    /// Whether candidate `j` covers demand `i` under the model's `radius` (or `j`'s own reach).
    #[inline]
    pub fn covers(&self, i: usize, j: usize, radius: f64) -> bool {
        self.d(i, j) <= self.reach.as_ref().map_or(radius, |r| r[j])
    }
    fn is_fixed(&self) -> Vec<bool> {
        let mut f = vec![false; self.m];
        for &j in &self.fixed_open {
            f[j] = true;
        }
        f
    }
}

/// Which location model to solve, with its parameters. Radii are in the instance's cost units
/// (metres, or seconds for travel times).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Model {
    /// Location set covering: the fewest new facilities so that every demand is covered.
    Lscp {
        /// Service radius: a demand within it of an open candidate is covered.
        radius: f64,
    },
    /// Maximal covering: `p` new facilities covering the most demand weight.
    Mclp {
        /// Service radius: a demand within it of an open candidate is covered.
        radius: f64,
        /// Number of new facilities to open.
        p: usize,
    },
    /// p-median: `p` new facilities minimising Σ weight × cost to the nearest open one.
    PMedian {
        /// Number of new facilities to open.
        p: usize,
    },
    /// p-center: `p` new facilities minimising the largest cost to the nearest open one.
    PCenter {
        /// Number of new facilities to open.
        p: usize,
    },
}

impl Model {
    /// The model's name as requests spell it: `lscp`, `mclp`, `pmedian` or `pcenter`.
    pub fn name(&self) -> &'static str {
        match self {
            Model::Lscp { .. } => "lscp",
            Model::Mclp { .. } => "mclp",
            Model::PMedian { .. } => "pmedian",
            Model::PCenter { .. } => "pcenter",
        }
    }
    fn maximise(&self) -> bool {
        matches!(self, Model::Mclp { .. })
    }
}

/// How hard to try: exact MILP, heuristic, or exact where it fits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Method {
    /// Exact where it fits in the time limit, heuristic with a proven bound otherwise.
    #[default]
    Auto,
    /// Always the MILP (p-median: over every candidate, no Lagrangian fixing).
    Exact,
    /// Greedy + interchange only (no MILP); p-median still reports its Lagrangian bound.
    Heuristic,
}

impl Method {
    /// The method a request names: `auto`, `exact` or `heuristic` (field `method`).
    pub fn parse(s: &str) -> Result<Method, LocateError> {
        match s {
            "auto" => Ok(Method::Auto),
            "exact" => Ok(Method::Exact),
            "heuristic" => Ok(Method::Heuristic),
            other => Err(LocateError::BadParams {
                field: "method",
                message: format!(
                    "method = '{other}': 应为 auto、exact 或 heuristic / auto, exact or heuristic"
                ),
            }),
        }
    }
}

/// What to solve and how.
#[derive(Debug, Clone)]
pub struct Params {
    /// The model and its radius or `p`.
    pub model: Model,
    /// Exact, heuristic, or automatic.
    pub method: Method,
    /// Wall-clock budget of the whole run; the best answer so far is returned when it runs out.
    pub time_limit: Duration,
    /// Relative gap at which a MILP may stop (default 1e-9: optimal).
    pub gap: f64,
}

/// A location answer: the open sites, the objective, and how good it is proven to be.
#[derive(Debug, Clone, PartialEq)]
pub struct Solution {
    /// Open candidates, ascending: new ones and the fixed ones.
    pub open: Vec<usize>,
    /// The candidates opened by this run (not fixed), ascending.
    pub new_sites: Vec<usize>,
    /// LSCP: new facilities; MCLP: covered weight; p-median: Σ weight × cost; p-center: max cost.
    pub objective: f64,
    /// The best proven bound on the objective (lower for minimisation, upper for MCLP).
    pub bound: f64,
    /// |objective − bound| / max(|objective|, tiny); 0 when proven optimal.
    pub gap: f64,
    /// Whether the objective is proven optimal (gap 0).
    pub optimal: bool,
    /// What produced the answer, e.g. "highs-milp" or "interchange + lagrangian bound".
    pub method: String,
    /// Whether the time limit ended the run before optimality was proven.
    pub stopped_by_time_limit: bool,
    /// Per demand: the open candidate serving it (nearest; for capacitated models the one carrying
    /// the largest share).
    pub assignment: Vec<usize>,
}

/// Why a location problem has no answer.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum LocateError {
    /// No solution exists; `demands` are the demand indices that cannot be served.
    #[error("{detail}")]
    Infeasible {
        /// The constraint that cannot be met: `radius` or `capacity`.
        constraint: &'static str,
        /// Why, in Chinese and English, with the numbers.
        detail: String,
        /// The demands (indices) no open candidate can serve; empty when the cause is global.
        demands: Vec<usize>,
    },
    /// A parameter out of range; `field` names it as the request spells it.
    #[error("{message}")]
    BadParams {
        /// The parameter at fault (`p`, `radius_m`, `capacity`, `demand`, `method`, …).
        field: &'static str,
        /// What is wrong with it, Chinese and English.
        message: String,
    },
    /// HiGHS failed or ended with an unexpected status (its message).
    #[error("求解器错误 / solver error: {0}")]
    Solver(String),
}

/// Solves a location problem.
pub fn solve(inst: &Instance, params: &Params) -> Result<Solution, LocateError> {
    validate(inst, params)?;
    let deadline = Instant::now() + params.time_limit;
    let mut s = match params.model {
        Model::Lscp { radius } => solve_lscp(inst, radius, params, deadline)?,
        Model::Mclp { radius, p } => solve_mclp(inst, radius, p, params, deadline)?,
        Model::PMedian { p } => solve_pmedian(inst, p, params, deadline)?,
        Model::PCenter { p } => solve_pcenter(inst, p, params, deadline)?,
    };
    s.open.sort_unstable();
    s.new_sites.sort_unstable();
    if s.assignment.is_empty() {
        s.assignment = nearest_assignment(inst, &s.open);
    }
    s.gap = relative_gap(s.objective, s.bound, params.model.maximise());
    if s.gap <= 1e-9 {
        s.gap = 0.0;
    }
    Ok(s)
}

fn relative_gap(objective: f64, bound: f64, maximise: bool) -> f64 {
    let diff = if maximise {
        bound - objective
    } else {
        objective - bound
    };
    (diff.max(0.0)) / objective.abs().max(1e-12)
}

fn validate(inst: &Instance, params: &Params) -> Result<(), LocateError> {
    let bad = |field: &'static str, message: String| Err(LocateError::BadParams { field, message });
    if inst.weights.len() != inst.n || inst.cost.len() != inst.n * inst.m {
        return bad(
            "params",
            "内部错误：矩阵尺寸不符 / internal: matrix size mismatch".into(),
        );
    }
    if inst.n == 0 {
        return bad("demand", "没有需求点 / no demand points".into());
    }
    if inst.m == 0 {
        return bad("candidates", "没有候选点 / no candidate sites".into());
    }
    if let Some((i, w)) = inst
        .weights
        .iter()
        .enumerate()
        .find(|(_, w)| !w.is_finite() || **w < 0.0)
    {
        return bad(
            "demand",
            format!("需求点 {i} 的权重 {w} 无效 / demand {i} has an invalid weight {w}"),
        );
    }
    let free = inst.m - inst.fixed_open.len();
    let radius = match params.model {
        Model::Lscp { radius } | Model::Mclp { radius, .. } => Some(radius),
        _ => None,
    };
    if let Some(r) = radius
        && !(r.is_finite() && r > 0.0)
    {
        return bad(
            "radius_m",
            format!(
                "radius_m = {r}: 服务半径应为正数（米） / the radius must be a positive number of metres"
            ),
        );
    }
    match params.model {
        Model::Mclp { p, .. } | Model::PMedian { p } | Model::PCenter { p } => {
            if p == 0 && inst.fixed_open.is_empty() {
                return bad(
                    "p",
                    "p = 0 且没有现有设施 / p = 0 and no existing facility".into(),
                );
            }
            if p > free {
                return bad(
                    "p",
                    format!(
                        "p = {p} 大于可选候选点数 {free} / p = {p} is more than the {free} free candidate sites"
                    ),
                );
            }
        }
        Model::Lscp { .. } => {}
    }
    if let Some(c) = &inst.capacities {
        if !matches!(params.model, Model::Lscp { .. } | Model::PMedian { .. }) {
            return bad(
                "capacity",
                format!(
                    "容量只用于 LSCP 与 p-median / capacities apply to lscp and pmedian, not {}",
                    params.model.name()
                ),
            );
        }
        let total: f64 = c.iter().filter(|x| x.is_finite()).sum();
        let demand: f64 = inst.weights.iter().sum();
        if total < demand {
            return Err(LocateError::Infeasible {
                constraint: "capacity",
                detail: format!(
                    "全部候选点容量之和 {total} 小于总需求 {demand} / total capacity {total} is below the total demand {demand}"
                ),
                demands: vec![],
            });
        }
    }
    Ok(())
}

/// Nearest open candidate per demand.
pub fn nearest_assignment(inst: &Instance, open: &[usize]) -> Vec<usize> {
    (0..inst.n)
        .map(|i| {
            let mut best = open[0];
            for &j in open {
                if inst.d(i, j) < inst.d(i, best) {
                    best = j;
                }
            }
            best
        })
        .collect()
}

/// Candidates covering each demand (ascending): within `radius`, or within each candidate's
/// own reach when the instance has one (LSCP, MCLP).
fn coverage_sets(inst: &Instance, radius: f64) -> Vec<Vec<usize>> {
    (0..inst.n)
        .map(|i| (0..inst.m).filter(|&j| inst.covers(i, j, radius)).collect())
        .collect()
}

/// Candidates within `radius` of each demand, ignoring per-candidate reach (p-center's cover
/// tests are over a common radius).
fn radius_sets(inst: &Instance, radius: f64) -> Vec<Vec<usize>> {
    (0..inst.n)
        .map(|i| (0..inst.m).filter(|&j| inst.d(i, j) <= radius).collect())
        .collect()
}

/// Σ weight × distance to the nearest open candidate.
pub fn pmedian_cost(inst: &Instance, open: &[usize]) -> f64 {
    (0..inst.n)
        .map(|i| {
            inst.weights[i]
                * open
                    .iter()
                    .map(|&j| inst.d(i, j))
                    .fold(f64::INFINITY, f64::min)
        })
        .sum()
}

/// Largest distance from a demand to its nearest open candidate.
pub fn pcenter_cost(inst: &Instance, open: &[usize]) -> f64 {
    (0..inst.n)
        .map(|i| {
            open.iter()
                .map(|&j| inst.d(i, j))
                .fold(f64::INFINITY, f64::min)
        })
        .fold(0.0, f64::max)
}

/// Demand weight covered by an open candidate (within `radius`, or the candidate's reach).
pub fn covered_weight(inst: &Instance, open: &[usize], radius: f64) -> f64 {
    (0..inst.n)
        .filter(|&i| open.iter().any(|&j| inst.covers(i, j, radius)))
        .map(|i| inst.weights[i])
        .sum()
}

fn with_fixed(inst: &Instance, new_sites: &[usize]) -> Vec<usize> {
    let mut open: Vec<usize> = inst.fixed_open.iter().chain(new_sites).copied().collect();
    open.sort_unstable();
    open.dedup();
    open
}

fn solve_lscp(
    inst: &Instance,
    radius: f64,
    params: &Params,
    deadline: Instant,
) -> Result<Solution, LocateError> {
    let sets = coverage_sets(inst, radius);
    let unreachable: Vec<usize> = (0..inst.n).filter(|&i| sets[i].is_empty()).collect();
    if !unreachable.is_empty() {
        return Err(LocateError::Infeasible {
            constraint: "radius",
            detail: format!(
                "{} 个需求点在半径 {radius} m 内没有任何候选点，无法全部覆盖 / {} demands have no candidate within {radius} m, so no set of sites covers them all",
                unreachable.len(),
                unreachable.len()
            ),
            demands: unreachable,
        });
    }
    let fixed = inst.is_fixed();
    let greedy = heuristic::greedy_cover(inst, &sets, &fixed, usize::MAX);
    let greedy = greedy.expect("every demand has a candidate");
    if params.method == Method::Heuristic && inst.capacities.is_none() {
        return Ok(Solution {
            objective: greedy.len() as f64,
            bound: heuristic::cover_lower_bound(&sets, &fixed) as f64,
            open: with_fixed(inst, &greedy),
            new_sites: greedy,
            gap: 0.0,
            optimal: false,
            method: "greedy cover + redundancy removal".into(),
            stopped_by_time_limit: false,
            assignment: vec![],
        });
    }
    let r = milp::lscp(inst, &sets, &fixed, params.gap, deadline)?;
    Ok(Solution {
        objective: r.new_sites.len() as f64,
        bound: r.bound.ceil().min(r.new_sites.len() as f64),
        open: with_fixed(inst, &r.new_sites),
        new_sites: r.new_sites,
        gap: 0.0,
        optimal: r.optimal,
        method: "highs-milp".into(),
        stopped_by_time_limit: r.timed_out,
        assignment: r.assignment,
    })
}

fn solve_mclp(
    inst: &Instance,
    radius: f64,
    p: usize,
    params: &Params,
    deadline: Instant,
) -> Result<Solution, LocateError> {
    let sets = coverage_sets(inst, radius);
    let fixed = inst.is_fixed();
    let start = heuristic::mclp_greedy_swap(inst, &sets, &fixed, p, deadline);
    let total: f64 = inst.weights.iter().sum();
    if params.method == Method::Heuristic {
        let open = with_fixed(inst, &start);
        return Ok(Solution {
            objective: covered_weight(inst, &open, radius),
            bound: mclp_upper_bound(inst, &sets, &fixed, p).min(total),
            open,
            new_sites: start,
            gap: 0.0,
            optimal: false,
            method: "greedy + interchange".into(),
            stopped_by_time_limit: Instant::now() >= deadline,
            assignment: vec![],
        });
    }
    let r = milp::mclp(inst, &sets, &fixed, p, &start, params.gap, deadline)?;
    let open = with_fixed(inst, &r.new_sites);
    Ok(Solution {
        objective: covered_weight(inst, &open, radius),
        bound: r.bound,
        open,
        new_sites: r.new_sites,
        gap: 0.0,
        optimal: r.optimal,
        method: "highs-milp".into(),
        stopped_by_time_limit: r.timed_out,
        assignment: vec![],
    })
}

/// An upper bound on MCLP's covered weight: what the fixed sites cover plus, for the rest, the
/// p largest weights a single candidate reaches (no p sites can cover more than their sum).
fn mclp_upper_bound(inst: &Instance, sets: &[Vec<usize>], fixed: &[bool], p: usize) -> f64 {
    let mut reach = vec![0.0; inst.m];
    let mut already = 0.0;
    for (i, set) in sets.iter().enumerate() {
        if set.iter().any(|&j| fixed[j]) {
            already += inst.weights[i];
        } else {
            for &j in set {
                reach[j] += inst.weights[i];
            }
        }
    }
    let mut free: Vec<f64> = (0..inst.m)
        .filter(|&j| !fixed[j])
        .map(|j| reach[j])
        .collect();
    free.sort_unstable_by(|a, b| b.total_cmp(a));
    already + free.iter().take(p).sum::<f64>()
}

/// Largest p-median MILP (assignment pairs) handed to HiGHS in `Auto` mode.
const PMEDIAN_MILP_PAIRS: usize = 400_000;
/// The share of the time limit for p-median's iterated local search (and the branch-and-bound
/// beside it) when the bound does not prove the incumbent; the rest is for the MILP over the
/// candidates the bound leaves.
const PMEDIAN_SEARCH_SHARE: f64 = 0.75;

fn solve_pmedian(
    inst: &Instance,
    p: usize,
    params: &Params,
    deadline: Instant,
) -> Result<Solution, LocateError> {
    let fixed = inst.is_fixed();
    if inst.capacities.is_some() {
        // Capacitated: only the MILP knows the capacities.
        let r = milp::pmedian(
            inst,
            p,
            &fixed,
            &vec![true; inst.m],
            None,
            params.gap,
            deadline,
        )?;
        let open = with_fixed(inst, &r.new_sites);
        return Ok(Solution {
            objective: r.objective,
            bound: r.bound,
            open,
            new_sites: r.new_sites,
            gap: 0.0,
            optimal: r.optimal,
            method: "highs-milp (capacitated, demand may be split)".into(),
            stopped_by_time_limit: r.timed_out,
            assignment: r.assignment,
        });
    }
    let t_start = Instant::now();
    let mut incumbent = heuristic::pmedian_interchange(inst, &fixed, p, deadline);
    // What found the incumbent, for `method`.
    let mut search = String::from("greedy + interchange");
    let mut ub = pmedian_cost(inst, &with_fixed(inst, &incumbent));
    if std::env::var_os("LIANCUN_SOLVER_LOG").is_some() {
        eprintln!(
            "p-median: greedy + interchange {ub:.6e} in {:.3} s",
            t_start.elapsed().as_secs_f64()
        );
    }
    if params.method == Method::Exact {
        let r = milp::pmedian(
            inst,
            p,
            &fixed,
            &vec![true; inst.m],
            Some(&incumbent),
            params.gap,
            deadline,
        )?;
        let open = with_fixed(inst, &r.new_sites);
        let objective = pmedian_cost(inst, &open);
        return Ok(Solution {
            objective,
            bound: r.bound.min(objective),
            open,
            new_sites: r.new_sites,
            gap: 0.0,
            optimal: r.optimal,
            method: "highs-milp".into(),
            stopped_by_time_limit: r.timed_out,
            assignment: r.assignment,
        });
    }
    // The bound (root dual, then branch-and-bound) and the iterated local search run side by
    // side on two threads, sharing the incumbent's cost: each stops when the bound proves it.
    let t_lag = Instant::now();
    let shared = lagrangian::Incumbent::new(ub);
    let search_until = if params.method == Method::Heuristic {
        Instant::now()
    } else {
        // A share of the time left, so a longer limit buys a longer search;
        // `LIANCUN_PMEDIAN_SEARCH_S` caps it, for experiments.
        let left = deadline.saturating_duration_since(Instant::now());
        let cap = std::env::var("LIANCUN_PMEDIAN_SEARCH_S")
            .ok()
            .and_then(|s| s.parse::<f64>().ok())
            .filter(|s| s.is_finite() && *s >= 0.0)
            .map_or(left, Duration::from_secs_f64);
        Instant::now() + left.mul_f64(PMEDIAN_SEARCH_SHARE).min(cap)
    };
    // `LIANCUN_PMEDIAN_SEED` picks another seed of the search, for experiments.
    let seed = std::env::var("LIANCUN_PMEDIAN_SEED")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .unwrap_or(1);
    let cancel = crate::engine::cancel::current();
    let (lag, (sites, cost)) = std::thread::scope(|scope| {
        let search = scope.spawn(|| {
            let found = crate::engine::cancel::scope(cancel, || {
                heuristic::pmedian_iterated(
                    inst,
                    &fixed,
                    incumbent.clone(),
                    ub,
                    search_until,
                    seed,
                    Some(&shared),
                )
            });
            if std::env::var_os("LIANCUN_SOLVER_LOG").is_some() {
                eprintln!(
                    "p-median: iterated local search {ub:.6e} -> {:.6e} in {:.3} s",
                    found.1,
                    t_lag.elapsed().as_secs_f64()
                );
            }
            found
        });
        // The bound gets as long as the search (or until the bound proves the incumbent).
        let bound_until = if params.method == Method::Heuristic {
            deadline
        } else {
            search_until
                .max(Instant::now() + Duration::from_secs(1))
                .min(deadline)
        };
        // Heuristic mode keeps to the root bound (no branching).
        let branch = params.method != Method::Heuristic;
        let lag =
            lagrangian::pmedian_dual(inst, &fixed, p, &shared, params.gap, bound_until, branch);
        shared.stop();
        (lag, search.join().expect("the local search does not panic"))
    });
    if cost < ub {
        ub = cost;
        incumbent = sites;
        search.push_str(" + iterated local search");
    }
    if let Some((sites, _)) = &lag.primal {
        // The relaxation found better sites: polish them by interchange.
        let polished = heuristic::pmedian_improve(inst, &fixed, sites.clone(), deadline);
        let cost = pmedian_cost(inst, &with_fixed(inst, &polished));
        if cost < ub {
            ub = cost;
            incumbent = polished;
            search.push_str(" + lagrangian heuristic");
        }
    }
    if std::env::var_os("LIANCUN_SOLVER_LOG").is_some() {
        eprintln!(
            "p-median: incumbent {ub:.6e}, lagrangian bound {:.6e} (gap {:.3e}) in {:.3} s, {} of {} candidates not ruled out",
            lag.bound,
            (ub - lag.bound) / ub.abs().max(1e-12),
            t_lag.elapsed().as_secs_f64(),
            lag.free(&fixed, ub).iter().filter(|&&f| f).count(),
            inst.m
        );
    }
    // Proven optimal when the bound is within the requested relative gap (HiGHS's own meaning
    // of "optimal"), by default 1e-7.
    let proven = |bound: f64, ub: f64| bound >= ub * (1.0 - params.gap.max(1e-9));
    let heuristic_solution = |incumbent: &[usize], ub: f64, bound: f64, method: String| Solution {
        objective: ub,
        bound: bound.min(ub),
        open: with_fixed(inst, incumbent),
        new_sites: incumbent.to_vec(),
        gap: 0.0,
        optimal: proven(bound, ub),
        method,
        stopped_by_time_limit: Instant::now() >= deadline,
        assignment: vec![],
    };
    let bound_method = if lag.branched > 0 {
        format!(
            "lagrangian bound + branch-and-bound ({} branchings)",
            lag.branched
        )
    } else {
        "lagrangian bound".to_string()
    };
    if params.method == Method::Heuristic || proven(lag.bound, ub) {
        let what = if proven(lag.bound, ub) {
            format!("{search}, proven optimal by the {bound_method}")
        } else {
            format!("{search} + {bound_method}")
        };
        return Ok(heuristic_solution(&incumbent, ub, lag.bound, what));
    }
    // Candidates the Lagrangian could not rule out stay free for the MILP, with the incumbent's.
    let mut allowed = lag.free(&fixed, ub);
    for &j in &incumbent {
        allowed[j] = true;
    }
    let free = allowed.iter().filter(|&&f| f).count();
    let pairs = inst.n * (free + inst.fixed_open.len());
    if pairs > PMEDIAN_MILP_PAIRS
        || Instant::now() >= deadline
        || crate::engine::cancel::requested()
    {
        return Ok(heuristic_solution(
            &incumbent,
            ub,
            lag.bound,
            format!("{search} + {bound_method} ({free} candidates not ruled out: MILP too large)"),
        ));
    }
    let r = milp::pmedian(
        inst,
        p,
        &fixed,
        &allowed,
        Some(&incumbent),
        params.gap,
        deadline,
    )?;
    // Recount from the sites (the solver's objective carries its tolerances).
    let milp_open = with_fixed(inst, &r.new_sites);
    let milp_cost = pmedian_cost(inst, &milp_open);
    if milp_cost >= ub {
        // Every excluded candidate was proven unable to beat the incumbent, so the reduced
        // MILP's optimum not beating it proves the incumbent optimal.
        let mut s = heuristic_solution(
            &incumbent,
            ub,
            lag.bound.max(r.bound.min(ub)),
            format!("{search}, proven optimal by lagrangian fixing + highs-milp"),
        );
        s.optimal = r.optimal;
        if r.optimal {
            s.bound = ub;
        }
        s.stopped_by_time_limit = r.timed_out;
        return Ok(s);
    }
    Ok(Solution {
        objective: milp_cost,
        // The reduced MILP's bound holds for the full problem only because every excluded
        // candidate was proven useless for solutions better than the incumbent.
        bound: if r.optimal {
            milp_cost
        } else {
            r.bound.max(lag.bound).min(milp_cost)
        },
        open: milp_open,
        new_sites: r.new_sites,
        gap: 0.0,
        optimal: r.optimal,
        method: format!(
            "{search} + lagrangian fixing + highs-milp over {free} of {} candidates",
            inst.m
        ),
        stopped_by_time_limit: r.timed_out,
        assignment: vec![],
    })
}

fn solve_pcenter(
    inst: &Instance,
    p: usize,
    params: &Params,
    deadline: Instant,
) -> Result<Solution, LocateError> {
    let fixed = inst.is_fixed();
    // The interchange gets a fifth of the time at most: the bisection needs the rest.
    let now = Instant::now();
    let start =
        heuristic::pcenter_interchange(inst, &fixed, p, now + (deadline - now.min(deadline)) / 5);
    let ub_open = with_fixed(inst, &start);
    let ub = pcenter_cost(inst, &ub_open);
    // The optimum is one of the distances; every demand needs at least its nearest candidate.
    let lb = (0..inst.n)
        .map(|i| {
            (0..inst.m)
                .map(|j| inst.d(i, j))
                .fold(f64::INFINITY, f64::min)
        })
        .fold(0.0, f64::max);
    let mut radii: Vec<f64> = inst
        .cost
        .iter()
        .copied()
        .filter(|&d| d >= lb && d < ub)
        .collect();
    radii.sort_unstable_by(f64::total_cmp);
    radii.dedup();
    let (mut best, mut best_open, mut bound) = (ub, start, lb);
    // A quick valid bound first: bisection with the solver-free tests only (disjoint demands
    // beyond p, forced sites). Every radius they refute is a proof; they never say "yes".
    if params.method != Method::Heuristic {
        let (mut lo, mut hi) = (0usize, radii.partition_point(|&x| x < best));
        while lo < hi && Instant::now() < deadline && !crate::engine::cancel::requested() {
            let mid = (lo + hi) / 2;
            if milp::cover_cheaply_infeasible(&radius_sets(inst, radii[mid]), &fixed, p, inst.m) {
                bound = bound.max(radii.get(mid + 1).copied().unwrap_or(best));
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
    }
    let mut timed_out = false;
    // The answer lies in radii[lo..hi] (lo: everything below is refuted; hi: the best cover's
    // cost). Cover tests near the optimum are the hard ones, both ways, so two probes close in
    // from the easy ends: a lower probe that tries to refute a radius (raising the bound) and an
    // upper one that tries to find a cover (lowering the answer), taken in turn. Each test gets
    // a share of the time left; a test that does not finish in it moves its probe halfway
    // towards its own end, where tests are easier, and a decided test re-centres both.
    let mut lo = radii.partition_point(|&x| x < bound);
    let mut hi = radii.partition_point(|&x| x < best);
    let thirds = |lo: usize, hi: usize| (lo + (hi - lo) / 3, lo + 2 * (hi - lo) / 3);
    let (mut down, mut up) = thirds(lo, hi);
    let mut lower_turn = true;
    while lo < hi {
        let now = Instant::now();
        if now >= deadline || crate::engine::cancel::requested() {
            timed_out = true;
            break;
        }
        let steps = (usize::BITS - (hi - lo).leading_zeros()).max(2);
        let test_deadline = now + (deadline - now) / steps;
        let k = if lower_turn { down } else { up }.clamp(lo, hi - 1);
        let sets = radius_sets(inst, radii[k]);
        let cover = if params.method == Method::Heuristic {
            Some(heuristic::greedy_cover(inst, &sets, &fixed, p))
        } else {
            milp::cover_with_p(inst, &sets, &fixed, p, test_deadline)?
        };
        match cover {
            Some(Some(sites)) => {
                best = pcenter_cost(inst, &with_fixed(inst, &sites));
                best_open = sites;
                hi = radii.partition_point(|&x| x < best);
                (down, up) = thirds(lo, hi);
            }
            Some(None) if params.method != Method::Heuristic => {
                // Proven: no p sites cover every demand within this radius, nor within less.
                lo = k + 1;
                bound = bound.max(radii.get(lo).copied().unwrap_or(best));
                (down, up) = thirds(lo, hi);
            }
            Some(None) => {
                // A greedy cover that fails proves nothing: look higher.
                lo = k + 1;
                (down, up) = thirds(lo, hi);
            }
            None if lower_turn => down = lo + (k - lo) / 2,
            None => up = k + (hi - k).div_ceil(2),
        }
        lower_turn = !lower_turn;
    }
    if !timed_out && params.method != Method::Heuristic {
        bound = best;
    }
    heuristic::pad_to_p(inst, &fixed, &mut best_open, p);
    Ok(Solution {
        objective: best,
        bound: bound.min(best),
        open: with_fixed(inst, &best_open),
        new_sites: best_open,
        gap: 0.0,
        optimal: !timed_out && params.method != Method::Heuristic,
        method: if params.method == Method::Heuristic {
            "interchange + bisection with greedy covers".into()
        } else {
            "bisection over distances, highs-milp cover tests".into()
        },
        stopped_by_time_limit: timed_out,
        assignment: vec![],
    })
}

#[cfg(test)]
mod tests;
