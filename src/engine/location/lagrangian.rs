//! The p-median lower bound: the Lagrangian dual of the assignment constraints, maximised by
//! smoothing it and climbing with L-BFGS.
//!
//! Relaxing "every demand is assigned once" with multipliers λ splits p-median by site:
//! `S_j(λ) = Σ_i max(0, λ_i − w_i d_ij)` is what opening j is worth, and
//! `L(λ) = Σ_i λ_i − Σ_{fixed j} S_j − (sum of the p largest S_j among the free sites)`
//! is a lower bound on every solution, for every λ. Its maximum is the LP relaxation's value.
//!
//! `L` is concave but not smooth (the `max(0, ·)` per pair and the "p largest" choice), so plain
//! subgradient steps zig-zag and stall short of the LP value (0.007 % short at 2,800 villages,
//! which is most of the difference between a 0.1 % and a 0.107 % gap). Here both kinks are
//! smoothed — `max(0, a)` by a softplus with temperature `t`, the "p largest" by the entropy of
//! a fractional choice `y ∈ [0, 1]^m, Σ y = p` with temperature `τ` — which gives a smooth
//! concave lower approximation of `L`; L-BFGS climbs it, and the temperatures are halved stage by
//! stage (continuation). Whatever λ it reaches, the bound reported is the *exact* `L(λ)`, so the
//! smoothing affects only how good the bound is, never whether it is valid.
//!
//! The multipliers live in distance units, `λ_i = w_i u_i`, so that one temperature in metres
//! (or seconds) fits every demand whatever its weight.
//!
//! The LP value is not always enough: at 2,800 villages it proves only 0.1004 % for the best
//! solution known. A branch-and-bound over the sites then raises the bound: a node forces one
//! candidate open or closed, its children start from the parent's multipliers, and the bound is
//! the smallest over the open nodes. The LP optimum of this degenerate problem is very
//! fractional, so branching on the most fractional site moves both children's bounds by
//! hundreds of thousands of metre-persons (measured at the 2,800-village county), far more
//! than the bound's own convergence error.
//!
//! It runs beside the local search (its own thread): the two share the incumbent's cost
//! through [`Incumbent`], so a node stops climbing as soon as it cannot beat the incumbent, and
//! the search stops as soon as the bound proves the incumbent.

// Index loops over demands and candidates read as the formulas they implement.
#![allow(clippy::needless_range_loop)]

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;

use super::{Instance, pmedian_cost};

/// The best cost known, shared between the local search and the bound, and a stop signal.
pub struct Incumbent {
    cost_bits: AtomicU64,
    stop: AtomicBool,
}

impl Incumbent {
    pub fn new(cost: f64) -> Incumbent {
        Incumbent {
            cost_bits: AtomicU64::new(cost.to_bits()),
            stop: AtomicBool::new(false),
        }
    }
    pub fn cost(&self) -> f64 {
        f64::from_bits(self.cost_bits.load(Ordering::Relaxed))
    }
    /// Records `cost` when it is lower than the one known.
    pub fn offer(&self, cost: f64) {
        let mut known = self.cost_bits.load(Ordering::Relaxed);
        while cost < f64::from_bits(known) {
            match self.cost_bits.compare_exchange_weak(
                known,
                cost.to_bits(),
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => break,
                Err(now) => known = now,
            }
        }
    }
    pub fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }
    pub fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }
}

/// What the Lagrangian dual gives: a bound, what it says of each candidate, and a primal guess.
pub struct Lagrangian {
    /// The best lower bound found: the smallest exact `L(λ)` over the branch-and-bound leaves.
    pub bound: f64,
    /// The root's bound (the LP value, up to convergence), which the penalties ρ refer to.
    pub root_bound: f64,
    /// How many nodes were branched on.
    pub branched: usize,
    /// The best solution among the relaxation's site choices (new sites, cost), when one beat
    /// the incumbent passed in: a Lagrangian heuristic.
    pub primal: Option<(Vec<usize>, f64)>,
    /// ρ_j = −S_j at the best bound, and the sites the relaxation opened there.
    rho: Vec<f64>,
    open: Vec<bool>,
}

