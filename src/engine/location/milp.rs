//! The location models as mixed-integer programs for HiGHS.
//!
//! Every model is built over the smallest set of variables that keeps it exact: demands already
//! served by an existing facility drop out of the covering models, candidates that reach no
//! remaining demand get no column, and p-median assignments are only created towards candidates
//! that are at least as near as the nearest existing facility. Each run starts from the heuristic
//! solution (a MIP start), so a time limit still returns at least that.

use std::time::Instant;

use highs::{HighsModelStatus, HighsSolutionStatus, RowProblem, Sense, SolvedModel};

use super::{Instance, LocateError, cover, cover_search};

pub struct MilpResult {
    pub new_sites: Vec<usize>,
    pub objective: f64,
    pub bound: f64,
    pub optimal: bool,
    pub timed_out: bool,
    /// Per demand: the candidate carrying (most of) it, when the model has assignments.
    pub assignment: Vec<usize>,
}

fn seconds_left(deadline: Instant) -> f64 {
    deadline
        .saturating_duration_since(Instant::now())
        .as_secs_f64()
        .max(0.01)
}

/// Runs HiGHS quietly with a time limit and a relative gap, from an optional MIP start.
fn run(
    pb: RowProblem,
    sense: Sense,
    gap: f64,
    deadline: Instant,
    start: Option<&[f64]>,
    first_feasible: bool,
) -> Result<SolvedModel, LocateError> {
    let mut model = pb.optimise(sense);
    // LIANCUN_SOLVER_LOG=1 shows HiGHS's own log on stderr (to see where a run spends its time).
    if std::env::var_os("LIANCUN_SOLVER_LOG").is_none() {
        model.make_quiet();
    } else {
        model.set_option("output_flag", true);
        model.set_option("log_to_console", true);
    }
    model.set_option("time_limit", seconds_left(deadline));
    model.set_option("mip_rel_gap", gap.max(0.0));
    model.set_option("mip_abs_gap", 1e-9);
    // Deterministic and polite on a shared 2-core machine.
    model.set_option("threads", 1);
    model.set_option("random_seed", 1);
    // The root LP of these covering models is highly degenerate: dual simplex spent 25 s and
    // 139,000 iterations on MCLP's at 2,800 villages, where the interior-point solver (with
    // crossover, so the branch-and-bound keeps a basis) takes 0.1 s. Measured end to end:
    // MCLP 29.7 s → 2.4 s, LSCP 342 → 340 sites at half the time (bench/locate/README.md).
    model.set_option("mip_lp_solver", "ipm");
    if first_feasible {
        model.set_option("mip_max_improving_sols", 1);
    }
    // LIANCUN_HIGHS_OPTIONS="name=value,…" passes expert options to HiGHS (for tuning runs).
    if let Ok(opts) = std::env::var("LIANCUN_HIGHS_OPTIONS") {
        for kv in opts.split(',').filter(|s| !s.is_empty()) {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            if let Ok(i) = v.parse::<i32>() {
                model.set_option(k, i);
            } else if let Ok(x) = v.parse::<f64>() {
                model.set_option(k, x);
            } else if let Ok(b) = v.parse::<bool>() {
                model.set_option(k, b);
            } else {
                model.set_option(k, v);
            }
        }
    }
    if let Some(cols) = start {
        model
            .try_set_solution(Some(cols), None, None, None)
            .map_err(|e| LocateError::Solver(format!("MIP start: {e:?}")))?;
    }
    model
        .try_solve()
        .map_err(|e| LocateError::Solver(format!("{e:?}")))
}

/// What a finished MILP run tells: solution columns or none, and whether it is optimal.
struct Outcome {
    columns: Option<Vec<f64>>,
    objective: f64,
    bound: f64,
    optimal: bool,
    timed_out: bool,
    infeasible: bool,
}

