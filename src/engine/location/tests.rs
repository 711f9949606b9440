//! Every model against brute force on small random instances (all subsets of candidates), with
//! and without existing facilities, exact and heuristic methods; bad input and infeasibility.

use std::time::Duration;

use super::*;
use crate::engine::random::Rng;

fn random_instance(rng: &mut Rng, n: usize, m: usize, fixed: usize) -> Instance {
    let pts = |rng: &mut Rng, k: usize| -> Vec<(f64, f64)> {
        (0..k)
            .map(|_| (rng.next_f64() * 10_000.0, rng.next_f64() * 10_000.0))
            .collect()
    };
    let demand = pts(rng, n);
    let sites = pts(rng, m);
    let mut cost = Vec::with_capacity(n * m);
    for a in &demand {
        for b in &sites {
            cost.push(((a.0 - b.0).powi(2) + (a.1 - b.1).powi(2)).sqrt());
        }
    }
    Instance {
        weights: (0..n).map(|_| (100 + rng.below(3000)) as f64).collect(),
        cost,
        n,
        m,
        fixed_open: (0..fixed).collect(),
        capacities: None,
        reach: None,
    }
}

/// Every subset of the free candidates of size k (as bitmasks over m ≤ 16 candidates).
fn subsets(m: usize, fixed: usize, k: usize) -> Vec<Vec<usize>> {
    (0u32..(1 << m))
        .filter(|mask| mask.count_ones() as usize == k && mask & ((1 << fixed) - 1) == 0)
        .map(|mask| (0..m).filter(|j| mask & (1 << j) != 0).collect())
        .collect()
}

fn params(model: Model, method: Method) -> Params {
    Params {
        model,
        method,
        time_limit: Duration::from_secs(30),
        gap: 1e-9,
    }
}

fn all_open(inst: &Instance, new: &[usize]) -> Vec<usize> {
    with_fixed(inst, new)
}

