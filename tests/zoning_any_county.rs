//! Zone proposals on counties unlike the demo (issue 15): generated counties with strong
//! villages clustered by a spatial income trend, dense and sparse areas, townships without a
//! county-wide strong village, islands, strong villages with only strong neighbours; and
//! random tilings with a **planted** valid zoning, on which the proposer must always succeed.
//!
//! Every "infeasible" is checked here independently of the engine: the certificate's area and
//! numbers are recomputed from the graph (reach through weak villages, group closure and
//! counts), and every suggested relaxation is re-run and must give a valid zoning.

use std::collections::VecDeque;

use geo::{MultiPolygon, Rect, coord};
use liancun::engine::contiguity::{ContiguityGraph, ContiguityParams};
use liancun::engine::random::Rng;
use liancun::engine::zoning::certify::Certificate;
use liancun::engine::zoning::propose::{Proposal, ProposeParams, ZoningError, propose};
use liancun::engine::zoning::relax::relaxations;
use liancun::engine::zoning::{
    Bounds, Objective, StrongRule, ZoningVillage, connected_parts, strong_villages,
};

fn cell(x: f64, y: f64, size: f64) -> MultiPolygon<f64> {
    MultiPolygon(vec![
        Rect::new(coord! {x: x, y: y}, coord! {x: x + size, y: y + size}).to_polygon(),
    ])
}

/// A generated county: a G×G grid of 1 km cells, cells near a random centre split in four
/// (dense area), random cells missing (ragged outline, holes, islands), townships as 4×4
/// blocks of the base grid, income following a spatial trend plus noise; strong villages are
/// the top 20 % by income county-wide (so they cluster on the rich side) — or, with
/// `strong_in_town`, the top 20 % within each township.
fn trend_county(
    rng: &mut Rng,
    strong_in_town: bool,
) -> (Vec<ZoningVillage>, ContiguityGraph, Vec<MultiPolygon<f64>>) {
    let g = 8 + rng.below(9);
    let (cx, cy) = (rng.next_f64() * g as f64, rng.next_f64() * g as f64);
    let dense_r = 1.5 + rng.next_f64() * 3.0;
    let holes = rng.next_f64() * 0.12;
    let angle = rng.next_f64() * std::f64::consts::TAU;
    let mut polys = Vec::new();
    let mut villages = Vec::new();
    for r in 0..g {
        for c in 0..g {
            if rng.next_f64() < holes {
                continue;
            }
            let (x, y) = (c as f64 * 1000.0, r as f64 * 1000.0);
            let dense =
                ((c as f64 + 0.5 - cx).powi(2) + (r as f64 + 0.5 - cy).powi(2)).sqrt() < dense_r;
            let subs: Vec<(f64, f64, f64)> = if dense {
                vec![
                    (x, y, 500.0),
                    (x + 500.0, y, 500.0),
                    (x, y + 500.0, 500.0),
                    (x + 500.0, y + 500.0, 500.0),
                ]
            } else {
                vec![(x, y, 1000.0)]
            };
            for (sx, sy, size) in subs {
                let i = villages.len();
                let town = format!("3703231{:02}", c / 4 + 10 * (r / 4));
                let trend = (sx * angle.cos() + sy * angle.sin()) / (1000.0 * g as f64);
                let income = (10.0 + 60.0 * (trend + 1.0) / 2.0 + 8.0 * rng.normal()).max(0.5);
                let population = if dense {
                    600.0 + rng.below(1500) as f64
                } else {
                    900.0 + rng.below(2500) as f64
                };
                villages.push(ZoningVillage {
                    code: format!("{town}{:03}", i % 1000),
                    name: format!("村{i}"),
                    town_code: town,
                    population,
                    income,
                    industry: ["苹果", "蔬菜", "桃", "粮食"][rng.below(4)].into(),
                    strong: false,
                    anchor: coord! {x: sx + size / 2.0, y: sy + size / 2.0},
                    area_m2: size * size,
                    perimeter_m: 4.0 * size,
                    attributes: vec![population, income],
                });
                polys.push(cell(sx, sy, size));
            }
        }
    }
    let incomes: Vec<f64> = villages.iter().map(|v| v.income).collect();
    let codes: Vec<String> = (0..villages.len()).map(|i| format!("{i:06}")).collect();
    let towns: Vec<String> = villages.iter().map(|v| v.town_code.clone()).collect();
    let rule = if strong_in_town {
        StrongRule::TopIncomeShareInTown(0.2)
    } else {
        StrongRule::TopIncomeShare(0.2)
    };
    let strong = strong_villages(&vec![None; villages.len()], &incomes, &codes, &towns, rule);
    for (v, s) in villages.iter_mut().zip(strong) {
        v.strong = s;
    }
    // Codes unique (the town prefix plus a running number).
    for (i, v) in villages.iter_mut().enumerate() {
        v.code = format!("{}{:03}", v.town_code, i % 1000);
    }
    let graph = ContiguityGraph::build(&polys, &ContiguityParams::default());
    (villages, graph, polys)
}

