//! Zoning: property tests on random tilings (every zone connected, every village in exactly one
//! zone, every bound held — or the request rejected as infeasible), bad requests and their
//! errors, and the CLI end to end on the demo county.

mod common;

use std::collections::BTreeMap;

use common::*;
use geo::{MultiPolygon, Rect, coord};
use liancun::engine::contiguity::{ContiguityGraph, ContiguityParams};
use liancun::engine::random::Rng;
use liancun::engine::zoning::evaluate::evaluate;
use liancun::engine::zoning::propose::{ProposeParams, ZoningError, propose};
use liancun::engine::zoning::{Bounds, Objective, ZoningVillage, connected_parts};
use serde_json::Value as Json;

/// A random tiling: a grid of 200 m cells with random cells missing (ragged outlines, holes,
/// islands), random populations, incomes, industries and strong villages.
fn random_county(rng: &mut Rng) -> (Vec<ZoningVillage>, ContiguityGraph) {
    let (cols, rows) = (6 + rng.below(10), 5 + rng.below(10));
    let hole_rate = rng.next_f64() * 0.25;
    let mut polygons = Vec::new();
    let mut villages = Vec::new();
    for r in 0..rows {
        for c in 0..cols {
            if rng.next_f64() < hole_rate {
                continue;
            }
            let (x, y) = (c as f64 * 200.0, r as f64 * 200.0);
            let mp = MultiPolygon(vec![
                Rect::new(coord! {x: x, y: y}, coord! {x: x + 200.0, y: y + 200.0}).to_polygon(),
            ]);
            let i = villages.len();
            let income = 5.0 + 60.0 * rng.next_f64().powi(2);
            villages.push(ZoningVillage {
                code: format!("3703231{:02}{:03}", c / 4 + 10 * (r / 4), i),
                name: format!("村{i}"),
                town_code: format!("3703231{:02}", c / 4 + 10 * (r / 4)),
                population: (300 + rng.below(3000)) as f64,
                income,
                industry: ["苹果", "蔬菜", "桃", "粮食"][rng.below(4)].into(),
                strong: rng.next_f64() < 0.25,
                anchor: coord! {x: x + 100.0, y: y + 100.0},
                area_m2: 40_000.0,
                perimeter_m: 800.0,
                attributes: vec![income, rng.next_f64()],
            });
            polygons.push(mp);
        }
    }
    let graph = ContiguityGraph::build(&polygons, &ContiguityParams::default());
    (villages, graph)
}

fn random_params(rng: &mut Rng, villages: &[ZoningVillage]) -> ProposeParams {
    let total_pop: f64 = villages.iter().map(|v| v.population).sum();
    let min_members = 1 + rng.below(3);
    let max_members = min_members + 2 + rng.below(8);
    let mean = total_pop / villages.len().max(1) as f64;
    ProposeParams {
        bounds: Bounds {
            min_members,
            max_members,
            pop_floor: (rng.next_f64() < 0.5).then(|| mean * (1.0 + 2.0 * rng.next_f64())),
            pop_ceiling: (rng.next_f64() < 0.3).then(|| mean * (6.0 + 10.0 * rng.next_f64())),
            require_strong: rng.next_f64() < 0.7,
            within_town: rng.next_f64() < 0.3,
        },
        objective: Objective {
            heterogeneity: rng.next_f64(),
            ..Objective::default()
        },
        zones: None,
        seed: rng.next_u64(),
        effort: 50,
        min_moves: 0,
        ..ProposeParams::default()
    }
}