fn outcome(solved: &SolvedModel, maximise: bool) -> Result<Outcome, LocateError> {
    let status = solved.status();
    let has_solution = solved.primal_solution_status() == HighsSolutionStatus::Feasible;
    let bound = solved
        .double_info_value(c"mip_dual_bound")
        .unwrap_or(if maximise {
            f64::INFINITY
        } else {
            f64::NEG_INFINITY
        });
    match status {
        HighsModelStatus::Optimal
        | HighsModelStatus::ReachedTimeLimit
        | HighsModelStatus::ReachedInterrupt
        | HighsModelStatus::ReachedIterationLimit
        | HighsModelStatus::ReachedSolutionLimit => Ok(Outcome {
            columns: has_solution.then(|| solved.get_solution().columns().to_vec()),
            objective: solved.objective_value(),
            bound,
            optimal: status == HighsModelStatus::Optimal,
            timed_out: status != HighsModelStatus::Optimal,
            infeasible: false,
        }),
        HighsModelStatus::Infeasible => Ok(Outcome {
            columns: None,
            objective: f64::NAN,
            bound,
            optimal: true,
            timed_out: false,
            infeasible: true,
        }),
        HighsModelStatus::ModelEmpty => Ok(Outcome {
            columns: Some(vec![]),
            objective: 0.0,
            bound: 0.0,
            optimal: true,
            timed_out: false,
            infeasible: false,
        }),
        other => Err(LocateError::Solver(format!("HiGHS status {other:?}"))),
    }
}

/// Per demand, the site carrying most of it (`x_of[i]`: its (site, column) pairs).
fn main_assignment(x_of: &[Vec<(usize, highs::Col)>], cols: &[f64]) -> Vec<usize> {
    x_of.iter()
        .map(|xs| {
            xs.iter()
                .max_by(|a, b| cols[a.1.index()].total_cmp(&cols[b.1.index()]))
                .map_or(0, |&(j, _)| j)
        })
        .collect()
}

/// Demands not yet covered by a fixed facility.
fn uncovered(sets: &[Vec<usize>], fixed: &[bool]) -> Vec<usize> {
    (0..sets.len())
        .filter(|&i| !sets[i].iter().any(|&j| fixed[j]))
        .collect()
}

/// Whether the cheap tests alone prove that no `p` new sites cover every demand (`sets`): a
/// demand with no candidate, more forced sites than `p`, or more pairwise disjoint demands than
/// sites left (each needs its own site). `false` means "not proven", not "feasible".
pub fn cover_cheaply_infeasible(sets: &[Vec<usize>], fixed: &[bool], p: usize, m: usize) -> bool {
    let rows = uncovered(sets, fixed);
    if rows.is_empty() {
        return false;
    }
    if rows.iter().any(|&i| sets[i].is_empty()) {
        return true;
    }
    let core = cover::reduce(sets, &rows, m);
    match p.checked_sub(core.forced.len()) {
        None => true,
        Some(budget) => !core.rows.is_empty() && cover::packing_bound(&core, m) > budget,
    }
}