/// Checks a zoning against every bound, independently of the engine.
fn assert_valid(
    villages: &[ZoningVillage],
    graph: &ContiguityGraph,
    params: &ProposeParams,
    p: &Proposal,
    case: &str,
) {
    let nb = graph.neighbour_lists(params.queen);
    let b = &params.bounds;
    let mut seen = vec![0usize; villages.len()];
    for (zi, z) in p.zones.iter().enumerate() {
        for &v in &z.members {
            seen[v] += 1;
        }
        assert_eq!(
            connected_parts(&z.members, &nb).len(),
            1,
            "{case}: zone {zi} not connected"
        );
        if z.locked {
            // Kept as given (e.g. an island kept as its own zone): outside the bounds.
            assert!(params.locked.iter().any(|l| {
                let mut l = l.clone();
                l.sort_unstable();
                l == z.members
            }));
            continue;
        }
        let n = z.members.len();
        assert!(
            n >= b.min_members && n <= b.max_members,
            "{case}: zone {zi} has {n} members"
        );
        let pop: f64 = z.members.iter().map(|&v| villages[v].population).sum();
        assert!(
            b.pop_floor.is_none_or(|f| pop >= f),
            "{case}: {pop} < floor"
        );
        assert!(
            b.pop_ceiling.is_none_or(|c| pop <= c),
            "{case}: {pop} > ceiling"
        );
        if b.require_strong {
            assert!(
                z.members
                    .iter()
                    .any(|&v| villages[v].strong || params.mutual_aid.contains(&v)),
                "{case}: zone {zi} without a strong village or mutual-aid leader"
            );
        }
        if b.within_town {
            let t = &villages[z.members[0]].town_code;
            assert!(
                z.members.iter().all(|&v| &villages[v].town_code == t),
                "{case}: zone {zi} crosses townships"
            );
        }
    }
    assert!(
        seen.iter().all(|&c| c == 1),
        "{case}: a village in zero or two zones"
    );
    if let Some(k) = params.zones {
        assert_eq!(p.zones.len(), k, "{case}: exact zone count");
    }
}

/// The adjacency zones may use: rook/queen, cut at township borders when asked.
fn usable_adjacency(
    villages: &[ZoningVillage],
    graph: &ContiguityGraph,
    params: &ProposeParams,
) -> Vec<Vec<usize>> {
    graph
        .neighbour_lists(params.queen)
        .into_iter()
        .enumerate()
        .map(|(v, ns)| {
            ns.into_iter()
                .filter(|&w| {
                    !params.bounds.within_town || villages[w].town_code == villages[v].town_code
                })
                .collect()
        })
        .collect()
}