#[test]
fn proposals_on_random_tilings_hold_every_bound_or_are_rejected() {
    let mut rng = Rng::new(20261123);
    let (mut solved, mut infeasible) = (0, 0);
    for case in 0..120 {
        let (villages, graph) = random_county(&mut rng);
        let params = random_params(&mut rng, &villages);
        match propose(&villages, &graph, &params) {
            Ok(p) => {
                solved += 1;
                let nb = graph.neighbour_lists(false);
                let mut seen = vec![0usize; villages.len()];
                let mut zone_of = vec![None; villages.len()];
                for (zi, z) in p.zones.iter().enumerate() {
                    for &v in &z.members {
                        seen[v] += 1;
                        zone_of[v] = Some(format!("{zi}"));
                    }
                    assert_eq!(
                        connected_parts(&z.members, &nb).len(),
                        1,
                        "case {case}: zone {zi} not connected"
                    );
                    assert!(z.members.contains(&z.key_village));
                    let b = &params.bounds;
                    let n = z.members.len();
                    assert!(
                        n >= b.min_members && n <= b.max_members,
                        "case {case}: {n} members"
                    );
                    let pop: f64 = z.members.iter().map(|&v| villages[v].population).sum();
                    assert!(
                        b.pop_floor.is_none_or(|f| pop >= f),
                        "case {case}: {pop} below floor"
                    );
                    assert!(
                        b.pop_ceiling.is_none_or(|c| pop <= c),
                        "case {case}: {pop} above ceiling"
                    );
                    if b.require_strong {
                        assert!(
                            z.members.iter().any(|&v| villages[v].strong),
                            "case {case}: no strong village"
                        );
                        assert!(villages[z.key_village].strong);
                    }
                    if b.within_town {
                        assert!(z.members.iter().all(|&v| villages[v].town_code == villages[z.members[0]].town_code));
                    }
                }
                assert!(
                    seen.iter().all(|&c| c == 1),
                    "case {case}: a village in zero or two zones"
                );
                // The evaluator agrees: no violation, the same objective.
                let e = evaluate(
                    &villages,
                    &graph,
                    &zone_of,
                    &BTreeMap::new(),
                    &params.bounds,
                    &params.objective,
                    false,
                );
                assert_eq!((e.violations, e.disconnected_zones), (0, 0), "case {case}");
                assert!(
                    (e.terms.total - p.terms.total).abs() < 1e-6 * p.terms.total.abs().max(1.0)
                );
            }
            Err(ZoningError::Infeasible(certs)) => {
                // Proven: each certificate names its area and numbers that contradict
                // (tests/zoning_any_county.rs re-derives certificates from the graph).
                infeasible += 1;
                for c in &certs {
                    assert!(!c.detail.is_empty() && !c.constraint.is_empty());
                    assert!(
                        c.needed > c.available || c.constraint == "pop_ceiling",
                        "case {case}: {c:?}"
                    );
                }
            }
            Err(e) => panic!("case {case}: {e}"),
        }
    }
    // Both outcomes occur, so the test exercises both.
    assert!(
        solved > 30 && infeasible > 10,
        "{solved} solved, {infeasible} infeasible"
    );
}

#[test]
fn same_seed_same_zones() {
    let mut rng = Rng::new(7);
    let (villages, graph) = random_county(&mut rng);
    let params = ProposeParams {
        bounds: Bounds {
            require_strong: false,
            ..Bounds::default()
        },
        ..ProposeParams::default()
    };
    let a = propose(&villages, &graph, &params).unwrap();
    let b = propose(&villages, &graph, &params).unwrap();
    assert_eq!(a, b);
}