/// Location set covering: fewest new sites so that every demand has an open site within the
/// radius (`sets[i]`); capacitated when the instance has capacities.
pub fn lscp(
    inst: &Instance,
    sets: &[Vec<usize>],
    fixed: &[bool],
    gap: f64,
    deadline: Instant,
) -> Result<MilpResult, LocateError> {
    let mut pb = RowProblem::default();
    if let Some(cap) = &inst.capacities {
        // y_j (fixed ones pinned to 1), x_ij ∈ [0,1] for j ∈ N_i: Σ_j x_ij = 1,
        // Σ_i w_i x_ij ≤ C_j y_j. The start (greedy, uncapacitated) may violate capacities, so
        // no MIP start here.
        let y: Vec<_> = (0..inst.m)
            .map(|j| {
                if fixed[j] {
                    pb.add_integer_column(0.0, 1.0..=1.0)
                } else {
                    pb.add_integer_column(1.0, 0.0..=1.0)
                }
            })
            .collect();
        let mut load: Vec<Vec<(highs::Col, f64)>> = vec![vec![]; inst.m];
        let mut x_of = Vec::with_capacity(inst.n);
        for (i, set) in sets.iter().enumerate() {
            let xs: Vec<_> = set
                .iter()
                .map(|&j| {
                    let x = pb.add_column(0.0, 0.0..=1.0);
                    load[j].push((x, inst.weights[i]));
                    (j, x)
                })
                .collect();
            pb.add_row(
                1.0..=1.0,
                xs.iter().map(|&(_, x)| (x, 1.0)).collect::<Vec<_>>(),
            );
            x_of.push(xs);
        }
        for j in 0..inst.m {
            if load[j].is_empty() {
                continue;
            }
            let c = if cap[j].is_finite() { cap[j] } else { 1e15 };
            let mut row = load[j].clone();
            row.push((y[j], -c));
            pb.add_row(..=0.0, row);
        }
        let solved = run(pb, Sense::Minimise, gap, deadline, None, false)?;
        let o = outcome(&solved, false)?;
        if o.infeasible {
            return Err(LocateError::Infeasible {
                constraint: "capacity",
                detail: "容量不足以在服务半径内满足全部需求 / the capacities within reach cannot serve every demand"
                    .into(),
                demands: vec![],
            });
        }
        let cols = o.columns.ok_or_else(|| {
            LocateError::Solver(
                "时限内未找到可行解 / no feasible solution within the time limit".into(),
            )
        })?;
        let new_sites: Vec<usize> = (0..inst.m)
            .filter(|&j| !fixed[j] && cols[j] > 0.5)
            .collect();
        let assignment = main_assignment(&x_of, &cols);
        return Ok(MilpResult {
            objective: new_sites.len() as f64,
            new_sites,
            bound: o.bound,
            optimal: o.optimal,
            timed_out: o.timed_out,
            assignment,
        });
    }
    let rows = uncovered(sets, fixed);
    let core = cover::reduce(sets, &rows, inst.m);
    let forced = core.forced.len();
    if core.rows.is_empty() {
        return Ok(MilpResult {
            objective: forced as f64,
            new_sites: core.forced,
            bound: forced as f64,
            optimal: true,
            timed_out: false,
            assignment: vec![],
        });
    }
    // The core gets its own start (a start over the full problem may use dropped sites): the
    // greedy cover improved by the local search, given up to a third of the time. A cover as
    // small as the packing bound is optimal without the solver.
    let greedy = cover::greedy(&core, inst.m);
    let packing = cover::packing_bound(&core, inst.m);
    let now = Instant::now();
    let greedy = cover_search::improve_cover(
        &core,
        &greedy,
        packing,
        now + deadline.saturating_duration_since(now) / 3,
        search_iterations(&core),
        1,
    );
    if greedy.len() <= packing {
        let mut new_sites: Vec<usize> = greedy.iter().chain(&core.forced).copied().collect();
        new_sites.sort_unstable();
        return Ok(MilpResult {
            objective: new_sites.len() as f64,
            new_sites,
            bound: (packing + forced) as f64,
            optimal: true,
            timed_out: false,
            assignment: vec![],
        });
    }
    let (col_of, site_of_col) = core_columns(&mut pb, &core, inst.m, 1.0);
    let start_cols: Vec<f64> = site_of_col
        .iter()
        .map(|j| {
            if greedy.binary_search(j).is_ok() {
                1.0
            } else {
                0.0
            }
        })
        .collect();
    core_rows(&mut pb, &core, &col_of);
    let solved = run(pb, Sense::Minimise, gap, deadline, Some(&start_cols), false)?;
    let o = outcome(&solved, false)?;
    let cols = o.columns.unwrap_or(start_cols);
    let mut new_sites: Vec<usize> = site_of_col
        .iter()
        .zip(&cols)
        .filter(|(_, v)| **v > 0.5)
        .map(|(&j, _)| j)
        .chain(core.forced.iter().copied())
        .collect();
    new_sites.sort_unstable();
    Ok(MilpResult {
        objective: new_sites.len() as f64,
        new_sites,
        bound: o.bound + forced as f64,
        optimal: o.optimal,
        timed_out: o.timed_out,
        assignment: vec![],
    })
}