/// Re-derives a certificate from the graph (never from the engine's own code) and checks that
/// it proves what it says.
fn check_certificate(
    villages: &[ZoningVillage],
    graph: &ContiguityGraph,
    params: &ProposeParams,
    c: &Certificate,
    case: &str,
) {
    let b = &params.bounds;
    let nb = usable_adjacency(villages, graph, params);
    let leader = |v: usize| villages[v].strong || params.mutual_aid.contains(&v);
    match c.constraint {
        "strong_reach" | "strong_reach_population" => {
            let m = b.max_members;
            let mut reach_all: Vec<usize> = Vec::new();
            for &x in &c.villages {
                assert!(!leader(x), "{case}: a strong village in the weak area");
                // BFS through weak villages: depth ≤ m − 2, strong neighbours at ≤ m − 1 steps.
                let mut depth = vec![usize::MAX; villages.len()];
                depth[x] = 0;
                let mut q = VecDeque::from([x]);
                while let Some(w) = q.pop_front() {
                    for &y in &nb[w] {
                        if leader(y) {
                            if depth[w] < m - 1 && !reach_all.contains(&y) {
                                reach_all.push(y);
                            }
                        } else if depth[y] == usize::MAX && depth[w] < m - 2 {
                            depth[y] = depth[w] + 1;
                            q.push_back(y);
                        }
                    }
                }
            }
            for s in &reach_all {
                assert!(
                    c.strong.contains(s),
                    "{case}: the area reaches strong village {s}, not in the certificate"
                );
            }
            if c.constraint == "strong_reach" {
                // Room: a zone whose strong village s is ℓ_s steps from the nearest village of
                // the area passes ℓ_s − 1 nearer villages and takes at most m − ℓ_s of them.
                let mut nearest: std::collections::BTreeMap<usize, usize> = Default::default();
                for &x in &c.villages {
                    let mut depth = vec![usize::MAX; villages.len()];
                    depth[x] = 0;
                    let mut q = VecDeque::from([x]);
                    while let Some(w) = q.pop_front() {
                        for &y in &nb[w] {
                            if leader(y) {
                                if depth[w] < m - 1 {
                                    let l = nearest.entry(y).or_insert(usize::MAX);
                                    *l = (*l).min(depth[w] + 1);
                                }
                            } else if depth[y] == usize::MAX && depth[w] < m - 2 {
                                depth[y] = depth[w] + 1;
                                q.push_back(y);
                            }
                        }
                    }
                }
                let room: usize = nearest.values().map(|&l| m - l).sum();
                assert!(
                    c.villages.len() > room,
                    "{case}: {} weak villages, room for {room} — no contradiction",
                    c.villages.len()
                );
            } else {
                let ceiling = b.pop_ceiling.expect("a ceiling");
                let need: f64 = c.villages.iter().map(|&v| villages[v].population).sum();
                let room: f64 = c
                    .strong
                    .iter()
                    .map(|&s| (ceiling - villages[s].population).max(0.0))
                    .sum();
                assert!(need > room, "{case}: population fits");
            }
        }
        "strong" | "min_members" | "pop_floor" | "bounds" => {
            // The area is a closed connected group: connected, and no usable edge leaves it.
            assert_eq!(connected_parts(&c.villages, &nb).len(), 1, "{case}: group");
            for &v in &c.villages {
                for &w in &nb[v] {
                    assert!(c.villages.contains(&w), "{case}: the group is not closed");
                }
            }
            let n = c.villages.len();
            let pop: f64 = c.villages.iter().map(|&v| villages[v].population).sum();
            let strong = c.villages.iter().filter(|&&v| leader(v)).count();
            match c.constraint {
                "strong" => assert_eq!(strong, 0, "{case}"),
                "min_members" => assert!(n < b.min_members, "{case}"),
                "pop_floor" => assert!(pop < b.pop_floor.unwrap(), "{case}"),
                _ => {
                    let lo = n
                        .div_ceil(b.max_members)
                        .max(b.pop_ceiling.map_or(1, |c| (pop / c).ceil() as usize));
                    let mut hi = n / b.min_members;
                    if b.require_strong {
                        hi = hi.min(strong);
                    }
                    if let Some(f) = b.pop_floor {
                        hi = hi.min((pop / f).floor() as usize);
                    }
                    assert!(lo > hi, "{case}: {lo} ≤ {hi}, no contradiction");
                }
            }
        }
        "pop_ceiling" => {
            let c_ = b.pop_ceiling.unwrap();
            assert!(c.villages.iter().all(|&v| villages[v].population > c_));
        }
        other => panic!("{case}: unexpected certificate {other}"),
    }
}

/// Runs a proposal; success must be valid, infeasibility must carry checked certificates and
/// verified relaxations; "not found" fails the test. Returns whether it succeeded.
fn run_case(
    villages: &[ZoningVillage],
    graph: &ContiguityGraph,
    params: &ProposeParams,
    case: &str,
) -> bool {
    match propose(villages, graph, params) {
        Ok(p) => {
            assert_valid(villages, graph, params, &p, case);
            true
        }
        Err(ZoningError::Infeasible(certs)) => {
            assert!(!certs.is_empty());
            for c in &certs {
                check_certificate(villages, graph, params, c, case);
            }
            let relaxed = relaxations(
                villages,
                graph,
                params,
                &certs,
                std::time::Duration::from_secs(20),
            );
            assert!(
                !relaxed.is_empty(),
                "{case}: no relaxation offered for {certs:?}"
            );
            for r in &relaxed {
                let p2 = r.relaxation.apply(params);
                let v2 = r.relaxation.apply_villages(villages);
                let z = propose(&v2, graph, &p2).unwrap_or_else(|e| {
                    panic!("{case}: relaxation {:?} does not work: {e}", r.relaxation)
                });
                assert_valid(&v2, graph, &p2, &z, &format!("{case} relaxed"));
            }
            false
        }
        Err(e) => panic!("{case}: {e}"),
    }
}

