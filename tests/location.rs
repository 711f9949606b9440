//! Facility analyses end to end on the demo county: locate (every model, checked against the
//! objective recomputed from the returned sites), coverage (checked against a brute-force count),
//! key-village ranking, the service radius table, and what each bad request gets — from the CLI
//! and over HTTP.

mod common;

use common::*;
use serde_json::Value as Json;

fn run_json(args: &[&str]) -> Json {
    let o = liancun(args);
    assert!(o.status.success(), "{args:?}: {}", stderr(&o));
    serde_json::from_str(&stdout(&o)).unwrap()
}

/// The demo county for the tests that only read it.
fn shared_demo() -> std::path::PathBuf {
    static WS: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    WS.get_or_init(|| demo_workspace("location_cli")).clone()
}

#[test]
fn pmedian_is_optimal_serves_everyone_and_beats_its_heuristic() {
    let ws = shared_demo();
    let w = ws.to_str().unwrap();
    // p-median on village centroids: optimal, p sites, and the objective is what the sites give.
    let pm = run_json(&[
        "locate",
        "pmedian",
        "-w",
        w,
        "--p",
        "12",
        "--demand",
        "centroid",
        "--candidates",
        "centroid",
        "--time-limit",
        "300",
    ]);
    assert_eq!(pm["model"], "pmedian");
    assert_eq!(pm["optimal"], true, "{}", pm["method"]);
    assert!(pm["gap"].as_f64().unwrap() < 1e-6);
    let sites = pm["facilities"].as_array().unwrap();
    assert_eq!(sites.len(), 12);
    let served: f64 = sites
        .iter()
        .map(|f| f["allocated_population"].as_f64().unwrap())
        .sum();
    let villages = run_json(&["stats", "-w", w, "--format", "json"]);
    let total_pop: f64 = villages["villages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["population"].as_f64().unwrap_or(0.0))
        .sum();
    assert!(
        (served - total_pop).abs() < 1e-3 * total_pop,
        "{served} vs {total_pop}"
    );
    let mean_km = pm["objective"].as_f64().unwrap() / total_pop / 1000.0;
    assert!((0.5..6.0).contains(&mean_km), "mean distance {mean_km} km");

    // More sites never cost more; the heuristic is never better than the optimum.
    let pm20 = run_json(&[
        "locate",
        "pmedian",
        "-w",
        w,
        "--p",
        "20",
        "--demand",
        "centroid",
        "--candidates",
        "centroid",
        "--method",
        "heuristic",
    ]);
    // (Heuristic at p = 20 still beats the optimum at p = 12.)
    assert!(pm20["objective"].as_f64() < pm["objective"].as_f64());
    let h = run_json(&[
        "locate",
        "pmedian",
        "-w",
        w,
        "--p",
        "12",
        "--demand",
        "centroid",
        "--candidates",
        "centroid",
        "--method",
        "heuristic",
    ]);
    assert!(h["objective"].as_f64().unwrap() >= pm["objective"].as_f64().unwrap() * (1.0 - 1e-9));
}

#[test]
fn lscp_and_mclp_agree_on_how_many_sites_cover_everyone() {
    let ws = shared_demo();
    let w = ws.to_str().unwrap();
    // LSCP at 5 km covers everyone; MCLP with that many sites covers everyone too. (At 3 km the
    // demo is a hard set cover: about a minute of branch and bound in HiGHS.)
    let l = run_json(&[
        "locate",
        "lscp",
        "-w",
        w,
        "--radius",
        "5000",
        "--demand",
        "centroid",
        "--candidates",
        "centroid",
    ]);
    assert_eq!(l["optimal"], true);
    let k = l["objective"].as_f64().unwrap() as usize;
    assert_eq!(l["facilities"].as_array().unwrap().len(), k);
    let m = run_json(&[
        "locate",
        "mclp",
        "-w",
        w,
        "--radius",
        "5000",
        "--p",
        &k.to_string(),
        "--demand",
        "centroid",
        "--candidates",
        "centroid",
    ]);
    assert!(
        (m["covered_share"].as_f64().unwrap() - 1.0).abs() < 1e-9,
        "{m}"
    );
    let m_less = run_json(&[
        "locate",
        "mclp",
        "-w",
        w,
        "--radius",
        "5000",
        "--p",
        &(k - 3).to_string(),
        "--demand",
        "centroid",
        "--candidates",
        "centroid",
    ]);
    assert!(m_less["covered_share"].as_f64().unwrap() < 1.0);
    assert!(!m_less["uncovered_villages"].as_array().unwrap().is_empty());
}

#[test]
fn pcenter_objective_is_the_farthest_allocated_demand() {
    let ws = shared_demo();
    let w = ws.to_str().unwrap();
    // p-center: no demand farther than the objective from its nearest site.
    let pc = run_json(&[
        "locate",
        "pcenter",
        "-w",
        w,
        "--p",
        "10",
        "--demand",
        "centroid",
        "--candidates",
        "centroid",
        "--time-limit",
        "120",
    ]);
    let worst = pc["facilities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["allocated_farthest_m"].as_f64().unwrap())
        .fold(0.0, f64::max);
    assert!(
        (worst - pc["objective"].as_f64().unwrap()).abs() < 0.5,
        "{pc}"
    );
}

#[test]
fn existing_facilities_stay_open_and_coverage_recounts_its_villages() {
    let ws = shared_demo();
    let w = ws.to_str().unwrap();
    // Existing 卫生室 stay open; residential demand; new sites come on top.
    let with_existing = run_json(&["locate", "mclp", "-w", w, "--kind", "卫生室", "--p", "5"]);
    let existing = with_existing["existing_facilities"].as_u64().unwrap();
    assert!(existing > 50);
    assert_eq!(
        with_existing["facilities"].as_array().unwrap().len() as u64,
        existing + 5
    );
    assert_eq!(with_existing["demand"], "residential");
    assert!(with_existing["demand_points"].as_u64().unwrap() > 468);

    // Coverage of 卫生室 at 1 km: recount from the returned villages.
    let cov = run_json(&[
        "coverage",
        "-w",
        w,
        "--kind",
        "卫生室",
        "--demand",
        "centroid",
    ]);
    assert_eq!(cov["radius_m"], 1000.0);
    assert!(cov["radius_source"].as_str().unwrap().contains("TD/T 1062"));
    let vs = cov["villages"].as_array().unwrap();
    assert_eq!(vs.len(), 468);
    assert!(!cov["facilities"].as_array().unwrap().is_empty());
    let mut covered = 0.0;
    for v in vs {
        if v["covered"] == true {
            covered += v["population"].as_f64().unwrap();
        }
        let nm = v["nearest_m"].as_f64().unwrap();
        assert!(nm >= 0.0);
        assert_eq!(v["covered"] == true, nm <= 1000.0, "{v}");
    }
    assert!((covered - cov["totals"]["covered_population"].as_f64().unwrap()).abs() < 1.0);
    let uncovered = cov["uncovered_villages"].as_array().unwrap().len();
    assert_eq!(
        uncovered,
        468 - cov["totals"]["villages_covered"].as_u64().unwrap() as usize
    );
    // A larger radius covers at least as many people.
    let cov3 = run_json(&["coverage", "-w", w, "--kind", "卫生室", "--radius", "3000"]);
    assert!(
        cov3["totals"]["covered_population"].as_f64()
            >= cov["totals"]["covered_population"].as_f64()
    );
}

#[test]
fn centers_rank_a_township_by_code_or_name_in_json_and_csv() {
    let ws = shared_demo();
    let w = ws.to_str().unwrap();
    let villages = run_json(&["stats", "-w", w, "--format", "json"]);
    // Centers of a town: ranked, best first, with the breakdown.
    let town = villages["villages"][0]["code"].as_str().unwrap()[..9].to_string();
    let c = run_json(&["centers", "-w", w, "--town", &town]);
    let cands = c["candidates"].as_array().unwrap();
    assert!(cands.len() > 3);
    for pair in cands.windows(2) {
        assert!(pair[0]["score"].as_f64() >= pair[1]["score"].as_f64());
    }
    for k in ["strength", "centrality", "facilities", "industry"] {
        assert!(cands[0][k]["score"].is_number(), "{k}");
    }
    let median = c["one_median"]["code"].as_str().unwrap();
    let median_row = cands.iter().find(|r| r["code"] == median).unwrap();
    assert_eq!(median_row["centrality"]["score"], 1.0);
    // With centrality alone, the 1-median ranks first.
    let c2 = run_json(&[
        "centers",
        "-w",
        w,
        "--town",
        &town,
        "--weights",
        "strength=0,centrality=1,facilities=0,industry=0",
    ]);
    assert_eq!(c2["candidates"][0]["code"], median);
    // The township by its name (悦庄镇, as planners say it) ranks the same villages; the CSV has
    // one row per village in the same order, with the parts as columns.
    let town_name = villages["villages"][0]["town"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(!town_name.is_empty() && !town_name.starts_with(|c: char| c.is_ascii_digit()));
    let by_name = run_json(&["centers", "-w", w, "--town", &town_name]);
    assert_eq!(by_name["candidates"], c["candidates"]);
    let o = liancun(&["centers", "-w", w, "--town", &town_name, "--format", "csv"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let csv = stdout(&o);
    let rows: Vec<&str> = csv.lines().collect();
    assert!(rows[0].starts_with("排名 rank,村代码 code,村名 name,总分 score,实力 strength"));
    assert_eq!(rows.len(), cands.len() + 1);
    for (row, cand) in rows[1..].iter().zip(cands) {
        let cells: Vec<&str> = row.split(',').collect();
        assert_eq!(cells[1], cand["code"].as_str().unwrap());
        assert_eq!(cells[2], cand["name"].as_str().unwrap());
        assert_eq!(
            cells[3].parse::<f64>().unwrap(),
            cand["score"].as_f64().unwrap()
        );
    }
}

#[test]
fn the_radius_table_is_edited_read_back_and_reset() {
    let ws = demo_workspace("location_radii");
    let w = ws.to_str().unwrap();
    // The radius table: edit, read back, reset.
    let t = run_json(&[
        "radii",
        "-w",
        w,
        "--set",
        "卫生室=1500",
        "--source",
        "某省村卫生室布局导则",
    ]);
    let row = t
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["kind"] == "卫生室")
        .unwrap()
        .clone();
    assert_eq!(row["radius_m"], 1500.0);
    assert_eq!(row["source"], "某省村卫生室布局导则");
    let cov15 = run_json(&[
        "coverage",
        "-w",
        w,
        "--kind",
        "卫生室",
        "--demand",
        "centroid",
    ]);
    assert_eq!(cov15["radius_m"], 1500.0);
    let t = run_json(&["radii", "-w", w, "--reset"]);
    let row = t
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["kind"] == "卫生室")
        .unwrap()
        .clone();
    assert_eq!(row["radius_m"], 1000.0);
}

#[test]
fn bad_location_input_exits_2_naming_the_field() {
    let ws = shared_demo();
    let w = ws.to_str().unwrap();
    // Bad input: exit 2 and a message naming the field.
    for (args, needle) in [
        (vec!["locate", "lscp", "-w", w, "--radius", "0"], "radius"),
        (vec!["locate", "lscp", "-w", w, "--radius", "NaN"], "radius"),
        (vec!["locate", "mclp", "-w", w, "--radius", "1000"], "p"),
        (
            vec![
                "locate", "pmedian", "-w", w, "--p", "100000", "--demand", "centroid",
            ],
            "p = 100000",
        ),
        (vec!["locate", "nearest", "-w", w, "--p", "3"], "model"),
        (
            vec!["locate", "mclp", "-w", w, "--kind", "飞机场", "--p", "3"],
            "飞机场",
        ),
        (
            vec![
                "locate",
                "pmedian",
                "-w",
                w,
                "--p",
                "3",
                "--capacity",
                "10",
                "--demand",
                "centroid",
            ],
            "capacity",
        ),
        (
            vec![
                "locate", "lscp", "-w", w, "--radius", "10", "--demand", "centroid",
            ],
            "radius",
        ),
        (vec!["coverage", "-w", w, "--kind", "飞机场"], "飞机场"),
        (
            vec!["coverage", "-w", w, "--kind", "卫生室", "--radius=-5"],
            "radius",
        ),
        (
            vec!["centers", "-w", w, "--villages", "999999999999"],
            "999999999999",
        ),
        (vec!["centers", "-w", w, "--town", "不存在镇"], "不存在镇"),
        (vec!["radii", "-w", w, "--set", "卫生室=0"], "radius"),
    ] {
        let o = liancun(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(needle), "{args:?}: {}", stderr(&o));
    }
}

fn fails_naming(args: &[&str], field: &str) -> String {
    let o = liancun(args);
    assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
    let e = stderr(&o);
    assert!(
        e.contains(&format!("({field})")),
        "{args:?} should name {field}: {e}"
    );
    e
}

#[test]
fn network_distances_isochrones_and_what_bad_roads_get() {
    let ws = demo_workspace("location_network");
    let w = ws.to_str().unwrap();
    let dir = ws.parent().unwrap();
    let areas = dir.join("areas.geojson");
    let a = areas.to_str().unwrap();

    // Over the roads nobody is nearer than in a straight line, so coverage can only shrink.
    let cov = |extra: &[&str]| {
        let mut args = vec![
            "coverage",
            "-w",
            w,
            "--kind",
            "卫生室",
            "--demand",
            "representative",
        ];
        args.extend_from_slice(extra);
        run_json(&args)
    };
    let straight = cov(&[]);
    let network = cov(&["--distance", "network", "--areas", a]);
    assert_eq!(network["distance_mode"], "network");
    let covered = |c: &Json| c["totals"]["covered_population"].as_f64().unwrap();
    assert!(covered(&network) <= covered(&straight) + 1e-6);
    assert!(covered(&network) > 0.0);
    let sv = straight["villages"].as_array().unwrap();
    let nv = network["villages"].as_array().unwrap();
    for (s, n) in sv.iter().zip(nv) {
        assert_eq!(s["code"], n["code"]);
        let (ds, dn) = (
            s["nearest_m"].as_f64().unwrap(),
            n["nearest_m"].as_f64().unwrap(),
        );
        assert!(
            dn >= ds - 0.2,
            "{}: network {dn} < straight {ds}",
            s["code"]
        );
    }
    // One isochrone per facility, each a non-empty polygon in lon/lat.
    let fc: Json = serde_json::from_str(&std::fs::read_to_string(&areas).unwrap()).unwrap();
    let features = fc["features"].as_array().unwrap();
    assert_eq!(
        features.len(),
        network["totals"]["facilities"].as_u64().unwrap() as usize
    );
    for f in features {
        assert_eq!(f["geometry"]["type"], "MultiPolygon");
        let ring = &f["geometry"]["coordinates"][0][0];
        assert!(ring.as_array().unwrap().len() >= 4, "{f}");
        let lon = ring[0][0].as_f64().unwrap();
        assert!((117.0..119.0).contains(&lon));
    }

    // Minutes: a longer reach never covers fewer people.
    let t5 = cov(&["--distance", "time", "--minutes", "5"]);
    let t30 = cov(&["--distance", "time", "--minutes", "30"]);
    assert_eq!(t5["unit"], "min");
    assert!(t5["villages"][0]["nearest_min"].as_f64().is_some());
    assert!(covered(&t5) <= covered(&t30));
    assert!(covered(&t30) > covered(&t5), "30 min reach more than 5");
    // Walking: the same paths at 5 km/h, so each village's nearest facility in minutes is its
    // network distance over 83.3 m/min; on foot 15 minutes reach fewer people than by car.
    let walk = cov(&["--distance", "walk", "--minutes", "15"]);
    let drive = cov(&["--distance", "time", "--minutes", "15"]);
    assert_eq!(
        (walk["distance_mode"].as_str(), walk["unit"].as_str()),
        (Some("walk"), Some("min"))
    );
    for (n, w) in nv.iter().zip(walk["villages"].as_array().unwrap()) {
        let (metres, minutes) = (
            n["nearest_m"].as_f64().unwrap(),
            w["nearest_min"].as_f64().unwrap(),
        );
        assert!(
            // Both are rounded for the answer (0.1 min, 0.1 m).
            (minutes - metres / (5000.0 / 60.0)).abs() < 0.06,
            "{}: {minutes} min on foot for {metres} m",
            n["code"]
        );
    }
    assert!(
        covered(&walk) < covered(&drive),
        "{} vs {}",
        covered(&walk),
        covered(&drive)
    );

    // Locating over the roads: MCLP covers no more than in a straight line, p-median costs no
    // less, and both open p sites.
    let loc = |model: &str, extra: &[&str]| {
        let mut args = vec![
            "locate",
            model,
            "-w",
            w,
            "--p",
            "6",
            "--demand",
            "representative",
        ];
        args.extend_from_slice(extra);
        run_json(&args)
    };
    let m_s = loc("mclp", &["--radius", "4000"]);
    let m_n = loc(
        "mclp",
        &["--radius", "4000", "--distance", "network", "--areas", a],
    );
    assert!(m_n["objective"].as_f64().unwrap() <= m_s["objective"].as_f64().unwrap() + 1e-6);
    assert_eq!(m_n["optimal"], true);
    let fc: Json = serde_json::from_str(&std::fs::read_to_string(&areas).unwrap()).unwrap();
    assert_eq!(fc["features"].as_array().unwrap().len(), 6);
    let p_s = loc("pmedian", &[]);
    let p_n = loc("pmedian", &["--distance", "network"]);
    assert!(p_n["objective"].as_f64().unwrap() >= p_s["objective"].as_f64().unwrap());
    assert_eq!(p_n["facilities"].as_array().unwrap().len(), 6);
    // Every village is served by one of the open sites, at its network distance.
    for v in p_n["villages"].as_array().unwrap() {
        let k = v["facility"].as_u64().unwrap() as usize;
        assert!(k < 6);
        assert!(v["distance_m"].as_f64().unwrap() >= 0.0);
    }
    let p_t = loc("pcenter", &["--distance", "time"]);
    assert!(p_t["objective_meaning"].as_str().unwrap().contains("min"));

    // Bad requests: exit 2 naming the parameter at fault.
    fails_naming(
        &[
            "coverage",
            "-w",
            w,
            "--kind",
            "卫生室",
            "--distance",
            "time",
        ],
        "minutes",
    );
    fails_naming(
        &[
            "coverage",
            "-w",
            w,
            "--kind",
            "卫生室",
            "--distance",
            "time",
            "--radius",
            "800",
        ],
        "radius_m",
    );
    fails_naming(
        &["coverage", "-w", w, "--kind", "卫生室", "--minutes", "5"],
        "minutes",
    );
    fails_naming(
        &[
            "coverage",
            "-w",
            w,
            "--kind",
            "卫生室",
            "--distance",
            "time",
            "--minutes=-1",
        ],
        "minutes",
    );
    fails_naming(
        &["coverage", "-w", w, "--kind", "卫生室", "--distance", "air"],
        "distance",
    );
    fails_naming(
        &["locate", "lscp", "-w", w, "--distance", "time"],
        "minutes",
    );

    // Roads that fall apart by township (each village joined only to its township's first
    // village, no road between townships): p-median with one site cannot reach the other
    // townships, and says so naming them; with a site per township it can.
    let points = run_json(&["coverage", "-w", w, "--kind", "卫生室"]);
    let mut hub: std::collections::BTreeMap<String, Json> = std::collections::BTreeMap::new();
    let mut features = Vec::new();
    for v in points["villages"].as_array().unwrap() {
        let town = v["code"].as_str().unwrap()[..9].to_string();
        let here = v["point"].clone();
        let seat = hub.entry(town).or_insert_with(|| here.clone()).clone();
        if seat != here {
            features.push(
                serde_json::json!({"type": "Feature", "properties": {"class": "村道"},
                "geometry": {"type": "LineString", "coordinates": [here, seat]}}),
            );
        }
    }
    let towns = hub.len();
    let split = dir.join("town_roads.geojson");
    std::fs::write(
        &split,
        serde_json::json!({"type": "FeatureCollection", "features": features}).to_string(),
    )
    .unwrap();
    let o = liancun(&["import", "-w", w, "-l", "roads", split.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let e = fails_naming(
        &[
            "locate",
            "pmedian",
            "-w",
            w,
            "--p",
            "1",
            "--demand",
            "representative",
            "--distance",
            "network",
        ],
        "p",
    );
    assert!(e.contains("3703"), "names villages: {e}");
    let spread = run_json(&[
        "locate",
        "pmedian",
        "-w",
        w,
        "--p",
        &towns.to_string(),
        "--demand",
        "representative",
        "--distance",
        "network",
        "--method",
        "heuristic",
    ]);
    assert_eq!(spread["facilities"].as_array().unwrap().len(), towns);

    // A roads layer far from the villages: refused, naming the villages it does not reach.
    let far = dir.join("far_road.geojson");
    std::fs::write(
        &far,
        r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"class":"村道"},"geometry":{"type":"LineString","coordinates":[[118.50,35.93],[118.505,35.931]]}}]}"#,
    )
    .unwrap();
    let o = liancun(&["import", "-w", w, "-l", "roads", far.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let e = fails_naming(
        &[
            "coverage",
            "-w",
            w,
            "--kind",
            "卫生室",
            "--distance",
            "network",
        ],
        "roads",
    );
    assert!(
        e.contains("3703") && e.contains(" m)"),
        "names villages and distances: {e}"
    );
}

mod http {
    use super::*;
    use axum::http::StatusCode;
    use liancun::api::{AppState, router};
    use liancun::workspace::Workspace;
    use std::sync::Arc;

    #[tokio::test]
    async fn location_endpoints() {
        let ws_path = demo_workspace("location_http");
        let app = router(Arc::new(
            AppState::load(&Workspace::open(&ws_path).unwrap(), "t").unwrap(),
        ));

        let (status, _, t) = call(&app, "GET", "/analysis/service-radii", "").await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            t["service_radii"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r["kind"] == "党群服务中心")
        );
        assert!(t["kinds_present"]["卫生室"].as_u64().unwrap() > 0, "{t}");

        let (status, _, l) = call(
            &app,
            "POST",
            "/analysis/locate",
            r#"{"model": "pmedian", "p": 8, "demand": "centroid", "candidates": "centroid"}"#,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{l}");
        assert_eq!(l["facilities"].as_array().unwrap().len(), 8);
        assert_eq!(l["optimal"], true);

        let (status, _, c) = call(
            &app,
            "POST",
            "/analysis/coverage",
            r#"{"kind": "党群服务中心"}"#,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{c}");
        assert!(c["totals"]["covered_share"].as_f64().unwrap() > 0.3);
        assert!(c.get("service_areas").is_none(), "only when asked for");

        // Service areas for the map: one per facility (isochrones along the roads), and one
        // per open site of an MCLP; every village says which site serves it.
        let (status, _, c) = call(
            &app,
            "POST",
            "/analysis/coverage",
            r#"{"kind": "卫生室", "distance": "network", "demand": "representative", "service_areas": true}"#,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{c}");
        assert_eq!(
            c["service_areas"]["features"].as_array().unwrap().len() as u64,
            c["totals"]["facilities"].as_u64().unwrap()
        );
        let props = &c["service_areas"]["features"][0]["properties"];
        assert_eq!(props["unit"], "m", "{props}");
        assert!(props["radius"].as_f64().unwrap() > 0.0);
        let (status, _, l) = call(
            &app,
            "POST",
            "/analysis/locate",
            r#"{"model": "mclp", "p": 4, "radius_m": 3000, "demand": "representative", "service_areas": true}"#,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{l}");
        assert_eq!(l["service_areas"]["features"].as_array().unwrap().len(), 4);
        assert!(
            l["villages"]
                .as_array()
                .unwrap()
                .iter()
                .all(|v| v["facility"].as_u64().unwrap() < 4)
        );

        let (_, _, list) = call(&app, "GET", "/villages", "").await;
        let codes: Vec<Json> = list["villages"].as_array().unwrap()[..3]
            .iter()
            .map(|v| v["code"].clone())
            .collect();
        let body = serde_json::json!({"villages": codes}).to_string();
        let (status, _, r) = call(&app, "POST", "/analysis/centers", &body).await;
        assert_eq!(status, StatusCode::OK, "{r}");
        assert_eq!(r["candidates"].as_array().unwrap().len(), 3);

        // Each bad request: 422 problem+json naming the field (400 for malformed JSON).
        for (uri, body, field) in [
            (
                "/analysis/locate",
                r#"{"model": "lscp", "radius_m": 0}"#,
                "radius_m",
            ),
            (
                "/analysis/locate",
                r#"{"model": "lscp", "radius_m": -3, "demand": "centroid"}"#,
                "radius_m",
            ),
            (
                "/analysis/locate",
                r#"{"model": "pmedian", "p": 99999, "demand": "centroid"}"#,
                "p",
            ),
            (
                "/analysis/locate",
                r#"{"model": "mclp", "radius_m": 500}"#,
                "p",
            ),
            (
                "/analysis/locate",
                r#"{"model": "mclp", "p": 2, "kind": "飞机场"}"#,
                "kind",
            ),
            (
                "/analysis/locate",
                r#"{"model": "pmedian", "p": 2, "capacity": 5, "demand": "centroid"}"#,
                "capacity",
            ),
            (
                "/analysis/locate",
                r#"{"model": "lscp", "radius_m": 5, "demand": "centroid"}"#,
                "radius_m",
            ),
            (
                "/analysis/locate",
                r#"{"model": "pmedian", "p": 2, "demand": "everywhere"}"#,
                "demand",
            ),
            (
                "/analysis/locate",
                r#"{"model": "pmedian", "p": 2, "time_limit_s": -1}"#,
                "time_limit_s",
            ),
            ("/analysis/coverage", r#"{"kind": "飞机场"}"#, "kind"),
            (
                "/analysis/coverage",
                r#"{"kind": "卫生室", "radius_m": 0}"#,
                "radius_m",
            ),
            (
                "/analysis/coverage",
                r#"{"kind": "卫生室", "distance": "air"}"#,
                "distance",
            ),
            (
                "/analysis/coverage",
                r#"{"kind": "卫生室", "distance": "time"}"#,
                "minutes",
            ),
            (
                "/analysis/locate",
                r#"{"model": "mclp", "p": 2, "distance": "time", "radius_m": 900}"#,
                "radius_m",
            ),
            ("/analysis/centers", r#"{"villages": ["1"]}"#, "villages"),
            ("/analysis/centers", r#"{}"#, "villages"),
        ] {
            let (status, ct, e) = call(&app, "POST", uri, body).await;
            assert_eq!(
                (status, ct.as_str()),
                (StatusCode::UNPROCESSABLE_ENTITY, "application/problem+json"),
                "{uri} {body}: {e}"
            );
            assert_eq!(e["field"], field, "{uri} {body}: {e}");
            assert!(!e["detail"].as_str().unwrap().is_empty());
        }
        let (status, _, _) = call(
            &app,
            "POST",
            "/analysis/locate",
            r#"{"model": "pmedian", "p": "two"}"#,
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        let (status, _, _) = call(
            &app,
            "POST",
            "/analysis/locate",
            r#"{"model": "pmedian", "pp": 2}"#,
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
    }
}

/// One radius rule for coverage and site selection: the demo's 养老服务中心 carry their own
/// 2,000 m radius while the table says 1,000 m. Coverage and MCLP with no new site must count
/// the same people, more sites must never count fewer, and new sites take the table's radius.
#[test]
fn coverage_and_mclp_follow_one_radius_rule() {
    let ws = demo_workspace("location_radius_rule");
    let w = ws.to_str().unwrap();
    let kind = "养老服务中心";
    let cov = run_json(&["coverage", "-w", w, "--kind", kind]);
    let covered = cov["totals"]["covered_population"].as_f64().unwrap();
    let own: Vec<f64> = cov["facilities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            assert_eq!(f["radius_from"], "facility radius_m", "{f}");
            f["radius_m"].as_f64().unwrap()
        })
        .collect();
    assert!(own.iter().all(|&r| r == 2000.0), "{own:?}");
    // Every facility has the same radius, so the answer names it (not the table's 1,000 m).
    assert_eq!(
        cov["radius_m"].as_f64(),
        Some(2000.0),
        "{}",
        cov["radius_m"]
    );

    let none_new = run_json(&["locate", "mclp", "-w", w, "--kind", kind, "--p", "0"]);
    assert_eq!(none_new["objective_unit"], "persons");
    let by_mclp = none_new["covered_population"].as_f64().unwrap();
    assert!(
        (by_mclp - covered).abs() < 0.5
            && (none_new["objective"].as_f64().unwrap() - covered).abs() < 0.5,
        "coverage {covered} vs MCLP without new sites {by_mclp}"
    );
    // The same villages are left out, by the same rule (under half the population reached).
    let codes = |j: &Json| {
        let mut c: Vec<String> = j["uncovered_villages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap().to_string())
            .collect();
        c.sort();
        c
    };
    assert_eq!(codes(&cov), codes(&none_new));
    for f in none_new["facilities"].as_array().unwrap() {
        assert_eq!(
            (f["radius_m"].as_f64(), f["existing"].as_bool()),
            (Some(2000.0), Some(true)),
            "{f}"
        );
        // Allocation (nearest site) and coverage (within its radius) are named apart.
        assert!(f["allocated_population"].is_number() && f["covered_population"].is_number());
        assert!(f["served_population"].is_null(), "{f}");
    }

    let three_new = run_json(&["locate", "mclp", "-w", w, "--kind", kind, "--p", "3"]);
    let more = three_new["objective"].as_f64().unwrap();
    assert!(
        more >= covered,
        "3 new sites cover {more} < {covered} with none"
    );
    for f in three_new["facilities"].as_array().unwrap() {
        let expected = if f["existing"] == true {
            (2000.0, "facility radius_m")
        } else {
            (1000.0, "service radius table")
        };
        assert_eq!(
            (
                f["radius_m"].as_f64().unwrap(),
                f["radius_from"].as_str().unwrap()
            ),
            expected,
            "{f}"
        );
    }
    // An explicit radius applies to every facility, existing ones included.
    let explicit = run_json(&[
        "locate", "mclp", "-w", w, "--kind", kind, "--p", "0", "--radius", "1000",
    ]);
    assert!(explicit["objective"].as_f64().unwrap() < covered);
    for f in explicit["facilities"].as_array().unwrap() {
        assert_eq!(
            (f["radius_m"].as_f64(), f["radius_from"].as_str()),
            (Some(1000.0), Some("request"))
        );
    }
    let cov_1000 = run_json(&["coverage", "-w", w, "--kind", kind, "--radius", "1000"]);
    assert!(
        (cov_1000["totals"]["covered_population"].as_f64().unwrap()
            - explicit["objective"].as_f64().unwrap())
        .abs()
            < 0.5,
        "coverage and MCLP at 1,000 m"
    );
    // Every objective carries its unit.
    let pm = run_json(&[
        "locate", "pmedian", "-w", w, "--p", "3", "--demand", "centroid",
    ]);
    assert_eq!(pm["objective_unit"], "person·m");
    let pc = run_json(&[
        "locate", "pcenter", "-w", w, "--p", "3", "--demand", "centroid",
    ]);
    assert_eq!(pc["objective_unit"], "m");
}