/// The local search's iteration cap for a core: enough to settle on village-scale instances,
/// and a cap (not only the time) keeps its result the same from run to run.
fn search_iterations(core: &cover::CoverCore) -> u64 {
    (core.rows.len() as u64 * 2_000).clamp(200_000, 50_000_000)
}

/// One binary column per candidate left in the core (cost `cost`): the column of each site and
/// the site of each column.
fn core_columns(
    pb: &mut RowProblem,
    core: &cover::CoverCore,
    m: usize,
    cost: f64,
) -> (Vec<Option<highs::Col>>, Vec<usize>) {
    let mut col_of = vec![None; m];
    for &j in &core.columns {
        col_of[j] = Some(pb.add_integer_column(cost, 0.0..=1.0));
    }
    (col_of, core.columns.clone())
}

/// Each demand of the core covered at least once.
fn core_rows(pb: &mut RowProblem, core: &cover::CoverCore, col_of: &[Option<highs::Col>]) {
    for cols in &core.rows {
        pb.add_row(
            1.0..,
            cols.iter()
                .map(|&j| (col_of[j].expect("core column"), 1.0))
                .collect::<Vec<_>>(),
        );
    }
}

/// Set cover with at most p new sites: `Some(Some(sites))` when one exists, `Some(None)` when
/// none does (proven), `None` when the time ran out first.
pub fn cover_with_p(
    inst: &Instance,
    sets: &[Vec<usize>],
    fixed: &[bool],
    p: usize,
    deadline: Instant,
) -> Result<Option<Option<Vec<usize>>>, LocateError> {
    let rows = uncovered(sets, fixed);
    if rows.is_empty() {
        return Ok(Some(Some(vec![])));
    }
    if rows.iter().any(|&i| sets[i].is_empty()) {
        return Ok(Some(None));
    }
    let core = cover::reduce(sets, &rows, inst.m);
    let Some(budget) = p.checked_sub(core.forced.len()) else {
        return Ok(Some(None)); // more sites are forced than p
    };
    let with_forced = |mut sites: Vec<usize>| {
        sites.extend(&core.forced);
        sites.sort_unstable();
        sites
    };
    if core.rows.is_empty() {
        return Ok(Some(Some(with_forced(vec![]))));
    }
    // A greedy cover within the budget answers "yes" without the solver.
    let greedy = cover::greedy(&core, inst.m);
    if greedy.len() <= budget {
        return Ok(Some(Some(with_forced(greedy))));
    }
    // Disjoint demands beyond the budget answer "no" without the solver.
    if cover::packing_bound(&core, inst.m) > budget {
        return Ok(Some(None));
    }
    // The local search often finds a cover within the budget where the MILP would spend its
    // whole share (it gets half of it).
    let now = Instant::now();
    let searched = cover_search::improve_cover(
        &core,
        &greedy,
        budget,
        now + deadline.saturating_duration_since(now) / 2,
        search_iterations(&core),
        1,
    );
    if searched.len() <= budget {
        return Ok(Some(Some(with_forced(searched))));
    }
    let mut pb = RowProblem::default();
    let (col_of, site_of_col) = core_columns(&mut pb, &core, inst.m, 1.0);
    core_rows(&mut pb, &core, &col_of);
    let all: Vec<_> = col_of.iter().flatten().map(|&c| (c, 1.0)).collect();
    pb.add_row(..=(budget as f64), all);
    // Any cover within the budget will do: stop at the first one found.
    let solved = run(pb, Sense::Minimise, 0.0, deadline, None, true)?;
    let o = outcome(&solved, false)?;
    if o.infeasible {
        return Ok(Some(None));
    }
    match o.columns {
        Some(cols) => Ok(Some(Some(with_forced(
            site_of_col
                .iter()
                .zip(&cols)
                .filter(|(_, v)| **v > 0.5)
                .map(|(&j, _)| j)
                .collect(),
        )))),
        None => Ok(None),
    }
}