fn quick(bounds: Bounds, seed: u64) -> ProposeParams {
    ProposeParams {
        bounds,
        seed,
        effort: 20,
        min_moves: 0,
        time_limit: std::time::Duration::from_secs(20),
        ..ProposeParams::default()
    }
}

#[test]
fn generated_counties_with_clustered_strong_villages_are_zoned_or_proven_infeasible() {
    let mut rng = Rng::new(2026_1204);
    let (mut ok, mut proven) = (0, 0);
    // The features the counties must show between them (checked at the end).
    let (mut islands_seen, mut poor_town_seen, mut walled_strong_seen, mut dense_seen) =
        (false, false, false, false);
    for case in 0..16 {
        let (villages, graph, _) = trend_county(&mut rng, false);
        let nb = graph.neighbour_lists(false);
        islands_seen |= graph.components.len() > 1;
        dense_seen |= villages.iter().any(|v| v.area_m2 < 300_000.0)
            && villages.iter().any(|v| v.area_m2 > 900_000.0);
        walled_strong_seen |= (0..villages.len()).any(|v| {
            villages[v].strong && !nb[v].is_empty() && nb[v].iter().all(|&w| villages[w].strong)
        });
        let mut towns: Vec<&str> = villages.iter().map(|v| v.town_code.as_str()).collect();
        towns.sort_unstable();
        towns.dedup();
        poor_town_seen |= towns
            .iter()
            .any(|t| !villages.iter().any(|v| v.town_code == *t && v.strong));
        let (islands, strong) = (
            graph.components.len(),
            villages.iter().filter(|v| v.strong).count(),
        );
        // The planners' defaults (2–10, strong leads weak), then a wide ceiling of 30.
        for (label, max) in [("default", 10), ("max30", 30)] {
            let params = quick(
                Bounds {
                    max_members: max,
                    ..Bounds::default()
                },
                case,
            );
            let name = format!(
                "case {case} {label} ({} villages, {strong} strong, {islands} components)",
                villages.len()
            );
            if run_case(&villages, &graph, &params, &name) {
                ok += 1;
            } else {
                proven += 1;
            }
        }
    }
    assert!(ok > 0 && ok + proven == 32, "{ok} zoned, {proven} proven");
    assert!(
        islands_seen && poor_town_seen && walled_strong_seen && dense_seen,
        "islands {islands_seen}, a township without a strong village {poor_town_seen}, a strong village with only strong neighbours {walled_strong_seen}, dense and sparse areas {dense_seen}"
    );
}

#[test]
fn strong_share_per_township_zones_within_townships() {
    let mut rng = Rng::new(77);
    for case in 0..8 {
        let (villages, graph, _) = trend_county(&mut rng, true);
        // Every township has a strong village by construction.
        let mut towns: Vec<&str> = villages.iter().map(|v| v.town_code.as_str()).collect();
        towns.sort_unstable();
        towns.dedup();
        for t in towns {
            assert!(villages.iter().any(|v| v.town_code == t && v.strong));
        }
        let params = quick(
            Bounds {
                within_town: true,
                max_members: 12,
                ..Bounds::default()
            },
            case,
        );
        run_case(&villages, &graph, &params, &format!("town case {case}"));
    }
}