impl Lagrangian {
    /// Candidates that may still be open in a solution cheaper than `ub` (fixed and relaxation
    /// sites included): forcing a free site j in (swapping out the p-th chosen) raises the bound
    /// by ρ_j − ρ_(p); when that reaches `ub`, j cannot improve on it.
    pub fn free(&self, fixed: &[bool], ub: f64) -> Vec<bool> {
        let rho_p = (0..self.open.len())
            .filter(|&j| self.open[j] && !fixed[j])
            .map(|j| self.rho[j])
            .fold(f64::NEG_INFINITY, f64::max);
        let rho_p = if rho_p.is_finite() { rho_p } else { 0.0 };
        let tolerance = 1e-9 * ub.abs().max(1.0);
        (0..self.open.len())
            .map(|j| {
                fixed[j] || self.open[j] || self.root_bound + self.rho[j] - rho_p < ub - tolerance
            })
            .collect()
    }
}

/// Halvings of the temperatures at the root, from `scale / 16` down to `scale / 2^19`.
const STAGES: i32 = 16;
/// L-BFGS iterations per temperature.
const ITERATIONS_PER_STAGE: usize = 250;
/// The children's temperatures: the root's last ones, this many halvings back.
const CHILD_STAGES: i32 = 4;
/// Top-p smoothing temperature τ = this × t × the mean demand weight (tried 0.2–60: 2–6 climb
/// fastest at 2,800 villages).
const CHOICE_TEMPERATURE: f64 = 3.0;
/// A stage ends early when STALL_WINDOW iterations gained less than STALL_GAIN of the value.
const STALL_WINDOW: usize = 10;
const STALL_GAIN: f64 = 1e-9;
/// Curvature pairs L-BFGS keeps.
const HISTORY: usize = 12;
/// Pairs further than this many temperatures beyond λ_i contribute below e^-30: skipped.
const REACH: f64 = 30.0;

/// The demands with weight, each with its candidates by distance.
struct Dual<'a> {
    inst: &'a Instance,
    demands: Vec<usize>,
    by_distance: Vec<Vec<u32>>,
}

/// Which candidates a node leaves free: 0 free, 1 open (existing or branched), 2 closed; and
/// how many free ones it still has to open.
#[derive(Clone)]
struct Choice {
    status: Vec<u8>,
    p: usize,
    free_count: usize,
}

impl Choice {
    fn root(fixed: &[bool], p: usize) -> Choice {
        let status: Vec<u8> = fixed.iter().map(|&f| u8::from(f)).collect();
        let free_count = fixed.iter().filter(|&&f| !f).count();
        Choice {
            status,
            p: p.min(free_count),
            free_count,
        }
    }
    /// The node with `j` forced open or closed; `None` when that leaves no solution (more
    /// sites open than p allows, or too few free ones left).
    fn with(&self, j: usize, open: bool) -> Option<Choice> {
        let mut c = self.clone();
        c.status[j] = if open { 1 } else { 2 };
        c.free_count -= 1;
        if open {
            c.p = c.p.checked_sub(1)?;
        }
        (c.p <= c.free_count).then_some(c)
    }
}

/// The smoothing temperatures: `t` for the pairs (distance units), `τ` for the choice of sites
/// (cost units).
#[derive(Clone, Copy)]
struct Heat {
    t: f64,
    tau: f64,
}

/// The exact Lagrangian at u: (L, S).
struct Exact {
    value: f64,
    s: Vec<f64>,
}