/// Maximal covering: p new sites maximising the weight within the radius.
pub fn mclp(
    inst: &Instance,
    sets: &[Vec<usize>],
    fixed: &[bool],
    p: usize,
    start: &[usize],
    gap: f64,
    deadline: Instant,
) -> Result<MilpResult, LocateError> {
    let rows: Vec<usize> = uncovered(sets, fixed)
        .into_iter()
        .filter(|&i| !sets[i].is_empty() && inst.weights[i] > 0.0)
        .collect();
    let already: f64 = (0..inst.n)
        .filter(|&i| sets[i].iter().any(|&j| fixed[j]))
        .map(|i| inst.weights[i])
        .sum();
    let mut pb = RowProblem::default();
    let mut is_start = vec![false; inst.m];
    for &j in start {
        is_start[j] = true;
    }
    // Every free candidate gets a column so that exactly p can always be chosen.
    let free: Vec<usize> = (0..inst.m).filter(|&j| !fixed[j]).collect();
    let mut col_of = vec![None; inst.m];
    let mut start_cols = Vec::new();
    for &j in &free {
        col_of[j] = Some(pb.add_integer_column(0.0, 0.0..=1.0));
        start_cols.push(if is_start[j] { 1.0 } else { 0.0 });
    }
    let mut start_cover = vec![false; inst.n];
    for &i in &rows {
        start_cover[i] = sets[i].iter().any(|&j| is_start[j]);
    }
    for &i in &rows {
        let z = pb.add_column(inst.weights[i], 0.0..=1.0);
        start_cols.push(if start_cover[i] { 1.0 } else { 0.0 });
        let mut row = vec![(z, 1.0)];
        row.extend(sets[i].iter().filter_map(|&j| col_of[j].map(|c| (c, -1.0))));
        pb.add_row(..=0.0, row);
    }
    pb.add_row(
        (p as f64)..=(p as f64),
        free.iter()
            .map(|&j| (col_of[j].expect("free column"), 1.0))
            .collect::<Vec<_>>(),
    );
    let solved = run(pb, Sense::Maximise, gap, deadline, Some(&start_cols), false)?;
    let o = outcome(&solved, true)?;
    let cols = o.columns.unwrap_or(start_cols);
    let new_sites: Vec<usize> = free
        .iter()
        .enumerate()
        .filter(|(k, _)| cols[*k] > 0.5)
        .map(|(_, &j)| j)
        .collect();
    Ok(MilpResult {
        objective: o.objective + already,
        new_sites,
        bound: o.bound + already,
        optimal: o.optimal,
        timed_out: o.timed_out,
        assignment: vec![],
    })
}