#[test]
fn population_floor_without_zone_count_finds_many_zones() {
    let mut rng = Rng::new(5);
    for case in 0..8 {
        let (villages, graph, _) = trend_county(&mut rng, false);
        let pops: Vec<f64> = villages.iter().map(|v| v.population).collect();
        let mut sorted = pops.clone();
        sorted.sort_by(f64::total_cmp);
        let floor = 3.0 * sorted[sorted.len() / 2];
        let params = quick(
            Bounds {
                min_members: 1,
                max_members: villages.len(),
                pop_floor: Some(floor),
                require_strong: false,
                ..Bounds::default()
            },
            case,
        );
        let name = format!("maxp case {case}");
        match propose(&villages, &graph, &params) {
            Ok(p) => {
                assert_valid(&villages, &graph, &params, &p, &name);
                // Max-p: far from one zone per component. Σ pop / (2·floor) is a loose lower
                // bound of what a floor-sized growth reaches on tilings like these.
                let total: f64 = pops.iter().sum();
                assert!(
                    p.zones.len() as f64 >= total / (2.0 * floor) - graph.components.len() as f64,
                    "{name}: only {} zones",
                    p.zones.len()
                );
                assert!(p.zones.len() <= p.zones_upper_bound);
            }
            Err(ZoningError::Infeasible(certs)) => {
                for c in &certs {
                    check_certificate(&villages, &graph, &params, c, &name);
                }
            }
            Err(e) => panic!("{name}: {e}"),
        }
    }
}

/// A random tiling with a planted zoning: cells of a grid are grown into zones of random size
/// within the bounds; cells that cannot join a zone are dropped from the county, so every
/// village left is in a planted zone. Strong villages only where the planted zones allow: one
/// per zone at least, sometimes several side by side (strong villages whose neighbours are all
/// strong); townships are unions of planted zones.
struct Planted {
    villages: Vec<ZoningVillage>,
    graph: ContiguityGraph,
    zones: Vec<Vec<usize>>,
    min: usize,
    max: usize,
}

fn planted(rng: &mut Rng) -> Planted {
    let (cols, rows) = (6 + rng.below(12), 5 + rng.below(12));
    let min = 1 + rng.below(3);
    let max = min + 1 + rng.below(8);
    let hole_rate = rng.next_f64() * 0.2;
    let mut present = vec![true; cols * rows];
    for p in present.iter_mut() {
        if rng.next_f64() < hole_rate {
            *p = false;
        }
    }
    let nbr = |i: usize| -> Vec<usize> {
        let (r, c) = (i / cols, i % cols);
        let mut out = Vec::new();
        if r > 0 {
            out.push(i - cols);
        }
        if r + 1 < rows {
            out.push(i + cols);
        }
        if c > 0 {
            out.push(i - 1);
        }
        if c + 1 < cols {
            out.push(i + 1);
        }
        out
    };
    let mut zone = vec![usize::MAX; cols * rows];
    let mut zones: Vec<Vec<usize>> = Vec::new();
    let mut order: Vec<usize> = (0..cols * rows).collect();
    for i in (1..order.len()).rev() {
        order.swap(i, rng.below(i + 1));
    }
    for &start in &order {
        if !present[start] || zone[start] != usize::MAX {
            continue;
        }
        let target = min + rng.below(max - min + 1);
        let id = zones.len();
        let mut members = vec![start];
        zone[start] = id;
        let mut frontier = nbr(start);
        while members.len() < target {
            frontier.retain(|&w| present[w] && zone[w] == usize::MAX);
            if frontier.is_empty() {
                break;
            }
            let w = frontier.swap_remove(rng.below(frontier.len()));
            zone[w] = id;
            members.push(w);
            frontier.extend(nbr(w));
        }
        if members.len() < min {
            // Too small: join a neighbouring zone with room, else drop the cells.
            let host = members
                .iter()
                .flat_map(|&m| nbr(m))
                .filter(|&w| present[w] && zone[w] != usize::MAX && zone[w] != id)
                .map(|w| zone[w])
                .find(|&z| zones[z].len() + members.len() <= max);
            for &m in &members {
                match host {
                    Some(z) => {
                        zone[m] = z;
                        zones[z].push(m);
                    }
                    None => {
                        zone[m] = usize::MAX;
                        present[m] = false;
                    }
                }
            }
            zones.push(Vec::new());
            continue;
        }
        zones.push(members);
    }
    // Re-index the cells that are left.
    let mut index = vec![usize::MAX; cols * rows];
    let mut polys = Vec::new();
    let mut cells = Vec::new();
    for i in 0..cols * rows {
        if present[i] {
            index[i] = polys.len();
            polys.push(cell(
                (i % cols) as f64 * 300.0,
                (i / cols) as f64 * 300.0,
                300.0,
            ));
            cells.push(i);
        }
    }
    let zones: Vec<Vec<usize>> = zones
        .into_iter()
        .filter(|z| !z.is_empty())
        .map(|z| z.into_iter().map(|c| index[c]).collect())
        .collect();
    let n = polys.len();
    let mut zone_of = vec![0; n];
    for (zi, z) in zones.iter().enumerate() {
        for &v in z {
            zone_of[v] = zi;
        }
    }
    let mut strong = vec![false; n];
    for z in &zones {
        strong[z[rng.below(z.len())]] = true;
        if rng.next_f64() < 0.3 {
            // A cluster of strong villages: several members of this zone strong.
            for &v in z {
                if rng.next_f64() < 0.6 {
                    strong[v] = true;
                }
            }
        }
    }
    // Townships: unions of planted zones, by the zone's first cell on a coarse grid.
    let villages: Vec<ZoningVillage> = (0..n)
        .map(|v| {
            let c0 = cells[zones[zone_of[v]][0]];
            let town = format!("3703231{:02}", (c0 % cols) / 5 + 10 * ((c0 / cols) / 5));
            let population = (300 + rng.below(2500)) as f64;
            let income = if strong[v] { 40.0 } else { 10.0 } + 20.0 * rng.next_f64();
            ZoningVillage {
                code: format!("{town}{:03}", v % 1000),
                name: format!("村{v}"),
                town_code: town,
                population,
                income,
                industry: ["苹果", "蔬菜", "桃"][rng.below(3)].into(),
                strong: strong[v],
                anchor: coord! {
                    x: (cells[v] % cols) as f64 * 300.0 + 150.0,
                    y: (cells[v] / cols) as f64 * 300.0 + 150.0
                },
                area_m2: 90_000.0,
                perimeter_m: 1200.0,
                attributes: vec![population, income],
            }
        })
        .collect();
    let graph = ContiguityGraph::build(&polys, &ContiguityParams::default());
    Planted {
        villages,
        graph,
        zones,
        min,
        max,
    }
}