#[test]
fn infeasible_requests_name_the_constraint() {
    // Two separate 2×2 blocks; villages 0 and 4 strong.
    let square = |x: f64, y: f64| {
        MultiPolygon(vec![
            Rect::new(coord! {x: x, y: y}, coord! {x: x + 100.0, y: y + 100.0}).to_polygon(),
        ])
    };
    let polys: Vec<MultiPolygon<f64>> = [
        (0., 0.),
        (100., 0.),
        (0., 100.),
        (100., 100.),
        (1000., 0.),
        (1100., 0.),
        (1000., 100.),
        (1100., 100.),
    ]
    .iter()
    .map(|&(x, y)| square(x, y))
    .collect();
    let villages: Vec<ZoningVillage> = (0..8)
        .map(|i| ZoningVillage {
            code: format!("37032310000{i}"),
            name: format!("村{i}"),
            town_code: "370323100".into(),
            population: 1000.0,
            income: 10.0,
            industry: "桃".into(),
            strong: i == 0 || i == 4,
            anchor: geo::InteriorPoint::interior_point(&polys[i]).unwrap().0,
            area_m2: 1e4,
            perimeter_m: 400.0,
            attributes: vec![],
        })
        .collect();
    let graph = ContiguityGraph::build(&polys, &ContiguityParams::default());
    let run = |f: &dyn Fn(&mut ProposeParams)| {
        let mut p = ProposeParams::default();
        f(&mut p);
        propose(&villages, &graph, &p)
    };
    assert!(run(&|_| {}).is_ok());
    let constraint = |r: Result<_, ZoningError>| match r {
        Err(ZoningError::Infeasible(certs)) => (certs[0].constraint, certs[0].villages.len()),
        other => panic!("expected infeasible, got {other:?}"),
    };
    // A floor above the population of a block (4,000).
    assert_eq!(
        constraint(run(&|p| p.bounds.pop_floor = Some(5000.0))),
        ("pop_floor", 4)
    );
    // A ceiling below a single village.
    assert_eq!(
        constraint(run(&|p| p.bounds.pop_ceiling = Some(900.0))).0,
        "pop_ceiling"
    );
    // More zones than strong villages.
    assert_eq!(constraint(run(&|p| p.zones = Some(3))).0, "zones");
    // Islands: with one strong village fewer, the second block has none.
    let mut weak = villages.clone();
    weak[4].strong = false;
    let r = propose(&weak, &graph, &ProposeParams::default());
    assert!(
        matches!(r, Err(ZoningError::Infeasible(ref c)) if c[0].constraint == "strong" && c[0].detail.contains("--bridge"))
    );
    // Bounds that cannot meet: at most 1 member per zone needs 4 zones per block, 1 strong.
    assert_eq!(
        constraint(run(&|p| {
            p.bounds.min_members = 1;
            p.bounds.max_members = 1;
        }))
        .0,
        "bounds"
    );
    // Bad parameters are not infeasibility.
    assert!(matches!(
        run(&|p| p.bounds.min_members = 0),
        Err(ZoningError::BadParams {
            field: "min_members",
            ..
        })
    ));
    assert!(matches!(
        run(&|p| p.locked = vec![vec![99]]),
        Err(ZoningError::BadParams {
            field: "locked",
            ..
        })
    ));
}