/// p-median over the candidates marked `allowed` (plus the fixed ones): Σ_j x_ij = 1,
/// x_ij ≤ y_j (or Σ_i w_i x_ij ≤ C_j y_j with capacities), Σ_free y_j = p, minimise
/// Σ w_i d_ij x_ij.
pub fn pmedian(
    inst: &Instance,
    p: usize,
    fixed: &[bool],
    allowed: &[bool],
    start: Option<&[usize]>,
    gap: f64,
    deadline: Instant,
) -> Result<MilpResult, LocateError> {
    let mut pb = RowProblem::default();
    let sites: Vec<usize> = (0..inst.m).filter(|&j| fixed[j] || allowed[j]).collect();
    let mut open_start = vec![false; inst.m];
    if let Some(s) = start {
        for &j in s {
            open_start[j] = true;
        }
    }
    for (j, f) in fixed.iter().enumerate() {
        if *f {
            open_start[j] = true;
        }
    }
    let mut start_cols = Vec::new();
    let y: Vec<_> = sites
        .iter()
        .map(|&j| {
            start_cols.push(if open_start[j] { 1.0 } else { 0.0 });
            if fixed[j] {
                pb.add_integer_column(0.0, 1.0..=1.0)
            } else {
                pb.add_integer_column(0.0, 0.0..=1.0)
            }
        })
        .collect();
    let capacitated = inst.capacities.is_some();
    let mut load: Vec<Vec<(highs::Col, f64)>> = vec![vec![]; sites.len()];
    let mut x_of = Vec::with_capacity(inst.n);
    for i in 0..inst.n {
        // Uncapacitated: never farther than the nearest fixed facility.
        let limit = if capacitated {
            f64::INFINITY
        } else {
            sites
                .iter()
                .filter(|&&j| fixed[j])
                .map(|&j| inst.d(i, j))
                .fold(f64::INFINITY, f64::min)
        };
        let nearest_start = start.map(|_| {
            sites
                .iter()
                .copied()
                .filter(|&j| open_start[j])
                .min_by(|&a, &b| inst.d(i, a).total_cmp(&inst.d(i, b)))
        });
        let mut xs = Vec::new();
        for (k, &j) in sites.iter().enumerate() {
            if inst.d(i, j) > limit {
                continue;
            }
            let x = pb.add_column(inst.weights[i] * inst.d(i, j), 0.0..=1.0);
            start_cols.push(if nearest_start == Some(Some(j)) {
                1.0
            } else {
                0.0
            });
            if capacitated {
                load[k].push((x, inst.weights[i]));
            } else {
                pb.add_row(..=0.0, [(x, 1.0), (y[k], -1.0)]);
            }
            xs.push((j, x));
        }
        pb.add_row(
            1.0..=1.0,
            xs.iter().map(|&(_, x)| (x, 1.0)).collect::<Vec<_>>(),
        );
        x_of.push(xs);
    }
    if let Some(cap) = &inst.capacities {
        for (k, &j) in sites.iter().enumerate() {
            let c = if cap[j].is_finite() { cap[j] } else { 1e15 };
            let mut row = load[k].clone();
            row.push((y[k], -c));
            pb.add_row(..=0.0, row);
        }
    }
    let free: Vec<_> = sites
        .iter()
        .enumerate()
        .filter(|(_, j)| !fixed[**j])
        .map(|(k, _)| (y[k], 1.0))
        .collect();
    pb.add_row((p as f64)..=(p as f64), free);
    let use_start = start.is_some() && !capacitated;
    let solved = run(
        pb,
        Sense::Minimise,
        gap,
        deadline,
        use_start.then_some(start_cols.as_slice()),
        false,
    )?;
    let o = outcome(&solved, false)?;
    if o.infeasible {
        return Err(LocateError::Infeasible {
            constraint: "capacity",
            detail: format!(
                "p = {p} 个新设施加现有设施的容量不足以满足全部需求 / p = {p} new facilities plus the existing ones cannot hold the whole demand"
            ),
            demands: vec![],
        });
    }
    let cols = o.columns.ok_or_else(|| {
        LocateError::Solver(
            "时限内未找到可行解 / no feasible solution within the time limit".into(),
        )
    })?;
    let new_sites: Vec<usize> = sites
        .iter()
        .enumerate()
        .filter(|(k, j)| !fixed[**j] && cols[*k] > 0.5)
        .map(|(_, &j)| j)
        .collect();
    let assignment = main_assignment(&x_of, &cols);
    Ok(MilpResult {
        objective: o.objective,
        new_sites,
        bound: o.bound,
        optimal: o.optimal,
        timed_out: o.timed_out,
        assignment,
    })
}