impl<'a> Dual<'a> {
    fn new(inst: &'a Instance) -> Dual<'a> {
        let demands: Vec<usize> = (0..inst.n).filter(|&i| inst.weights[i] > 0.0).collect();
        // Each demand's candidates by distance: an evaluation only touches the pairs within
        // λ_i plus a few temperatures (a few dozen per demand), not the whole n × m matrix.
        let by_distance = demands
            .iter()
            .map(|&i| {
                let row = &inst.cost[i * inst.m..(i + 1) * inst.m];
                let mut idx: Vec<u32> = (0..inst.m as u32).collect();
                idx.sort_unstable_by(|&a, &b| row[a as usize].total_cmp(&row[b as usize]));
                idx
            })
            .collect();
        Dual {
            inst,
            demands,
            by_distance,
        }
    }

    fn exact(&self, u: &[f64], choice: &Choice) -> Exact {
        let inst = self.inst;
        let mut s = vec![0.0; inst.m];
        let mut value = 0.0;
        for (k, &i) in self.demands.iter().enumerate() {
            let w = inst.weights[i];
            value += w * u[k];
            for &j in &self.by_distance[k] {
                let d = inst.d(i, j as usize);
                if d >= u[k] {
                    break;
                }
                s[j as usize] += w * (u[k] - d);
            }
        }
        let mut free: Vec<f64> = Vec::with_capacity(choice.free_count);
        for j in 0..inst.m {
            match choice.status[j] {
                0 => free.push(s[j]),
                1 => value -= s[j],
                _ => {}
            }
        }
        if choice.p > 0 {
            free.select_nth_unstable_by(choice.p - 1, |a, b| b.total_cmp(a));
            value -= free[..choice.p].iter().sum::<f64>();
        }
        Exact { value, s }
    }

    /// The smoothed Lagrangian at u and its gradient; `y` gets the fractional choice.
    fn smooth(
        &self,
        u: &[f64],
        choice: &Choice,
        heat: Heat,
        grad: &mut [f64],
        y: &mut [f64],
        pair_sigmoid: &mut Vec<f64>,
    ) -> f64 {
        let Heat { t, tau } = heat;
        let inst = self.inst;
        let mut s = vec![0.0; inst.m];
        let mut value = 0.0;
        pair_sigmoid.clear();
        for (k, &i) in self.demands.iter().enumerate() {
            let w = inst.weights[i];
            value += w * u[k];
            let limit = u[k] + REACH * t;
            for &j in &self.by_distance[k] {
                let d = inst.d(i, j as usize);
                if d >= limit {
                    break;
                }
                let x = (u[k] - d) / t;
                // One exponential for both the softplus and its derivative.
                let (plus, sig) = if x > 0.0 {
                    let e = (-x).exp();
                    (x + e.ln_1p(), 1.0 / (1.0 + e))
                } else {
                    let e = x.exp();
                    (e.ln_1p(), e / (1.0 + e))
                };
                s[j as usize] += w * t * plus;
                pair_sigmoid.push(sig);
            }
        }
        // y_j = σ((S_j − μ)/τ) with μ such that the free y sum to p.
        let free = || (0..inst.m).filter(|&j| choice.status[j] == 0);
        let mu = if choice.p == 0 || choice.p >= choice.free_count {
            f64::NAN
        } else {
            let (lo, hi) = free().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), j| {
                (lo.min(s[j]), hi.max(s[j]))
            });
            let (mut lo, mut hi) = (lo - 40.0 * tau, hi + 40.0 * tau);
            for _ in 0..48 {
                let mid = 0.5 * (lo + hi);
                let chosen: f64 = free().map(|j| sigmoid((s[j] - mid) / tau)).sum();
                if chosen > choice.p as f64 {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            0.5 * (lo + hi)
        };
        for j in 0..inst.m {
            y[j] = match choice.status[j] {
                1 => 1.0,
                2 => 0.0,
                _ if choice.p >= choice.free_count => 1.0,
                _ if choice.p == 0 => 0.0,
                _ => sigmoid((s[j] - mu) / tau),
            };
            value -= y[j] * s[j] + tau * binary_entropy(y[j]);
        }
        let mut pair = 0;
        for (k, &i) in self.demands.iter().enumerate() {
            let limit = u[k] + REACH * t;
            let mut served = 0.0;
            for &j in &self.by_distance[k] {
                if inst.d(i, j as usize) >= limit {
                    break;
                }
                served += y[j as usize] * pair_sigmoid[pair];
                pair += 1;
            }
            grad[k] = inst.weights[i] * (1.0 - served);
        }
        value
    }
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

fn binary_entropy(y: f64) -> f64 {
    if y <= 0.0 || y >= 1.0 {
        0.0
    } else {
        -y * y.ln() - (1.0 - y) * (1.0 - y).ln()
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// L-BFGS ascent of the smoothed dual at one temperature, from `u`, at most `iterations`
/// steps or until `deadline` or `stop`.
#[allow(clippy::too_many_arguments)]
fn climb(
    dual: &Dual,
    choice: &Choice,
    u: &mut [f64],
    t: f64,
    tau: f64,
    iterations: usize,
    y: &mut [f64],
    deadline: Instant,
    stop: &dyn Fn() -> bool,
) {
    let k = u.len();
    let mut scratch = Vec::new();
    let mut grad = vec![0.0; k];
    let heat = Heat { t, tau };
    let mut value = dual.smooth(u, choice, heat, &mut grad, y, &mut scratch);
    let mut steps: Vec<Vec<f64>> = Vec::new();
    let mut changes: Vec<Vec<f64>> = Vec::new();
    let (mut trial, mut trial_grad) = (vec![0.0; k], vec![0.0; k]);
    let mut trial_y = vec![0.0; y.len()];
    // The value STALL_WINDOW iterations ago: a stage ends when that window gained too little.
    let mut window_start = value;
    for iteration in 0..iterations {
        if Instant::now() >= deadline || (stop() || crate::engine::cancel::requested()) {
            break;
        }
        if iteration > 0 && iteration % STALL_WINDOW == 0 {
            if value - window_start <= STALL_GAIN * value.abs().max(1.0) {
                return;
            }
            window_start = value;
        }
        // Two-loop recursion on −value: q ends as H·∇(−value); the ascent direction is −q.
        let mut q: Vec<f64> = grad.iter().map(|g| -g).collect();
        let mut alpha = vec![0.0; steps.len()];
        for l in (0..steps.len()).rev() {
            alpha[l] = dot(&steps[l], &q) / dot(&changes[l], &steps[l]);
            for (qi, c) in q.iter_mut().zip(&changes[l]) {
                *qi -= alpha[l] * c;
            }
        }
        let gamma = match (steps.last(), changes.last()) {
            (Some(s), Some(c)) => dot(s, c) / dot(c, c),
            // First step: move the largest coordinate by one temperature.
            _ => t / grad.iter().map(|g| g.abs()).fold(0.0, f64::max).max(1e-300),
        };
        q.iter_mut().for_each(|x| *x *= gamma);
        for l in 0..steps.len() {
            let beta = dot(&changes[l], &q) / dot(&changes[l], &steps[l]);
            for (qi, s) in q.iter_mut().zip(&steps[l]) {
                *qi += s * (alpha[l] - beta);
            }
        }
        let slope = -dot(&grad, &q);
        if slope <= 0.0 || !slope.is_finite() {
            if steps.is_empty() {
                break;
            }
            steps.clear();
            changes.clear();
            continue;
        }
        // Backtracking (Armijo) along −q.
        let mut length = 1.0;
        let mut accepted = false;
        for _ in 0..30 {
            for i in 0..k {
                trial[i] = u[i] - length * q[i];
            }
            let v = dual.smooth(
                &trial,
                choice,
                heat,
                &mut trial_grad,
                &mut trial_y,
                &mut scratch,
            );
            if v >= value + 1e-4 * length * slope {
                let step: Vec<f64> = (0..k).map(|i| trial[i] - u[i]).collect();
                // Curvature pair of −value: change of its gradient.
                let change: Vec<f64> = (0..k).map(|i| grad[i] - trial_grad[i]).collect();
                if dot(&step, &change) > 1e-12 * dot(&step, &step).max(1e-300) {
                    steps.push(step);
                    changes.push(change);
                    if steps.len() > HISTORY {
                        steps.remove(0);
                        changes.remove(0);
                    }
                }
                let gain = v - value;
                u.copy_from_slice(&trial);
                grad.copy_from_slice(&trial_grad);
                y.copy_from_slice(&trial_y);
                value = v;
                accepted = true;
                // Converged at this temperature: gains below round-off of the value.
                if gain <= 1e-13 * value.abs().max(1.0) {
                    return;
                }
                break;
            }
            length *= 0.5;
        }
        if !accepted {
            break;
        }
    }
}

/// A node of the branch-and-bound: its restriction, multipliers, fractional choice and bound.
struct Node {
    choice: Choice,
    u: Vec<f64>,
    y: Vec<f64>,
    bound: f64,
}

/// Maximises the Lagrangian dual of p-median (new sites `p`, `fixed` open), then (`branch`)
/// branches on sites, until `deadline`, until the bound proves the shared incumbent within `gap`, or
/// until the incumbent is told to stop. Prices the relaxation's site choice at each stage and
/// node (a Lagrangian heuristic) and offers it to the incumbent.
pub fn pmedian_dual(
    inst: &Instance,
    fixed: &[bool],
    p: usize,
    incumbent: &Incumbent,
    gap: f64,
    deadline: Instant,
    branch: bool,
) -> Lagrangian {
    let dual = Dual::new(inst);
    let root = Choice::root(fixed, p);
    let k = dual.demands.len();
    // The distance scale: the mean distance from a demand to its second nearest candidate
    // (the nearest is often the demand's own point). The temperatures start at a 16th of it.
    let second = |kk: usize| {
        let i = dual.demands[kk];
        let list = &dual.by_distance[kk];
        list.get(1)
            .or(list.first())
            .map_or(0.0, |&j| inst.d(i, j as usize))
    };
    let scale = if k == 0 {
        1.0
    } else {
        let mean = (0..k).map(second).sum::<f64>() / k as f64;
        if mean > 0.0 { mean } else { 1.0 }
    };
    let mean_weight = if k == 0 {
        1.0
    } else {
        dual.demands.iter().map(|&i| inst.weights[i]).sum::<f64>() / k as f64
    };
    let target = || incumbent.cost() * (1.0 - gap.max(1e-9));
    let stop = || incumbent.stopped();
    let log = std::env::var_os("LIANCUN_SOLVER_LOG").is_some();
    let started = Instant::now();
    let mut primal: Option<(Vec<usize>, f64)> = None;
    // Prices the relaxation's site choice; keeps it when it beats the incumbent.
    let mut price = |choice: &Choice, s: &[f64]| {
        let open = relaxation_open(choice, s);
        let sites: Vec<usize> = (0..inst.m).filter(|&j| open[j]).collect();
        let cost = pmedian_cost(inst, &sites);
        if cost < incumbent.cost() * (1.0 - 1e-12) {
            incumbent.offer(cost);
            primal = Some((sites.into_iter().filter(|&j| !fixed[j]).collect(), cost));
        }
    };

    // One temperature: climb, evaluate exactly, price the relaxation's choice.
    let mut stage_at = |choice: &Choice, u: &mut [f64], y: &mut [f64], t: f64| -> Exact {
        let tau = CHOICE_TEMPERATURE * t * mean_weight;
        let iterations = ITERATIONS_PER_STAGE;
        climb(&dual, choice, u, t, tau, iterations, y, deadline, &stop);
        let now = dual.exact(u, choice);
        price(choice, &now.s);
        now
    };

    let mut u: Vec<f64> = (0..k).map(second).collect();
    let mut y = vec![0.0; inst.m];
    let mut best = dual.exact(&u, &root);
    let mut best_u = u.clone();
    let mut best_y = y.clone();
    let mut last_t = scale;
    for stage in 0..STAGES {
        if Instant::now() >= deadline
            || (stop() || crate::engine::cancel::requested())
            || best.value >= target()
        {
            break;
        }
        let t = scale / 16.0 / 2f64.powi(stage);
        last_t = t;
        let now = stage_at(&root, &mut u, &mut y, t);
        if log {
            eprintln!(
                "p-median dual: t {t:.3e} bound {:.7e} at {:.3} s",
                now.value,
                started.elapsed().as_secs_f64()
            );
        }
        if now.value > best.value {
            best = now;
            best_u.copy_from_slice(&u);
            best_y.copy_from_slice(&y);
        }
    }
    let root_bound = best.value;
    let rho: Vec<f64> = best.s.iter().map(|s| -s).collect();
    let open = relaxation_open(&root, &best.s);

    // Branch and bound, best bound first. The bound is the smallest over the leaves.
    let mut leaves = vec![Node {
        choice: root,
        u: best_u,
        y: best_y,
        bound: root_bound,
    }];
    let mut nodes = 0usize;
    while let Some(at) =
        (0..leaves.len()).min_by(|&a, &b| leaves[a].bound.total_cmp(&leaves[b].bound))
    {
        if !branch
            || leaves[at].bound >= target()
            || Instant::now() >= deadline
            || (stop() || crate::engine::cancel::requested())
        {
            break;
        }
        // The most fractional free site (any free site when the relaxation looks integral but
        // its bound is still short); none left ends the search.
        let node = &leaves[at];
        let Some(j) = (0..inst.m)
            .filter(|&j| node.choice.status[j] == 0)
            .min_by(|&a, &b| (node.y[a] - 0.5).abs().total_cmp(&(node.y[b] - 0.5).abs()))
        else {
            break;
        };
        let node = leaves.swap_remove(at);
        let mut children = Vec::with_capacity(2);
        for open_it in [false, true] {
            // A branch without solutions adds no leaf.
            let Some(choice) = node.choice.with(j, open_it) else {
                continue;
            };
            let (mut u, mut y) = (node.u.clone(), node.y.clone());
            let mut bound = node.bound;
            for stage in (0..CHILD_STAGES).rev() {
                if Instant::now() >= deadline
                    || (stop() || crate::engine::cancel::requested())
                    || bound >= target()
                {
                    break;
                }
                let t = last_t * 2f64.powi(stage);
                let now = stage_at(&choice, &mut u, &mut y, t);
                // A child's optimum is never below its parent's bound.
                bound = bound.max(now.value);
            }
            children.push(Node {
                choice,
                u,
                y,
                bound,
            });
        }
        nodes += 1;
        leaves.extend(children);
        if log {
            let low = leaves.iter().map(|l| l.bound).fold(f64::INFINITY, f64::min);
            eprintln!(
                "p-median branch {nodes} on site {j}: bound {low:.7e}, {} leaves, at {:.3} s",
                leaves.len(),
                started.elapsed().as_secs_f64()
            );
        }
    }
    let bound = leaves
        .iter()
        .map(|l| l.bound)
        .fold(f64::INFINITY, f64::min)
        .max(root_bound);
    Lagrangian {
        bound,
        root_bound,
        branched: nodes,
        primal,
        rho,
        open,
    }
}

/// The sites open in a node and the p free sites of largest S.
fn relaxation_open(choice: &Choice, s: &[f64]) -> Vec<bool> {
    let m = s.len();
    let mut order: Vec<usize> = (0..m).filter(|&j| choice.status[j] == 0).collect();
    if choice.p > 0 && choice.p < order.len() {
        order.select_nth_unstable_by(choice.p - 1, |&a, &b| s[b].total_cmp(&s[a]).then(a.cmp(&b)));
    }
    let mut open: Vec<bool> = choice.status.iter().map(|&c| c == 1).collect();
    for &j in order.iter().take(choice.p) {
        open[j] = true;
    }
    open
}