#[test]
fn locked_zones_stay_as_given() {
    let mut rng = Rng::new(11);
    let (villages, graph) = random_county(&mut rng);
    let nb = graph.neighbour_lists(false);
    // Lock the first village and one of its neighbours.
    let v = (0..villages.len()).find(|&v| !nb[v].is_empty()).unwrap();
    let locked = vec![v, nb[v][0]];
    let params = ProposeParams {
        locked: vec![locked.clone()],
        bounds: Bounds {
            require_strong: false,
            ..Bounds::default()
        },
        ..ProposeParams::default()
    };
    match propose(&villages, &graph, &params) {
        Ok(p) => {
            let mut want = locked.clone();
            want.sort_unstable();
            let z = p.zones.iter().find(|z| z.locked).expect("the locked zone");
            assert_eq!(z.members, want);
        }
        Err(ZoningError::Infeasible(_)) => {} // locking may cut off a small group
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn cli_contiguity_propose_evaluate_on_the_demo_county() {
    let ws = demo_workspace("zoning_cli");
    let dir = ws.parent().unwrap().to_path_buf();
    let w = ws.to_str().unwrap();
    let o = liancun(&["contiguity", "-w", w]);
    assert!(o.status.success(), "{}", stderr(&o));
    let g: Json = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(g["villages"], 468);
    assert!(g["edges"].as_array().unwrap().len() > 1000);
    assert_eq!(g["components"], 1);

    let out = dir.join("proposal.json");
    let gj = dir.join("zones.geojson");
    let o = liancun(&[
        "zones",
        "propose",
        "-w",
        w,
        "--max-members",
        "12",
        "--attributes",
        "population,collective_income",
        "--seed",
        "3",
        "-o",
        out.to_str().unwrap(),
        "--geojson",
        gj.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let p: Json = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let zones = p["zones"].as_array().unwrap();
    let mut all: Vec<&str> = zones
        .iter()
        .flat_map(|z| {
            z["members"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m.as_str().unwrap())
        })
        .collect();
    all.sort_unstable();
    let n = all.len();
    all.dedup();
    assert_eq!((n, all.len()), (468, 468), "every village exactly once");
    assert!(
        zones
            .iter()
            .all(|z| !z["explanation"].as_str().unwrap().is_empty())
    );
    // Binding constraints are message codes with their parameter and both wordings, never a
    // Rust debug name such as `AtMaxMembers(12)`.
    let codes = [
        "at_max_members",
        "at_min_members",
        "near_floor",
        "near_ceiling",
        "single_strong",
        "whole_group",
        "within_town",
        "locked",
    ];
    let bindings: Vec<&Json> = zones
        .iter()
        .flat_map(|z| z["binding"].as_array().unwrap())
        .collect();
    assert!(!bindings.is_empty(), "some zone is shaped by a bound");
    for b in bindings {
        assert!(codes.contains(&b["code"].as_str().unwrap()), "{b}");
        assert!(!b["zh"].as_str().unwrap().is_empty() && !b["en"].as_str().unwrap().is_empty());
        if b["code"] == "at_max_members" {
            let v = b["value"].as_f64().unwrap();
            assert!(b["zh"].as_str().unwrap().contains(&format!("{v}")), "{b}");
        }
    }
    assert!(zones.iter().all(|z| {
        z["strong_villages"]
            .as_array()
            .unwrap()
            .contains(&z["key_village"])
    }));
    let fc: Json = serde_json::from_str(&std::fs::read_to_string(&gj).unwrap()).unwrap();
    assert_eq!(fc["features"].as_array().unwrap().len(), zones.len());

    // Evaluating the proposal finds nothing wrong; a hand-made zoning with a split zone is caught.
    let o = liancun(&[
        "zones",
        "evaluate",
        "-w",
        w,
        "--max-members",
        "12",
        "--zoning",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let e: Json = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(e["totals"]["violations"], 0);
    assert_eq!(e["totals"]["disconnected_zones"], 0);
    let codes: Vec<String> = zones
        .iter()
        .map(|z| z["members"][0].as_str().unwrap().to_string())
        .collect();
    let bad = dir.join("bad.csv");
    let mut csv = String::from("code,zone\n");
    for (i, c) in codes.iter().enumerate() {
        csv.push_str(&format!("{c},{}\n", if i < 2 { "A" } else { "B" }));
    }
    std::fs::write(&bad, csv).unwrap();
    let o = liancun(&[
        "zones",
        "evaluate",
        "-w",
        w,
        "--zoning",
        bad.to_str().unwrap(),
        "--format",
        "csv",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    // Zone B takes one village from each of the other zones: scattered over the county.
    let b_line = text.lines().find(|l| l.starts_with("B,")).unwrap();
    assert!(b_line.contains("false,disconnected"), "{text}");
    assert_eq!(text.lines().count(), 3);

    // Infeasible: exit 2 with the constraint named and the structured report (proven, the
    // certificate's numbers, verified relaxations with their flags) as JSON on standard output;
    // unknown codes and attributes: exit 1.
    let o = liancun(&["zones", "propose", "-w", w, "--pop-floor", "10000000"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("pop_floor"), "{}", stderr(&o));
    let report: Json = serde_json::from_str(&stdout(&o)).expect("a JSON report");
    assert_eq!(
        (&report["outcome"], &report["proven"], &report["constraint"]),
        (
            &Json::from("infeasible"),
            &Json::from(true),
            &Json::from("pop_floor")
        )
    );
    assert!(report["needed"].as_f64().unwrap() > report["available"].as_f64().unwrap());
    // At most 3 villages per zone with the demo's strong villages: proven impossible, and the
    // member ceiling suggested works when given back as its flag.
    let o = liancun(&[
        "zones",
        "propose",
        "-w",
        w,
        "--max-members",
        "3",
        "--time-limit",
        "20",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let report: Json = serde_json::from_str(&stdout(&o)).expect("a JSON report");
    assert_eq!(report["proven"], true, "{report}");
    let relax = report["relaxations"].as_array().unwrap();
    let max = relax
        .iter()
        .find(|r| r["kind"] == "max_members")
        .unwrap_or_else(|| panic!("no member-ceiling relaxation: {report}"));
    let m = max["request"]["max_members"].as_u64().unwrap().to_string();
    assert!(max["cli"].as_str().unwrap().contains(&m));
    let o = liancun(&["zones", "propose", "-w", w, "--max-members", &m]);
    assert!(o.status.success(), "{}", stderr(&o));
    std::fs::write(dir.join("unknown.json"), r#"{"999999999999": "A"}"#).unwrap();
    let o = liancun(&[
        "zones",
        "evaluate",
        "-w",
        w,
        "--zoning",
        dir.join("unknown.json").to_str().unwrap(),
    ]);
    // A refused input exits 2 naming the field, as every refused input does.
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("(zoning)"), "{}", stderr(&o));
    assert!(stderr(&o).contains("999999999999"), "{}", stderr(&o));
    let o = liancun(&["zones", "propose", "-w", w, "--attributes", "name"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("(attributes)"), "{}", stderr(&o));
    assert!(stderr(&o).contains("numeric"), "{}", stderr(&o));
}

mod http {
    use super::*;
    use axum::http::StatusCode;
    use liancun::api::{AppState, router};
    use liancun::workspace::Workspace;
    use std::sync::Arc;

    #[tokio::test]
    async fn analysis_endpoints() {
        let ws_path = demo_workspace("zoning_http");
        let app = router(Arc::new(
            AppState::load(&Workspace::open(&ws_path).unwrap(), "t").unwrap(),
        ));

        let (status, _, g) = call(&app, "GET", "/analysis/contiguity", "").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(g["villages"], 468);
        let (status, ct, fc) = call(
            &app,
            "GET",
            "/analysis/contiguity?f=geojson&tolerance_m=2",
            "",
        )
        .await;
        assert_eq!(
            (status, ct.as_str()),
            (StatusCode::OK, "application/geo+json")
        );
        assert_eq!(fc["features"][0]["geometry"]["type"], "LineString");

        let (status, _, p) = call(
            &app,
            "POST",
            "/analysis/zones/propose",
            r#"{"max_members": 12, "seed": 5, "geojson": true}"#,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{p}");
        let zones = p["zones"].as_array().unwrap();
        let members: usize = zones
            .iter()
            .map(|z| z["members"].as_array().unwrap().len())
            .sum();
        assert_eq!(members, 468);
        assert_eq!(
            p["geojson"]["features"].as_array().unwrap().len(),
            zones.len()
        );

        // Map colours: two zones whose villages are neighbours (any contiguity edge, weak
        // corner touches included) never share a colour.
        let mut colour_of = std::collections::HashMap::new();
        for z in zones {
            for m in z["members"].as_array().unwrap() {
                colour_of.insert(
                    m.as_str().unwrap().to_string(),
                    (z["id"].clone(), z["colour"].as_u64().unwrap()),
                );
            }
        }
        let mut borders = 0;
        for edge in g["edges"].as_array().unwrap() {
            let (za, ca) = &colour_of[edge["a"].as_str().unwrap()];
            let (zb, cb) = &colour_of[edge["b"].as_str().unwrap()];
            if za != zb {
                borders += 1;
                assert_ne!(ca, cb, "zones {za} and {zb} touch and share colour {ca}");
            }
        }
        assert!(borders > zones.len(), "zones border each other: {borders}");
        assert!(
            colour_of.values().all(|(_, c)| *c < 6),
            "a handful of colours"
        );

        // The proposal evaluates clean; its zoning is accepted as it was returned.
        let body = serde_json::json!({"zoning": {"zones": p["zones"]}, "params": {"max_members": 12, "geojson": true}})
            .to_string();
        let (status, _, e) = call(&app, "POST", "/analysis/zones/evaluate", &body).await;
        assert_eq!(status, StatusCode::OK, "{e}");
        assert_eq!(e["totals"]["violations"], 0);
        assert_eq!(e["totals"]["zones"], zones.len());
        assert!(e["seconds"].as_f64().unwrap() > 0.0);
        // The same zoning as CSV text (a file a user uploads) evaluates the same.
        let mut csv = String::from("\u{feff}code,zone\r\n");
        for z in zones {
            for m in z["members"].as_array().unwrap() {
                csv.push_str(&format!(
                    "{},{}\r\n",
                    m.as_str().unwrap(),
                    z["id"].as_str().unwrap()
                ));
            }
        }
        let body_csv =
            serde_json::json!({"zoning": csv, "params": {"max_members": 12}}).to_string();
        let (status, _, e_csv) = call(&app, "POST", "/analysis/zones/evaluate", &body_csv).await;
        assert_eq!(status, StatusCode::OK, "{e_csv}");
        assert_eq!(
            e_csv["totals"]["heterogeneity"],
            e["totals"]["heterogeneity"]
        );
        assert_eq!(e_csv["totals"]["zones"], zones.len());
        let dissolved = e["geojson"]["features"].as_array().unwrap();
        assert_eq!(dissolved.len(), zones.len());
        for (f, z) in dissolved.iter().zip(e["zones"].as_array().unwrap()) {
            assert_eq!(f["properties"]["id"], z["id"]);
            assert_eq!(f["properties"]["colour"], z["colour"]);
        }

        // Infeasible → 422 naming the constraint; bad input → 400; all problem+json.
        let (status, ct, err) = call(
            &app,
            "POST",
            "/analysis/zones/propose",
            r#"{"pop_floor": 1e9}"#,
        )
        .await;
        assert_eq!(
            (status, ct.as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, "application/problem+json")
        );
        assert_eq!(err["constraint"], "pop_floor");
        assert_eq!(err["villages"].as_array().unwrap().len(), 468);
        assert_eq!(
            (&err["outcome"], &err["proven"]),
            (&serde_json::json!("infeasible"), &serde_json::json!(true))
        );
        assert_eq!(err["certificates"][0]["unit"], "people");
        // Every relaxation offered over HTTP is a request patch that works when merged in.
        let (status, _, err) = call(
            &app,
            "POST",
            "/analysis/zones/propose",
            r#"{"max_members": 3, "time_limit_s": 20}"#,
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        let relax = err["relaxations"].as_array().unwrap();
        assert!(!relax.is_empty(), "{err}");
        for r in relax {
            let mut body = serde_json::json!({"max_members": 3, "time_limit_s": 20});
            for (k, v) in r["request"].as_object().unwrap() {
                body[k] = v.clone();
            }
            let (status, _, p) =
                call(&app, "POST", "/analysis/zones/propose", &body.to_string()).await;
            assert_eq!(status, StatusCode::OK, "{r} → {p}");
        }
        let (status, _, err) = call(
            &app,
            "POST",
            "/analysis/zones/propose",
            r#"{"zones": 1000}"#,
        )
        .await;
        assert_eq!(
            (status, err["constraint"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("zones"))
        );
        for (method, uri, body) in [
            ("POST", "/analysis/zones/propose", r#"{"max_memberz": 3}"#),
            ("POST", "/analysis/zones/propose", r#"{"pop_floor": -5}"#),
            (
                "POST",
                "/analysis/zones/propose",
                r#"{"attributes": ["name"]}"#,
            ),
            (
                "POST",
                "/analysis/zones/propose",
                r#"{"locked": [["000000000000"]]}"#,
            ),
            ("POST", "/analysis/zones/propose", "not json"),
            (
                "POST",
                "/analysis/zones/evaluate",
                r#"{"zoning": {"999": "A"}}"#,
            ),
            ("POST", "/analysis/zones/evaluate", r#"{"params": {}}"#),
            ("GET", "/analysis/contiguity?tolerance_m=abc", ""),
            ("GET", "/analysis/contiguity?x=1", ""),
        ] {
            let (status, ct, err) = call(&app, method, uri, body).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{uri} {body}: {err}");
            assert_eq!(ct, "application/problem+json");
            assert!(!err["detail"].as_str().unwrap().is_empty());
        }
    }
}
