//! The two front doors refuse the same bad input alike: every case below goes once through the
//! CLI (exit 2, `错误 error (FIELD): …` on stderr) and once through its HTTP twin (a 4xx
//! problem document whose `field` is FIELD), and both must name the expected request field.
//! A check added to one door only, or a field renamed on one side, fails here.

mod common;

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use axum::http::StatusCode;
use common::*;
use liancun::api::{AppState, router};
use liancun::workspace::Workspace;

fn shared_demo() -> PathBuf {
    static WS: OnceLock<PathBuf> = OnceLock::new();
    WS.get_or_init(|| demo_workspace("front_doors")).clone()
}

/// The field a refused CLI call names: exit code 2 and `(FIELD)` after `error`.
fn cli_field(args: &[&str]) -> String {
    let o = liancun(args);
    let err = stderr(&o);
    assert_eq!(
        o.status.code(),
        Some(2),
        "{args:?} should be refused: {err}"
    );
    let after = err
        .split("error (")
        .nth(1)
        .unwrap_or_else(|| panic!("{args:?}: no field named in: {err}"));
    after[..after.find(')').unwrap()].to_string()
}

struct Case {
    cli: Vec<&'static str>,
    uri: &'static str,
    body: &'static str,
    field: &'static str,
}

fn case(cli: &[&'static str], uri: &'static str, body: &'static str, field: &'static str) -> Case {
    Case {
        cli: cli.to_vec(),
        uri,
        body,
        field,
    }
}

fn analysis_cases() -> Vec<Case> {
    let locate = "/analysis/locate";
    let coverage = "/analysis/coverage";
    let centers = "/analysis/centers";
    let propose = "/analysis/zones/propose";
    vec![
        // Site selection.
        case(
            &["locate", "lscp", "--radius", "0"],
            locate,
            r#"{"model": "lscp", "radius_m": 0}"#,
            "radius_m",
        ),
        case(
            &["locate", "nearest", "--p", "3"],
            locate,
            r#"{"model": "nearest", "p": 3}"#,
            "model",
        ),
        case(
            &["locate", "pmedian", "--p", "3", "--method", "fastest"],
            locate,
            r#"{"model": "pmedian", "p": 3, "method": "fastest"}"#,
            "method",
        ),
        case(
            &["locate", "pmedian", "--p", "3", "--time-limit", "0"],
            locate,
            r#"{"model": "pmedian", "p": 3, "time_limit_s": 0}"#,
            "time_limit_s",
        ),
        case(
            &["locate", "pmedian", "--p", "3", "--demand", "everywhere"],
            locate,
            r#"{"model": "pmedian", "p": 3, "demand": "everywhere"}"#,
            "demand",
        ),
        case(
            &["locate", "pmedian", "--p", "3", "--candidates", "anywhere"],
            locate,
            r#"{"model": "pmedian", "p": 3, "candidates": "anywhere"}"#,
            "candidates",
        ),
        case(
            &["locate", "pmedian", "--p", "100000", "--demand", "centroid"],
            locate,
            r#"{"model": "pmedian", "p": 100000, "demand": "centroid"}"#,
            "p",
        ),
        case(
            &["locate", "mclp", "--p", "3", "--kind", "飞机场"],
            locate,
            r#"{"model": "mclp", "p": 3, "kind": "飞机场"}"#,
            "kind",
        ),
        case(
            &[
                "locate",
                "mclp",
                "--p",
                "3",
                "--distance",
                "time",
                "--radius",
                "900",
            ],
            locate,
            r#"{"model": "mclp", "p": 3, "distance": "time", "radius_m": 900}"#,
            "radius_m",
        ),
        // Proven infeasible: no site within 5 m of the villages' centroids.
        case(
            &["locate", "lscp", "--radius", "5", "--demand", "centroid"],
            locate,
            r#"{"model": "lscp", "radius_m": 5, "demand": "centroid"}"#,
            "radius_m",
        ),
        // Coverage.
        case(
            &["coverage", "--kind", "飞机场"],
            coverage,
            r#"{"kind": "飞机场"}"#,
            "kind",
        ),
        case(
            &["coverage", "--kind", "卫生室", "--radius=-5"],
            coverage,
            r#"{"kind": "卫生室", "radius_m": -5}"#,
            "radius_m",
        ),
        case(
            &["coverage", "--kind", "卫生室", "--distance", "air"],
            coverage,
            r#"{"kind": "卫生室", "distance": "air"}"#,
            "distance",
        ),
        case(
            &["coverage", "--kind", "卫生室", "--minutes", "5"],
            coverage,
            r#"{"kind": "卫生室", "minutes": 5}"#,
            "minutes",
        ),
        // Center villages.
        case(
            &["centers", "--town", "不存在镇"],
            centers,
            r#"{"town": "不存在镇"}"#,
            "town",
        ),
        case(
            &["centers", "--villages", "999999999999"],
            centers,
            r#"{"villages": ["999999999999"]}"#,
            "villages",
        ),
        // Zoning proposals.
        case(
            &["zones", "propose", "--strong-share", "2"],
            propose,
            r#"{"strong_share": 2}"#,
            "strong_share",
        ),
        case(
            &["zones", "propose", "--town", "不存在镇"],
            propose,
            r#"{"towns": ["不存在镇"]}"#,
            "towns",
        ),
        case(
            &[
                "zones",
                "propose",
                "--min-members",
                "5",
                "--max-members",
                "3",
            ],
            propose,
            r#"{"min_members": 5, "max_members": 3}"#,
            "min_members",
        ),
        case(
            &["zones", "propose", "--time-limit", "0"],
            propose,
            r#"{"time_limit_s": 0}"#,
            "time_limit_s",
        ),
        case(
            &["zones", "propose", "--pop-floor=-1"],
            propose,
            r#"{"pop_floor": -1}"#,
            "pop_floor",
        ),
        case(
            &["zones", "propose", "--mutual-aid", "999999999999"],
            propose,
            r#"{"mutual_aid": ["999999999999"]}"#,
            "mutual_aid",
        ),
        case(
            &["zones", "propose", "--attributes", "no_such_column"],
            propose,
            r#"{"attributes": ["no_such_column"]}"#,
            "attributes",
        ),
        case(
            &["zones", "propose", "--tolerance=-1"],
            propose,
            r#"{"tolerance_m": -1}"#,
            "tolerance_m",
        ),
    ]
}

/// Inserts `-w WORKSPACE` after the command words (before the first flag).
fn with_workspace(args: &[&'static str], ws: &str) -> Vec<String> {
    let at = args
        .iter()
        .position(|a| a.starts_with("--"))
        .unwrap_or(args.len());
    let mut out: Vec<String> = args[..at].iter().map(|s| s.to_string()).collect();
    out.push("-w".into());
    out.push(ws.into());
    out.extend(args[at..].iter().map(|s| s.to_string()));
    out
}

#[tokio::test]
async fn analyses_refuse_the_same_bad_input_by_the_same_field_in_the_cli_and_over_http() {
    let ws = shared_demo();
    let state = AppState::load(&Workspace::open(&ws).unwrap(), "t").unwrap();
    let app = router(Arc::new(state));
    let w = ws.to_str().unwrap();
    let mut wrong = Vec::new();
    for c in analysis_cases() {
        let args = with_workspace(&c.cli, w);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let from_cli = cli_field(&args);
        let (status, _, e) = call(&app, "POST", c.uri, c.body).await;
        let from_http = e["field"].as_str().unwrap_or("").to_string();
        if !status.is_client_error() || from_cli != c.field || from_http != c.field {
            wrong.push(format!(
                "{:?} / {} {}: CLI names '{from_cli}', HTTP {status} names '{from_http}', expected '{}' ({})",
                c.cli, c.uri, c.body, c.field, e["detail"]
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[tokio::test]
async fn plan_creation_refuses_the_same_bad_input_by_the_same_field_in_the_cli_and_over_http() {
    let ws = shared_demo();
    let bearer = format!("Bearer {}", token(&ws, "editor", "前门测试"));
    let state = AppState::load(&Workspace::open(&ws).unwrap(), "t").unwrap();
    let app = router(Arc::new(state));
    let w = ws.to_str().unwrap();
    let control = "东\u{7}片";
    let long = "长".repeat(61);
    let cases: Vec<(Vec<&str>, String, &str)> = vec![
        (
            vec!["--name", "", "--from", "empty"],
            r#"{"name": "", "from": "empty"}"#.into(),
            "name",
        ),
        (
            vec!["--name", control, "--from", "empty"],
            serde_json::json!({"name": control, "from": "empty"}).to_string(),
            "name",
        ),
        (
            vec!["--name", &long, "--from", "empty"],
            serde_json::json!({"name": long, "from": "empty"}).to_string(),
            "name",
        ),
        (
            vec!["--name", "x", "--params", r#"{"strong_share": 2}"#],
            r#"{"name": "x", "params": {"strong_share": 2}}"#.into(),
            "params.strong_share",
        ),
        (
            vec!["--name", "x", "--params", r#"{"towns": ["不存在镇"]}"#],
            r#"{"name": "x", "params": {"towns": ["不存在镇"]}}"#.into(),
            "params.towns",
        ),
    ];
    let mut wrong = Vec::new();
    for (flags, body, field) in cases {
        let mut args = vec!["plan", "create", "-w", w];
        args.extend(flags.iter().copied());
        let from_cli = cli_field(&args);
        let (status, _, e) =
            send(&app, "POST", "/plans", &[("authorization", &bearer)], &body).await;
        let from_http = e["field"].as_str().unwrap_or("").to_string();
        if status != StatusCode::UNPROCESSABLE_ENTITY || from_cli != field || from_http != field {
            wrong.push(format!(
                "{flags:?} / {body}: CLI names '{from_cli}', HTTP {status} names '{from_http}', expected '{field}' ({})",
                e["detail"]
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    // Nothing refused was stored.
    let (status, _, list) = send(&app, "GET", "/plans", &[], "").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["plans"].as_array().map_or(0, Vec::len), 0, "{list}");
}