#[test]
fn planted_zonings_are_always_found() {
    let mut rng = Rng::new(15);
    let mut cases = 0;
    for case in 0..120 {
        let pl = planted(&mut rng);
        if pl.villages.is_empty() {
            continue;
        }
        let pops: Vec<f64> = pl
            .zones
            .iter()
            .map(|z| z.iter().map(|&v| pl.villages[v].population).sum())
            .collect();
        let (lo, hi) = pops
            .iter()
            .fold((f64::INFINITY, 0.0f64), |(a, b), &p| (a.min(p), b.max(p)));
        let use_floor = rng.next_f64() < 0.5;
        let use_ceiling = rng.next_f64() < 0.4;
        let params = ProposeParams {
            bounds: Bounds {
                min_members: pl.min,
                max_members: pl.max,
                pop_floor: use_floor.then(|| (lo * (0.6 + 0.4 * rng.next_f64())).floor()),
                pop_ceiling: use_ceiling.then(|| (hi * (1.0 + 0.5 * rng.next_f64())).ceil()),
                require_strong: rng.next_f64() < 0.8,
                within_town: rng.next_f64() < 0.3,
            },
            objective: Objective {
                heterogeneity: rng.next_f64(),
                ..Objective::default()
            },
            // Half the cases ask for the planted count exactly.
            zones: (rng.next_f64() < 0.5).then_some(pl.zones.len()),
            seed: rng.next_u64(),
            effort: 10,
            min_moves: 0,
            time_limit: std::time::Duration::from_secs(30),
            ..ProposeParams::default()
        };
        // The planted zoning itself meets every bound (the test's own premise).
        let planted_proposal_ok = pl.zones.iter().all(|z| {
            let pop: f64 = z.iter().map(|&v| pl.villages[v].population).sum();
            z.len() >= pl.min
                && z.len() <= pl.max
                && params.bounds.pop_floor.is_none_or(|f| pop >= f)
                && params.bounds.pop_ceiling.is_none_or(|c| pop <= c)
                && z.iter().any(|&v| pl.villages[v].strong)
        });
        assert!(planted_proposal_ok, "case {case}: bad plant");
        let name = format!(
            "planted case {case} ({} villages, {} zones, {}–{}, {:?})",
            pl.villages.len(),
            pl.zones.len(),
            pl.min,
            pl.max,
            params.bounds
        );
        match propose(&pl.villages, &pl.graph, &params) {
            Ok(p) => assert_valid(&pl.villages, &pl.graph, &params, &p, &name),
            Err(e) => panic!("{name}: a valid zoning exists, but: {e}"),
        }
        cases += 1;
    }
    assert!(cases > 100);
}