#[test]
fn every_model_matches_brute_force() {
    let mut rng = Rng::new(11);
    for case in 0..24 {
        let n = 8 + rng.below(25);
        let m = 6 + rng.below(9);
        let fixed = if case % 3 == 0 { 1 + rng.below(2) } else { 0 };
        let mut inst = random_instance(&mut rng, n, m, fixed);
        if case % 4 == 1 {
            // Each candidate with its own service radius (existing facilities keep theirs).
            inst.reach = Some((0..m).map(|_| 1500.0 + rng.next_f64() * 4500.0).collect());
        }
        let free = m - fixed;
        let p = 1 + rng.below(free.min(4));
        let radius = 2500.0 + rng.next_f64() * 3000.0;
        let tag = format!("case {case}: n={n} m={m} fixed={fixed} p={p} r={radius:.0}");

        let best_median = subsets(m, fixed, p)
            .iter()
            .map(|s| pmedian_cost(&inst, &all_open(&inst, s)))
            .fold(f64::INFINITY, f64::min);
        let best_center = subsets(m, fixed, p)
            .iter()
            .map(|s| pcenter_cost(&inst, &all_open(&inst, s)))
            .fold(f64::INFINITY, f64::min);
        let best_cover = subsets(m, fixed, p)
            .iter()
            .map(|s| covered_weight(&inst, &all_open(&inst, s), radius))
            .fold(0.0, f64::max);
        let lscp_min = (0..=free).find(|&k| {
            subsets(m, fixed, k).iter().any(|s| {
                covered_weight(&inst, &all_open(&inst, s), radius)
                    == inst.weights.iter().sum::<f64>()
            })
        });

        for method in [Method::Auto, Method::Exact] {
            let s = solve(&inst, &params(Model::PMedian { p }, method)).unwrap();
            assert!(
                (s.objective - best_median).abs() <= 1e-9 * best_median,
                "{tag} pmedian {method:?}: {} vs {best_median}",
                s.objective
            );
            assert!(s.optimal && s.gap == 0.0, "{tag}: {s:?}");
            assert_eq!(s.new_sites.len(), p);
            assert!((pmedian_cost(&inst, &s.open) - s.objective).abs() <= 1e-6 * s.objective);
            for j in &inst.fixed_open {
                assert!(s.open.contains(j), "{tag}: fixed site {j} stays open");
            }

            let s = solve(&inst, &params(Model::PCenter { p }, method)).unwrap();
            assert!(
                (s.objective - best_center).abs() <= 1e-9,
                "{tag} pcenter: {} vs {best_center}",
                s.objective
            );
            assert!(s.optimal);
            assert_eq!(s.new_sites.len(), p, "{tag} pcenter opens exactly p");

            let s = solve(&inst, &params(Model::Mclp { radius, p }, method)).unwrap();
            assert!(
                (s.objective - best_cover).abs() <= 1e-6,
                "{tag} mclp: {} vs {best_cover}",
                s.objective
            );
            assert!(s.optimal);
            assert_eq!(s.new_sites.len(), p);

            match (
                lscp_min,
                solve(&inst, &params(Model::Lscp { radius }, method)),
            ) {
                (Some(k), Ok(s)) => {
                    assert_eq!(s.objective, k as f64, "{tag} lscp");
                    assert!(s.optimal);
                    assert_eq!(
                        covered_weight(&inst, &s.open, radius),
                        inst.weights.iter().sum::<f64>()
                    );
                }
                (
                    None,
                    Err(LocateError::Infeasible {
                        constraint,
                        demands,
                        ..
                    }),
                ) => {
                    assert_eq!(constraint, "radius");
                    // Exactly the demands that no candidate reaches are named.
                    let expected: Vec<usize> = (0..n)
                        .filter(|&i| (0..m).all(|j| !inst.covers(i, j, radius)))
                        .collect();
                    assert_eq!(demands, expected, "{tag}");
                }
                (k, r) => panic!("{tag} lscp: brute force {k:?}, solver {r:?}"),
            }
        }

        // Heuristics: feasible, never better than the optimum, and bounds that hold.
        let h = solve(&inst, &params(Model::PMedian { p }, Method::Heuristic)).unwrap();
        assert!(
            h.objective >= best_median * (1.0 - 1e-9) && h.bound <= best_median * (1.0 + 1e-9),
            "{tag}: {h:?}"
        );
        let h = solve(&inst, &params(Model::Mclp { radius, p }, Method::Heuristic)).unwrap();
        assert!(h.objective <= best_cover + 1e-6 && h.bound >= best_cover - 1e-6);
        let h = solve(&inst, &params(Model::PCenter { p }, Method::Heuristic)).unwrap();
        assert!(h.objective >= best_center - 1e-9 && h.bound <= best_center + 1e-9);
        assert_eq!(h.new_sites.len(), p);
    }
}

#[test]
fn lagrangian_bound_is_tight_on_a_larger_instance() {
    let mut rng = Rng::new(3);
    let inst = random_instance(&mut rng, 300, 300, 0);
    // The limit is a cap, not a wait: both stop at their proof (seconds on an idle machine). A
    // 30 s cap failed under two concurrent compilations; this test is about the bound, not speed.
    let generous = |method| Params {
        time_limit: Duration::from_secs(600),
        ..params(Model::PMedian { p: 15 }, method)
    };
    let exact = solve(&inst, &generous(Method::Exact)).unwrap();
    let auto = solve(&inst, &generous(Method::Auto)).unwrap();
    assert!(
        exact.optimal && auto.optimal,
        "{} / {}",
        exact.method,
        auto.method
    );
    assert!((exact.objective - auto.objective).abs() <= 1e-9 * exact.objective);
    let h = solve(&inst, &params(Model::PMedian { p: 15 }, Method::Heuristic)).unwrap();
    assert!(
        h.gap < 0.01,
        "interchange + lagrangian within 1 %: {}",
        h.gap
    );
    assert!(h.bound <= exact.objective * (1.0 + 1e-9));
}

#[test]
fn capacities_are_respected_or_the_request_is_rejected() {
    let mut rng = Rng::new(5);
    let mut inst = random_instance(&mut rng, 20, 8, 0);
    let total: f64 = inst.weights.iter().sum();
    // Each site can hold a third of the demand: p-median with p = 3 must split the load.
    inst.capacities = Some(vec![total / 3.0 + 1.0; 8]);
    let s = solve(&inst, &params(Model::PMedian { p: 3 }, Method::Auto)).unwrap();
    assert_eq!(s.new_sites.len(), 3);
    let uncapacitated = {
        let mut u = inst.clone();
        u.capacities = None;
        solve(&u, &params(Model::PMedian { p: 3 }, Method::Auto)).unwrap()
    };
    assert!(s.objective >= uncapacitated.objective - 1e-6);
    // p = 2 cannot hold the demand.
    let err = solve(&inst, &params(Model::PMedian { p: 2 }, Method::Auto)).unwrap_err();
    assert!(
        matches!(
            err,
            LocateError::Infeasible {
                constraint: "capacity",
                ..
            }
        ),
        "{err:?}"
    );
    // Total capacity below total demand: rejected before solving.
    inst.capacities = Some(vec![1.0; 8]);
    let err = solve(
        &inst,
        &params(Model::Lscp { radius: 20_000.0 }, Method::Auto),
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            LocateError::Infeasible {
                constraint: "capacity",
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn bad_parameters_are_named() {
    let mut rng = Rng::new(9);
    let inst = random_instance(&mut rng, 10, 5, 1);
    let bad = |model| match solve(&inst, &params(model, Method::Auto)) {
        Err(LocateError::BadParams { message, .. }) => message,
        other => panic!("{model:?}: {other:?}"),
    };
    assert!(bad(Model::Lscp { radius: 0.0 }).contains("radius"));
    assert!(bad(Model::Lscp { radius: f64::NAN }).contains("radius"));
    assert!(bad(Model::Mclp { radius: -1.0, p: 1 }).contains("radius"));
    assert!(
        bad(Model::PMedian { p: 5 }).contains("p = 5"),
        "only 4 free candidates"
    );
    assert!(bad(Model::PCenter { p: 9 }).contains("p = 9"));
}

#[test]
fn pcenter_opens_exactly_p_even_when_fewer_sites_reach_the_optimum() {
    // Two tight clusters far apart: two sites give the optimal maximum distance, but p = 4 asks
    // for four; the extra two go where they cut the weighted distance most (one per cluster).
    let pts: [(f64, f64); 6] = [
        (0.0, 0.0),
        (10.0, 0.0),
        (0.0, 10.0),
        (5000.0, 0.0),
        (5010.0, 0.0),
        (5000.0, 10.0),
    ];
    let n = pts.len();
    let mut cost = Vec::new();
    for a in &pts {
        for b in &pts {
            cost.push((a.0 - b.0).hypot(a.1 - b.1));
        }
    }
    let inst = Instance {
        weights: vec![1.0; n],
        cost,
        n,
        m: n,
        fixed_open: vec![],
        capacities: None,
        reach: None,
    };
    for method in [Method::Auto, Method::Exact, Method::Heuristic] {
        let s = solve(&inst, &params(Model::PCenter { p: 4 }, method)).unwrap();
        assert_eq!(s.new_sites.len(), 4, "{method:?}: {s:?}");
        assert_eq!(s.open.len(), 4);
        assert!((s.objective - 10.0).abs() < 1e-9, "{method:?}: {s:?}");
        let left = s.new_sites.iter().filter(|&&j| j < 3).count();
        assert_eq!(left, 2, "one extra per cluster: {s:?}");
    }
}

/// The Lagrangian bound, with and without branching, never exceeds the brute-force optimum,
/// and branching never lowers it; on instances with an integrality gap, branching raises it.
#[test]
fn lagrangian_branch_and_bound_stays_below_the_optimum_and_raises_the_root() {
    let mut rng = Rng::new(29);
    let mut raised = 0;
    for case in 0..24 {
        let (n, m) = (12 + rng.below(10), 10 + rng.below(4));
        let fixed_count = if case % 4 == 0 { 1 } else { 0 };
        let mut inst = random_instance(&mut rng, n, m, fixed_count);
        // Random travel costs (as on a road network, not a metric): the LP relaxation of
        // small Euclidean instances is almost always integral, these often are not.
        if case % 2 == 0 {
            inst.cost
                .iter_mut()
                .for_each(|c| *c = (1 + rng.below(40)) as f64 * 100.0);
        }
        let p = 2 + rng.below(3);
        let optimum = subsets(m, fixed_count, p)
            .iter()
            .map(|s| pmedian_cost(&inst, &all_open(&inst, s)))
            .fold(f64::INFINITY, f64::min);
        let fixed = inst.is_fixed();
        // Told of the optimum and asked for gap 0, the search branches until it proves it or
        // runs out of fractional sites.
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        let shared = lagrangian::Incumbent::new(optimum);
        let root = lagrangian::pmedian_dual(&inst, &fixed, p, &shared, 0.0, deadline, false);
        let shared = lagrangian::Incumbent::new(optimum);
        let tree = lagrangian::pmedian_dual(&inst, &fixed, p, &shared, 0.0, deadline, true);
        let tolerance = 1e-9 * optimum;
        assert!(
            root.bound <= optimum + tolerance,
            "case {case}: root {} > {optimum}",
            root.bound
        );
        assert!(
            tree.bound <= optimum + tolerance,
            "case {case}: tree {} > {optimum}",
            tree.bound
        );
        assert!(tree.bound >= tree.root_bound - tolerance, "case {case}");
        assert_eq!(root.branched, 0, "case {case}: no branching asked");
        if tree.branched > 0 && tree.bound > tree.root_bound + tolerance {
            raised += 1;
        }
    }
    assert!(
        raised > 0,
        "branching raised the bound on none of the instances"
    );
}

#[test]
fn the_shared_incumbent_keeps_the_lowest_cost() {
    let shared = lagrangian::Incumbent::new(10.0);
    shared.offer(12.0);
    assert_eq!(shared.cost(), 10.0);
    shared.offer(7.5);
    assert_eq!(shared.cost(), 7.5);
    assert!(!shared.stopped());
    shared.stop();
    assert!(shared.stopped());
}

#[test]
fn each_candidate_covers_within_its_own_reach() {
    // One demand row, three candidates 1, 2 and 3 km away; the model's radius is 1.5 km.
    let mut inst = Instance {
        weights: vec![10.0],
        cost: vec![1000.0, 2000.0, 3000.0],
        n: 1,
        m: 3,
        fixed_open: vec![],
        capacities: None,
        reach: None,
    };
    assert!(inst.covers(0, 0, 1500.0) && !inst.covers(0, 1, 1500.0));
    // Candidate 2 (3 km away) reaches 3.5 km; candidate 0 only 500 m.
    inst.reach = Some(vec![500.0, 1500.0, 3500.0]);
    assert!(!inst.covers(0, 0, 1500.0) && inst.covers(0, 2, 1500.0));
    assert_eq!(covered_weight(&inst, &[0, 1], 1500.0), 0.0);
    assert_eq!(covered_weight(&inst, &[2], 1500.0), 10.0);
    let s = solve(
        &inst,
        &params(
            Model::Mclp {
                radius: 1500.0,
                p: 1,
            },
            Method::Auto,
        ),
    )
    .unwrap();
    assert_eq!((s.new_sites.clone(), s.objective), (vec![2], 10.0), "{s:?}");
    let s = solve(&inst, &params(Model::Lscp { radius: 1500.0 }, Method::Auto)).unwrap();
    assert_eq!(s.new_sites, vec![2]);
}

#[test]
fn pcenter_under_a_short_limit_is_feasible_and_its_bound_holds() {
    // Too large to prove in a fraction of a second: the answer must still be a real p-center
    // solution with a bound below it, and the longer run's answer no worse than its bound.
    let mut rng = Rng::new(5);
    let inst = random_instance(&mut rng, 900, 900, 0);
    let mut short = params(Model::PCenter { p: 40 }, Method::Auto);
    short.time_limit = Duration::from_millis(300);
    let s = solve(&inst, &short).unwrap();
    assert_eq!(s.new_sites.len(), 40);
    assert!(
        (pcenter_cost(&inst, &s.open) - s.objective).abs() < 1e-9,
        "{}",
        s.objective
    );
    assert!(
        s.bound <= s.objective + 1e-9,
        "{} > {}",
        s.bound,
        s.objective
    );
    let mut long = params(Model::PCenter { p: 40 }, Method::Auto);
    long.time_limit = Duration::from_secs(20);
    let l = solve(&inst, &long).unwrap();
    // Each run's bound is a true lower bound, so it cannot exceed the other run's solution.
    assert!(s.bound <= l.objective + 1e-9 && l.bound <= s.objective + 1e-9);
    assert!(
        l.bound >= s.bound - 1e-9 || l.optimal,
        "{} < {}",
        l.bound,
        s.bound
    );
}
